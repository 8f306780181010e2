"""keras.applications ResNet (v1) and ResNetV2, as keras/src/applications/resnet.py builds them.

resnet_v2.py only calls ``resnet.ResNet`` with ``preact=True``; both versions
pass ``use_bias=True``, and the facts that decide the counts are:

* v1 (``residual_block_v1``): every convolution has a bias (even before a
  BatchNormalization); the stride is on the first 1x1 convolution (and the
  1x1 projection shortcut) of each stage's first block, and conv2 keeps
  stride 1. The 3x3 convolution is 'same'.
* v2 (``residual_block_v2``): BatchNormalization + ReLU before each block
  (``preact``); the 1x1 and 3x3 convolutions have no bias, the last 1x1 has
  one. Only the first block of a stage projects its shortcut (stride 1); the
  stride is on the 3x3 convolution (ZeroPadding2D(1) then 'valid') of the
  stage's LAST block, whose shortcut is MaxPooling2D(1, strides=2), and
  conv5 keeps stride 1. ``post_bn`` + ``post_relu`` close the stack, and the
  stem has no BatchNormalization.
* BatchNormalization holds gamma, beta (trainable) and the moving mean and
  variance (non-trainable).
"""

from __future__ import annotations

from itertools import count

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec, keras_top

#: Bottleneck filters of conv2..conv5 (a block's output is 4 times as many).
FILTERS = (64, 128, 256, 512)


def _variant(depths: tuple[int, int, int, int], preact: bool, twin: str) -> Model:
    return Model(224, {"depths": depths, "preact": preact}, twin=f"torchvision/{twin}")


MODELS = {
    "resnet50": _variant((3, 4, 6, 3), False, "resnet50"),
    "resnet101": _variant((3, 4, 23, 3), False, "resnet101"),
    "resnet152": _variant((3, 8, 36, 3), False, "resnet152"),
    "resnet50v2": _variant((3, 4, 6, 3), True, "resnet50"),
    "resnet101v2": _variant((3, 4, 23, 3), True, "resnet101"),
    "resnet152v2": _variant((3, 8, 36, 3), True, "resnet152"),
}
OPTIONS: tuple[Option, ...] = ()


def _block_v1(net: Net, x: str, filters: int, stride: int, project: bool, name: str) -> str:
    shortcut = x
    if project:
        shortcut = net.conv(x, 4 * filters, 1, stride, "valid", name=f"{name}_0_conv")
        shortcut = net.bn(shortcut, name=f"{name}_0_bn")
    x = net.conv(x, filters, 1, stride, "valid", name=f"{name}_1_conv")
    x = net.bn(x, name=f"{name}_1_bn")
    x = net.act(x, "relu", name=f"{name}_1_relu")
    x = net.conv(x, filters, 3, 1, "same", name=f"{name}_2_conv")
    x = net.bn(x, name=f"{name}_2_bn")
    x = net.act(x, "relu", name=f"{name}_2_relu")
    x = net.conv(x, 4 * filters, 1, 1, "valid", name=f"{name}_3_conv")
    x = net.bn(x, name=f"{name}_3_bn")
    x = net.add(shortcut, x, name=f"{name}_add")
    return net.act(x, "relu", name=f"{name}_out")


def _block_v2(
    net: Net, x: str, filters: int, stride: int, project: bool, name: str, pools: count[int]
) -> str:
    preact = net.bn(x, name=f"{name}_preact_bn")
    preact = net.act(preact, "relu", name=f"{name}_preact_relu")
    if project:
        shortcut = net.conv(preact, 4 * filters, 1, stride, "valid", name=f"{name}_0_conv")
    elif stride > 1:
        # Keras leaves this pooling unnamed: its automatic names, in creation order.
        number = next(pools)
        shortcut = net.layer(
            "max_pool",
            x,
            name=f"max_pooling2d_{number}" if number else "max_pooling2d",
            pool_size=1,
            stride=stride,
        )
    else:
        shortcut = x
    x = net.conv(preact, filters, 1, 1, "valid", bias=False, name=f"{name}_1_conv")
    x = net.bn(x, name=f"{name}_1_bn")
    x = net.act(x, "relu", name=f"{name}_1_relu")
    x = net.layer("zero_padding", x, name=f"{name}_2_pad", padding=1)
    x = net.conv(x, filters, 3, stride, "valid", bias=False, name=f"{name}_2_conv")
    x = net.bn(x, name=f"{name}_2_bn")
    x = net.act(x, "relu", name=f"{name}_2_relu")
    x = net.conv(x, 4 * filters, 1, 1, "valid", name=f"{name}_3_conv")
    return net.add(shortcut, x, name=f"{name}_out")


def build(spec: Spec) -> Net:
    net = spec.net()
    preact: bool = spec.args["preact"]
    x = net.layer("zero_padding", None, name="conv1_pad", padding=3)
    x = net.conv(x, 64, 7, 2, "valid", name="conv1_conv")
    if not preact:
        x = net.bn(x, name="conv1_bn")
        x = net.act(x, "relu", name="conv1_relu")
    x = net.layer("zero_padding", x, name="pool1_pad", padding=1)
    x = net.layer("max_pool", x, name="pool1_pool", pool_size=3, stride=2)
    pools = count()
    for stage, (filters, blocks) in enumerate(zip(FILTERS, spec.args["depths"], strict=True)):
        prefix = f"conv{stage + 2}"
        if preact:
            # stack_residual_blocks_v2: the stride sits on the last block, not on conv5.
            stride = 1 if stage == len(FILTERS) - 1 else 2
            for i in range(1, blocks + 1):
                x = _block_v2(
                    net,
                    x,
                    filters,
                    stride if i == blocks else 1,
                    i == 1,
                    f"{prefix}_block{i}",
                    pools,
                )
        else:
            # stack_residual_blocks_v1: the first block strides (conv2 excepted) and projects.
            stride = 1 if stage == 0 else 2
            for i in range(1, blocks + 1):
                x = _block_v1(
                    net, x, filters, stride if i == 1 else 1, i == 1, f"{prefix}_block{i}"
                )
    if preact:
        x = net.bn(x, name="post_bn")
        x = net.act(x, "relu", name="post_relu")
    keras_top(net, x, spec)
    return net
