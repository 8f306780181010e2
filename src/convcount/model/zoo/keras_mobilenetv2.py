"""keras.applications.MobileNetV2, as keras/src/applications/mobilenet_v2.py builds it.

What decides the counts:

* the first conv has ``_make_divisible(32 * alpha, 8)`` filters; a block projects
  to ``_make_divisible(int(filters * alpha), 8)`` and expands (every block but the
  first) to ``6 * in_channels``; the last conv has 1280 filters, grown to
  ``_make_divisible(1280 * alpha, 8)`` only when alpha > 1;
* no conv has a bias; every conv is followed by BatchNormalization;
* a stride-2 depthwise conv is 'valid' after ZeroPadding2D(correct_pad(x, 3)),
  which pads one less on the top/left of an even size;
* a block adds its input back when the channels match and the stride is 1.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Spec, correct_pad, keras_top, make_divisible

MODELS = {"mobilenetv2": Model(224, width=True, twin="torchvision/mobilenet_v2")}
OPTIONS = ()

#: (filters, stride, expansion) of the 17 inverted residual blocks, block_id 0..16.
BLOCKS = (
    (16, 1, 1),
    (24, 2, 6),
    (24, 1, 6),
    (32, 2, 6),
    *((32, 1, 6),) * 2,
    (64, 2, 6),
    *((64, 1, 6),) * 3,
    *((96, 1, 6),) * 3,
    (160, 2, 6),
    *((160, 1, 6),) * 2,
    (320, 1, 6),
)


def _block(
    net: Net, x: str, filters: int, stride: int, expansion: int, block_id: int, alpha: float
) -> str:
    inputs = x
    in_channels = net.channels(x)
    pointwise = make_divisible(int(filters * alpha), 8)
    if block_id:
        prefix = f"block_{block_id}_"
        x = net.conv(x, expansion * in_channels, 1, 1, "same", bias=False, name=f"{prefix}expand")
        x = net.bn(x, name=f"{prefix}expand_BN")
        x = net.act(x, "relu6", name=f"{prefix}expand_relu")
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = net.layer("zero_padding", x, name=f"{prefix}pad", padding=correct_pad(net, x, 3))
    x = net.depthwise(
        x, 3, stride, "same" if stride == 1 else "valid", bias=False, name=f"{prefix}depthwise"
    )
    x = net.bn(x, name=f"{prefix}depthwise_BN")
    x = net.act(x, "relu6", name=f"{prefix}depthwise_relu")
    x = net.conv(x, pointwise, 1, 1, "same", bias=False, name=f"{prefix}project")
    x = net.bn(x, name=f"{prefix}project_BN")
    if in_channels == pointwise and stride == 1:
        x = net.add(inputs, x, name=f"{prefix}add")
    return x


def build(spec: Spec) -> Net:
    net = spec.net()
    alpha = spec.alpha
    x = net.conv(None, make_divisible(32 * alpha, 8), 3, 2, "same", bias=False, name="Conv1")
    x = net.bn(x, name="bn_Conv1")
    x = net.act(x, "relu6", name="Conv1_relu")
    for block_id, (filters, stride, expansion) in enumerate(BLOCKS):
        x = _block(net, x, filters, stride, expansion, block_id, alpha)
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = net.conv(x, last, 1, 1, "valid", bias=False, name="Conv_1")
    x = net.bn(x, name="Conv_1_bn")
    x = net.act(x, "relu6", name="out_relu")
    keras_top(net, x, spec, pool=None, named_pooling=False)
    return net
