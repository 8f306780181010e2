"""Property-based cases (hypothesis) against both frameworks, and a CLI sample.

Derandomized so CI runs the same examples every time; the random grids in
test_torch.py and test_keras.py carry the bulk, these widen the search.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcount.cli import make_app

from .cases import (
    Case,
    convcount_outcome,
    keras_expressible,
    keras_outcome,
    random_case,
    torch_outcome,
)

pytestmark = pytest.mark.frameworks

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@st.composite
def cases(draw: st.DrawFn, convention: str) -> Case:
    """A case from random_case, seeded by hypothesis, with channel counts it shrinks."""
    case = random_case(random.Random(draw(st.integers(0, 2**32))), convention)
    # Let hypothesis vary the sizes too, so shrinking finds the smallest failure.
    case["input_size"] = [draw(st.integers(1, 12)) for _ in range(case["dims"])]
    return case


@SETTINGS
@given(case=cases("torch"))
def test_pytorch_properties(torch: Any, case: Case) -> None:
    ours, theirs = convcount_outcome(case), torch_outcome(torch, case)
    assert bool(ours.refused) == bool(theirs.refused), (ours.refused, theirs.refused, case)
    if not ours.refused:
        assert (ours.params, ours.output_size, ours.macs) == (
            theirs.params,
            theirs.output_size,
            theirs.macs,
        )


@SETTINGS
@given(case=cases("keras"))
def test_keras_properties(keras: Any, case: Case) -> None:
    if not keras_expressible(case):
        return
    ours, theirs = convcount_outcome(case), keras_outcome(keras, case)
    assert bool(ours.refused) == bool(theirs.refused), (ours.refused, theirs.refused, case)
    if not ours.refused:
        assert (ours.params, ours.output_size) == (theirs.params, theirs.output_size)


def _cli_args(case: Case) -> list[str]:
    args = [case["kind"]]
    for key, value in case.items():
        if key == "kind" or value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            args.append(flag if value else flag.replace("--", "--no-", 1))
        elif isinstance(value, list):
            args += [flag, "x".join(map(str, value))]
        else:
            args += [flag, str(value)]
    return [*args, "--json"]


SAMPLE = [
    random_case(random.Random(500 + seed), convention)
    for seed in range(40)
    for convention in ("torch", "keras")
]


@pytest.mark.parametrize("case", SAMPLE, ids=lambda c: f"{c['convention']}-{c['kind']}")
def test_cli_json_sample_against_the_frameworks(torch: Any, keras: Any, case: Case) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(make_app(), _cli_args(case))
    if case["convention"] == "torch":
        theirs = torch_outcome(torch, case)
    elif keras_expressible(case):
        theirs = keras_outcome(keras, case)
    else:
        theirs = convcount_outcome(case)  # no single Keras layer: the library is the reference
    if theirs.refused:
        assert (
            result.exit_code == 2 and result.stdout == "" and len(result.stderr.splitlines()) == 1
        )
        return
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"] == theirs.params
    assert tuple(data["output_size"]) == theirs.output_size
    if theirs.macs is not None:
        assert data["macs"] == theirs.macs and data["flops"] == 2 * theirs.macs
