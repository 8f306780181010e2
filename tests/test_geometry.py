"""Output sizes, MACs, FLOPs and memory, each case worked by hand."""

from __future__ import annotations

import pytest

import convcount
from convcount import ConvcountError


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # Keras 'valid': floor((L - k') / s) + 1
        ({"input_size": 32, "kernel_size": 3}, (30, 30)),
        ({"input_size": 32, "kernel_size": 3, "stride": 2}, (15, 15)),
        (
            {"input_size": "32x17", "kernel_size": "3x5", "stride": "2x3"},
            ((32 - 3) // 2 + 1, (17 - 5) // 3 + 1),
        ),
        # dilation 2 makes k' = 2*(3-1)+1 = 5
        ({"input_size": 20, "kernel_size": 3, "dilation": 2}, (16, 16)),
        # Keras 'same': ceil(L / s)
        ({"input_size": 7, "kernel_size": 3, "padding": "same", "stride": 2}, (4, 4)),
        ({"input_size": "9x10", "kernel_size": 4, "padding": "same", "stride": "3x4"}, (3, 3)),
        # PyTorch integer padding: floor((L + 2p - k') / s) + 1
        ({"input_size": 32, "kernel_size": 3, "padding": 1, "convention": "torch"}, (32, 32)),
        (
            {
                "input_size": 15,
                "kernel_size": 4,
                "padding": "2x0",
                "stride": 2,
                "convention": "torch",
            },
            (8, 6),
        ),
        (
            {
                "input_size": 10,
                "kernel_size": 3,
                "stride": 2,
                "dilation": 2,
                "padding": 1,
                "convention": "torch",
            },
            (4, 4),
        ),
        # PyTorch 'same' with stride 1 keeps the size, even for an even kernel
        ({"input_size": 9, "kernel_size": 4, "padding": "same", "convention": "torch"}, (9, 9)),
        # Keras's causal 1-D padding: d*(k-1) zeros on the left, so ceil(L / s) again
        (
            {"input_size": 10, "kernel_size": 4, "dilation": 2, "padding": "causal", "dims": 1},
            (10,),
        ),
        ({"input_size": 10, "kernel_size": 3, "stride": 3, "padding": "causal", "dims": 1}, (4,)),
        # 1-D and 3-D
        ({"input_size": 100, "kernel_size": 7, "stride": 3, "dims": 1}, ((100 - 7) // 3 + 1,)),
        ({"input_size": "8x16x16", "kernel_size": 3, "padding": "same"}, (8, 16, 16)),
    ],
)
def test_conv_output_size(kwargs: dict[str, object], expected: tuple[int, ...]) -> None:
    report = convcount.conv(in_channels=4, out_channels=8, **kwargs)
    assert report.output_size == expected


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # PyTorch: (L-1)*s - 2p + k' + output_padding
        ({"input_size": 5, "kernel_size": 3, "stride": 2, "convention": "torch"}, 11),
        (
            {
                "input_size": 5,
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "output_padding": 1,
                "convention": "torch",
            },
            10,
        ),
        ({"input_size": 5, "kernel_size": 2, "stride": 3, "convention": "torch"}, 14),
        # output_padding below the dilation is legal in PyTorch at stride 1
        (
            {
                "input_size": 5,
                "kernel_size": 3,
                "dilation": 3,
                "output_padding": 2,
                "convention": "torch",
            },
            4 + 7 + 2,
        ),
        # Keras 'valid' without output_padding: (L-1)*s + max(k', s)
        ({"input_size": 5, "kernel_size": 3, "stride": 2}, 4 * 2 + 3),
        ({"input_size": 5, "kernel_size": 2, "stride": 3}, 4 * 3 + 3),
        # ... with an explicit output_padding 0 it is (L-1)*s + k' + 0
        ({"input_size": 5, "kernel_size": 2, "stride": 3, "output_padding": 0}, 4 * 3 + 2),
        # Keras 'same' without output_padding: L*s
        ({"input_size": 5, "kernel_size": 3, "stride": 2, "padding": "same"}, 10),
        ({"input_size": 5, "kernel_size": 4, "stride": 3, "padding": "same"}, 15),
        # ... with output_padding: (L-1)*s + k' % 2 + op
        (
            {
                "input_size": 5,
                "kernel_size": 3,
                "stride": 2,
                "padding": "same",
                "output_padding": 1,
            },
            8 + 1 + 1,
        ),
        (
            {
                "input_size": 5,
                "kernel_size": 4,
                "stride": 3,
                "padding": "same",
                "output_padding": 2,
            },
            12 + 0 + 2,
        ),
        # Keras dilation at stride 1: k' = 2*(3-1)+1 = 5
        ({"input_size": 6, "kernel_size": 3, "dilation": 2}, 5 + 5),
    ],
)
def test_transposed_output_length(kwargs: dict[str, object], expected: int) -> None:
    report = convcount.transpose(in_channels=4, out_channels=8, dims=1, **kwargs)
    assert report.output_size == (expected,)


