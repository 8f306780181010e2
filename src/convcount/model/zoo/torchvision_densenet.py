"""torchvision's DenseNet-BC 121/161/169/201 (torchvision/models/densenet.py, 0.29.1).

What decides the counts:

* ``features``: conv0 (7x7/2, padding 3, no bias), norm0, relu0, pool0 (3x3/2
  max, padding 1); four dense blocks with a transition after each but the
  last; norm5; then ReLU, global average pooling and ``classifier`` =
  Linear(features, num_classes);
* a dense layer sees the concatenation of the block's input and every earlier
  layer's output: norm1, relu1, conv1 (1x1 to bn_size * growth_rate), norm2,
  relu2, conv2 (3x3 padding 1 to growth_rate), all convs bias-free;
* a transition halves the channels (``num_features // 2``): norm, relu, 1x1
  conv, 2x2/2 average pool;
* the builders fix growth_rate, block_config and num_init_features; bn_size
  (default 4) may be given.

Every BatchNorm2d holds 2C parameters and 2C+1 buffers.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec


def _model(growth_rate: int, block_config: tuple[int, ...], init: int, twin: str) -> Model:
    return Model(
        224,
        {"growth_rate": growth_rate, "block_config": block_config, "num_init_features": init},
        twin=twin,
    )


MODELS = {
    "densenet121": _model(32, (6, 12, 24, 16), 64, "keras/densenet121"),
    "densenet161": _model(48, (6, 12, 36, 24), 96, "keras/densenet201"),
    "densenet169": _model(32, (6, 12, 32, 32), 64, "keras/densenet169"),
    "densenet201": _model(32, (6, 12, 48, 32), 64, "keras/densenet201"),
}
OPTIONS = (
    Option("bn_size", "int", 4, "bottleneck width of a dense layer, in multiples of growth_rate"),
)


def build(spec: Spec) -> Net:
    growth: int = spec.args["growth_rate"]
    blocks: tuple[int, ...] = spec.args["block_config"]
    bottleneck = spec.option("bn_size") * growth
    net = spec.net()
    features: int = spec.args["num_init_features"]
    x = net.conv("input", features, 7, 2, 3, bias=False, name="features.conv0")
    x = net.bn(x, name="features.norm0")
    x = net.act(x, "relu", name="features.relu0")
    x = net.layer("max_pool", x, name="features.pool0", pool_size=3, stride=2, padding=1)
    for i, layers in enumerate(blocks, start=1):
        block = f"features.denseblock{i}"
        for j in range(1, layers + 1):
            name = f"{block}.denselayer{j}"
            # x is the concatenation of the block input and every new feature map so far.
            y = net.bn(x, name=f"{name}.norm1")
            y = net.act(y, "relu", name=f"{name}.relu1")
            y = net.conv(y, bottleneck, 1, bias=False, name=f"{name}.conv1")
            y = net.bn(y, name=f"{name}.norm2")
            y = net.act(y, "relu", name=f"{name}.relu2")
            y = net.conv(y, growth, 3, 1, 1, bias=False, name=f"{name}.conv2")
            x = net.concat(x, y, name=f"{name}.cat")
        features += layers * growth
        if i != len(blocks):
            name = f"features.transition{i}"
            x = net.bn(x, name=f"{name}.norm")
            x = net.act(x, "relu", name=f"{name}.relu")
            features //= 2
            x = net.conv(x, features, 1, bias=False, name=f"{name}.conv")
            x = net.layer("avg_pool", x, name=f"{name}.pool", pool_size=2, stride=2)
    x = net.bn(x, name="features.norm5")
    x = net.act(x, "relu", name="relu", call="F.relu")
    x = net.layer(
        "adaptive_avg_pool",
        x,
        name="adaptive_avg_pool2d",
        call="F.adaptive_avg_pool2d",
        output_size=1,
    )
    x = net.layer("flatten", x, name="flatten")
    net.dense(x, spec.option("num_classes"), name="classifier")
    return net
