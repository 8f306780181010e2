"""Parameter terms, checked against hand-worked formulas (../shared/background.md)."""

from __future__ import annotations

import pytest

import convcount
from convcount import make_layer
from convcount.counting import count


def test_the_three_worked_examples() -> None:
    # Conv2D(32, 3) on 10 channels: (3*3*10 + 1) * 32
    assert (
        convcount.conv(kernel_size=3, in_channels=10, out_channels=32).total
        == (3 * 3 * 10 + 1) * 32
    )
    # DepthwiseConv2D(3): (3*3*1 + 1) * 10
    assert convcount.depthwise(kernel_size=3, in_channels=10).total == (3 * 3 * 1 + 1) * 10
    # SeparableConv2D(32, 3): 3*3*10 + (1*1*10 + 1) * 32, one bias
    assert convcount.separable(kernel_size=3, in_channels=10, out_channels=32).total == (
        3 * 3 * 10 + (10 + 1) * 32
    )


def test_the_worked_examples_are_2912_100_442() -> None:
    totals = [
        convcount.conv(kernel_size=3, in_channels=10, out_channels=32).total,
        convcount.depthwise(kernel_size=3, in_channels=10).total,
        convcount.separable(kernel_size=3, in_channels=10, out_channels=32).total,
    ]
    assert totals == [2912, 100, 442]


def test_pytorch_style_separable_has_both_biases() -> None:
    report = convcount.separable(kernel_size=3, in_channels=10, out_channels=32, convention="torch")
    assert report.total == 3 * 3 * 10 + 10 + 10 * 32 + 32 == 452
    assert [t.name for t in report.terms] == [
        "depthwise",
        "depthwise_bias",
        "pointwise",
        "pointwise_bias",
    ]


def test_separable_100_filters_kernel_5_against_two_layers() -> None:
    keras = convcount.separable(kernel_size=5, in_channels=10, out_channels=100)
    assert keras.total == 5 * 5 * 10 + 10 * 100 + 100 == 1350
    # The same block as DepthwiseConv2D(5) + Conv2D(100, 1), both with bias.
    two = (
        convcount.depthwise(kernel_size=5, in_channels=10).total
        + convcount.conv(kernel_size=1, in_channels=10, out_channels=100).total
    )
    assert two == 1360
    torch_style = convcount.separable(
        kernel_size=5, in_channels=10, out_channels=100, convention="torch"
    )
    assert torch_style.total == two


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # grouped conv: K * (Cin/g) * Cout + Cout
        (
            {"kernel_size": 3, "in_channels": 12, "out_channels": 24, "groups": 4},
            3 * 3 * 3 * 24 + 24,
        ),
        # asymmetric kernel, no bias
        (
            {"kernel_size": "3x5", "in_channels": 7, "out_channels": 11, "bias": False},
            3 * 5 * 7 * 11,
        ),
        # 1-D and 3-D
        ({"kernel_size": 5, "in_channels": 4, "out_channels": 6, "dims": 1}, 5 * 4 * 6 + 6),
        ({"kernel_size": 3, "in_channels": 4, "out_channels": 6, "dims": 3}, 27 * 4 * 6 + 6),
        ({"kernel_size": "1x3x5", "in_channels": 2, "out_channels": 3}, 15 * 2 * 3 + 3),
    ],
)
def test_conv(kwargs: dict[str, object], expected: int) -> None:
    assert convcount.conv(**kwargs).total == expected


def test_depthwise_multiplier_and_dims() -> None:
    report = convcount.depthwise(kernel_size="3x3x3", in_channels=8, depth_multiplier=3)
    assert report.layer.out_channels == 24
    assert report.total == 27 * 8 * 3 + 24
    assert [t.formula for t in report.terms] == ["3×3×3×8×3", "24"]


def test_depthwise_equals_grouped_conv_with_groups_in_channels() -> None:
    for m in (1, 2, 5):
        dw = convcount.depthwise(kernel_size=3, in_channels=16, depth_multiplier=m)
        grouped = convcount.conv(kernel_size=3, in_channels=16, out_channels=16 * m, groups=16)
        assert dw.total == grouped.total


def test_separable_with_multiplier_and_flags() -> None:
    report = convcount.separable(
        kernel_size=3,
        in_channels=10,
        out_channels=32,
        depth_multiplier=2,
        depthwise_bias=True,
        pointwise_bias=False,
    )
    assert [(t.name, t.count) for t in report.terms] == [
        ("depthwise", 3 * 3 * 10 * 2),
        ("depthwise_bias", 20),
        ("pointwise", 20 * 32),
    ]


def test_explicit_bias_flags_win_over_the_convention() -> None:
    torch_no_bias = convcount.separable(
        kernel_size=3, in_channels=10, out_channels=32, convention="torch", depthwise_bias=False
    )
    assert torch_no_bias.total == 442


def test_transposed_and_grouped_transposed() -> None:
    # K * Cin * (Cout/g) + Cout
    assert (
        convcount.transpose(kernel_size=4, in_channels=16, out_channels=8).total == 16 * 16 * 8 + 8
    )
    grouped = convcount.transpose(
        kernel_size=3, in_channels=16, out_channels=8, groups=4, convention="torch"
    )
    assert grouped.total == 9 * 16 * 2 + 8


def test_very_large_values_stay_exact_integers() -> None:
    big = 10**30 + 7
    report = convcount.conv(kernel_size=3, in_channels=big, out_channels=big)
    assert report.total == 9 * big * big + big
    assert isinstance(report.total, int)


def test_terms_sum_to_the_total_and_formula_matches_count() -> None:
    report = count(
        make_layer(
            "separable", kernel_size="3x5", in_channels=6, out_channels=9, depth_multiplier=2
        )
    )
    assert sum(t.count for t in report.terms) == report.total
    for term in report.terms:
        product = 1
        for factor in term.formula.split("×"):
            product *= int(factor)
        assert product == term.count
