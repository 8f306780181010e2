"""torchvision.models.maxvit_t, as torchvision/models/maxvit.py builds it.

What decides the counts:

* stem: Conv2d(3, 64, 3, stride 2, no bias), BatchNorm2d, GELU, then
  Conv2d(64, 64, 3, bias);
* four blocks of MaxVitLayers (2, 2, 5, 2 of 64, 128, 256, 512 channels);
  the first layer of a block halves the size. Each layer is
  - MBConv: ``proj`` (AvgPool2d(3, 2, 1) when striding, and a 1x1 conv with
    bias when the size or channels change) beside pre_norm BatchNorm2d, conv_a
    (1x1 to int(4 * out), BN, GELU), conv_b (depthwise 3x3, BN, GELU),
    squeeze-and-excitation (int(out / 4) channels, SiLU), conv_c (1x1 with
    bias), stochastic depth, and the residual add;
  - block ("window") attention: the map partitioned into 7x7 windows
    ([windows, 49, C], channels last), LayerNorm, multi-head attention with
    32-wide heads (its modules to_qkv C -> 3C and merge C -> C, with biases,
    are dense layers of their own around the ``attn_layer.1`` layer, which
    holds the q.k and attention.v products, a 13x13 x heads relative position
    table and its 49x49 index, a buffer), Dropout,
    stochastic depth, add; LayerNorm, Linear C -> 4C, GELU, Linear back,
    Dropout, stochastic depth, add; departition;
  - grid attention: the same on a 7x7 grid spread over the map
    (partitioned with p = H / 7, then the two token axes swapped);
* classifier: average pooling, Flatten, LayerNorm, Linear(512, 512), Tanh,
  Linear(512, num_classes, no bias).

How each layer runs (``call``, for thop and ptflops's pytorch backend): every
layer is a module of its kind's class; the attention layer is the rest of a
RelativePositionalMultiHeadAttention (its q.k and attention.v are
``torch.einsum``, its softmax ``F.softmax``); the partitions are torchvision's
WindowPartition, SwapAxes and WindowDepartition modules.

The model is built for its ``input_size`` (``--resolution``): every block's
input size must be a multiple of the partition size 7 (224, 448, ...), and
the grid partition takes its count from the height, so the input is square.
"""

from __future__ import annotations

from convcount.errors import ConvcountError
from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec
from convcount.model.zoo.torchvision_mobilenetv2 import conv_norm_act, squeeze_excitation

STEM = 64
CHANNELS = (64, 128, 256, 512)
LAYERS = (2, 2, 5, 2)
HEAD_DIM = 32
PARTITION = 7

MODELS = {"maxvit_t": Model(224, {})}
#: What the builder passes to the model itself: a keyword of the same name is a TypeError.
FIXED = (
    "the maxvit_t builder sets it itself and torchvision refuses it as an option; "
    "another value is another network (write it as a model file)"
)
OPTIONS = (
    *(
        Option(name, "fixed", None, FIXED)
        for name in (
            "stem_channels",
            "block_channels",
            "block_layers",
            "head_dim",
            "partition_size",
        )
    ),
    Option("expansion_ratio", "number", 4.0, "MBConv expansion: int(out * ratio) channels"),
    Option("squeeze_ratio", "number", 0.25, "squeeze-and-excitation: int(out * ratio)"),
    Option("mlp_ratio", "int", 4, "MLP hidden size as a multiple of the channels"),
    Option("attention_dropout", "neutral", None, "accepted; changes no count"),
    Option("mlp_dropout", "neutral", None, "accepted; changes no count"),
    Option("activation_layer", "neutral", None, "accepted; changes no count"),
)


def _halve(n: int) -> int:
    """_get_conv_output_shape(n, kernel 3, stride 2, padding 1)."""
    return (n - 3 + 2) // 2 + 1


def _check_size(spec: Spec) -> None:
    h, w = spec.size
    if h != w:
        raise ConvcountError(
            "resolution",
            f"--resolution {h}x{w}: {spec.name} takes a square input (its grid attention "
            "partitions both sides by the height)",
        )
    sizes = []
    n = _halve(h)
    for _ in CHANNELS:
        n = _halve(n)
        sizes.append(n)
    if any(s % PARTITION for s in sizes):
        raise ConvcountError(
            "resolution",
            f"--resolution {h}: {spec.name}'s block input sizes {sizes} must be multiples of "
            f"its partition size {PARTITION} (torchvision refuses the input size; 224 and 448 "
            "work)",
        )


