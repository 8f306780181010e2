"""torchvision.models.mobilenet_v3_small / _large, as torchvision/models/mobilenetv3.py builds them.

What decides the counts:

* every row's input, expanded and output channels are
  ``_make_divisible(c * width_mult, 8)`` (InvertedResidualConfig.adjust_channels),
  and so is the classifier's hidden width (1280 large, 1024 small);
* ``reduced_tail`` halves (integer division, before the width) the channels of
  the last stage and that hidden width; ``dilated`` gives the last stage's
  depthwise convs dilation 2 and stride 1 (padding ``(k - 1) // 2 * 2``);
* a block expands with a 1x1 conv only when the expanded width differs from its
  input; its squeeze-and-excite has ``_make_divisible(expanded // 4, 8)``
  channels, ReLU and a Hardsigmoid scale, and 1x1 convs with biases;
* the last conv has 6x the last row's output channels; the classifier is
  Linear, Hardswish, Dropout, Linear. Convs are bias-free before BatchNorm2d
  (eps 0.001, which does not change counts).
"""

from __future__ import annotations

from typing import NamedTuple

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec, make_divisible
from convcount.model.zoo.torchvision_mobilenetv2 import conv_norm_act, squeeze_excitation

MODELS = {
    "mobilenet_v3_small": Model(
        224, {"arch": "mobilenet_v3_small"}, width=True, twin="keras/mobilenetv3small"
    ),
    "mobilenet_v3_large": Model(
        224, {"arch": "mobilenet_v3_large"}, width=True, twin="keras/mobilenetv3large"
    ),
}
OPTIONS = (
    Option("reduced_tail", "bool", False, "halve the channels of the last stage (C4) and head"),
    Option("dilated", "bool", False, "dilation 2 instead of stride 2 in the last stage (C4)"),
)

HARD_SWISH = "hard_swish"


class InvertedResidualConfig(NamedTuple):
    """One block, channels already scaled by the width multiplier."""

    input_channels: int
    kernel: int
    expanded_channels: int
    out_channels: int
    use_se: bool
    use_hs: bool
    stride: int
    dilation: int


def _bneck(
    width_mult: float,
    input_channels: int,
    kernel: int,
    expanded_channels: int,
    out_channels: int,
    use_se: bool,
    activation: str,
    stride: int,
    dilation: int,
) -> InvertedResidualConfig:
    """InvertedResidualConfig(..., width_mult): adjust_channels on the three widths."""
    return InvertedResidualConfig(
        make_divisible(input_channels * width_mult, 8),
        kernel,
        make_divisible(expanded_channels * width_mult, 8),
        make_divisible(out_channels * width_mult, 8),
        use_se,
        activation == "HS",
        stride,
        dilation,
    )


