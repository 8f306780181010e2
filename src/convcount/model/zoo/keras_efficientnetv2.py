"""keras.applications.EfficientNetV2B0..B3, S, M, L, as keras/src/applications/efficientnet_v2.py
builds them.

One definition; each variant is a block table (B0-B3 share one, scaled by width and
depth) and coefficients. What decides the counts:

* ``round_filters(n) = max(8, int(n * width + 4) // 8 * 8)``: unlike EfficientNet (v1)
  there is no "add a step when rounding lost over 10%"; the stem has
  ``round_filters(first stage's input)`` filters, the top conv ``round_filters(1280)``;
  a stage repeats ``ceil(depth * repeats)`` times;
* every conv is 'same' (no ZeroPadding) and bias-free, except the squeeze-and-excite
  pair (reduce to ``max(1, int(block input * 0.25))``, expand back), which is biased;
* FusedMBConv with expansion: a k x k strided conv expands, a 1x1 projects; without
  expansion the projection itself is the k x k strided conv (plus an activation);
* ``include_preprocessing``: B0-B3 get Rescaling and a Normalization whose mean and
  variance are given as constants (no weights); S, M and L only a Rescaling. No
  preprocessing layer has weights, so the option never changes a count.
"""

from __future__ import annotations

from math import ceil

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec, keras_se, keras_top

#: A stage: (fused, kernel, repeats, input filters, output filters, expand ratio,
#: se ratio, strides), as DEFAULT_BLOCKS_ARGS lists them (conv_type 1 = fused).
Stage = tuple[bool, int, int, int, int, int, float, int]

B: tuple[Stage, ...] = (
    (True, 3, 1, 32, 16, 1, 0, 1),
    (True, 3, 2, 16, 32, 4, 0, 2),
    (True, 3, 2, 32, 48, 4, 0, 2),
    (False, 3, 3, 48, 96, 4, 0.25, 2),
    (False, 3, 5, 96, 112, 6, 0.25, 1),
    (False, 3, 8, 112, 192, 6, 0.25, 2),
)
S: tuple[Stage, ...] = (
    (True, 3, 2, 24, 24, 1, 0, 1),
    (True, 3, 4, 24, 48, 4, 0, 2),
    (True, 3, 4, 48, 64, 4, 0, 2),
    (False, 3, 6, 64, 128, 4, 0.25, 2),
    (False, 3, 9, 128, 160, 6, 0.25, 1),
    (False, 3, 15, 160, 256, 6, 0.25, 2),
)
M: tuple[Stage, ...] = (
    (True, 3, 3, 24, 24, 1, 0, 1),
    (True, 3, 5, 24, 48, 4, 0, 2),
    (True, 3, 5, 48, 80, 4, 0, 2),
    (False, 3, 7, 80, 160, 4, 0.25, 2),
    (False, 3, 14, 160, 176, 6, 0.25, 1),
    (False, 3, 18, 176, 304, 6, 0.25, 2),
    (False, 3, 5, 304, 512, 6, 0.25, 1),
)
L: tuple[Stage, ...] = (
    (True, 3, 4, 32, 32, 1, 0, 1),
    (True, 3, 7, 32, 64, 4, 0, 2),
    (True, 3, 7, 64, 96, 4, 0, 2),
    (False, 3, 10, 96, 192, 4, 0.25, 2),
    (False, 3, 19, 192, 224, 6, 0.25, 1),
    (False, 3, 25, 224, 384, 6, 0.25, 2),
    (False, 3, 7, 384, 640, 6, 0.25, 1),
)

#: Variant -> (stages, width_coefficient, depth_coefficient, default_size, twin).
VARIANTS: dict[str, tuple[tuple[Stage, ...], float, float, int, str | None]] = {
    "efficientnetv2b0": (B, 1.0, 1.0, 224, None),
    "efficientnetv2b1": (B, 1.0, 1.1, 240, None),
    "efficientnetv2b2": (B, 1.1, 1.2, 260, None),
    "efficientnetv2b3": (B, 1.2, 1.4, 300, None),
    "efficientnetv2s": (S, 1.0, 1.0, 384, "torchvision/efficientnet_v2_s"),
    "efficientnetv2m": (M, 1.0, 1.0, 480, "torchvision/efficientnet_v2_m"),
    "efficientnetv2l": (L, 1.0, 1.0, 480, "torchvision/efficientnet_v2_l"),
}
MODELS = {
    name: Model(
        size,
        # Keras normalises with ImageNet's statistics when the name ends in -b0..-b3.
        {"stages": stages, "width": width, "depth": depth, "normalize": stages is B},
        twin=twin,
    )
    for name, (stages, width, depth, size, twin) in VARIANTS.items()
}
OPTIONS = (
    Option(
        "include_preprocessing",
        "bool",
        True,
        "the Rescaling (and for B0-B3 constant Normalization) in front; no parameters",
    ),
)

