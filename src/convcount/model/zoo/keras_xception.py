"""keras.applications Xception, as keras/src/applications/xception.py builds it.

What decides the counts:

* Every convolution is bias-free and followed by BatchNormalization (gamma,
  beta trainable; moving mean and variance not).
* The stem's two 3x3 convolutions are 'valid' (the first with stride 2);
  everything after is 'same', and the stride-2 steps are MaxPooling2D(3, 2,
  'same') whose shortcut is a bias-free 1x1 stride-2 'same' convolution.
* SeparableConv2D(use_bias=False): a 3x3 depthwise and a 1x1 pointwise
  kernel, no bias on either.
* The four projection shortcuts (Conv2D and its BatchNormalization) are left
  unnamed, so Keras names them ``conv2d``..``conv2d_3`` and
  ``batch_normalization``..``batch_normalization_3``; so are the twelve
  residual additions (``add``..``add_11``).
* Entry flow: block2..block4 (128, 256, 728); middle flow: block5..block12,
  three 728 separable convolutions each with an identity shortcut; exit flow:
  block13 (728, 1024, projected), block14 (1536, 2048).
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import KerasNames, Model, Option, Spec, keras_top

#: torchvision has no Xception, hence no twin.
MODELS = {"xception": Model(299)}
OPTIONS: tuple[Option, ...] = ()

#: The projected blocks: (block, filters of its two separable convolutions).
ENTRY = ((2, (128, 128)), (3, (256, 256)), (4, (728, 728)))
EXIT = (13, (728, 1024))
MIDDLE = range(5, 13)


def _sepconv(net: Net, x: str, filters: int, name: str) -> str:
    x = net.layer(
        "separable",
        x,
        name=name,
        kernel_size=3,
        out_channels=filters,
        padding="same",
        depthwise_bias=False,
        pointwise_bias=False,
    )
    return net.bn(x, name=f"{name}_bn")


def _projected(
    net: Net, x: str, block: int, filters: tuple[int, int], auto: KerasNames, *, relu_first: bool
) -> str:
    """A block whose shortcut is an unnamed strided 1x1 conv: two separable convs and a pool."""
    residual = net.conv(x, filters[1], 1, 2, "same", bias=False, name=auto.name("conv2d"))
    residual = net.bn(residual, name=auto.name("batch_normalization"))
    prefix = f"block{block}"
    if relu_first:  # block2 follows the stem's ReLU and starts with the convolution
        x = net.act(x, "relu", name=f"{prefix}_sepconv1_act")
    x = _sepconv(net, x, filters[0], f"{prefix}_sepconv1")
    x = net.act(x, "relu", name=f"{prefix}_sepconv2_act")
    x = _sepconv(net, x, filters[1], f"{prefix}_sepconv2")
    x = net.layer("max_pool", x, name=f"{prefix}_pool", pool_size=3, stride=2, padding="same")
    return net.add(x, residual, name=auto.name("add"))


def build(spec: Spec) -> Net:
    net = spec.net()
    x = net.conv(None, 32, 3, 2, "valid", bias=False, name="block1_conv1")
    x = net.bn(x, name="block1_conv1_bn")
    x = net.act(x, "relu", name="block1_conv1_act")
    x = net.conv(x, 64, 3, 1, "valid", bias=False, name="block1_conv2")
    x = net.bn(x, name="block1_conv2_bn")
    x = net.act(x, "relu", name="block1_conv2_act")
    auto = KerasNames(net)
    for block, filters in ENTRY:
        x = _projected(net, x, block, filters, auto, relu_first=block != 2)
    for block in MIDDLE:
        residual = x
        for i in (1, 2, 3):
            x = net.act(x, "relu", name=f"block{block}_sepconv{i}_act")
            x = _sepconv(net, x, 728, f"block{block}_sepconv{i}")
        x = net.add(x, residual, name=auto.name("add"))
    x = _projected(net, x, *EXIT, auto, relu_first=True)
    x = _sepconv(net, x, 1536, "block14_sepconv1")
    x = net.act(x, "relu", name="block14_sepconv1_act")
    x = _sepconv(net, x, 2048, "block14_sepconv2")
    x = net.act(x, "relu", name="block14_sepconv2_act")
    keras_top(net, x, spec, named_pooling=False)
    return net
