"""convcount under --convention torch against real PyTorch layers.

Each case is built as the PyTorch modules the convention claims to match and
run on a zero tensor under torch.utils.flop_counter.FlopCounterMode (which
reports 2 x MACs, bias excluded). Legality is checked both ways: PyTorch
refuses (at construction or in the forward pass) exactly when convcount does.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from .cases import Case, Outcome, convcount_outcome, edge, random_case, torch_outcome

pytestmark = pytest.mark.frameworks

GRID = [random_case(random.Random(seed), "torch") for seed in range(500)]
BIG = [random_case(random.Random(10_000 + seed), "torch", big=True) for seed in range(60)]

# Hand-picked corners of the rules, on top of the random grid.
EDGES: list[Case] = [
    # output_padding below the dilation is legal at stride 1 ...
    edge("transpose", "torch", input_size=[5], dilation=[3], output_padding=[2]),
    # ... but not at or above both stride and dilation
    edge("transpose", "torch", input_size=[5], stride=[2], output_padding=[2]),
    # 'same' with stride 2 is refused, 'same' with an even kernel and dilation accepted
    edge("conv", "torch", stride=[1, 2], padding="same"),
    edge(
        "conv",
        "torch",
        kernel_size=[4, 2],
        groups=2,
        dilation=[2, 3],
        padding="same",
        input_size=[5, 6],
    ),
    # transposed layers take no string padding
    edge("transpose", "torch", stride=[2, 2], padding="same", input_size=[4, 4]),
    # grouped and depthwise transposed
    edge(
        "transpose",
        "torch",
        kernel_size=[4, 4],
        in_channels=8,
        out_channels=8,
        groups=8,
        bias=False,
        stride=[2, 2],
        padding=[1, 1],
        output_padding=[1, 0],
        input_size=[3, 4],
    ),
    # a kernel larger than the padded input, and a transposed output of zero
    edge("conv", "torch", kernel_size=[5], input_size=[4]),
    edge("transpose", "torch", kernel_size=[2], padding=[1], input_size=[1]),
]


def agree(case: Case, ours: Outcome, theirs: Outcome) -> None:
    if theirs.refused or ours.refused:
        assert bool(theirs.refused) == bool(ours.refused), (
            f"PyTorch: {theirs.refused or 'accepts'}; "
            f"convcount: {ours.refused or 'accepts'}; case {case}"
        )
        return
    assert (ours.params, ours.output_size, ours.macs) == (
        theirs.params,
        theirs.output_size,
        theirs.macs,
    ), case


@pytest.mark.parametrize("case", GRID + EDGES, ids=lambda c: f"{c['kind']}{c['dims']}d")
def test_grid_against_pytorch(torch: Any, case: Case) -> None:
    agree(case, convcount_outcome(case), torch_outcome(torch, case))


@pytest.mark.parametrize("case", BIG, ids=lambda c: f"{c['kind']}{c['dims']}d-big")
def test_large_odd_channel_counts_on_meta(torch: Any, case: Case) -> None:
    ours = convcount_outcome(case)
    if ours.refused:
        theirs = torch_outcome(torch, case)  # small enough to check on the CPU too
        assert theirs.refused, (ours.refused, case)
        return
    agree(case, ours, torch_outcome(torch, case, device="meta"))


def test_the_grid_covers_every_option() -> None:
    """The random grid must reach every kind, dims, padding mode and refusal."""
    cases = GRID + EDGES
    assert {c["kind"] for c in cases} == {"conv", "depthwise", "separable", "transpose"}
    assert {c["dims"] for c in cases} == {1, 2, 3}
    assert {("str" if isinstance(c["padding"], str) else "int") for c in cases} == {"str", "int"}
    assert any(c.get("output_padding") for c in cases)
    assert any(c.get("groups", 1) > 1 and c["kind"] == "transpose" for c in cases)
    assert any(max(c["dilation"]) > 1 and max(c["stride"]) > 1 for c in cases)
    assert any(len(set(c["kernel_size"])) > 1 for c in cases)
    outcomes = [convcount_outcome(c) for c in cases]
    refused = sum(1 for o in outcomes if o.refused)
    assert 50 < refused < len(cases) - 200, refused
