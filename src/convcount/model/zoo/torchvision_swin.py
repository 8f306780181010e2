"""torchvision.models.swin_t ... swin_v2_b, as torchvision/models/swin_transformer.py builds them.

One definition, the variants as the builders' arguments (embedding size,
depths, heads, window, V1 or V2 blocks). What decides the counts:

* features.0: Conv2d(3, C, 4, stride 4, bias) (the patch embedding), Permute
  to channels last, LayerNorm: every later map is (H, W, C) as torchvision's;
* each block: LayerNorm, window attention (q, k, v as one Linear C -> 3C and
  the projection C -> C, both with bias, called through their weights inside
  the ``attn`` layer; V1 holds a (2M-1)^2 x heads relative position table,
  V2 a logit scale per head and the coordinates and index buffers, and first
  runs its ``cpb_mlp`` modules, Linear(2, 512), ReLU, Linear(512, heads, no
  bias), on the (2M-1) x (2M-1) relative coordinates: layers of their own),
  stochastic depth, residual add, LayerNorm, MLP (Linear C ->
  int(C * mlp_ratio), GELU, Dropout, Linear back, Dropout), stochastic depth,
  add. V1 normalises before attention and MLP, V2 after them; odd blocks
  shift their windows by M // 2 (no count changes);
* the map is padded to whole windows of M x M (7 for V1, 8 for V2): attention
  MACs count the padded positions; windows larger than the map are not cut;
* between stages, patch merging: 2x2 neighbours (odd sizes padded) to 4C
  (torchvision's ``_patch_merging_pad``: the layer ``features.N.pad``), then
  its modules ``norm`` (LayerNorm 4C) and ``reduction`` (Linear(4C, 2C, no
  bias)) (V1), or ``reduction`` then ``norm`` (LayerNorm 2C) (V2);
* head: LayerNorm, Permute to channels first, average pooling, Flatten, Linear.

How each layer runs (``call``, for thop and ptflops's pytorch backend): the
attention is a ShiftedWindowAttention(V2) module whose qkv and proj Linears
never run as modules (``F.linear`` on their weights); V2's cpb_mlp runs as
modules on the ``relative_coords_table`` buffer, once per forward; the padding
of patch merging is the function ``_patch_merging_pad``; Permute is
torchvision's module.

Any input size from 4 up builds (``--resolution``).
"""

from __future__ import annotations

from typing import Any

from convcount.errors import ConvcountError
from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec

#: embedding size, depths, heads, window, version
ARCHS: dict[str, tuple[int, tuple[int, ...], tuple[int, ...], int, int]] = {
    "swin_t": (96, (2, 2, 6, 2), (3, 6, 12, 24), 7, 1),
    "swin_s": (96, (2, 2, 18, 2), (3, 6, 12, 24), 7, 1),
    "swin_b": (128, (2, 2, 18, 2), (4, 8, 16, 32), 7, 1),
    "swin_v2_t": (96, (2, 2, 6, 2), (3, 6, 12, 24), 8, 2),
    "swin_v2_s": (96, (2, 2, 18, 2), (3, 6, 12, 24), 8, 2),
    "swin_v2_b": (128, (2, 2, 18, 2), (4, 8, 16, 32), 8, 2),
}

MODELS = {name: Model(224 if arch[4] == 1 else 256, {"arch": name}) for name, arch in ARCHS.items()}
#: What the builder passes to the model itself: a keyword of the same name is a TypeError.
FIXED = (
    "the swin_* builders set it themselves and torchvision refuses it as an option; "
    "another value is another network (write it as a model file)"
)
OPTIONS = (
    *(
        Option(name, "fixed", None, FIXED)
        for name in ("patch_size", "embed_dim", "depths", "num_heads", "window_size")
    ),
    Option("mlp_ratio", "number", 4.0, "MLP hidden size as a multiple of the channels"),
    Option("attention_dropout", "neutral", None, "accepted; changes no count"),
)


