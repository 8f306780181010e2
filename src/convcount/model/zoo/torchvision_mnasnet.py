"""torchvision.models.mnasnet0_5 ... mnasnet1_3, as torchvision/models/mnasnet.py builds them.

The builders call ``MNASNet(alpha)`` with alpha 0.5, 0.75, 1.0 or 1.3;
``--width-multiplier`` replaces that alpha. What decides the counts:

* ``_get_depths(alpha)`` scales the eight widths 32, 16, 24, 40, 80, 96, 192, 320
  with ``_round_to_multiple_of(depth * alpha, 8)``: the nearest multiple of 8
  (at least 8), one step up when that falls below 0.9 of the exact value; the
  stem (depths 0 and 1: 32 and 16 at alpha 1) scales too (model version 2);
* the six stacks of inverted residuals (kernel 3 or 5, expansion 3 or 6, no
  rounding of the expanded width ``in_ch * expansion``) have a skip only
  after their first block; the last conv has 1280 channels at every alpha;
* every conv is bias-free before a BatchNorm2d; the head is a mean over H and W,
  Dropout and Linear(1280, num_classes).
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Spec

MODELS = {
    "mnasnet0_5": Model(224, width=True, twin="keras/mobilenetv2", width_default=0.5),
    "mnasnet0_75": Model(224, width=True, twin="keras/mobilenetv2", width_default=0.75),
    "mnasnet1_0": Model(224, width=True, twin="keras/mobilenetv2", width_default=1.0),
    "mnasnet1_3": Model(224, width=True, twin="keras/mobilenetv2", width_default=1.3),
}
OPTIONS = ()

#: The unscaled widths of the stem (two) and of the six stacks' outputs.
DEPTHS = (32, 16, 24, 40, 80, 96, 192, 320)
#: kernel, stride, expansion factor, repeats of the six stacks (outputs DEPTHS[2:]).
STACKS = (
    (3, 2, 3, 3),
    (5, 2, 3, 3),
    (5, 2, 6, 3),
    (3, 1, 6, 2),
    (5, 2, 6, 4),
    (3, 1, 6, 1),
)


def _round_to_multiple_of(val: float, divisor: int, round_up_bias: float = 0.9) -> int:
    """MNASNet's asymmetric rounding: (83, 8) -> 80 but (84, 8) -> 88."""
    new_val = max(divisor, int(val + divisor / 2) // divisor * divisor)
    return new_val if new_val >= round_up_bias * val else new_val + divisor


def _get_depths(alpha: float) -> list[int]:
    return [_round_to_multiple_of(depth * alpha, 8) for depth in DEPTHS]


def _conv_bn(
    net: Net,
    x: str,
    index: int,
    prefix: str,
    out: int,
    kernel: int,
    stride: int = 1,
    *,
    groups: int = 1,
    relu: bool = True,
) -> str:
    """nn.Conv2d(bias=False), nn.BatchNorm2d and maybe nn.ReLU at ``prefix`` + index, +1, +2."""
    x = net.conv(
        x, out, kernel, stride, kernel // 2, groups=groups, bias=False, name=f"{prefix}{index}"
    )
    x = net.bn(x, name=f"{prefix}{index + 1}")
    if relu:
        x = net.act(x, "relu", name=f"{prefix}{index + 2}")
    return x


def _inverted_residual(
    net: Net, x: str, name: str, out_ch: int, kernel: int, stride: int, expansion: int
) -> str:
    in_ch = net.channels(x)
    mid_ch = in_ch * expansion
    prefix = f"{name}.layers."
    y = _conv_bn(net, x, 0, prefix, mid_ch, 1)
    y = _conv_bn(net, y, 3, prefix, mid_ch, kernel, stride, groups=mid_ch)
    y = _conv_bn(net, y, 6, prefix, out_ch, 1, relu=False)
    if in_ch == out_ch and stride == 1:
        return net.add(y, x, name=f"{name}.add")
    return y


def build(spec: Spec) -> Net:
    net = spec.net()
    depths = _get_depths(spec.alpha)
    x = _conv_bn(net, "input", 0, "layers.", depths[0], 3, 2)
    # Depthwise separable, no skip.
    x = _conv_bn(net, x, 3, "layers.", depths[0], 3, groups=depths[0])
    x = _conv_bn(net, x, 6, "layers.", depths[1], 1, relu=False)
    for stack, ((kernel, stride, expansion, repeats), out_ch) in enumerate(
        zip(STACKS, depths[2:], strict=True), start=8
    ):
        for i in range(repeats):
            x = _inverted_residual(
                net, x, f"layers.{stack}.{i}", out_ch, kernel, stride if i == 0 else 1, expansion
            )
    # Final mapping to the classifier input: 1280 channels whatever alpha is.
    x = _conv_bn(net, x, 14, "layers.", 1280, 1)
    x = net.layer("global_avg_pool", x, name="mean")
    x = net.layer("dropout", x, name="classifier.0", rate=0.2)
    net.dense(x, spec.option("num_classes"), name="classifier.1")
    return net
