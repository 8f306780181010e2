"""Hand-built PyTorch networks, each also written in the model language (torch convention).

Shared by the capture script (which records what every tool prints for them) and
the live tests (which run the tools again in CI). Module names equal the model
file's layer names, so that per-layer figures can be matched by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class HandNet(NamedTuple):
    toml: str
    build: Callable[[], tuple[Any, Any]]


def _decoder() -> tuple[Any, Any]:
    import torch
    from torch import nn

    class Decoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, padding=1)
            self.stem_bn = nn.BatchNorm2d(16)
            self.stem_act = nn.ReLU()
            self.pool = nn.MaxPool2d(2)
            self.down = nn.Conv2d(16, 32, 3, padding=1, bias=False)
            self.down_bn = nn.BatchNorm2d(32)
            self.down_act = nn.ReLU6()
            self.up = nn.ConvTranspose2d(32, 16, 2, stride=2)
            self.fuse = nn.Conv2d(32, 8, 3, padding=1)
            self.fuse_act = nn.Hardswish()
            self.resize = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
            self.head = nn.Conv2d(8, 2, 1)

        def forward(self, x: Any) -> Any:
            skip = self.stem_act(self.stem_bn(self.stem(x)))
            y = self.down_act(self.down_bn(self.down(self.pool(skip))))
            y = torch.cat([self.up(y), skip], dim=1)
            return self.head(self.resize(self.fuse_act(self.fuse(y))))

    return Decoder(), torch.rand(1, 3, 32, 32)


DECODER = """
[model]
name = "decoder"
input = { size = 32, channels = 3 }
convention = "torch"

[[layer]]
kind = "conv"
name = "stem"
kernel_size = 3
padding = 1
out_channels = 16
[[layer]]
kind = "batchnorm"
name = "stem_bn"
[[layer]]
kind = "activation"
name = "stem_act"
[[layer]]
kind = "max_pool"
name = "pool"
pool_size = 2
[[layer]]
kind = "conv"
name = "down"
kernel_size = 3
padding = 1
out_channels = 32
bias = false
[[layer]]
kind = "batchnorm"
name = "down_bn"
[[layer]]
kind = "activation"
name = "down_act"
function = "relu6"
[[layer]]
kind = "transpose"
name = "up"
kernel_size = 2
stride = 2
out_channels = 16
[[layer]]
kind = "concat"
name = "cat"
inputs = ["up", "stem_act"]
[[layer]]
kind = "conv"
name = "fuse"
kernel_size = 3
padding = 1
out_channels = 8
[[layer]]
kind = "activation"
name = "fuse_act"
function = "hard_swish"
[[layer]]
kind = "upsampling"
name = "resize"
size = 2
interpolation = "bilinear"
[[layer]]
kind = "conv"
name = "head"
kernel_size = 1
out_channels = 2
"""


def _grouped1d() -> tuple[Any, Any]:
    import torch
    from torch import nn

    class Grouped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(8, 32, 5, groups=4)
            self.bn = nn.BatchNorm1d(32)
            self.act = nn.ReLU6()
            self.dw = nn.Conv1d(32, 32, 3, stride=2, groups=32)
            self.pool = nn.AvgPool1d(2)
            self.gap = nn.AdaptiveAvgPool1d(1)
            self.fc = nn.Linear(32, 10)

        def forward(self, x: Any) -> Any:
            y = self.pool(self.dw(self.act(self.bn(self.conv(x)))))
            return self.fc(torch.flatten(self.gap(y), 1))

    return Grouped(), torch.rand(1, 8, 100)


GROUPED1D = """
[model]
name = "grouped1d"
input = { size = 100, channels = 8, dims = 1 }
convention = "torch"

[[layer]]
kind = "conv"
name = "conv"
kernel_size = 5
out_channels = 32
groups = 4
[[layer]]
kind = "batchnorm"
name = "bn"
[[layer]]
kind = "activation"
name = "act"
function = "relu6"
[[layer]]
kind = "depthwise"
name = "dw"
kernel_size = 3
stride = 2
[[layer]]
kind = "avg_pool"
name = "pool"
pool_size = 2
[[layer]]
kind = "adaptive_avg_pool"
name = "gap"
[[layer]]
kind = "flatten"
name = "flatten"
[[layer]]
kind = "dense"
name = "fc"
units = 10
"""


def _residual() -> tuple[Any, Any]:
    import torch
    from torch import nn

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
            self.bn0 = nn.BatchNorm2d(16)
            self.relu = nn.ReLU()  # called three times, as torchvision's BasicBlock does
            self.conv1 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.conv2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(16)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(16, 5)

        def forward(self, x: Any) -> Any:
            x = self.relu(self.bn0(self.stem(x)))
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)) + x)
            return self.fc(torch.flatten(self.avgpool(y), 1))

    return Residual(), torch.rand(1, 3, 40, 40)


RESIDUAL = """
[model]
name = "residual"
input = { size = 40, channels = 3 }
convention = "torch"