def _block(net: Net, x: str, name: str, heads: int, window: int, shift: int, spec: Spec) -> str:
    version = ARCHS[spec.args["arch"]][4]
    dim = net.channels(x)
    attention: dict[str, Any] = {"heads": heads, "window": window, "shift": shift}
    hidden = int(dim * spec.option("mlp_ratio"))
    if version == 1:
        y = net.layer("layer_norm", x, name=f"{name}.norm1")
        # ShiftedWindowAttention: F.linear on its Linears' weights, Tensor.matmul, F.softmax
        y = net.layer(
            "window_attention", y, name=f"{name}.attn", call="ShiftedWindowAttention", **attention
        )
    else:
        # The attention first runs its cpb_mlp modules on the relative coordinates.
        c = net.layer(
            "relative_coords",
            x,
            name=f"{name}.attn.relative_coords",
            call="self.relative_coords_table",
            window=window,
        )
        c = net.dense(c, 512, name=f"{name}.attn.cpb_mlp.0")
        c = net.act(c, "relu", name=f"{name}.attn.cpb_mlp.1")
        net.dense(c, heads, bias=False, name=f"{name}.attn.cpb_mlp.2")
        y = net.layer(
            "window_attention",
            x,
            name=f"{name}.attn",
            call="ShiftedWindowAttentionV2",
            position_bias="continuous",
            bias_mlp=False,
            **attention,
        )
        y = net.layer("layer_norm", y, name=f"{name}.norm1")
    y = net.layer("stochastic_depth", y, name=f"{name}.stochastic_depth")
    x = net.add(x, y, name=f"{name}.add_1")
    y = net.layer("layer_norm", x, name=f"{name}.norm2") if version == 1 else x
    y = net.dense(y, hidden, name=f"{name}.mlp.0")
    y = net.act(y, "gelu", name=f"{name}.mlp.1")
    y = net.layer("dropout", y, name=f"{name}.mlp.2")
    y = net.dense(y, dim, name=f"{name}.mlp.3")
    y = net.layer("dropout", y, name=f"{name}.mlp.4")
    if version == 2:
        y = net.layer("layer_norm", y, name=f"{name}.norm2")
    # The block's one StochasticDepth module runs twice: the second call is numbered.
    y = net.layer("stochastic_depth", y, name=f"{name}.stochastic_depth#2")
    return net.add(x, y, name=f"{name}.add_2")


def _patch_merging(net: Net, x: str, name: str, version: int) -> str:
    """PatchMerging(V2): the 2x2 concatenation, then norm and reduction as modules."""
    out = 2 * net.channels(x)
    x = net.layer(
        "patch_merging", x, name=f"{name}.pad", call="_patch_merging_pad", reduction=False
    )
    if version == 1:
        x = net.layer("layer_norm", x, name=f"{name}.norm")
        return net.dense(x, out, bias=False, name=f"{name}.reduction")
    x = net.dense(x, out, bias=False, name=f"{name}.reduction")
    return net.layer("layer_norm", x, name=f"{name}.norm")


def build(spec: Spec) -> Net:
    embed, depths, heads, window, version = ARCHS[spec.args["arch"]]
    if min(spec.size) < 4:
        raise ConvcountError(
            "resolution",
            f"--resolution {'x'.join(map(str, spec.size))}: {spec.name} needs at least 4x4 "
            "(its 4x4 patch embedding)",
        )
    net = spec.net()
    x = net.conv("input", embed, 4, 4, 0, name="features.0.0")
    x = net.layer("permute", x, name="features.0.1", call="Permute", to="channels_last")
    x = net.layer("layer_norm", x, name="features.0.2")
    index = 1
    for stage, (depth, head) in enumerate(zip(depths, heads, strict=True)):
        for i in range(depth):
            shift = 0 if i % 2 == 0 else window // 2
            x = _block(net, x, f"features.{index}.{i}", head, window, shift, spec)
        index += 1
        if stage < len(depths) - 1:
            x = _patch_merging(net, x, f"features.{index}", version)
            index += 1
    x = net.layer("layer_norm", x, name="norm")
    x = net.layer("permute", x, name="permute", call="Permute", to="channels_first")
    x = net.layer("adaptive_avg_pool", x, name="avgpool", output_size=1)
    x = net.layer("flatten", x, name="flatten")
    net.dense(x, spec.option("num_classes"), name="head")
    return net
