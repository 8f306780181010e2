"""Every counter run live on torchvision's own networks, beside ``--count-as``.

tests/tools/test_tools.py holds convcount against what torchinfo, fvcore, ptflops
(both backends) and thop printed for 26 networks when they were captured; here the
tools run in the test session on torchvision models (downloaded as in
test_torchvision_live.py) at sizes the capture does not hold, and the same checks
compare every figure, per layer where the tool gives them.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest

from convcount.model import load_model
from tests.tools.test_tools import check_counters, check_module_hooks

sys.path.insert(0, str(Path(__file__).parents[1] / "tools"))  # capture_tools

pytestmark = pytest.mark.frameworks

#: builder, input size: a plain CNN, functional ReLUs and pooling (F.relu, F.adaptive_avg_pool2d,
#: F.max_pool2d), idle auxiliary heads, SiLU and squeeze-and-excite, Hardswish, LayerNorm2d and
#: layer scale, and Swin's window attention
LIVE = [
    ("resnet18", 96),
    ("densenet121", 64),
    ("googlenet", 96),
    ("convnext_tiny", 64),
    ("efficientnet_b0", 80),
    ("mobilenet_v3_small", 112),
    ("swin_t", 64),
]


@pytest.mark.parametrize(("builder", "size"), LIVE, ids=[f"{b}@{s}" for b, s in LIVE])
def test_counters_live_on_torchvision(
    torchvision: ModuleType, torch: ModuleType, builder: str, size: int
) -> None:
    from capture_tools import measure

    torch.manual_seed(0)
    model = torchvision.models.get_model(builder, weights=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        truth = json.loads(json.dumps(measure(model, torch.rand(1, 3, size, size), True)))
    # the builders as called here (weights=None): googlenet keeps its auxiliary heads
    options = {"aux_logits": "true"} if builder == "googlenet" else None
    report = load_model(f"torchvision/{builder}", resolution=str(size), options=options)
    case = f"torchvision/{builder}@{size}"
    check_counters(case, truth, report)
    check_module_hooks(case, truth, report)