[[layer]]
kind = "conv"
name = "stem"
kernel_size = 3
stride = 2
padding = 1
out_channels = 16
bias = false
[[layer]]
kind = "batchnorm"
name = "bn0"
[[layer]]
kind = "activation"
name = "relu"
[[layer]]
kind = "conv"
name = "conv1"
kernel_size = 3
padding = 1
out_channels = 16
bias = false
[[layer]]
kind = "batchnorm"
name = "bn1"
[[layer]]
kind = "activation"
name = "relu_1"
[[layer]]
kind = "conv"
name = "conv2"
kernel_size = 3
padding = 1
out_channels = 16
bias = false
[[layer]]
kind = "batchnorm"
name = "bn2"
[[layer]]
kind = "add"
name = "add"
inputs = ["bn2", "relu"]
[[layer]]
kind = "activation"
name = "relu_2"
[[layer]]
kind = "adaptive_avg_pool"
name = "avgpool"
[[layer]]
kind = "flatten"
name = "flatten"
[[layer]]
kind = "dense"
name = "fc"
units = 5
"""


def _functional() -> tuple[Any, Any]:
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Functional(nn.Module):
        """Layers run as functions, which module-hooking counters see differently."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3, padding=1)
            self.bn = nn.BatchNorm2d(16)
            self.expand = nn.Conv2d(16, 32, 1)
            self.fc = nn.Linear(32, 4)

        def forward(self, x: Any) -> Any:
            y = F.relu(self.bn(self.conv(x)))
            y = F.avg_pool2d(F.max_pool2d(y, 2), 3, stride=1, padding=1)
            y = F.relu(self.expand(y))
            return self.fc(y.mean((2, 3)))

    return Functional(), torch.rand(1, 3, 24, 24)


FUNCTIONAL = """
[model]
name = "functional"
input = { size = 24, channels = 3 }
convention = "torch"

[[layer]]
kind = "conv"
name = "conv"
kernel_size = 3
padding = 1
out_channels = 16
[[layer]]
kind = "batchnorm"
name = "bn"
[[layer]]
kind = "activation"
name = "relu"
call = "F.relu"
[[layer]]
kind = "max_pool"
name = "max_pool2d"
pool_size = 2
call = "F.max_pool2d"
[[layer]]
kind = "avg_pool"
name = "avg_pool2d"
pool_size = 3
stride = 1
padding = 1
call = "F.avg_pool2d"
[[layer]]
kind = "conv"
name = "expand"
kernel_size = 1
out_channels = 32
[[layer]]
kind = "activation"
name = "relu_1"
call = "F.relu"
[[layer]]
kind = "global_avg_pool"
name = "mean"
method = "mean"
[[layer]]
kind = "dense"
name = "fc"
units = 4
"""

NETS: dict[str, HandNet] = {
    "decoder": HandNet(DECODER, _decoder),
    "grouped1d": HandNet(GROUPED1D, _grouped1d),
    "residual": HandNet(RESIDUAL, _residual),
    "functional": HandNet(FUNCTIONAL, _functional),
}


def _windowed() -> tuple[Any, Any]:
    """torchvision's Swin and MaxViT modules on odd sizes and a non-square window."""
    import torch
    from torch import nn
    from torchvision.models.maxvit import RelativePositionalMultiHeadAttention, WindowPartition
    from torchvision.models.swin_transformer import (
        PatchMerging,
        PatchMergingV2,
        ShiftedWindowAttention,
        ShiftedWindowAttentionV2,
    )
    from torchvision.ops.misc import Permute

    class Windowed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Conv2d(3, 32, 4, stride=4)
            self.to_last = Permute([0, 2, 3, 1])
            self.norm = nn.LayerNorm(32)
            self.attn = ShiftedWindowAttention(32, [5, 4], [2, 2], 4, qkv_bias=False)
            self.attn2 = ShiftedWindowAttentionV2(32, [4, 4], [2, 2], 2)
            self.merge = PatchMerging(32)
            self.merge2 = PatchMergingV2(64)
            self.to_first = Permute([0, 3, 1, 2])
            self.partition = WindowPartition()
            self.rel = RelativePositionalMultiHeadAttention(128, 32, 9)

        def forward(self, x: Any) -> Any:
            x = self.norm(self.to_last(self.embed(x)))
            x = x + self.attn(x)
            x = self.merge2(self.merge(self.attn2(x)))
            return self.rel(self.partition(self.to_first(x), 3))

    return Windowed(), torch.rand(1, 3, 44, 36)


WINDOWED = """
[model]
name = "windowed"
input = { size = [44, 36], channels = 3 }
convention = "torch"

[[layer]]
kind = "conv"
name = "embed"
kernel_size = 4
stride = 4
out_channels = 32
[[layer]]
kind = "permute"
name = "to_last"
to = "channels_last"
call = "Permute"
[[layer]]
kind = "layer_norm"
name = "norm"
[[layer]]
kind = "window_attention"
name = "attn"
heads = 4
window = [5, 4]
shift = 2
qkv_bias = false
call = "ShiftedWindowAttention"
[[layer]]
kind = "add"
name = "add"
inputs = ["norm", "attn"]
[[layer]]
kind = "window_attention"
name = "attn2"
heads = 2
window = 4
shift = 2
position_bias = "continuous"
call = "ShiftedWindowAttentionV2"
[[layer]]
kind = "patch_merging"
name = "merge"
call = "PatchMerging"
[[layer]]
kind = "patch_merging"
name = "merge2"
norm = "after"
call = "PatchMergingV2"
[[layer]]
kind = "permute"
name = "to_first"
to = "channels_first"
call = "Permute"
[[layer]]
kind = "window_partition"
name = "partition"
size = 3
[[layer]]
kind = "dense"
name = "rel.to_qkv"
units = 384
[[layer]]
kind = "attention"
name = "rel"
heads = 4
head_dim = 32
projections = false
position_bias = "table"
call = "RelativePositionalMultiHeadAttention"
[[layer]]
kind = "dense"
name = "rel.merge"
units = 128
"""

#: Hand-built networks of torchvision's modules: captured (capture_tools.py imports
#: torchvision from its source), not run live (CI has no torchvision).
TORCHVISION_NETS: dict[str, HandNet] = {"windowed": HandNet(WINDOWED, _windowed)}
