"""The attention kinds against PyTorch modules built live, written here.

torchvision cannot be installed beside torch 2.13.0 in CI, so its ViT, Swin
and MaxViT are checked against captured figures (tests/test_zoo.py); here the
same blocks are written with torch.nn (nn.MultiheadAttention, and Swin's and
MaxViT's window attention as torchvision computes it) and compared with a
model file using the new kinds: parameters, buffers, MACs (FlopCounterMode on
the meta device, where attention's matrix products are counted) and every
layer's output shape.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from convcount.model import build_model
from convcount.model.graph import ModelReport

pytestmark = pytest.mark.frameworks


def measure(torch: Any, net: Any, shape: tuple[int, ...]) -> tuple[int, int, int, dict[str, Any]]:
    """Parameters, buffers, MACs and each named module's output shape, on the meta device."""
    from torch.utils.flop_counter import FlopCounterMode

    net = net.to("meta").eval()
    shapes: dict[str, Any] = {}
    names = {module: name for name, module in net.named_modules()}

    def hook(module: Any, _inputs: Any, output: Any) -> None:
        out = output[0] if isinstance(output, tuple) else output
        shapes.setdefault(names[module], list(out.shape[1:]))

    handles = [m.register_forward_hook(hook) for m in names]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net(torch.empty(1, *shape, device="meta"))
    for handle in handles:
        handle.remove()
    params = sum(p.numel() for p in net.parameters())
    buffers = sum(b.numel() for b in net.buffers())
    return params, buffers, counter.get_total_flops() // 2, shapes


def compare(torch: Any, net: Any, shape: tuple[int, ...], report: ModelReport) -> None:
    params, buffers, macs, shapes = measure(torch, net, shape)
    assert (report.total_params, report.buffers, report.macs) == (params, buffers, macs)
    ours = {layer.name: layer for layer in report.layers}
    checked = 0
    for name, theirs in shapes.items():
        if name in ours:
            assert list(report.output_shape(ours[name].output)) == theirs, name
            checked += 1
    assert checked >= 3


VIT = """
[model]
name = "tiny-vit"
input = { size = 32, channels = 3 }

[[layer]]
kind = "conv"
name = "patch"
out_channels = 48
kernel_size = 8
stride = 8
[[layer]]
kind = "reshape"
shape = [48, 16]
[[layer]]
kind = "permute"
to = "channels_last"
[[layer]]
kind = "class_token"
name = "cls"
[[layer]]
kind = "position_embedding"
name = "pos"
[[layer]]
kind = "layer_norm"
name = "ln_1"
[[layer]]
kind = "attention"
name = "attn"
heads = 4
[[layer]]
kind = "add"
inputs = ["pos", "attn"]
name = "res"
[[layer]]
kind = "layer_norm"
name = "ln_2"
[[layer]]
kind = "mlp"
name = "mlp"
hidden = 96
[[layer]]
kind = "select_token"
name = "token"
[[layer]]
kind = "dense"
name = "head"
units = 10
"""


def test_a_vision_transformer_against_pytorch(torch: Any) -> None:
    from torch import nn

    class TinyViT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.patch = nn.Conv2d(3, 48, 8, 8)
            self.cls = nn.Parameter(torch.zeros(1, 1, 48))
            self.pos = nn.Parameter(torch.zeros(1, 17, 48))
            self.ln_1 = nn.LayerNorm(48)
            self.attn = nn.MultiheadAttention(48, 4, batch_first=True)
            self.ln_2 = nn.LayerNorm(48)
            self.mlp = nn.Sequential(nn.Linear(48, 96), nn.GELU(), nn.Linear(96, 48))
            self.head = nn.Linear(48, 10)

        def forward(self, x: Any) -> Any:
            x = self.patch(x).flatten(2).permute(0, 2, 1)
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
            y = self.ln_1(x)
            x = x + self.attn(y, y, y, need_weights=False)[0]
            x = self.mlp(self.ln_2(x))
            return self.head(x[:, 0])

    report = build_model(tomllib.loads(VIT), "vit.toml", convention="torch")
    compare(torch, TinyViT(), (3, 32, 32), report)


