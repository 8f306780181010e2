"""The README's Python example (convcount.Net) against the same network in PyTorch."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_api_model import readme_script

pytestmark = pytest.mark.frameworks


def test_the_readme_network_matches_pytorch(torch: Any) -> None:
    import torch.nn.functional as F
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    def block(cin: int, out: int, stride: int = 1) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(cin, out, 3, stride, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU()
        )

    down = nn.ModuleList([block(3, 16), block(16, 32, 2), block(32, 64, 2)])
    up = nn.ModuleList([block(64 + 32, 32), block(32 + 16, 16)])
    head = nn.Conv2d(16, 2, 1)
    model = nn.ModuleList([down, up, head]).eval()

    def forward(x: Any) -> Any:
        skips = []
        for layer in down:
            x = layer(x)
            skips.append(x)
        for layer, skip in zip(up, reversed(skips[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[2:], mode="bilinear")
            x = layer(torch.cat([skip, x], 1))
        return head(x)

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = forward(torch.zeros(1, 3, 97, 75))
    namespace: dict[str, Any] = {"print": lambda *_: None}
    exec(readme_script(), namespace)
    report = namespace["report"]
    assert report.total_params == sum(p.numel() for p in model.parameters())
    assert report.buffers == sum(b.numel() for b in model.buffers())
    assert report.macs == counter.get_total_flops() // 2
    assert report.output_shape(report.output) == tuple(out.shape[1:])
