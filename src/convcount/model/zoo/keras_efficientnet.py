"""keras.applications.EfficientNetB0..B7, as keras/src/applications/efficientnet.py builds them.

One definition scaled by each variant's (width, depth, resolution, dropout)
coefficients. What decides the counts:

* ``round_filters(n) = _make_divisible(n * width, 8)`` for every stage's input and
  output and for the stem (32) and top (1280) convs; a stage repeats
  ``ceil(depth * repeats)`` times (only its first block strides or changes channels);
* the input passes Rescaling(1/255) and an un-adapted Normalization, which holds
  mean, variance and count: 2 * 3 + 1 = 7 non-trainable values (the extra Rescaling
  by 1/sqrt(stddev) of imagenet weights has none);
* no conv has a bias except the squeeze-and-excite pair: GlobalAveragePooling2D,
  Reshape to 1x1, Conv2D to ``max(1, int(filters_in * 0.25))`` and back to the
  expanded width, both biased (``filters_in`` is the block's input, not expanded);
* a stride-2 conv (stem and depthwise) is 'valid' after ZeroPadding2D(correct_pad);
* a block adds its input when the stride is 1 and the channels match.
"""

from __future__ import annotations

from math import ceil

from convcount.model.graph import Net
from convcount.model.zoo.common import (
    Model,
    Spec,
    correct_pad,
    keras_se,
    keras_top,
    make_divisible,
)

#: Keras's DEFAULT_BLOCKS_ARGS: (kernel, repeats, filters_in, filters_out, expand_ratio,
#: strides); every stage has id_skip=True and se_ratio=0.25.
STAGES = (
    (3, 1, 32, 16, 1, 1),
    (3, 2, 16, 24, 6, 2),
    (5, 2, 24, 40, 6, 2),
    (3, 3, 40, 80, 6, 2),
    (5, 3, 80, 112, 6, 1),
    (5, 4, 112, 192, 6, 2),
    (3, 1, 192, 320, 6, 1),
)
SE_RATIO = 0.25
DROP_CONNECT_RATE = 0.2

#: Variant -> (width_coefficient, depth_coefficient, default_size, dropout_rate).
COEFFICIENTS = {
    "efficientnetb0": (1.0, 1.0, 224, 0.2),
    "efficientnetb1": (1.0, 1.1, 240, 0.2),
    "efficientnetb2": (1.1, 1.2, 260, 0.3),
    "efficientnetb3": (1.2, 1.4, 300, 0.3),
    "efficientnetb4": (1.4, 1.8, 380, 0.4),
    "efficientnetb5": (1.6, 2.2, 456, 0.4),
    "efficientnetb6": (1.8, 2.6, 528, 0.5),
    "efficientnetb7": (2.0, 3.1, 600, 0.5),
}

MODELS = {
    name: Model(
        size,
        {"width": width, "depth": depth, "dropout": dropout},
        twin=f"torchvision/efficientnet_{name[-2:]}",
    )
    for name, (width, depth, size, dropout) in COEFFICIENTS.items()
}
OPTIONS = ()


def _block(
    net: Net,
    inputs: str,
    name: str,
    filters_in: int,
    filters_out: int,
    kernel: int,
    strides: int,
    expand_ratio: int,
    drop_rate: float,
) -> str:
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = net.conv(x, filters, 1, 1, "same", bias=False, name=f"{name}expand_conv")
        x = net.bn(x, name=f"{name}expand_bn")
        x = net.act(x, "swish", name=f"{name}expand_activation")
    if strides == 2:
        pad = correct_pad(net, x, kernel)
        x = net.layer("zero_padding", x, name=f"{name}dwconv_pad", padding=pad)
    padding = "valid" if strides == 2 else "same"
    x = net.depthwise(x, kernel, strides, padding, bias=False, name=f"{name}dwconv")
    x = net.bn(x, name=f"{name}bn")
    x = net.act(x, "swish", name=f"{name}activation")
    x = keras_se(net, x, name, filters, filters_in, SE_RATIO)
    x = net.conv(x, filters_out, 1, 1, "same", bias=False, name=f"{name}project_conv")
    x = net.bn(x, name=f"{name}project_bn")
    if strides == 1 and filters_in == filters_out:  # id_skip is True in every stage
        if drop_rate > 0:
            x = net.layer("dropout", x, name=f"{name}drop", rate=drop_rate)
        x = net.add(x, inputs, name=f"{name}add")
    return x


def build(spec: Spec) -> Net:
    net = spec.net()
    width: float = spec.args["width"]
    depth: float = spec.args["depth"]

    def round_filters(filters: int) -> int:
        return make_divisible(filters * width, 8)

    def round_repeats(repeats: int) -> int:
        return ceil(depth * repeats)

    x = net.layer("rescaling", "input", name="rescaling", scale=1.0 / 255.0)
    x = net.layer("normalization", x, name="normalization")
    x = net.layer("zero_padding", x, name="stem_conv_pad", padding=correct_pad(net, x, 3))
    x = net.conv(x, round_filters(32), 3, 2, "valid", bias=False, name="stem_conv")
    x = net.bn(x, name="stem_bn")
    x = net.act(x, "swish", name="stem_activation")
    b = 0
    blocks = float(sum(round_repeats(stage[1]) for stage in STAGES))
    for i, (kernel, repeats, first_in, last_out, expand, first_stride) in enumerate(STAGES):
        filters_out = round_filters(last_out)
        for j in range(round_repeats(repeats)):
            # Only a stage's first block strides and changes the channels.
            filters_in = round_filters(first_in) if j == 0 else filters_out
            strides = first_stride if j == 0 else 1
            name = f"block{i + 1}{chr(j + 97)}_"
            rate = DROP_CONNECT_RATE * b / blocks
            x = _block(net, x, name, filters_in, filters_out, kernel, strides, expand, rate)
            b += 1
    x = net.conv(x, round_filters(1280), 1, 1, "same", bias=False, name="top_conv")
    x = net.bn(x, name="top_bn")
    x = net.act(x, "swish", name="top_activation")
    keras_top(net, x, spec, dropout=spec.args["dropout"])
    return net
