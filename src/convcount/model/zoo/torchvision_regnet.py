"""torchvision.models.regnet_y_* and regnet_x_*, as torchvision/models/regnet.py builds them.

One definition: each variant is the row (depth, w_0, w_a, w_m, group_width,
se_ratio) its builder passes to ``BlockParams.from_init_params``. What decides
the counts:

* the block widths ``round(w_0 * w_m ** round(log((i * w_a + w_0) / w_0) / log(w_m))
  / 8) * 8`` are computed by torch in float32 (the default dtype: ``arange(depth)
  * w_a``); :func:`from_init_params` repeats that arithmetic step by step in
  float32, rounding half to even as ``torch.round`` does, so that no width
  lands on the other side of a rounding boundary;
* consecutive equal widths form a stage (stride 2 each); then
  ``_adjust_widths_groups_compatibilty`` makes each stage's bottleneck width a
  multiple of its group width (``_make_divisible(w, min(g, w))``);
* ResBottleneckBlock: a 1x1 projection (conv + BN) where the width or stride
  changes; ``f.a`` 1x1, ``f.b`` 3x3 grouped (``w_b // group_width`` groups),
  for RegNetY ``f.se`` with ``int(round(se_ratio * width_in))`` channels
  (ReLU, sigmoid), ``f.c`` 1x1; convs bias-free before BatchNorm2d;
* SimpleStemIN: a 3x3 stride-2 conv to ``stem_width`` (32); the head is
  average pooling and Linear.

Default resolutions are the DEFAULT weights' crop sizes: 224, and 384 for
regnet_y_128gf (IMAGENET1K_SWAG_E2E_V1).
"""

from __future__ import annotations

import math
import struct
from itertools import pairwise
from typing import NamedTuple

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec, make_divisible
from convcount.model.zoo.torchvision_mobilenetv2 import conv_norm_act, squeeze_excitation

#: The arguments of each builder's BlockParams.from_init_params call:
#: depth, w_0, w_a, w_m, group_width, se_ratio.
REGNETS: dict[str, tuple[int, int, float, float, int, float | None]] = {
    "regnet_y_400mf": (16, 48, 27.89, 2.09, 8, 0.25),
    "regnet_y_800mf": (14, 56, 38.84, 2.4, 16, 0.25),
    "regnet_y_1_6gf": (27, 48, 20.71, 2.65, 24, 0.25),
    "regnet_y_3_2gf": (21, 80, 42.63, 2.66, 24, 0.25),
    "regnet_y_8gf": (17, 192, 76.82, 2.19, 56, 0.25),
    "regnet_y_16gf": (18, 200, 106.23, 2.48, 112, 0.25),
    "regnet_y_32gf": (20, 232, 115.89, 2.53, 232, 0.25),
    "regnet_y_128gf": (27, 456, 160.83, 2.52, 264, 0.25),
    "regnet_x_400mf": (22, 24, 24.48, 2.54, 16, None),
    "regnet_x_800mf": (16, 56, 35.73, 2.28, 16, None),
    "regnet_x_1_6gf": (18, 80, 34.01, 2.25, 24, None),
    "regnet_x_3_2gf": (25, 88, 26.31, 2.25, 48, None),
    "regnet_x_8gf": (23, 80, 49.56, 2.88, 120, None),
    "regnet_x_16gf": (22, 216, 55.59, 2.1, 128, None),
    "regnet_x_32gf": (23, 320, 69.86, 2.0, 168, None),
}

MODELS = {
    name: Model(
        384 if name == "regnet_y_128gf" else 224,
        {"params": params},
        twin="keras/resnet50",
    )
    for name, params in REGNETS.items()
}
OPTIONS = (Option("stem_width", "int", 32, "output channels of the stem"),)


class BlockParams(NamedTuple):
    """Per-stage settings, as torchvision's BlockParams holds them."""

    depths: list[int]
    widths: list[int]
    group_widths: list[int]
    bottleneck_multipliers: list[float]
    strides: list[int]
    se_ratio: float | None


def _f32(value: float) -> float:
    """``value`` rounded to the nearest float32, as a torch float32 tensor holds it."""
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result


