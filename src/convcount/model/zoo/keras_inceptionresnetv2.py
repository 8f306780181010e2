"""keras.applications InceptionResNetV2, as keras/src/applications/inception_resnet_v2.py builds it.

What decides the counts:

* ``conv2d_bn``: a bias-free Conv2D ('same' unless stated) with
  BatchNormalization(scale=False) (beta trainable, moving mean and variance
  not: 3 values per channel, 1 trainable) and ReLU. Most are unnamed, so
  Keras numbers them in creation order (``conv2d``, ``conv2d_1``, ...,
  ``batch_normalization``, ...); named ones (``conv_7b``) take no number.
* Each residual block ends with a named 1x1 Conv2D WITH a bias and no
  BatchNormalization (``block35_1_conv``, ...) back to the block's input
  channels (320, 1088, 2080), then ``CustomScaleLayer``: ``x + up * scale``,
  which holds no weights and counts as an add.
* Stem as InceptionV3's; mixed_5b (320 channels), 10 x block35, mixed_6a
  (reduction, 1088), 20 x block17 (1x7 / 7x1), mixed_7a (reduction, 2080),
  10 x block8 (1x3 / 3x1; the last without its ReLU), conv_7b (1x1, 1536).
  Reductions use 'valid' stride-2 convolutions and MaxPooling2D(3, 2).
"""

from __future__ import annotations

from typing import TypeAlias

from convcount.model.graph import Net
from convcount.model.zoo.common import KerasNames, Model, Option, Spec, keras_top

#: torchvision has no Inception-ResNet; its Inception v3 is the nearest.
MODELS = {"inceptionresnetv2": Model(299, twin="torchvision/inception_v3")}
OPTIONS: tuple[Option, ...] = ()

Kernel: TypeAlias = int | tuple[int, int]

#: Each residual block's branches: (filters, kernel) per conv2d_bn, in creation order.
BRANCHES: dict[str, tuple[tuple[tuple[int, Kernel], ...], ...]] = {
    "block35": (((32, 1),), ((32, 1), (32, 3)), ((32, 1), (48, 3), (64, 3))),
    "block17": (((192, 1),), ((128, 1), (160, (1, 7)), (192, (7, 1)))),
    "block8": (((192, 1),), ((192, 1), (224, (1, 3)), (256, (3, 1)))),
}
#: The repeated blocks: (type, repeats, scale); the scale does not change counts.
BLOCKS = (("block35", 10, 0.17), ("block17", 20, 0.1), ("block8", 10, 0.2))


def _residual_block(k: KerasNames, x: str, block_type: str, index: int, *, relu: bool) -> str:
    branches = []
    for branch in BRANCHES[block_type]:
        y = x
        for filters, kernel in branch:
            y = k.conv_bn(y, filters, kernel)
        branches.append(y)
    name = f"{block_type}_{index}"
    net = k.net
    mixed = net.concat(*branches, name=f"{name}_mixed")
    up = net.conv(mixed, net.channels(x), 1, 1, "same", name=f"{name}_conv")
    # CustomScaleLayer computes x + up * scale and holds no weights: an add.
    x = net.layer("add", (x, up), name=k.name("custom_scale_layer"))
    return net.act(x, "relu", name=f"{name}_ac") if relu else x


def _mixed_6a(k: KerasNames, x: str) -> str:
    branch_0 = k.conv_bn(x, 384, 3, 2, "valid")
    branch_1 = k.conv_bn(k.conv_bn(k.conv_bn(x, 256, 1), 256, 3), 384, 3, 2, "valid")
    branch_pool = k.pool("max_pool", x, 2)
    return k.net.concat(branch_0, branch_1, branch_pool, name="mixed_6a")


def _mixed_7a(k: KerasNames, x: str) -> str:
    branch_0 = k.conv_bn(k.conv_bn(x, 256, 1), 384, 3, 2, "valid")
    branch_1 = k.conv_bn(k.conv_bn(x, 256, 1), 288, 3, 2, "valid")
    branch_2 = k.conv_bn(k.conv_bn(k.conv_bn(x, 256, 1), 288, 3), 320, 3, 2, "valid")
    branch_pool = k.pool("max_pool", x, 2)
    return k.net.concat(branch_0, branch_1, branch_2, branch_pool, name="mixed_7a")


def build(spec: Spec) -> Net:
    net = spec.net()
    k = KerasNames(net)
    x = k.conv_bn("input", 32, 3, 2, "valid")
    x = k.conv_bn(x, 32, 3, 1, "valid")
    x = k.conv_bn(x, 64, 3)
    x = k.pool("max_pool", x, 2)
    x = k.conv_bn(x, 80, 1, 1, "valid")
    x = k.conv_bn(x, 192, 3, 1, "valid")
    x = k.pool("max_pool", x, 2)

    branch_0 = k.conv_bn(x, 96, 1)
    branch_1 = k.conv_bn(k.conv_bn(x, 48, 1), 64, 5)
    branch_2 = k.conv_bn(k.conv_bn(k.conv_bn(x, 64, 1), 96, 3), 96, 3)
    branch_pool = k.conv_bn(k.pool("avg_pool", x, 1, "same"), 64, 1)
    x = net.concat(branch_0, branch_1, branch_2, branch_pool, name="mixed_5b")

    reductions = (_mixed_6a, _mixed_7a, None)
    for (block_type, repeats, _scale), reduction in zip(BLOCKS, reductions, strict=True):
        for index in range(1, repeats + 1):
            # The very last block8 is built with activation=None.
            last = block_type == "block8" and index == repeats
            x = _residual_block(k, x, block_type, index, relu=not last)
        if reduction is not None:
            x = reduction(k, x)
    x = k.conv_bn(x, 1536, 1, name="conv_7b")
    keras_top(net, x, spec, named_pooling=False)
    return net