def _mobilenet_v3_conf(
    arch: str, width_mult: float, reduced_tail: bool, dilated: bool
) -> tuple[list[InvertedResidualConfig], int]:
    """The rows of torchvision's ``_mobilenet_v3_conf`` and the classifier's hidden width."""
    r = 2 if reduced_tail else 1
    d = 2 if dilated else 1
    # input, kernel, expanded, out, use_se, activation, stride, dilation
    rows: list[tuple[int, int, int, int, bool, str, int, int]]
    if arch == "mobilenet_v3_large":
        rows = [
            (16, 3, 16, 16, False, "RE", 1, 1),
            (16, 3, 64, 24, False, "RE", 2, 1),  # C1
            (24, 3, 72, 24, False, "RE", 1, 1),
            (24, 5, 72, 40, True, "RE", 2, 1),  # C2
            (40, 5, 120, 40, True, "RE", 1, 1),
            (40, 5, 120, 40, True, "RE", 1, 1),
            (40, 3, 240, 80, False, "HS", 2, 1),  # C3
            (80, 3, 200, 80, False, "HS", 1, 1),
            (80, 3, 184, 80, False, "HS", 1, 1),
            (80, 3, 184, 80, False, "HS", 1, 1),
            (80, 3, 480, 112, True, "HS", 1, 1),
            (112, 3, 672, 112, True, "HS", 1, 1),
            (112, 5, 672, 160 // r, True, "HS", 2, d),  # C4
            (160 // r, 5, 960 // r, 160 // r, True, "HS", 1, d),
            (160 // r, 5, 960 // r, 160 // r, True, "HS", 1, d),
        ]
        last_channel = 1280 // r  # C5
    else:
        rows = [
            (16, 3, 16, 16, True, "RE", 2, 1),  # C1
            (16, 3, 72, 24, False, "RE", 2, 1),  # C2
            (24, 3, 88, 24, False, "RE", 1, 1),
            (24, 5, 96, 40, True, "HS", 2, 1),  # C3
            (40, 5, 240, 40, True, "HS", 1, 1),
            (40, 5, 240, 40, True, "HS", 1, 1),
            (40, 5, 120, 48, True, "HS", 1, 1),
            (48, 5, 144, 48, True, "HS", 1, 1),
            (48, 5, 288, 96 // r, True, "HS", 2, d),  # C4
            (96 // r, 5, 576 // r, 96 // r, True, "HS", 1, d),
            (96 // r, 5, 576 // r, 96 // r, True, "HS", 1, d),
        ]
        last_channel = 1024 // r  # C5
    setting = [_bneck(width_mult, *row) for row in rows]
    return setting, make_divisible(last_channel * width_mult, 8)


def _inverted_residual(net: Net, x: str, name: str, cnf: InvertedResidualConfig) -> str:
    """torchvision's mobilenetv3.InvertedResidual: [expand], depthwise, [SE], project."""
    activation = HARD_SWISH if cnf.use_hs else "relu"
    y = x
    j = 0
    if cnf.expanded_channels != cnf.input_channels:
        y = conv_norm_act(
            net, y, f"{name}.block.0", cnf.expanded_channels, 1, activation=activation
        )
        j = 1
    # A dilated block keeps its resolution: stride 1 instead of cnf.stride.
    stride = 1 if cnf.dilation > 1 else cnf.stride
    y = conv_norm_act(
        net,
        y,
        f"{name}.block.{j}",
        cnf.expanded_channels,
        cnf.kernel,
        stride,
        dilation=cnf.dilation,
        groups=cnf.expanded_channels,
        activation=activation,
    )
    j += 1
    if cnf.use_se:
        squeeze = make_divisible(cnf.expanded_channels // 4, 8)
        y = squeeze_excitation(
            net, y, f"{name}.block.{j}", squeeze, scale_activation="hard_sigmoid"
        )
        j += 1
    y = conv_norm_act(net, y, f"{name}.block.{j}", cnf.out_channels, 1, activation=None)
    if cnf.stride == 1 and cnf.input_channels == cnf.out_channels:
        return net.add(y, x, name=f"{name}.add")
    return y


def build(spec: Spec) -> Net:
    net = spec.net()
    setting, last_channel = _mobilenet_v3_conf(
        spec.args["arch"], spec.alpha, spec.option("reduced_tail"), spec.option("dilated")
    )
    x = conv_norm_act(
        net, "input", "features.0", setting[0].input_channels, 3, 2, activation=HARD_SWISH
    )
    for index, cnf in enumerate(setting, start=1):
        x = _inverted_residual(net, x, f"features.{index}", cnf)
    lastconv_output_channels = 6 * setting[-1].out_channels
    x = conv_norm_act(
        net, x, f"features.{len(setting) + 1}", lastconv_output_channels, 1, activation=HARD_SWISH
    )
    x = net.layer("adaptive_avg_pool", x, name="avgpool", output_size=1)
    x = net.layer("flatten", x, name="flatten")
    x = net.dense(x, last_channel, name="classifier.0")
    x = net.act(x, HARD_SWISH, name="classifier.1")
    x = net.layer("dropout", x, name="classifier.2", rate=0.2)
    net.dense(x, spec.option("num_classes"), name="classifier.3")
    return net
