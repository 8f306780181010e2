"""torchvision's ShuffleNet v2 x0.5 to x2.0 (torchvision/models/shufflenetv2.py, 0.29.1).

What decides the counts:

* every conv is bias-free and followed by BatchNorm2d; ``conv1`` is a 3x3/2
  conv (padding 1) to stages_out_channels[0], then a 3x3/2 max pool
  (padding 1); stages 2, 3, 4 repeat InvertedResidual blocks (4, 8, 4 times);
  ``conv5`` is a 1x1 conv; the mean over the positions feeds ``fc``;
* a stride-2 block (each stage's first) runs the whole input through branch1
  (3x3/2 depthwise conv, BN, 1x1 conv, BN, ReLU) and branch2 (1x1 conv, BN,
  ReLU, 3x3/2 depthwise, BN, 1x1 conv, BN, ReLU), each to oup // 2 channels;
  a stride-1 block splits the channels in two, passes the first half on and
  runs branch2 on the second; both concatenate and shuffle 2 groups;
* only stages_out_channels differ between the widths.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec

STAGES_REPEATS = (4, 8, 4)

#: stages_out_channels of each builder.
MODELS = {
    f"shufflenet_v2_x{width}": Model(224, {"stages_out_channels": channels})
    for width, channels in (
        ("0_5", (24, 48, 96, 192, 1024)),
        ("1_0", (24, 116, 232, 464, 1024)),
        ("1_5", (24, 176, 352, 704, 1024)),
        ("2_0", (24, 244, 488, 976, 2048)),
    )
}
OPTIONS: tuple[Option, ...] = ()


def _conv_bn(
    net: Net, x: str, name: str, index: int, out: int, *, depthwise_stride: int = 0
) -> str:
    """A bias-free conv at ``<name>.<index>`` and its BatchNorm2d at ``<index + 1>``.

    ``depthwise_stride`` > 0 makes it the 3x3 depthwise conv (padding 1) at that stride.
    """
    if depthwise_stride:
        x = net.conv(
            x,
            out,
            3,
            depthwise_stride,
            1,
            groups=net.channels(x),
            bias=False,
            name=f"{name}.{index}",
        )
    else:
        x = net.conv(x, out, 1, bias=False, name=f"{name}.{index}")
    return net.bn(x, name=f"{name}.{index + 1}")


def inverted_residual(net: Net, x: str, name: str, oup: int, stride: int) -> str:
    branch = oup // 2
    inp = net.channels(x)
    if stride > 1:
        b1 = _conv_bn(net, x, f"{name}.branch1", 0, inp, depthwise_stride=stride)
        b1 = _conv_bn(net, b1, f"{name}.branch1", 2, branch)
        left = net.act(b1, "relu", name=f"{name}.branch1.4")
        right = x
    else:
        # x.chunk(2, dim=1): the first half goes straight to the concatenation.
        left = net.layer("split", x, name=f"{name}.chunk0", parts=2, index=0)
        right = net.layer("split", x, name=f"{name}.chunk1", parts=2, index=1)
    b2 = _conv_bn(net, right, f"{name}.branch2", 0, branch)
    b2 = net.act(b2, "relu", name=f"{name}.branch2.2")
    b2 = _conv_bn(net, b2, f"{name}.branch2", 3, branch, depthwise_stride=stride)
    b2 = _conv_bn(net, b2, f"{name}.branch2", 5, branch)
    b2 = net.act(b2, "relu", name=f"{name}.branch2.7")
    out = net.concat(left, b2, name=f"{name}.cat")
    return net.layer("channel_shuffle", out, name=f"{name}.channel_shuffle", groups=2)


def build(spec: Spec) -> Net:
    channels: tuple[int, ...] = spec.args["stages_out_channels"]
    net = spec.net()
    x = net.conv("input", channels[0], 3, 2, 1, bias=False, name="conv1.0")
    x = net.bn(x, name="conv1.1")
    x = net.act(x, "relu", name="conv1.2")
    x = net.layer("max_pool", x, name="maxpool", pool_size=3, stride=2, padding=1)
    for stage, (repeats, oup) in enumerate(
        zip(STAGES_REPEATS, channels[1:-1], strict=True), start=2
    ):
        for index in range(repeats):
            x = inverted_residual(net, x, f"stage{stage}.{index}", oup, 2 if index == 0 else 1)
    x = net.conv(x, channels[-1], 1, bias=False, name="conv5.0")
    x = net.bn(x, name="conv5.1")
    x = net.act(x, "relu", name="conv5.2")
    x = net.layer("global_avg_pool", x, name="mean")
    net.dense(x, spec.option("num_classes"), name="fc")
    return net
