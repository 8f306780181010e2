"""torchvision.models.efficientnet_b0 ... _b7, _v2_s/_m/_l, as torchvision/models/efficientnet.py.

One definition, the variants as torchvision's ``_efficientnet_conf`` tables.
What decides the counts:

* B0-B7 scale an MBConvConfig row's input and output channels with
  ``_make_divisible(c * width_mult, 8)`` and its repeats with
  ``ceil(n * depth_mult)`` (adjust_channels / adjust_depth); the V2 rows are
  not scaled, and FusedMBConvConfig rows never are;
* a block's expanded width is ``_make_divisible(input * expand_ratio, 8)``; it
  expands only when that differs from its input (B0's first stage does not);
  within a stage, blocks after the first take the stage's output channels
  and stride 1;
* MBConv: [1x1 expand], depthwise kxk, squeeze-and-excite with
  ``max(1, input // 4)`` channels (of the block's own input), SiLU and a
  sigmoid scale, 1x1 project; FusedMBConv: a kxk conv (and a 1x1 project when
  it expands), no squeeze-and-excite;
* the last conv has 4x the last row's channels (B) or 1280 (V2); the head is
  Dropout then Linear. Stochastic depth and dropout hold no parameters; the
  BatchNorm eps/momentum of B5-B7 and V2 do not change counts.

Default resolutions are the DEFAULT weights' crop sizes.
"""

from __future__ import annotations

from math import ceil

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Spec, make_divisible
from convcount.model.zoo.torchvision_mobilenetv2 import conv_norm_act, squeeze_excitation

MBCONV = "MBConv"
FUSED = "FusedMBConv"

#: block, expand_ratio, kernel, stride, input_channels, out_channels, num_layers.
Row = tuple[str, int, int, int, int, int, int]

#: The stage tables of _efficientnet_conf; B-rows are scaled by width and depth.
SETTINGS: dict[str, tuple[Row, ...]] = {
    "b": (
        (MBCONV, 1, 3, 1, 32, 16, 1),
        (MBCONV, 6, 3, 2, 16, 24, 2),
        (MBCONV, 6, 5, 2, 24, 40, 2),
        (MBCONV, 6, 3, 2, 40, 80, 3),
        (MBCONV, 6, 5, 1, 80, 112, 3),
        (MBCONV, 6, 5, 2, 112, 192, 4),
        (MBCONV, 6, 3, 1, 192, 320, 1),
    ),
    "v2_s": (
        (FUSED, 1, 3, 1, 24, 24, 2),
        (FUSED, 4, 3, 2, 24, 48, 4),
        (FUSED, 4, 3, 2, 48, 64, 4),
        (MBCONV, 4, 3, 2, 64, 128, 6),
        (MBCONV, 6, 3, 1, 128, 160, 9),
        (MBCONV, 6, 3, 2, 160, 256, 15),
    ),
    "v2_m": (
        (FUSED, 1, 3, 1, 24, 24, 3),
        (FUSED, 4, 3, 2, 24, 48, 5),
        (FUSED, 4, 3, 2, 48, 80, 5),
        (MBCONV, 4, 3, 2, 80, 160, 7),
        (MBCONV, 6, 3, 1, 160, 176, 14),
        (MBCONV, 6, 3, 2, 176, 304, 18),
        (MBCONV, 6, 3, 1, 304, 512, 5),
    ),
    "v2_l": (
        (FUSED, 1, 3, 1, 32, 32, 4),
        (FUSED, 4, 3, 2, 32, 64, 7),
        (FUSED, 4, 3, 2, 64, 96, 7),
        (MBCONV, 4, 3, 2, 96, 192, 10),
        (MBCONV, 6, 3, 1, 192, 224, 19),
        (MBCONV, 6, 3, 2, 224, 384, 25),
        (MBCONV, 6, 3, 1, 384, 640, 7),
    ),
}


#: B0-B7: the DEFAULT weights' crop size, width_mult, depth_mult, dropout (the builders').
B_VARIANTS = (
    (224, 1.0, 1.0, 0.2),
    (240, 1.0, 1.1, 0.2),
    (288, 1.1, 1.2, 0.3),
    (300, 1.2, 1.4, 0.3),
    (380, 1.4, 1.8, 0.4),
    (456, 1.6, 2.2, 0.4),
    (528, 1.8, 2.6, 0.5),
    (600, 2.0, 3.1, 0.5),
)

