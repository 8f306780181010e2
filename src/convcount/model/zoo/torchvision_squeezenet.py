"""torchvision's SqueezeNet 1.0 and 1.1 (torchvision/models/squeezenet.py, 0.29.1).

What decides the counts:

* every conv has a bias and no batch norm (so no buffers);
* the stem is a 7x7/2 conv to 96 (1.0) or a 3x3/2 conv to 64 (1.1), both
  unpadded; the 3x3/2 max pools use ``ceil_mode=True``, and 1.1 pools
  earlier than 1.0;
* a Fire module is ``squeeze`` (1x1), then ``expand1x1`` (1x1) and
  ``expand3x3`` (3x3 padding 1) side by side, concatenated;
* the classifier is Dropout, a 1x1 conv to num_classes (``classifier.1``),
  ReLU and global average pooling, flattened.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec

#: features.<index>: a Fire module (squeeze, expand1x1, expand3x3 channels) or "M", a
#: 3x3/2 ceil_mode max pool; the stem conv (features.0) and its ReLU come first.
_1_0: tuple[tuple[int, int, int] | str, ...] = (
    "M",
    (16, 64, 64),
    (16, 64, 64),
    (32, 128, 128),
    "M",
    (32, 128, 128),
    (48, 192, 192),
    (48, 192, 192),
    (64, 256, 256),
    "M",
    (64, 256, 256),
)
_1_1: tuple[tuple[int, int, int] | str, ...] = (
    "M",
    (16, 64, 64),
    (16, 64, 64),
    "M",
    (32, 128, 128),
    (32, 128, 128),
    "M",
    (48, 192, 192),
    (48, 192, 192),
    (64, 256, 256),
    (64, 256, 256),
)

MODELS = {
    "squeezenet1_0": Model(224, {"stem": (96, 7), "features": _1_0}),
    "squeezenet1_1": Model(224, {"stem": (64, 3), "features": _1_1}),
}
OPTIONS: tuple[Option, ...] = ()


def build(spec: Spec) -> Net:
    net = spec.net()
    channels, kernel = spec.args["stem"]
    x = net.conv("input", channels, kernel, 2, name="features.0")
    x = net.act(x, "relu", name="features.1")
    for index, item in enumerate(spec.args["features"], start=2):
        name = f"features.{index}"
        if isinstance(item, str):
            x = net.layer("max_pool", x, name=name, pool_size=3, stride=2, ceil_mode=True)
            continue
        squeeze, expand1x1, expand3x3 = item
        s = net.conv(x, squeeze, 1, name=f"{name}.squeeze")
        s = net.act(s, "relu", name=f"{name}.squeeze_activation")
        e1 = net.conv(s, expand1x1, 1, name=f"{name}.expand1x1")
        e1 = net.act(e1, "relu", name=f"{name}.expand1x1_activation")
        e3 = net.conv(s, expand3x3, 3, 1, 1, name=f"{name}.expand3x3")
        e3 = net.act(e3, "relu", name=f"{name}.expand3x3_activation")
        x = net.concat(e1, e3, name=f"{name}.cat")
    x = net.layer("dropout", x, name="classifier.0", rate=0.5)
    x = net.conv(x, spec.option("num_classes"), 1, name="classifier.1")
    x = net.act(x, "relu", name="classifier.2")
    x = net.layer("adaptive_avg_pool", x, name="classifier.3", output_size=1)
    net.layer("flatten", x, name="flatten")
    return net
