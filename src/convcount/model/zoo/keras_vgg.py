"""keras.applications VGG16 and VGG19, as keras/src/applications/vgg16.py and vgg19.py build them.

Five blocks of 3x3 'same' convolutions with biases (ReLU inside the layer, no
BatchNormalization), each closed by MaxPooling2D(2, 2) ('valid': odd sizes
round down). The head flattens the whole last feature map, so fc1's weights
grow with the input size: (H/32 * W/32 * 512) x 4096, then fc2 (4096) and
``predictions``. Without the head, the optional global pooling layers are
unnamed and hold nothing.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec, keras_pooling

#: Filters of block1..block5.
FILTERS = (64, 128, 256, 512, 512)

MODELS = {
    "vgg16": Model(224, {"convs": (2, 2, 3, 3, 3)}, twin="torchvision/vgg16"),
    "vgg19": Model(224, {"convs": (2, 2, 4, 4, 4)}, twin="torchvision/vgg19"),
}
OPTIONS: tuple[Option, ...] = ()


def build(spec: Spec) -> Net:
    net = spec.net()
    x = "input"
    for block, (filters, convs) in enumerate(zip(FILTERS, spec.args["convs"], strict=True), 1):
        for i in range(1, convs + 1):
            x = net.conv(x, filters, 3, 1, "same", name=f"block{block}_conv{i}")
        x = net.layer("max_pool", x, name=f"block{block}_pool", pool_size=2, stride=2)
    if not spec.option("include_top"):
        keras_pooling(net, x, spec, named=False)
        return net
    x = net.layer("flatten", x, name="flatten")
    x = net.dense(x, 4096, name="fc1")
    x = net.dense(x, 4096, name="fc2")
    net.dense(x, spec.option("classes"), name="predictions")
    return net
