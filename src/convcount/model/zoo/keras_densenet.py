"""keras.applications DenseNet121/169/201, as keras/src/applications/densenet.py builds them.

What decides the counts:

* Stem: ZeroPadding2D(3), a bias-free 7x7 stride-2 'valid' convolution (64),
  BatchNormalization, ReLU, ZeroPadding2D(1), MaxPooling2D(3, 2).
* ``conv_block`` (growth rate 32): BN, ReLU, bias-free 1x1 convolution to
  128, BN, ReLU, bias-free 3x3 'same' convolution to 32, concatenated onto
  its input, so every block adds 32 channels.
* ``transition_block`` (reduction 0.5): BN, ReLU, a bias-free 1x1
  convolution to ``int(channels * 0.5)``, AveragePooling2D(2, 2) ('valid').
* A final BN (``bn``) and ReLU before the head. Every BatchNormalization
  holds gamma and beta (trainable) and the moving mean and variance (not).
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec, keras_top

GROWTH_RATE = 32
REDUCTION = 0.5


def _variant(blocks: tuple[int, int, int, int], twin: str) -> Model:
    return Model(224, {"blocks": blocks}, twin=f"torchvision/{twin}")


MODELS = {
    "densenet121": _variant((6, 12, 24, 16), "densenet121"),
    "densenet169": _variant((6, 12, 32, 32), "densenet169"),
    "densenet201": _variant((6, 12, 48, 32), "densenet201"),
}
OPTIONS: tuple[Option, ...] = ()


def _conv_block(net: Net, x: str, name: str) -> str:
    y = net.bn(x, name=f"{name}_0_bn")
    y = net.act(y, "relu", name=f"{name}_0_relu")
    y = net.conv(y, 4 * GROWTH_RATE, 1, 1, "valid", bias=False, name=f"{name}_1_conv")
    y = net.bn(y, name=f"{name}_1_bn")
    y = net.act(y, "relu", name=f"{name}_1_relu")
    y = net.conv(y, GROWTH_RATE, 3, 1, "same", bias=False, name=f"{name}_2_conv")
    return net.concat(x, y, name=f"{name}_concat")


def _transition_block(net: Net, x: str, name: str) -> str:
    x = net.bn(x, name=f"{name}_bn")
    x = net.act(x, "relu", name=f"{name}_relu")
    filters = int(net.channels(x) * REDUCTION)
    x = net.conv(x, filters, 1, 1, "valid", bias=False, name=f"{name}_conv")
    return net.layer("avg_pool", x, name=f"{name}_pool", pool_size=2, stride=2)


def build(spec: Spec) -> Net:
    net = spec.net()
    x = net.layer("zero_padding", None, name="zero_padding2d", padding=3)
    x = net.conv(x, 64, 7, 2, "valid", bias=False, name="conv1_conv")
    x = net.bn(x, name="conv1_bn")
    x = net.act(x, "relu", name="conv1_relu")
    x = net.layer("zero_padding", x, name="zero_padding2d_1", padding=1)
    x = net.layer("max_pool", x, name="pool1", pool_size=3, stride=2)
    blocks: tuple[int, ...] = spec.args["blocks"]
    for stage, repeats in enumerate(blocks, start=2):
        for i in range(1, repeats + 1):
            x = _conv_block(net, x, f"conv{stage}_block{i}")
        if stage - 1 < len(blocks):
            x = _transition_block(net, x, f"pool{stage}")
    x = net.bn(x, name="bn")
    x = net.act(x, "relu", name="relu")
    keras_top(net, x, spec)
    return net