DROP_CONNECT_RATE = 0.2


def round_filters(filters: int, width: float, divisor: int = 8) -> int:
    """Keras's efficientnet_v2.round_filters (min_depth 8, no 10% correction)."""
    scaled = filters * width
    return int(max(divisor, int(scaled + divisor / 2) // divisor * divisor))


def _block(
    net: Net,
    inputs: str,
    name: str,
    fused: bool,
    kernel: int,
    input_filters: int,
    output_filters: int,
    expand_ratio: int,
    se_ratio: float,
    strides: int,
    drop_rate: float,
) -> str:
    """MBConvBlock or FusedMBConvBlock."""
    filters = input_filters * expand_ratio
    x = inputs
    if expand_ratio != 1:
        # Fused: the k x k strided conv expands; MBConv: a 1x1 conv does.
        k, s = (kernel, strides) if fused else (1, 1)
        x = net.conv(x, filters, k, s, "same", bias=False, name=f"{name}expand_conv")
        x = net.bn(x, name=f"{name}expand_bn")
        x = net.act(x, "swish", name=f"{name}expand_activation")
    if not fused:
        x = net.depthwise(x, kernel, strides, "same", bias=False, name=f"{name}dwconv2")
        x = net.bn(x, name=f"{name}bn")
        x = net.act(x, "swish", name=f"{name}activation")
    if 0 < se_ratio <= 1:
        x = keras_se(net, x, name, filters, input_filters, se_ratio)
    k, s = (kernel, strides) if fused and expand_ratio == 1 else (1, 1)
    x = net.conv(x, output_filters, k, s, "same", bias=False, name=f"{name}project_conv")
    x = net.bn(x, name=f"{name}project_bn")
    if fused and expand_ratio == 1:
        x = net.act(x, "swish", name=f"{name}project_activation")
    if strides == 1 and input_filters == output_filters:
        if drop_rate:
            x = net.layer("dropout", x, name=f"{name}drop", rate=drop_rate)
        x = net.add(x, inputs, name=f"{name}add")
    return x


def build(spec: Spec) -> Net:
    net = spec.net()
    stages: tuple[Stage, ...] = spec.args["stages"]
    width: float = spec.args["width"]
    depth: float = spec.args["depth"]
    x = "input"
    if spec.option("include_preprocessing"):
        # Keras: ImageNet statistics for -b* names on 3 channels, else a bare Rescaling.
        if spec.args["normalize"] and net.input.channels == 3:
            x = net.layer("rescaling", x, name="rescaling", scale=1.0 / 255)
            x = net.layer("normalization", x, name="normalization", constant=True)
        else:
            x = net.layer("rescaling", x, name="rescaling", scale=1.0 / 128.0, offset=-1)
    x = net.conv(x, round_filters(stages[0][3], width), 3, 2, "same", bias=False, name="stem_conv")
    x = net.bn(x, name="stem_bn")
    x = net.act(x, "swish", name="stem_activation")
    b = 0
    blocks = float(sum(stage[2] for stage in stages))  # unrounded, as Keras sums them
    for i, (fused, kernel, repeats, first_in, last_out, expand, se, first_stride) in enumerate(
        stages
    ):
        filters_out = round_filters(last_out, width)
        for j in range(ceil(depth * repeats)):
            # Only a stage's first block strides and changes the channels.
            filters_in = round_filters(first_in, width) if j == 0 else filters_out
            x = _block(
                net,
                x,
                f"block{i + 1}{chr(j + 97)}_",
                fused,
                kernel,
                filters_in,
                filters_out,
                expand,
                se,
                first_stride if j == 0 else 1,
                DROP_CONNECT_RATE * b / blocks,
            )
            b += 1
    x = net.conv(x, round_filters(1280, width), 1, 1, "same", bias=False, name="top_conv")
    x = net.bn(x, name="top_bn")
    x = net.act(x, "swish", name="top_activation")
    keras_top(net, x, spec, dropout=0.2)
    return net