def _mbconv(net: Net, x: str, name: str, out: int, stride: int, spec: Spec) -> str:
    cin = net.channels(x)
    mid = int(out * spec.option("expansion_ratio"))
    squeeze = int(out * spec.option("squeeze_ratio"))
    if stride != 1 or cin != out:
        res = x
        index = 0
        if stride == 2:
            res = net.layer(
                "avg_pool", res, name=f"{name}.proj.0", pool_size=3, stride=2, padding=1
            )
            index = 1
        res = net.conv(res, out, 1, name=f"{name}.proj.{index}")
    else:
        res = net.layer("identity", x, name=f"{name}.proj")
    y = net.bn(x, name=f"{name}.layers.pre_norm")
    y = conv_norm_act(net, y, f"{name}.layers.conv_a", mid, 1, padding=0, activation="gelu")
    y = conv_norm_act(
        net, y, f"{name}.layers.conv_b", mid, 3, stride, groups=mid, activation="gelu"
    )
    y = squeeze_excitation(net, y, f"{name}.layers.squeeze_excitation", squeeze, activation="silu")
    y = net.conv(y, out, 1, name=f"{name}.layers.conv_c")
    y = net.layer("stochastic_depth", y, name=f"{name}.stochastic_depth")
    return net.add(res, y, name=f"{name}.add")


def _partition_attention(net: Net, x: str, name: str, grid: bool, spec: Spec) -> str:
    h, w = net.shape(x).spatial
    channels = net.channels(x)
    p = h // PARTITION if grid else PARTITION
    x = net.layer("window_partition", x, name=f"{name}.partition_op", size=p)
    # SwapAxes(-2, -3) for the grid, nn.Identity for windows.
    swap = "swap_axes" if grid else "identity"
    x = net.layer(swap, x, name=f"{name}.partition_swap")
    y = net.layer("layer_norm", x, name=f"{name}.attn_layer.0")
    # RelativePositionalMultiHeadAttention runs to_qkv and merge as modules: dense
    # layers of their own around the attention products and the position table.
    attn = f"{name}.attn_layer.1"
    y = net.dense(y, 3 * channels, name=f"{attn}.to_qkv")
    y = net.layer(
        "attention",
        y,
        name=attn,
        call="RelativePositionalMultiHeadAttention",
        heads=channels // HEAD_DIM,
        head_dim=HEAD_DIM,
        projections=False,
        position_bias="table",
    )
    y = net.dense(y, channels, name=f"{attn}.merge")
    y = net.layer("dropout", y, name=f"{name}.attn_layer.2")
    y = net.layer("stochastic_depth", y, name=f"{name}.stochastic_dropout")
    x = net.add(x, y, name=f"{name}.add_1")
    y = net.layer("layer_norm", x, name=f"{name}.mlp_layer.0")
    y = net.dense(y, channels * spec.option("mlp_ratio"), name=f"{name}.mlp_layer.1")
    y = net.act(y, "gelu", name=f"{name}.mlp_layer.2")
    y = net.dense(y, channels, name=f"{name}.mlp_layer.3")
    y = net.layer("dropout", y, name=f"{name}.mlp_layer.4")
    # The layer's one StochasticDepth module runs twice: the second call is numbered.
    y = net.layer("stochastic_depth", y, name=f"{name}.stochastic_dropout#2")
    x = net.add(x, y, name=f"{name}.add_2")
    x = net.layer(swap, x, name=f"{name}.departition_swap")
    return net.layer(
        "window_departition",
        x,
        name=f"{name}.departition_op",
        size=p,
        partitions=[h // p, w // p],
    )


def build(spec: Spec) -> Net:
    _check_size(spec)
    net = spec.net()
    x = conv_norm_act(net, "input", "stem.0", STEM, 3, 2, activation="gelu")
    x = conv_norm_act(net, x, "stem.1", STEM, 3, 1, norm=None, activation=None, bias=True)
    for b, (out, layers) in enumerate(zip(CHANNELS, LAYERS, strict=True)):
        for i in range(layers):
            name = f"blocks.{b}.layers.{i}.layers"
            x = _mbconv(net, x, f"{name}.MBconv", out, 2 if i == 0 else 1, spec)
            x = _partition_attention(net, x, f"{name}.window_attention", False, spec)
            x = _partition_attention(net, x, f"{name}.grid_attention", True, spec)
    x = net.layer("adaptive_avg_pool", x, name="classifier.0", output_size=1)
    x = net.layer("flatten", x, name="classifier.1")
    x = net.layer("layer_norm", x, name="classifier.2")
    x = net.dense(x, CHANNELS[-1], name="classifier.3")
    x = net.act(x, "tanh", name="classifier.4")
    net.dense(x, spec.option("num_classes"), bias=False, name="classifier.5")
    return net
