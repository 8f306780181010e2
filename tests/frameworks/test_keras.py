"""convcount under --convention keras (the default) against real Keras 3 layers.

Each case is built as the one Keras layer the convention claims to match,
asked for compute_output_shape, built, and counted with count_params().
Legality is checked both ways. Configurations with no single Keras layer
(3-D depthwise/separable, a separable depthwise bias) are left to the PyTorch
tests; convcount notes them instead.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from .cases import (
    Case,
    convcount_outcome,
    edge,
    keras_expressible,
    keras_layer,
    keras_outcome,
    random_case,
)

pytestmark = pytest.mark.frameworks


def _keras_cases(count: int, seed: int, *, big: bool = False) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    while len(cases) < count:
        case = random_case(rng, "keras", big=big)
        if keras_expressible(case):
            cases.append(case)
    return cases


GRID = _keras_cases(450, 2026)
BIG = _keras_cases(30, 99, big=True)

EDGES: list[Case] = [
    # no output_padding: (L-1)*s + max(k', s); an explicit 0 differs when k < s
    edge("transpose", "keras", kernel_size=[2], stride=[3], input_size=[5]),
    edge("transpose", "keras", kernel_size=[2], stride=[3], input_size=[5], output_padding=[0]),
    # 'same' with and without output_padding, even kernel
    edge(
        "transpose", "keras", kernel_size=[4, 4], stride=[3, 2], padding="same", input_size=[5, 4]
    ),
    edge(
        "transpose",
        "keras",
        kernel_size=[4, 3],
        stride=[3, 2],
        padding="same",
        output_padding=[2, 1],
        input_size=[5, 4],
    ),
    # stride with dilation: refused by Conv, accepted by DepthwiseConv and SeparableConv
    edge("conv", "keras", stride=[2, 1], dilation=[1, 2], padding="same", input_size=[9, 9]),
    edge("depthwise", "keras", depth_multiplier=2, stride=[2, 2], dilation=[2, 2], padding="same"),
    edge("separable", "keras", stride=[2], dilation=[2], input_size=[11]),
    # causal padding: Conv1D only, dilated or strided (not both)
    edge("conv", "keras", kernel_size=[4], dilation=[3], padding="causal", input_size=[11]),
    edge("conv", "keras", kernel_size=[5], stride=[3], padding="causal", input_size=[2]),
    edge("depthwise", "keras", kernel_size=[3], padding="causal", input_size=[9]),
    edge("separable", "keras", kernel_size=[3], padding="causal", input_size=[9]),
    edge("conv", "keras", padding="causal"),
    # groups on Conv, including a refusal on the output side
    edge("conv", "keras", in_channels=6, out_channels=9, groups=3, bias=False, input_size=[7]),
    edge("conv", "keras", in_channels=6, out_channels=8, groups=3, bias=False, input_size=[7]),
]


@pytest.mark.parametrize("case", GRID + EDGES + BIG, ids=lambda c: f"{c['kind']}{c['dims']}d")
def test_grid_against_keras(keras: Any, case: Case) -> None:
    ours, theirs = convcount_outcome(case), keras_outcome(keras, case)
    if theirs.refused or ours.refused:
        assert bool(theirs.refused) == bool(ours.refused), (
            f"Keras: {theirs.refused or 'accepts'}; "
            f"convcount: {ours.refused or 'accepts'}; case {case}"
        )
        return
    assert (ours.params, ours.output_size) == (theirs.params, theirs.output_size), case


def test_the_grid_covers_every_option() -> None:
    cases = GRID + EDGES
    assert {c["kind"] for c in cases} == {"conv", "depthwise", "separable", "transpose"}
    assert {c["dims"] for c in cases} == {1, 2, 3}
    assert any(c.get("output_padding") is not None and c["kind"] == "transpose" for c in cases)
    refused = sum(1 for c in cases if convcount_outcome(c).refused)
    assert 50 < refused < len(cases) - 150, refused


@pytest.mark.parametrize("case", GRID[:150], ids=lambda c: c["kind"])
def test_a_real_forward_pass_agrees(keras: Any, case: Case) -> None:
    """A forward pass on a zero tensor (torch backend) gives the same output size."""
    import numpy as np

    ours = convcount_outcome(case)
    if ours.refused:
        return
    layer = keras_layer(keras, case)
    y = layer(np.zeros((1, *case["input_size"], case["in_channels"]), dtype="float32"))
    assert tuple(y.shape[1:-1]) == ours.output_size
