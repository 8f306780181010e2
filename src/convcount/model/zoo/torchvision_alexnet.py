"""torchvision's AlexNet, as torchvision/models/alexnet.py (0.29.1) builds it.

The "one weird trick" variant: five convolutions with biases (64, 192, 384,
256, 256 filters; 11x11/4 padding 2, 5x5 padding 2, then 3x3 padding 1), three
3x3/2 max pools, then ``AdaptiveAvgPool2d((6, 6))`` so that any input feeds the
fixed 9216-wide classifier (Linear 4096, 4096, num_classes). No batch norm, so
no buffers. Layer names are the module names: ``features.<i>``,
``classifier.<i>``.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec

MODELS = {"alexnet": Model(224)}
OPTIONS: tuple[Option, ...] = ()

#: features.<index>: (out channels, kernel, stride, padding) of each conv, or None
#: for a 3x3/2 max pool; the ReLUs fill the indices between.
FEATURES: tuple[tuple[int, int, int, int] | None, ...] = (
    (64, 11, 4, 2),
    None,
    (192, 5, 1, 2),
    None,
    (384, 3, 1, 1),
    (256, 3, 1, 1),
    (256, 3, 1, 1),
    None,
)


def build(spec: Spec) -> Net:
    net = spec.net()
    x = "input"
    index = 0
    for conv in FEATURES:
        if conv is None:
            x = net.layer("max_pool", x, name=f"features.{index}", pool_size=3, stride=2)
            index += 1
            continue
        out, kernel, stride, padding = conv
        x = net.conv(x, out, kernel, stride, padding, name=f"features.{index}")
        x = net.act(x, "relu", name=f"features.{index + 1}")
        index += 2
    x = net.layer("adaptive_avg_pool", x, name="avgpool", output_size=6)
    x = net.layer("flatten", x, name="flatten")
    # classifier: Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear.
    x = net.layer("dropout", x, name="classifier.0", rate=0.5)
    x = net.dense(x, 4096, name="classifier.1")
    x = net.act(x, "relu", name="classifier.2")
    x = net.layer("dropout", x, name="classifier.3", rate=0.5)
    x = net.dense(x, 4096, name="classifier.4")
    x = net.act(x, "relu", name="classifier.5")
    net.dense(x, spec.option("num_classes"), name="classifier.6")
    return net