MODELS = {
    **{
        f"efficientnet_b{i}": Model(
            crop,
            {"setting": "b", "width_mult": width, "depth_mult": depth, "dropout": dropout},
            twin=f"keras/efficientnetb{i}",
        )
        for i, (crop, width, depth, dropout) in enumerate(B_VARIANTS)
    },
    "efficientnet_v2_s": Model(
        384,
        {"setting": "v2_s", "last_channel": 1280, "dropout": 0.2},
        twin="keras/efficientnetv2s",
    ),
    "efficientnet_v2_m": Model(
        480,
        {"setting": "v2_m", "last_channel": 1280, "dropout": 0.3},
        twin="keras/efficientnetv2m",
    ),
    "efficientnet_v2_l": Model(
        480,
        {"setting": "v2_l", "last_channel": 1280, "dropout": 0.4},
        twin="keras/efficientnetv2l",
    ),
}
OPTIONS = ()


def _block(
    net: Net, x: str, name: str, block: str, expand_ratio: int, kernel: int, stride: int, out: int
) -> str:
    """MBConv or FusedMBConv for one block (its input channels are those of ``x``)."""
    cin = net.channels(x)
    expanded = make_divisible(cin * expand_ratio, 8)
    y = x
    if block == MBCONV:
        j = 0
        if expanded != cin:
            y = conv_norm_act(net, y, f"{name}.block.0", expanded, 1, activation="silu")
            j = 1
        y = conv_norm_act(
            net,
            y,
            f"{name}.block.{j}",
            expanded,
            kernel,
            stride,
            groups=expanded,
            activation="silu",
        )
        y = squeeze_excitation(net, y, f"{name}.block.{j + 1}", max(1, cin // 4), activation="silu")
        y = conv_norm_act(net, y, f"{name}.block.{j + 2}", out, 1, activation=None)
    elif expanded != cin:
        # Fused expand: the kxk conv widens, a 1x1 conv projects.
        y = conv_norm_act(net, y, f"{name}.block.0", expanded, kernel, stride, activation="silu")
        y = conv_norm_act(net, y, f"{name}.block.1", out, 1, activation=None)
    else:
        y = conv_norm_act(net, y, f"{name}.block.0", out, kernel, stride, activation="silu")
    if stride == 1 and cin == out:
        # StochasticDepth runs on the residual branch only; it holds nothing.
        y = net.layer("stochastic_depth", y, name=f"{name}.stochastic_depth")
        return net.add(y, x, name=f"{name}.add")
    return y


def build(spec: Spec) -> Net:
    net = spec.net()
    args = spec.args
    width_mult: float = args.get("width_mult", 1.0)
    depth_mult: float = args.get("depth_mult", 1.0)
    rows = [
        # MBConvConfig adjusts channels and depth; FusedMBConvConfig takes the row as it is.
        (
            block,
            expand_ratio,
            kernel,
            stride,
            make_divisible(cin * width_mult, 8),
            make_divisible(cout * width_mult, 8),
            ceil(layers * depth_mult),
        )
        if block == MBCONV
        else (block, expand_ratio, kernel, stride, cin, cout, layers)
        for block, expand_ratio, kernel, stride, cin, cout, layers in SETTINGS[args["setting"]]
    ]
    x = conv_norm_act(net, "input", "features.0", rows[0][4], 3, 2, activation="silu")
    for stage, (block, expand_ratio, kernel, stride, _cin, cout, layers) in enumerate(
        rows, start=1
    ):
        for i in range(layers):
            x = _block(
                net,
                x,
                f"features.{stage}.{i}",
                block,
                expand_ratio,
                kernel,
                stride if i == 0 else 1,
                cout,
            )
    last_channel = args.get("last_channel") or 4 * rows[-1][5]
    x = conv_norm_act(net, x, f"features.{len(rows) + 1}", last_channel, 1, activation="silu")
    x = net.layer("adaptive_avg_pool", x, name="avgpool", output_size=1)
    x = net.layer("flatten", x, name="flatten")
    x = net.layer("dropout", x, name="classifier.0", rate=args["dropout"])
    net.dense(x, spec.option("num_classes"), name="classifier.1")
    return net
