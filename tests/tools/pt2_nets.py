"""Hand-built PyTorch networks exported to .pt2 for the ``--count-as`` tests.

Each entry builds ``(model, x)``; ``capture_pt2_tools.py`` records what the tools print
for them, and ``test_pt2_tools_live.py`` exports a few of them live. They cover
functional calls beside modules, Tensor methods beside their operators, nested
nn.Sequential, a module called twice, a parent module owning a parameter, upsampling
both ways, 1-D and 3-D, grouped and transposed convolutions, the norms and
activations tools treat apart, and attention.
"""

from __future__ import annotations

from typing import Any


def functional() -> tuple[Any, Any]:
    """Functions and operators inside a parent's forward; a module called twice."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.branch = nn.Conv2d(8, 8, 1, bias=False)
            self.act = nn.ReLU()
            self.scale = nn.Parameter(torch.ones(1, 16, 1, 1))  # the parent's own
            self.fc = nn.Linear(16, 5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.relu(self.conv(x))
            y = torch.relu(self.branch(x))
            x = self.act(x + y)  # nn.ReLU, called twice
            x = self.act(F.max_pool2d(x, 2))
            x = torch.cat([x, F.avg_pool2d(x, 3, stride=1, padding=1)], 1) * self.scale
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
            x = F.softmax(x, dim=1) + x.sigmoid()
            x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
            return self.fc(x) + torch.matmul(x, torch.ones(16, 5))

    return Functional(), torch.rand(1, 3, 16, 16)


def nested() -> tuple[Any, Any]:
    """nn.Sequential nesting, module upsampling, grouped and transposed convolutions."""
    import torch
    from torch import nn

    model = nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU6()),
        nn.Sequential(
            nn.Conv2d(8, 16, 3, padding=1, groups=4),
            nn.BatchNorm2d(16, affine=False),
            nn.Hardswish(),
            nn.Conv2d(16, 16, 3, padding="same", groups=16),
        ),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1),
        nn.SiLU(),
        nn.Upsample(scale_factor=0.5, mode="bilinear"),
        nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d((3, 3)),
        nn.AdaptiveMaxPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(8, 4),
        nn.Softmax(dim=1),
    )
    return model, torch.rand(1, 3, 32, 32)


def signal() -> tuple[Any, Any]:
    """1-D and 3-D convolutions and pooling, LayerNorm, GELU, InstanceNorm, GroupNorm."""
    import torch
    from torch import nn

    class Signal(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv3 = nn.Conv3d(2, 4, 3, padding=1)
            self.norm3 = nn.InstanceNorm3d(4, affine=True)
            self.pool3 = nn.MaxPool3d(2)
            self.conv1 = nn.Conv1d(16, 8, 5, padding=2)
            self.group = nn.GroupNorm(2, 8)
            self.pool1 = nn.AvgPool1d(2)
            self.norm = nn.LayerNorm(8)
            self.gelu = nn.GELU()
            self.up = nn.ConvTranspose1d(8, 4, 4, stride=2, padding=1, groups=2)
            self.leaky = nn.LeakyReLU(0.1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.pool3(self.norm3(self.conv3(x)))  # N, 4, 4, 4, 4
            x = x.flatten(2).transpose(1, 2).flatten(2)  # N, 64, 4
            x = x.reshape(x.shape[0], 16, 16)
            x = self.pool1(self.group(self.conv1(x)))  # N, 8, 8
            x = self.gelu(self.norm(x.transpose(1, 2))).transpose(1, 2)
            return self.leaky(self.up(x))

    return Signal(), torch.rand(1, 2, 8, 8, 8)


def attention() -> tuple[Any, Any]:
    """nn.MultiheadAttention, LayerNorm, GELU and Linear on tokens; a class token."""
    import torch
    from torch import nn

    class Tokens(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Conv2d(3, 32, 4, stride=4)
            self.token = nn.Parameter(torch.zeros(1, 1, 32))
            self.norm = nn.LayerNorm(32)
            self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
            self.mlp = nn.Sequential(
                nn.Linear(32, 64), nn.GELU(), nn.Dropout(0.1), nn.Linear(64, 32)
            )
            self.head = nn.Linear(32, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.embed(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)
            y = self.norm(x)
            x = x + self.attn(y, y, y, need_weights=False)[0]
            x = x + self.mlp(self.norm(x))  # the LayerNorm called twice
            return self.head(x[:, 0])

    return Tokens(), torch.rand(1, 3, 16, 16)


def methods() -> tuple[Any, Any]:
    """Tensor methods ptflops patches beside the operators it does not: the file tells
    them apart only by the source line its stack trace keeps."""
    import torch
    from torch import nn

    class Methods(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q = nn.Linear(8, 8)
            self.k = nn.Linear(8, 8, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            q, k = self.q(x), self.k(x)
            a = q.matmul(k.transpose(1, 2))  # patched
            b = q @ k.transpose(1, 2)  # not
            c = torch.bmm(a, b)  # patched
            d = a.add(b).mul(c)  # patched
            e = (a + b) * c  # not
            return d.softmax(-1).matmul(q) + torch.add(e, 1.0).matmul(k)

    return Methods(), torch.rand(1, 6, 8)


HAND_NETS = {
    "hand_methods": methods,
    "hand_functional": functional,
    "hand_nested": nested,
    "hand_signal": signal,
    "hand_attention": attention,
}
