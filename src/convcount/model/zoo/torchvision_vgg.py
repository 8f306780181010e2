"""torchvision's VGG 11/13/16/19, with and without batch norm (torchvision/models/vgg.py).

``make_layers`` walks a config list: a number is a 3x3 padding-1 conv with a
bias (followed by BatchNorm2d in the ``_bn`` variants: the conv keeps its
bias), "M" a 2x2/2 max pool; modules are numbered in ``features`` in that
order (conv, [bn,] relu). ``AdaptiveAvgPool2d((7, 7))`` then feeds the fixed
25088-wide classifier (Linear 4096, ReLU, Dropout, Linear 4096, ReLU,
Dropout, Linear num_classes), so any input of at least 32x32 works.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec

M = "M"

#: torchvision's cfgs, by letter: a conv's out channels, or M for a 2x2/2 max pool.
CFGS: dict[str, tuple[int | str, ...]] = {
    "A": (64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M),
    "B": (64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M),
    "D": (64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M),
    "E": (
        *(64, 64, M, 128, 128, M),
        *(256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M),
    ),
}
_DEPTHS = {"A": 11, "B": 13, "D": 16, "E": 19}

MODELS = {
    f"vgg{depth}{suffix}": Model(
        224,
        {"cfg": cfg, "batch_norm": bool(suffix)},
        twin="keras/vgg19" if depth == 19 else "keras/vgg16",
    )
    for suffix in ("", "_bn")
    for cfg, depth in _DEPTHS.items()
}
OPTIONS: tuple[Option, ...] = ()


def build(spec: Spec) -> Net:
    net = spec.net()
    batch_norm: bool = spec.args["batch_norm"]
    x = "input"
    index = 0
    for v in CFGS[spec.args["cfg"]]:
        if isinstance(v, str):
            x = net.layer("max_pool", x, name=f"features.{index}", pool_size=2, stride=2)
            index += 1
            continue
        x = net.conv(x, v, 3, 1, 1, name=f"features.{index}")
        index += 1
        if batch_norm:
            x = net.bn(x, name=f"features.{index}")
            index += 1
        x = net.act(x, "relu", name=f"features.{index}")
        index += 1
    x = net.layer("adaptive_avg_pool", x, name="avgpool", output_size=7)
    x = net.layer("flatten", x, name="flatten")
    x = net.dense(x, 4096, name="classifier.0")
    x = net.act(x, "relu", name="classifier.1")
    x = net.layer("dropout", x, name="classifier.2", rate=0.5)
    x = net.dense(x, 4096, name="classifier.3")
    x = net.act(x, "relu", name="classifier.4")
    x = net.layer("dropout", x, name="classifier.5", rate=0.5)
    net.dense(x, spec.option("num_classes"), name="classifier.6")
    return net
