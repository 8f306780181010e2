"""torchvision's GoogLeNet (Inception v1), as torchvision/models/googlenet.py (0.29.1) builds it.

What decides the counts:

* every conv is a BasicConv2d: a bias-free conv, BatchNorm2d (eps 0.001) and
  ReLU, named ``<module>.conv`` and ``<module>.bn``;
* the max pools between stages use ``ceil_mode=True`` (3x3/2, and 2x2/2
  before inception5a), which decides the sizes at odd resolutions;
* an Inception block concatenates branch1 (1x1), branch2 (1x1, 3x3), branch3
  (1x1, then a 3x3 where the paper has a 5x5: a known torchvision quirk,
  pytorch/vision#906) and branch4 (3x3/1 max pool padding 1 ceil_mode, 1x1);
* the head is global average pooling, Dropout(0.2), ``fc`` = Linear(1024, num_classes);
* the DEFAULT weights' model has no auxiliary heads (6,624,904 parameters):
  ``aux_logits`` adds aux1 (after inception4a) and aux2 (after inception4d),
  each adaptive 4x4 average pooling, a 1x1 BasicConv2d to 128, Linear(2048,
  1024), Linear(1024, num_classes). They run only in training, so in the
  eval-mode count they hold parameters and buffers but have no MACs.

``transform_input`` only rescales the input channels: no count changes.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec

MODELS = {"googlenet": Model(224, twin="keras/inceptionv3")}
OPTIONS = (
    Option(
        "aux_logits",
        "bool",
        False,
        "the two auxiliary classifiers aux1 and aux2 (parameters only: they do not run in eval)",
    ),
)

#: Inception blocks: name, then ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj; a bare
#: name is a ceil_mode max pool (its window size).
BLOCKS: tuple[tuple[str, int, int, int, int, int, int] | tuple[str, int], ...] = (
    ("inception3a", 64, 96, 128, 16, 32, 32),
    ("inception3b", 128, 128, 192, 32, 96, 64),
    ("maxpool3", 3),
    ("inception4a", 192, 96, 208, 16, 48, 64),
    ("inception4b", 160, 112, 224, 24, 64, 64),
    ("inception4c", 128, 128, 256, 24, 64, 64),
    ("inception4d", 112, 144, 288, 32, 64, 64),
    ("inception4e", 256, 160, 320, 32, 128, 128),
    ("maxpool4", 2),
    ("inception5a", 256, 160, 320, 32, 128, 128),
    ("inception5b", 384, 192, 384, 48, 128, 128),
)
#: The auxiliary heads and the block whose output feeds each.
AUX = {"inception4a": "aux1", "inception4d": "aux2"}


def basic_conv(
    net: Net,
    x: str,
    name: str,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    stride: int = 1,
    padding: int | tuple[int, int] = 0,
) -> str:
    """BasicConv2d: a bias-free conv, BatchNorm2d and ReLU (eps changes no count)."""
    x = net.conv(x, out_channels, kernel_size, stride, padding, bias=False, name=f"{name}.conv")
    x = net.bn(x, name=f"{name}.bn")
    return net.act(x, "relu", name=f"{name}.relu", call="F.relu")


def build(spec: Spec) -> Net:
    classes = spec.option("num_classes")
    net = spec.net()
    x = basic_conv(net, "input", "conv1", 64, 7, 2, 3)
    x = net.layer("max_pool", x, name="maxpool1", pool_size=3, stride=2, ceil_mode=True)
    x = basic_conv(net, x, "conv2", 64, 1)
    x = basic_conv(net, x, "conv3", 192, 3, 1, 1)
    x = net.layer("max_pool", x, name="maxpool2", pool_size=3, stride=2, ceil_mode=True)
    for block in BLOCKS:
        if len(block) == 2:
            name, size = block
            x = net.layer("max_pool", x, name=name, pool_size=size, stride=2, ceil_mode=True)
            continue
        name, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj = block
        b1 = basic_conv(net, x, f"{name}.branch1", ch1x1, 1)
        b2 = basic_conv(net, x, f"{name}.branch2.0", ch3x3red, 1)
        b2 = basic_conv(net, b2, f"{name}.branch2.1", ch3x3, 3, 1, 1)
        b3 = basic_conv(net, x, f"{name}.branch3.0", ch5x5red, 1)
        b3 = basic_conv(net, b3, f"{name}.branch3.1", ch5x5, 3, 1, 1)  # 3x3, not 5x5
        b4 = net.layer(
            "max_pool",
            x,
            name=f"{name}.branch4.0",
            pool_size=3,
            stride=1,
            padding=1,
            ceil_mode=True,
        )
        b4 = basic_conv(net, b4, f"{name}.branch4.1", pool_proj, 1)
        x = net.concat(b1, b2, b3, b4, name=f"{name}.cat")
        if name in AUX and spec.option("aux_logits"):
            aux, first = AUX[name], len(net.layers)
            a = net.layer(
                "adaptive_avg_pool",
                x,
                name=f"{aux}.adaptive_avg_pool2d",
                call="F.adaptive_avg_pool2d",
                output_size=4,
            )
            a = basic_conv(net, a, f"{aux}.conv", 128, 1)
            a = net.layer("flatten", a, name=f"{aux}.flatten")
            a = net.dense(a, 1024, name=f"{aux}.fc1")
            a = net.act(a, "relu", name=f"{aux}.relu", call="F.relu")
            a = net.layer("dropout", a, name=f"{aux}.dropout", rate=0.7)
            net.dense(a, classes, name=f"{aux}.fc2")
            net.idle(first)
    x = net.layer("adaptive_avg_pool", x, name="avgpool", output_size=1)
    x = net.layer("flatten", x, name="flatten")
    x = net.layer("dropout", x, name="dropout", rate=0.2)
    net.dense(x, classes, name="fc")
    return net