def test_default_padding_differs_for_transposed_kernels_smaller_than_stride() -> None:
    keras = convcount.transpose(
        kernel_size=2, in_channels=4, out_channels=4, input_size=5, stride=3
    )
    torch = convcount.transpose(
        kernel_size=2, in_channels=4, out_channels=4, input_size=5, stride=3, convention="torch"
    )
    assert keras.output_size == (15, 15)  # (5-1)*3 + max(2, 3)
    assert torch.output_size == (14, 14)  # (5-1)*3 + 2


def test_conv_macs_exclude_bias_and_flops_double_them() -> None:
    report = convcount.conv(
        kernel_size=3, in_channels=10, out_channels=32, input_size=32, padding="same"
    )
    macs = 32 * 32 * 32 * 3 * 3 * 10  # P * Cout * K * Cin
    assert report.macs == macs
    assert report.flops == 2 * macs
    assert report.bias_adds == 32 * 32 * 32
    assert report.output_shape == (32, 32, 32)
    assert report.output_elements == 32 * 32 * 32
    assert report.param_bytes == 2912 * 4
    assert report.output_bytes == 32 * 32 * 32 * 4


def test_grouped_conv_macs() -> None:
    report = convcount.conv(kernel_size=3, in_channels=12, out_channels=24, groups=3, input_size=10)
    assert report.macs == 8 * 8 * 24 * 9 * (12 // 3)


def test_depthwise_macs() -> None:
    report = convcount.depthwise(
        kernel_size=3, in_channels=10, depth_multiplier=2, input_size=7, stride=2, dilation=2
    )
    # k' = 5, out = floor((7-5)/2)+1 = 2
    assert report.output_size == (2, 2)
    assert report.macs == 4 * 20 * 9


def test_separable_macs_per_term() -> None:
    report = convcount.separable(
        kernel_size=3, in_channels=10, out_channels=32, input_size=16, padding="same"
    )
    depthwise, pointwise = report.term("depthwise"), report.term("pointwise")
    assert depthwise is not None and pointwise is not None
    assert depthwise.macs == 16 * 16 * 10 * 9
    assert pointwise.macs == 16 * 16 * 10 * 32
    assert report.macs == depthwise.macs + pointwise.macs
    bias = report.term("pointwise_bias")
    assert bias is not None and bias.macs == 0 and bias.bias_adds == 16 * 16 * 32


def test_transposed_macs_scale_with_the_input() -> None:
    report = convcount.transpose(
        kernel_size=3, in_channels=8, out_channels=4, input_size="5x6", stride=2
    )
    assert report.output_size == (11, 13)
    assert report.macs == 5 * 6 * 8 * 4 * 9  # Pin * Cin * Cout/g * K
    assert report.bias_adds == 11 * 13 * 4
    grouped = convcount.transpose(
        kernel_size=3,
        in_channels=8,
        out_channels=4,
        groups=2,
        input_size=5,
        stride=2,
        convention="torch",
    )
    assert grouped.macs == 25 * 8 * 2 * 9
    assert grouped.output_shape == (4, 11, 11)  # channels first under torch


def test_depthwise_transposed_as_groups_equal_channels() -> None:
    report = convcount.transpose(
        kernel_size=4,
        in_channels=6,
        out_channels=6,
        groups=6,
        input_size=3,
        stride=2,
        padding=1,
        convention="torch",
    )
    assert report.total == 16 * 6 * 1 + 6
    assert report.output_size == (6, 6)  # (3-1)*2 - 2 + 4
    assert report.macs == 9 * 6 * 1 * 16


@pytest.mark.parametrize(
    ("dtype", "size"),
    [("float32", 4), ("float16", 2), ("bfloat16", 2), ("int8", 1), ("float64", 8)],
)
def test_dtype_bytes(dtype: str, size: int) -> None:
    report = convcount.conv(kernel_size=1, in_channels=3, out_channels=5, input_size=4, dtype=dtype)
    assert report.param_bytes == (3 * 5 + 5) * size
    assert report.output_bytes == 16 * 5 * size


def test_no_input_size_means_no_shape_figures() -> None:
    report = convcount.conv(kernel_size=3, in_channels=3, out_channels=5, stride=2)
    assert report.output_size is None
    assert report.macs is None and report.flops is None and report.output_shape is None
    assert report.param_bytes == report.total * 4


@pytest.mark.parametrize(
    ("kind", "kwargs", "needles"),
    [
        (
            "conv",
            {"input_size": 3, "kernel_size": 5},
            ["--input-size 3x3 is too small", "at least 1"],
        ),
        ("conv", {"input_size": 4, "kernel_size": 3, "dilation": 2}, ["--input-size", "too small"]),
        (
            "transpose",
            {"input_size": 1, "kernel_size": 2, "padding": 1, "convention": "torch"},
            ["too small"],
        ),
    ],
)
def test_output_below_one_is_an_error(
    kind: str, kwargs: dict[str, object], needles: list[str]
) -> None:
    layer = convcount.make_layer(kind, in_channels=2, out_channels=2, **kwargs)
    with pytest.raises(ConvcountError) as info:
        convcount.count(layer)
    for needle in needles:
        assert needle in str(info.value)
