"""torchvision's Inception v3, as torchvision/models/inception.py (0.29.1) builds it.

What decides the counts:

* every conv is a BasicConv2d: a bias-free conv, BatchNorm2d (eps 0.001) and
  ReLU, named ``<module>.conv`` and ``<module>.bn``; the stem's convs and
  pools are unpadded ("valid"), so 299 gives 35x35, 17x17 and 8x8 grids;
* blocks A (Mixed_5b-d), B (6a), C (6b-e, 7x7 factorised into 1x7 and 7x1),
  D (7a) and E (7b-c) as in the source; pooling branches are 3x3/1 average
  pools (padding 1) or 3x3/2 max pools, functional (no modules);
* the head is global average pooling, Dropout(0.5), ``fc`` = Linear(2048, num_classes);
* the DEFAULT weights' model has the auxiliary classifier ``AuxLogits``
  (27,161,264 parameters; ``aux_logits=False`` drops it): 5x5/3 average
  pooling of Mixed_6e, conv0 (1x1 to 128), conv1 (5x5 to 768), global
  average pooling and fc (768 -> num_classes). It runs only in training: in
  the eval-mode count it holds parameters and buffers but no MACs, and
  torchvision never checks that its input is large enough, so its pooling is
  taken as the 5x5 output it has at 299 whatever the resolution.

``transform_input`` only rescales the input channels: no count changes.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec
from convcount.model.zoo.torchvision_googlenet import basic_conv

MODELS = {"inception_v3": Model(299, twin="keras/inceptionv3")}
OPTIONS = (
    Option(
        "aux_logits",
        "bool",
        True,
        "the auxiliary classifier AuxLogits (parameters only: it does not run in eval)",
    ),
)


def _pool_branch(net: Net, x: str, name: str, out_channels: int) -> str:
    """F.avg_pool2d(3, stride 1, padding 1), then a 1x1 BasicConv2d."""
    block = name.rsplit(".", 1)[0]
    p = net.layer(
        "avg_pool",
        x,
        name=f"{block}.avg_pool2d",
        call="F.avg_pool2d",
        pool_size=3,
        stride=1,
        padding=1,
    )
    return basic_conv(net, p, name, out_channels, 1)


def _max_branch(net: Net, x: str, name: str) -> str:
    """F.max_pool2d(3, stride 2)."""
    return net.layer("max_pool", x, name=name, call="F.max_pool2d", pool_size=3, stride=2)


def inception_a(net: Net, x: str, name: str, pool_features: int) -> str:
    b1 = basic_conv(net, x, f"{name}.branch1x1", 64, 1)
    b5 = basic_conv(net, x, f"{name}.branch5x5_1", 48, 1)
    b5 = basic_conv(net, b5, f"{name}.branch5x5_2", 64, 5, 1, 2)
    b3 = basic_conv(net, x, f"{name}.branch3x3dbl_1", 64, 1)
    b3 = basic_conv(net, b3, f"{name}.branch3x3dbl_2", 96, 3, 1, 1)
    b3 = basic_conv(net, b3, f"{name}.branch3x3dbl_3", 96, 3, 1, 1)
    bp = _pool_branch(net, x, f"{name}.branch_pool", pool_features)
    return net.concat(b1, b5, b3, bp, name=f"{name}.cat")


def inception_b(net: Net, x: str, name: str) -> str:
    b3 = basic_conv(net, x, f"{name}.branch3x3", 384, 3, 2)
    bd = basic_conv(net, x, f"{name}.branch3x3dbl_1", 64, 1)
    bd = basic_conv(net, bd, f"{name}.branch3x3dbl_2", 96, 3, 1, 1)
    bd = basic_conv(net, bd, f"{name}.branch3x3dbl_3", 96, 3, 2)
    bp = _max_branch(net, x, f"{name}.max_pool2d")
    return net.concat(b3, bd, bp, name=f"{name}.cat")


def inception_c(net: Net, x: str, name: str, c7: int) -> str:
    row, col = ((1, 7), (0, 3)), ((7, 1), (3, 0))
    b1 = basic_conv(net, x, f"{name}.branch1x1", 192, 1)
    b7 = basic_conv(net, x, f"{name}.branch7x7_1", c7, 1)
    b7 = basic_conv(net, b7, f"{name}.branch7x7_2", c7, row[0], 1, row[1])
    b7 = basic_conv(net, b7, f"{name}.branch7x7_3", 192, col[0], 1, col[1])
    bd = basic_conv(net, x, f"{name}.branch7x7dbl_1", c7, 1)
    for i, ((kernel, padding), out) in enumerate(
        zip((col, row, col, row), (c7, c7, c7, 192), strict=True), start=2
    ):
        bd = basic_conv(net, bd, f"{name}.branch7x7dbl_{i}", out, kernel, 1, padding)
    bp = _pool_branch(net, x, f"{name}.branch_pool", 192)
    return net.concat(b1, b7, bd, bp, name=f"{name}.cat")


def inception_d(net: Net, x: str, name: str) -> str:
    b3 = basic_conv(net, x, f"{name}.branch3x3_1", 192, 1)
    b3 = basic_conv(net, b3, f"{name}.branch3x3_2", 320, 3, 2)
    b7 = basic_conv(net, x, f"{name}.branch7x7x3_1", 192, 1)
    b7 = basic_conv(net, b7, f"{name}.branch7x7x3_2", 192, (1, 7), 1, (0, 3))
    b7 = basic_conv(net, b7, f"{name}.branch7x7x3_3", 192, (7, 1), 1, (3, 0))
    b7 = basic_conv(net, b7, f"{name}.branch7x7x3_4", 192, 3, 2)
    bp = _max_branch(net, x, f"{name}.max_pool2d")
    return net.concat(b3, b7, bp, name=f"{name}.cat")


def _split_3x3(net: Net, x: str, name: str, cat: str) -> str:
    """The 1x3 and 3x1 convs side by side, concatenated (``cat``: the block's torch.cat)."""
    a = basic_conv(net, x, f"{name}a", 384, (1, 3), 1, (0, 1))
    b = basic_conv(net, x, f"{name}b", 384, (3, 1), 1, (1, 0))
    return net.concat(a, b, name=cat)


def inception_e(net: Net, x: str, name: str) -> str:
    b1 = basic_conv(net, x, f"{name}.branch1x1", 320, 1)
    b3 = basic_conv(net, x, f"{name}.branch3x3_1", 384, 1)
    b3 = _split_3x3(net, b3, f"{name}.branch3x3_2", f"{name}.cat")
    bd = basic_conv(net, x, f"{name}.branch3x3dbl_1", 448, 1)
    bd = basic_conv(net, bd, f"{name}.branch3x3dbl_2", 384, 3, 1, 1)
    bd = _split_3x3(net, bd, f"{name}.branch3x3dbl_3", f"{name}.cat_1")
    bp = _pool_branch(net, x, f"{name}.branch_pool", 192)
    return net.concat(b1, b3, bd, bp, name=f"{name}.cat_2")


def build(spec: Spec) -> Net:
    classes = spec.option("num_classes")
    net = spec.net()
    x = basic_conv(net, "input", "Conv2d_1a_3x3", 32, 3, 2)
    x = basic_conv(net, x, "Conv2d_2a_3x3", 32, 3)
    x = basic_conv(net, x, "Conv2d_2b_3x3", 64, 3, 1, 1)
    x = net.layer("max_pool", x, name="maxpool1", pool_size=3, stride=2)
    x = basic_conv(net, x, "Conv2d_3b_1x1", 80, 1)
    x = basic_conv(net, x, "Conv2d_4a_3x3", 192, 3)
    x = net.layer("max_pool", x, name="maxpool2", pool_size=3, stride=2)
    x = inception_a(net, x, "Mixed_5b", 32)
    x = inception_a(net, x, "Mixed_5c", 64)
    x = inception_a(net, x, "Mixed_5d", 64)
    x = inception_b(net, x, "Mixed_6a")
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        x = inception_c(net, x, name, c7)
    if spec.option("aux_logits"):
        first = len(net.layers)
        # Never run in eval: pooled to its size at 299 (5x5) so that any resolution builds.
        a = net.layer(
            "adaptive_avg_pool",
            x,
            name="AuxLogits.avg_pool2d",
            call="F.avg_pool2d",
            output_size=5,
        )
        a = basic_conv(net, a, "AuxLogits.conv0", 128, 1)
        a = basic_conv(net, a, "AuxLogits.conv1", 768, 5)
        a = net.layer(
            "adaptive_avg_pool",
            a,
            name="AuxLogits.adaptive_avg_pool2d",
            call="F.adaptive_avg_pool2d",
            output_size=1,
        )
        a = net.layer("flatten", a, name="AuxLogits.flatten")
        net.dense(a, classes, name="AuxLogits.fc")
        net.idle(first)
    x = inception_d(net, x, "Mixed_7a")
    x = inception_e(net, x, "Mixed_7b")
    x = inception_e(net, x, "Mixed_7c")
    x = net.layer("adaptive_avg_pool", x, name="avgpool", output_size=1)
    x = net.layer("dropout", x, name="dropout", rate=0.5)
    x = net.layer("flatten", x, name="flatten")
    net.dense(x, classes, name="fc")
    return net
