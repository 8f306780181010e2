"""Sizes per dimension against the real frameworks: resize, padding per side, dense.

Each case builds a one- or two-layer network in the model language and the
same operation in PyTorch (F.interpolate, F.pad, nn.Linear) or Keras
(Resizing, UpSampling2D, ZeroPadding2D), and compares the output shape,
parameters and MACs (FlopCounterMode). The tensors are tiny: these run in
well under a second.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcount.errors import ConvcountError
from convcount.model import build_model
from convcount.model.graph import ModelReport

pytestmark = pytest.mark.frameworks


def ours(
    size: list[int], channels: int, layers: list[dict[str, Any]], convention: str
) -> ModelReport:
    spec = {
        "model": {
            "input": {"size": size, "channels": channels, "dims": len(size)},
            "convention": convention,
        },
        "layer": layers,
    }
    return build_model(spec, "t.toml")


ODD = [(7, 5), (13, 9), (1, 3), (31, 17)]
FACTORS = [2, 0.5, 1.5, 2.3, 0.7, 1 / 3, 3.3, (1.5, 0.5)]


@pytest.mark.parametrize("size", ODD)
@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "nearest-exact", "bicubic", "area"])
def test_resize_by_a_factor_is_pytorchs_floor_rule(
    torch: Any, size: tuple[int, int], factor: Any, mode: str
) -> None:
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    factors = factor if isinstance(factor, tuple) else (factor, factor)
    if min(int(n * f) for n, f in zip(size, factors, strict=True)) < 1:
        with pytest.raises(ConvcountError, match="too small"):
            ours(list(size), 3, [{"kind": "resize", "scale_factor": list(factors)}], "torch")
        return
    with FlopCounterMode(display=False) as counter:
        out = F.interpolate(torch.zeros(1, 3, *size), scale_factor=factors, mode=mode)
    report = ours(
        list(size),
        3,
        [{"kind": "resize", "scale_factor": list(factors), "interpolation": mode}],
        "torch",
    )
    assert report.output_shape(report.output) == tuple(out.shape[1:])
    assert report.macs == counter.get_total_flops() // 2 == 0
    assert report.total_params == 0


def test_resize_to_a_size_and_to_a_layers_size(torch: Any) -> None:
    import torch.nn.functional as F

    x = torch.zeros(1, 4, 13, 9)
    skip = torch.nn.Conv2d(4, 2, 3, 2)(x)
    up = F.interpolate(skip, size=x.shape[-2:], mode="bilinear", align_corners=False)
    report = ours(
        [13, 9],
        4,
        [
            {"kind": "conv", "name": "skip", "out_channels": 2, "kernel_size": 3, "stride": 2},
            {"kind": "resize", "like": "input", "interpolation": "bilinear"},
            {"kind": "resize", "name": "fixed", "size": [5, 6], "input": "skip"},
        ],
        "torch",
    )
    assert report.output_shape(report.layers[1].output) == tuple(up.shape[1:])
    fixed = F.interpolate(skip, size=(5, 6))
    assert report.output_shape(report.output) == tuple(fixed.shape[1:])


@pytest.mark.parametrize(
    ("size", "pad"),
    [
        ((7, 5), (1, 2, 3, 0)),
        ((4, 9), (0, 1, 0, 1)),
        ((6,), (2, 3)),
        ((3, 4, 5), (1, 0, 2, 3, 0, 4)),
    ],
)
def test_padding_per_side_in_f_pad_order(
    torch: Any, size: tuple[int, ...], pad: tuple[int, ...]
) -> None:
    import torch.nn.functional as F

    out = F.pad(torch.zeros(1, 2, *size), pad)
    report = ours(list(size), 2, [{"kind": "zero_padding", "padding": list(pad)}], "torch")
    assert report.output_shape(report.output) == tuple(out.shape[1:])


def test_zeropad2d_order(torch: Any) -> None:
    out = torch.nn.ZeroPad2d((1, 2, 3, 4))(torch.zeros(1, 2, 5, 5))
    report = ours([5, 5], 2, [{"kind": "zero_padding", "padding": [1, 2, 3, 4]}], "torch")
    assert report.output_shape(report.output) == tuple(out.shape[1:])


def test_linear_on_a_chw_tensor_acts_on_the_width(torch: Any) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Linear(10, 7))
    with FlopCounterMode(display=False) as counter:
        out = net(torch.zeros(1, 3, 6, 12))
    report = ours(
        [6, 12],
        3,
        [{"kind": "conv", "out_channels": 8, "kernel_size": 3}, {"kind": "dense", "units": 7}],
        "torch",
    )
    assert report.output_shape(report.output) == tuple(out.shape[1:])
    assert report.total_params == sum(p.numel() for p in net.parameters())
    assert report.macs == counter.get_total_flops() // 2


def test_keras_resizing_upsampling_and_padding_per_side(keras: Any, torch: Any) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    layers = keras.layers
    inputs = keras.Input((13, 9, 4))
    skip = layers.Conv2D(6, 3, strides=2, name="skip")(inputs)
    x = layers.UpSampling2D((2, 3), interpolation="bilinear", name="up")(skip)
    x = layers.ZeroPadding2D(((1, 0), (2, 3)), name="pad")(x)
    x = layers.Resizing(inputs.shape[1], inputs.shape[2], name="back")(x)
    y = layers.Resizing(5, 7, interpolation="nearest", name="fixed")(x)
    built = keras.Model(inputs, y)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        built(torch.zeros((1, 13, 9, 4)))
    report = ours(
        [13, 9],
        4,
        [
            {"kind": "conv", "name": "skip", "out_channels": 6, "kernel_size": 3, "stride": 2},
            {"kind": "resize", "name": "up", "scale_factor": [2, 3], "interpolation": "bilinear"},
            {"kind": "zero_padding", "name": "pad", "padding": [[1, 0], [2, 3]]},
            {"kind": "resize", "name": "back", "like": "input", "interpolation": "bilinear"},
            {"kind": "resize", "name": "fixed", "size": [5, 7]},
        ],
        "keras",
    )
    for layer in report.layers:
        assert report.output_shape(layer.output) == tuple(
            built.get_layer(layer.name).output.shape[1:]
        )
    assert (report.total_params, report.macs) == (
        built.count_params(),
        counter.get_total_flops() // 2,
    )


@pytest.mark.parametrize("size", [(13, 9), (21, 20), (7, 7)])
def test_padding_and_cropping_to_a_layers_size(torch: Any, size: tuple[int, int]) -> None:
    import torch.nn.functional as F

    # milesial's U-Net pads the up path to its skip; the original crops the skip
    skip = torch.zeros(1, 2, *size)
    x = torch.nn.ConvTranspose2d(2, 2, 2, stride=2)(torch.nn.MaxPool2d(2)(skip))
    dy, dx = skip.shape[2] - x.shape[2], skip.shape[3] - x.shape[3]
    padded = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
    report = ours(
        list(size),
        2,
        [
            {"kind": "max_pool"},
            {"kind": "transpose", "name": "up", "out_channels": 2, "kernel_size": 2, "stride": 2},
            {"kind": "zero_padding", "name": "padded", "like": "input"},
            {"kind": "cropping", "name": "cropped", "input": "input", "like": "up"},
        ],
        "torch",
    )
    shapes = {layer.name: report.output_shape(layer.output) for layer in report.layers}
    assert shapes["padded"] == tuple(padded.shape[1:])
    assert shapes["cropped"] == tuple(x.shape[1:])