def window_attention_module(torch: Any, dim: int, heads: int, window: int, v2: bool) -> Any:
    """Swin's (V1 or V2) shifted window attention, written as torchvision computes it."""
    from torch import nn
    from torch.nn import functional as F

    class WindowAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(dim, 3 * dim)
            self.proj = nn.Linear(dim, dim)
            side = 2 * window - 1
            self.register_buffer("index", torch.zeros(window**4, dtype=torch.long))
            if v2:
                self.logit_scale = nn.Parameter(torch.zeros(heads, 1, 1))
                self.cpb = nn.Sequential(
                    nn.Linear(2, 512), nn.ReLU(), nn.Linear(512, heads, bias=False)
                )
                self.register_buffer("coords", torch.zeros(1, side, side, 2))
            else:
                self.table = nn.Parameter(torch.zeros(side * side, heads))

        def forward(self, x: Any) -> Any:
            b, h, w, c = x.shape
            pad_h, pad_w = (-h) % window, (-w) % window
            x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
            ph, pw = h + pad_h, w + pad_w
            x = x.view(b, ph // window, window, pw // window, window, c)
            x = x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, c)
            qkv = self.qkv(x).reshape(x.shape[0], x.shape[1], 3, heads, c // heads)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)
            if v2:
                table = self.cpb(self.coords).view(-1, heads)
                attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
                attn = attn * self.logit_scale.exp()
            else:
                table = self.table
                attn = q @ k.transpose(-2, -1)
            bias = table[self.index].view(window**2, window**2, -1).permute(2, 0, 1)
            attn = (attn + bias.unsqueeze(0)).softmax(-1)
            x = (attn @ v).transpose(1, 2).reshape(x.shape[0], x.shape[1], c)
            x = self.proj(x)
            x = x.view(b, ph // window, pw // window, window, window, c)
            return x.permute(0, 1, 3, 2, 4, 5).reshape(b, ph, pw, c)[:, :h, :w, :]

    return WindowAttention()


SWIN = """
[model]
name = "tiny-swin"
input = { size = 22, channels = 3 }

[[layer]]
kind = "conv"
name = "embed"
out_channels = 16
kernel_size = 2
stride = 2
[[layer]]
kind = "permute"
name = "permute"
to = "channels_last"
[[layer]]
kind = "window_attention"
name = "attn"
heads = 2
window = 4
shift = 2
position_bias = "BIAS"
[[layer]]
kind = "patch_merging"
name = "merge"
norm = "NORM"
[[layer]]
kind = "global_avg_pool"
"""


BIAS_MLP_APART = """[[layer]]
kind = "relative_coords"
name = "coords"
window = 4
[[layer]]
kind = "dense"
name = "attn.cpb.0"
units = 512
[[layer]]
kind = "activation"
name = "attn.cpb.1"
[[layer]]
kind = "dense"
name = "attn.cpb.2"
units = 2
bias = false
[[layer]]
kind = "window_attention"
input = "permute"
bias_mlp = false
"""


@pytest.mark.parametrize(
    ("v2", "apart"), [(False, False), (True, False), (True, True)], ids=["swin", "v2", "v2_mlp"]
)
def test_swin_window_attention_and_patch_merging_against_pytorch(
    torch: Any, v2: bool, apart: bool
) -> None:
    from torch import nn
    from torch.nn import functional as F

    class Merge(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.norm = nn.LayerNorm(2 * dim if v2 else 4 * dim)
            self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

        def forward(self, x: Any) -> Any:
            h, w = x.shape[1:3]
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
            parts = [x[:, i::2, j::2, :] for j in (0, 1) for i in (0, 1)]
            x = torch.cat(parts, -1)
            return self.norm(self.reduction(x)) if v2 else self.reduction(self.norm(x))

    class TinySwin(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Conv2d(3, 16, 2, 2)
            self.attn = window_attention_module(torch, 16, 2, 4, v2)
            self.merge = Merge(16)

        def forward(self, x: Any) -> Any:
            x = self.attn(self.embed(x).permute(0, 2, 3, 1))  # 11x11: padded to 12x12
            return self.merge(x).mean((1, 2))

    text = SWIN.replace("BIAS", "continuous" if v2 else "table")
    if apart:  # the bias MLP as layers of its own, fed by the relative coordinates
        text = text.replace('[[layer]]\nkind = "window_attention"\n', BIAS_MLP_APART)
    report = build_model(
        tomllib.loads(text.replace("NORM", "after" if v2 else "before")),
        "swin.toml",
        convention="torch",
    )
    compare(torch, TinySwin(), (3, 22, 22), report)


MAXVIT = """
[model]
name = "tiny-maxvit"
input = { size = 12, channels = 8 }

[[layer]]
kind = "window_partition"
name = "part"
size = 2
[[layer]]
kind = "swap_axes"
name = "swap"
[[layer]]
kind = "attention"
name = "attn"
heads = 2
head_dim = 4
position_bias = "table"
[[layer]]
kind = "swap_axes"
name = "unswap"
[[layer]]
kind = "window_departition"
name = "depart"
size = 2
partitions = [6, 6]
"""


MAXVIT_SPLIT = MAXVIT.replace(
    """[[layer]]
kind = "attention"
name = "attn"
heads = 2
head_dim = 4
position_bias = "table"
""",
    """[[layer]]
kind = "dense"
name = "to_qkv"
units = 24
[[layer]]
kind = "attention"
name = "attn"
heads = 2
projections = false
position_bias = "table"
[[layer]]
kind = "dense"
name = "merge"
units = 8
""",
)


@pytest.mark.parametrize("text", [MAXVIT, MAXVIT_SPLIT], ids=["whole", "projections_apart"])
def test_maxvit_grid_attention_against_pytorch(torch: Any, text: str) -> None:
    from torch import nn

    class GridAttention(nn.Module):
        """MaxViT's grid partition and relative-position attention, as torchvision has them."""

        def __init__(self) -> None:
            super().__init__()
            self.to_qkv = nn.Linear(8, 24)
            self.merge = nn.Linear(8, 8)
            self.table = nn.Parameter(torch.zeros(11 * 11, 2))
            self.register_buffer("index", torch.zeros(36, 36, dtype=torch.long))

        def forward(self, x: Any) -> Any:
            b, c, h, w = x.shape
            p = 2  # grid: p = H / partition size 6
            x = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
            x = x.reshape(b, (h // p) * (w // p), p * p, c).swapaxes(-2, -3)
            g, n = x.shape[1:3]
            q, k, v = (
                t.reshape(b, g, n, 2, 4).permute(0, 1, 3, 2, 4)
                for t in self.to_qkv(x).chunk(3, dim=-1)
            )
            bias = self.table[self.index.view(-1)].view(n, n, -1).permute(2, 0, 1)
            attn = (torch.einsum("bghid,bghjd->bghij", q, k) + bias).softmax(-1)
            out = torch.einsum("bghij,bghjd->bghid", attn, v)
            x = self.merge(out.permute(0, 1, 3, 2, 4).reshape(b, g, n, c)).swapaxes(-2, -3)
            x = x.reshape(b, h // p, w // p, p, p, c).permute(0, 5, 1, 3, 2, 4)
            return x.reshape(b, c, h, w)

    report = build_model(tomllib.loads(text), "maxvit.toml", convention="torch")
    params, buffers, macs, _ = measure(torch, GridAttention(), (8, 12, 12))
    assert (report.total_params, report.buffers, report.macs) == (params, buffers, macs)
    assert list(report.output_shape(report.output)) == [8, 12, 12]
    # 36 windows of 2x2 tokens, swapped to 4 groups of 36 tokens spread over the map
    assert [list(report.output_shape(layer.output)) for layer in report.layers[:2]] == [
        [36, 4, 8],
        [4, 36, 8],
    ]


def test_keras_multi_head_attention_with_separate_key_and_value_sizes(keras: Any) -> None:
    keras.backend.clear_session()
    inputs = keras.Input((17, 48))
    layer = keras.layers.MultiHeadAttention(num_heads=4, key_dim=12, value_dim=8, name="attn")
    built = keras.Model(inputs, layer(inputs, inputs))
    text = (
        '[model]\nname = "k"\ninput = { size = 17, dims = 1, channels = 48 }\n'
        '[[layer]]\nkind = "attention"\nname = "attn"\nheads = 4\nhead_dim = 12\nvalue_dim = 8\n'
    )
    report = build_model(tomllib.loads(text), "k.toml", convention="keras")
    assert report.total_params == built.count_params()
    assert report.output_shape(report.output) == tuple(built.output.shape[1:])
