"""keras.applications InceptionV3, as keras/src/applications/inception_v3.py builds it.

What decides the counts:

* Every convolution is ``conv2d_bn``: a bias-free Conv2D ('same' unless
  stated), BatchNormalization(scale=False) (beta trainable, moving mean and
  variance not: 3 values per channel, 1 trainable) and ReLU. None of them is
  named, so Keras numbers them in creation order: ``conv2d``, ``conv2d_1``,
  ... and ``batch_normalization``, ``batch_normalization_1``, ...; the
  blocks below create them in exactly the order of the Keras source.
* Stem: 3x3/2 'valid' (32), 3x3 'valid' (32), 3x3 (64), MaxPooling2D(3, 2),
  1x1 'valid' (80), 3x3 'valid' (192), MaxPooling2D(3, 2).
* mixed0..2 (35x35 at 299), mixed3 (reduction), mixed4..7 (17x17, 7x1 and
  1x7 factorised), mixed8 (reduction), mixed9..10 (8x8, split 1x3 / 3x1).
  Branch poolings are AveragePooling2D(3, 1, 'same'); reductions use
  MaxPooling2D(3, 2, 'valid') and 'valid' stride-2 convolutions.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import KerasNames, Model, Option, Spec, keras_top

MODELS = {"inceptionv3": Model(299, twin="torchvision/inception_v3")}
OPTIONS: tuple[Option, ...] = ()

#: Pool-branch filters of mixed0..mixed2 (torchvision's InceptionA pool_features).
MIXED_A = (32, 64, 64)
#: Inner filters of the 7x7 branches of mixed4..mixed7 (torchvision's InceptionC c7).
MIXED_C = (128, 160, 160, 192)


def _mixed_a(k: KerasNames, x: str, pool_features: int, name: str) -> str:
    branch1x1 = k.conv_bn(x, 64, (1, 1))
    branch5x5 = k.conv_bn(x, 48, (1, 1))
    branch5x5 = k.conv_bn(branch5x5, 64, (5, 5))
    branch3x3dbl = k.conv_bn(x, 64, (1, 1))
    branch3x3dbl = k.conv_bn(branch3x3dbl, 96, (3, 3))
    branch3x3dbl = k.conv_bn(branch3x3dbl, 96, (3, 3))
    branch_pool = k.conv_bn(k.avg_pool(x), pool_features, (1, 1))
    return k.net.concat(branch1x1, branch5x5, branch3x3dbl, branch_pool, name=name)


def _mixed_b(k: KerasNames, x: str) -> str:
    branch3x3 = k.conv_bn(x, 384, (3, 3), 2, "valid")
    branch3x3dbl = k.conv_bn(x, 64, (1, 1))
    branch3x3dbl = k.conv_bn(branch3x3dbl, 96, (3, 3))
    branch3x3dbl = k.conv_bn(branch3x3dbl, 96, (3, 3), 2, "valid")
    return k.net.concat(branch3x3, branch3x3dbl, k.max_pool(x), name="mixed3")


def _mixed_c(k: KerasNames, x: str, c7: int, name: str) -> str:
    branch1x1 = k.conv_bn(x, 192, (1, 1))
    branch7x7 = k.conv_bn(x, c7, (1, 1))
    branch7x7 = k.conv_bn(branch7x7, c7, (1, 7))
    branch7x7 = k.conv_bn(branch7x7, 192, (7, 1))
    branch7x7dbl = k.conv_bn(x, c7, (1, 1))
    branch7x7dbl = k.conv_bn(branch7x7dbl, c7, (7, 1))
    branch7x7dbl = k.conv_bn(branch7x7dbl, c7, (1, 7))
    branch7x7dbl = k.conv_bn(branch7x7dbl, c7, (7, 1))
    branch7x7dbl = k.conv_bn(branch7x7dbl, 192, (1, 7))
    branch_pool = k.conv_bn(k.avg_pool(x), 192, (1, 1))
    return k.net.concat(branch1x1, branch7x7, branch7x7dbl, branch_pool, name=name)


def _mixed_d(k: KerasNames, x: str) -> str:
    branch3x3 = k.conv_bn(x, 192, (1, 1))
    branch3x3 = k.conv_bn(branch3x3, 320, (3, 3), 2, "valid")
    branch7x7x3 = k.conv_bn(x, 192, (1, 1))
    branch7x7x3 = k.conv_bn(branch7x7x3, 192, (1, 7))
    branch7x7x3 = k.conv_bn(branch7x7x3, 192, (7, 1))
    branch7x7x3 = k.conv_bn(branch7x7x3, 192, (3, 3), 2, "valid")
    return k.net.concat(branch3x3, branch7x7x3, k.max_pool(x), name="mixed8")


def _mixed_e(k: KerasNames, x: str, i: int) -> str:
    branch1x1 = k.conv_bn(x, 320, (1, 1))
    branch3x3 = k.conv_bn(x, 384, (1, 1))
    branch3x3 = k.net.concat(
        k.conv_bn(branch3x3, 384, (1, 3)), k.conv_bn(branch3x3, 384, (3, 1)), name=f"mixed9_{i}"
    )
    branch3x3dbl = k.conv_bn(x, 448, (1, 1))
    branch3x3dbl = k.conv_bn(branch3x3dbl, 384, (3, 3))
    branch3x3dbl = k.net.concat(
        k.conv_bn(branch3x3dbl, 384, (1, 3)),
        k.conv_bn(branch3x3dbl, 384, (3, 1)),
        name=k.name("concatenate"),
    )
    branch_pool = k.conv_bn(k.avg_pool(x), 192, (1, 1))
    return k.net.concat(branch1x1, branch3x3, branch3x3dbl, branch_pool, name=f"mixed{9 + i}")


def build(spec: Spec) -> Net:
    net = spec.net()
    k = KerasNames(net)
    x = k.conv_bn("input", 32, (3, 3), 2, "valid")
    x = k.conv_bn(x, 32, (3, 3), 1, "valid")
    x = k.conv_bn(x, 64, (3, 3))
    x = k.max_pool(x)
    x = k.conv_bn(x, 80, (1, 1), 1, "valid")
    x = k.conv_bn(x, 192, (3, 3), 1, "valid")
    x = k.max_pool(x)
    for i, pool_features in enumerate(MIXED_A):
        x = _mixed_a(k, x, pool_features, f"mixed{i}")
    x = _mixed_b(k, x)
    for i, c7 in enumerate(MIXED_C, start=4):
        x = _mixed_c(k, x, c7, f"mixed{i}")
    x = _mixed_d(k, x)
    for i in range(2):
        x = _mixed_e(k, x, i)
    keras_top(net, x, spec, named_pooling=False)
    return net
