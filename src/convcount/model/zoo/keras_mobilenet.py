"""keras.applications.MobileNet (v1), as keras/src/applications/mobilenet.py builds it.

Filters are ``int(filters * alpha)`` (no rounding to a divisor); a stride-2
depthwise conv is 'valid' after ZeroPadding2D(((0, 1), (0, 1))).
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec, keras_pooling

MODELS = {"mobilenet": Model(224, width=True, twin="torchvision/mobilenet_v2")}
OPTIONS = (Option("depth_multiplier", "int", 1, "the depthwise convolutions' depth multiplier"),)

#: (pointwise filters, stride) of the 13 depthwise-separable blocks.
BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    *((512, 1),) * 5,
    (1024, 2),
    (1024, 1),
)


def build(spec: Spec) -> Net:
    net = spec.net()
    alpha = spec.alpha
    x = net.conv(None, int(32 * alpha), 3, 2, "same", bias=False, name="conv1")
    x = net.bn(x, name="conv1_bn")
    x = net.act(x, "relu6", name="conv1_relu")
    for block_id, (filters, stride) in enumerate(BLOCKS, start=1):
        if stride == 2:
            x = net.layer("zero_padding", x, name=f"conv_pad_{block_id}", padding=((0, 1), (0, 1)))
        x = net.depthwise(
            x,
            3,
            stride,
            "same" if stride == 1 else "valid",
            depth_multiplier=spec.option("depth_multiplier"),
            bias=False,
            name=f"conv_dw_{block_id}",
        )
        x = net.bn(x, name=f"conv_dw_{block_id}_bn")
        x = net.act(x, "relu6", name=f"conv_dw_{block_id}_relu")
        x = net.conv(x, int(filters * alpha), 1, 1, "same", bias=False, name=f"conv_pw_{block_id}")
        x = net.bn(x, name=f"conv_pw_{block_id}_bn")
        x = net.act(x, "relu6", name=f"conv_pw_{block_id}_relu")
    if not spec.option("include_top"):
        keras_pooling(net, x, spec, named=False)
        return net
    classes = spec.option("classes")
    x = net.layer("global_avg_pool", x, name="global_average_pooling2d", keepdims=True)
    x = net.layer("dropout", x, name="dropout", rate=0.001)
    x = net.conv(x, classes, 1, 1, "same", name="conv_preds")
    x = net.layer("reshape", x, name="reshape_2", shape=(classes,))
    net.act(x, "softmax", name="predictions")
    return net