def from_init_params(
    depth: int,
    w_0: int,
    w_a: float,
    w_m: float,
    group_width: int,
    bottleneck_multiplier: float = 1.0,
    se_ratio: float | None = None,
) -> BlockParams:
    """BlockParams.from_init_params without torch: the same float32 steps, element by element.

    Each torch operation on a float32 tensor rounds its exact result to float32
    (a Python scalar operand is first cast to float32); doing every step in
    double and rounding it with :func:`_f32` gives the same numbers.
    """
    quant, stride = 8, 2
    if w_a < 0 or w_0 <= 0 or w_m <= 1 or w_0 % 8 != 0:
        raise ValueError("Invalid RegNet settings")
    a32, m32, log_m = _f32(w_a), _f32(w_m), _f32(math.log(w_m))
    block_widths = []
    for i in range(depth):
        width_cont = _f32(_f32(i * a32) + w_0)  # torch.arange(depth) * w_a + w_0
        ratio = _f32(width_cont / w_0)
        capacity = float(round(_f32(_f32(math.log(ratio)) / log_m)))  # torch.round: half to even
        scaled = _f32(_f32(w_0 * _f32(m32**capacity)) / quant)
        block_widths.append(int(round(scaled) * quant))  # .int() of a whole float
    num_stages = len(set(block_widths))

    # A stage starts wherever the width changes (the sentinel 0s close the last one).
    splits = [
        w != wp or r != rp
        for w, wp, r, rp in zip(
            [*block_widths, 0],
            [0, *block_widths],
            [*block_widths, 0],
            [0, *block_widths],
            strict=True,
        )
    ]
    stage_widths = [w for w, t in zip(block_widths, splits[:-1], strict=True) if t]
    starts = [d for d, t in enumerate(splits) if t]
    stage_depths = [b - a for a, b in pairwise(starts)]  # torch.diff

    strides = [stride] * num_stages
    bottleneck_multipliers = [bottleneck_multiplier] * num_stages
    group_widths = [group_width] * num_stages
    stage_widths, group_widths = _adjust_widths_groups_compatibilty(
        stage_widths, bottleneck_multipliers, group_widths
    )
    return BlockParams(
        stage_depths, stage_widths, group_widths, bottleneck_multipliers, strides, se_ratio
    )


def _adjust_widths_groups_compatibilty(
    stage_widths: list[int], bottleneck_ratios: list[float], group_widths: list[int]
) -> tuple[list[int], list[int]]:
    """Bottleneck widths made multiples of the group widths (torchvision's spelling)."""
    widths = [int(w * b) for w, b in zip(stage_widths, bottleneck_ratios, strict=True)]
    group_widths_min = [min(g, w_bot) for g, w_bot in zip(group_widths, widths, strict=True)]
    ws_bot = [make_divisible(w_bot, g) for w_bot, g in zip(widths, group_widths_min, strict=True)]
    stage_widths = [int(w_bot / b) for w_bot, b in zip(ws_bot, bottleneck_ratios, strict=True)]
    return stage_widths, group_widths_min


def _res_bottleneck_block(
    net: Net,
    x: str,
    name: str,
    width_out: int,
    stride: int,
    group_width: int,
    bottleneck_multiplier: float,
    se_ratio: float | None,
) -> str:
    """ResBottleneckBlock: [proj] + BottleneckTransform (a, b, [se], c), then ReLU."""
    width_in = net.channels(x)
    w_b = round(width_out * bottleneck_multiplier)
    groups = w_b // group_width
    shortcut = x
    if width_in != width_out or stride != 1:
        shortcut = conv_norm_act(net, x, f"{name}.proj", width_out, 1, stride, activation=None)
    y = conv_norm_act(net, x, f"{name}.f.a", w_b, 1)
    y = conv_norm_act(net, y, f"{name}.f.b", w_b, 3, stride, groups=groups)
    if se_ratio:
        # The SE width is relative to the block's input, not its bottleneck.
        y = squeeze_excitation(net, y, f"{name}.f.se", round(se_ratio * width_in))
    y = conv_norm_act(net, y, f"{name}.f.c", width_out, 1, activation=None)
    y = net.add(shortcut, y, name=f"{name}.add")
    return net.act(y, "relu", name=f"{name}.activation")


def build(spec: Spec) -> Net:
    net = spec.net()
    depth, w_0, w_a, w_m, group_width, se_ratio = spec.args["params"]
    params = from_init_params(depth, w_0, w_a, w_m, group_width, se_ratio=se_ratio)
    x = conv_norm_act(net, "input", "stem", spec.option("stem_width"), 3, 2)
    for i, (width_out, stride, stage_depth, group_w, bottleneck) in enumerate(
        zip(
            params.widths,
            params.strides,
            params.depths,
            params.group_widths,
            params.bottleneck_multipliers,
            strict=True,
        ),
        start=1,
    ):
        for j in range(stage_depth):
            x = _res_bottleneck_block(
                net,
                x,
                f"trunk_output.block{i}.block{i}-{j}",
                width_out,
                stride if j == 0 else 1,
                group_w,
                bottleneck,
                params.se_ratio,
            )
    x = net.layer("adaptive_avg_pool", x, name="avgpool", output_size=1)
    x = net.layer("flatten", x, name="flatten")
    net.dense(x, spec.option("num_classes"), name="fc")
    return net
