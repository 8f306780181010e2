"""torchvision.models.mobilenet_v2, as torchvision/models/mobilenetv2.py builds it.

What decides the counts:

* channels are ``_make_divisible(c * width_mult, round_nearest)`` (round_nearest
  8), the stem's 32 too; the last conv has
  ``_make_divisible(1280 * max(1.0, width_mult), round_nearest)`` channels, so
  widths below 1 keep 1280;
* an InvertedResidual's hidden width is ``int(round(inp * t))``; with t == 1 it
  has no expanding 1x1 conv (so ``conv.0`` is then the depthwise conv);
* every conv is bias-free before a BatchNorm2d (2C parameters, 2C+1 buffers);
  the classifier is Dropout then Linear(last_channel, num_classes).

This module also holds the two building blocks of ``torchvision/ops/misc.py``
that the other torchvision families share: :func:`conv_norm_act`
(Conv2dNormActivation) and :func:`squeeze_excitation` (SqueezeExcitation).
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec, make_divisible

MODELS = {"mobilenet_v2": Model(224, width=True, twin="keras/mobilenetv2")}
OPTIONS = (
    Option(
        "round_nearest",
        "int",
        8,
        "round every channel count to a multiple of this (1 turns rounding off)",
    ),
)

#: t (expansion), c (output channels), n (repeats), s (first stride), as torchvision lists them.
INVERTED_RESIDUAL_SETTING = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def conv_norm_act(
    net: Net,
    x: str,
    name: str,
    out_channels: int,
    kernel_size: int = 3,
    stride: int = 1,
    *,
    padding: int | None = None,
    groups: int = 1,
    dilation: int = 1,
    norm: str | None = "batchnorm",
    activation: str | None = "relu",
    bias: bool | None = None,
    norm_call: str = "",
) -> str:
    """torchvision's Conv2dNormActivation: ``name.0`` conv, ``name.1`` norm, then activation.

    The padding defaults to ``(k - 1) // 2 * dilation`` and the conv has a bias
    only when there is no norm layer (unless ``bias`` says otherwise), as in
    torchvision/ops/misc.py. ``norm`` is a layer kind (batchnorm, layer_norm) or None;
    ``norm_call`` its module class when not the kind's own (``LayerNorm2d``).
    """
    if padding is None:
        padding = (kernel_size - 1) // 2 * dilation
    if bias is None:
        bias = norm is None
    x = net.conv(
        x,
        out_channels,
        kernel_size,
        stride,
        padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        name=f"{name}.0",
    )
    index = 1
    if norm is not None:
        x = net.layer(norm, x, name=f"{name}.1", call=norm_call)
        index = 2
    if activation is not None:
        x = net.act(x, activation, name=f"{name}.{index}")
    return x


def squeeze_excitation(
    net: Net,
    x: str,
    name: str,
    squeeze_channels: int,
    *,
    activation: str = "relu",
    scale_activation: str = "sigmoid",
) -> str:
    """torchvision's SqueezeExcitation: avgpool, fc1 and fc2 (1x1 convs with bias), scale.

    The fc convs act on a 1x1 map, so their MACs are Cin * Cout each; the
    product with the input (``scale * input``) is named ``name.mul``.
    """
    channels = net.channels(x)
    s = net.layer("adaptive_avg_pool", x, name=f"{name}.avgpool", output_size=1)
    s = net.conv(s, squeeze_channels, 1, name=f"{name}.fc1")
    s = net.act(s, activation, name=f"{name}.activation")
    s = net.conv(s, channels, 1, name=f"{name}.fc2")
    s = net.act(s, scale_activation, name=f"{name}.scale_activation")
    return net.multiply(s, x, name=f"{name}.mul")


def build(spec: Spec) -> Net:
    net = spec.net()
    width_mult = spec.alpha
    round_nearest: int = spec.option("round_nearest")
    input_channel = make_divisible(32 * width_mult, round_nearest)
    last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
    x = conv_norm_act(net, "input", "features.0", input_channel, 3, 2, activation="relu6")
    index = 1
    for t, c, n, s in INVERTED_RESIDUAL_SETTING:
        output_channel = make_divisible(c * width_mult, round_nearest)
        for i in range(n):
            stride = s if i == 0 else 1
            block = f"features.{index}"
            hidden = round(input_channel * t)  # int(round(inp * expand_ratio))
            y = x
            j = 0
            if t != 1:
                y = conv_norm_act(net, y, f"{block}.conv.0", hidden, 1, activation="relu6")
                j = 1
            y = conv_norm_act(
                net, y, f"{block}.conv.{j}", hidden, 3, stride, groups=hidden, activation="relu6"
            )
            y = net.conv(y, output_channel, 1, bias=False, name=f"{block}.conv.{j + 1}")
            y = net.bn(y, name=f"{block}.conv.{j + 2}")
            # The residual joins only where the shape is kept (stride 1, same channels).
            x = (
                net.add(x, y, name=f"{block}.add")
                if stride == 1 and input_channel == output_channel
                else y
            )
            input_channel = output_channel
            index += 1
    x = conv_norm_act(net, x, f"features.{index}", last_channel, 1, activation="relu6")
    # forward: adaptive_avg_pool2d(x, (1, 1)) and flatten, functional (no modules).
    x = net.layer(
        "adaptive_avg_pool",
        x,
        name="adaptive_avg_pool2d",
        call="F.adaptive_avg_pool2d",
        output_size=1,
    )
    x = net.layer("flatten", x, name="flatten")
    x = net.layer("dropout", x, name="classifier.0", rate=0.2)
    net.dense(x, spec.option("num_classes"), name="classifier.1")
    return net
