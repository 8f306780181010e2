"""The zoo against torchvision itself, built live in CI on variants no capture holds.

tests/test_zoo.py compares every shipped network with figures captured once from
torchvision 0.29.1; here torchvision's own model code runs in the test session
(on the meta device, as the capture does) at sizes and options chosen apart from
the captured ones, and the same comparison runs: parameters, buffers, MACs as
FlopCounterMode counts them, the output shape, and every layer.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.test_zoo import _check

sys.path.insert(0, str(Path(__file__).parent.parent / "zoo"))  # capture_torchvision

pytestmark = pytest.mark.frameworks

#: (builder, family, resolution, builder keyword arguments = convcount's -O options)
HELD_OUT: list[tuple[str, str, int | tuple[int, int], dict[str, Any]]] = [
    ("resnet18", "resnet", (97, 131), {}),
    ("resnet50", "resnet", 130, {"width_per_group": 32}),
    ("resnext50_32x4d", "resnet", 75, {}),
    ("mobilenet_v2", "mobilenet_v2", 150, {"width_mult": 0.6}),
    ("mobilenet_v3_large", "mobilenet_v3", 177, {"reduced_tail": True}),
    ("mobilenet_v3_small", "mobilenet_v3", (120, 90), {}),
    ("efficientnet_b0", "efficientnet", 211, {}),
    ("efficientnet_v2_s", "efficientnet_v2", 129, {}),
    ("regnet_y_800mf", "regnet_y", 150, {}),
    ("regnet_x_400mf", "regnet_x", 99, {}),
    ("densenet169", "densenet", 100, {}),
    ("convnext_tiny", "convnext", 96, {}),
    ("shufflenet_v2_x1_0", "shufflenet_v2", 101, {}),
    ("squeezenet1_1", "squeezenet", 99, {}),
    ("googlenet", "googlenet", 130, {}),
    ("inception_v3", "inception", 150, {}),
    ("mnasnet0_75", "mnasnet", 130, {}),
    ("alexnet", "alexnet", 90, {}),
    ("vgg11_bn", "vgg", 100, {"num_classes": 7}),
    ("vit_b_32", "vit", 96, {"image_size": 96}),
    ("swin_t", "swin", (100, 140), {}),
    ("swin_v2_t", "swin", 130, {}),
    ("maxvit_t", "maxvit", 672, {"input_size": (672, 672)}),
]


def _id(spec: tuple[str, str, Any, dict[str, Any]]) -> str:
    builder, _, resolution, options = spec
    size = resolution if isinstance(resolution, int) else "x".join(map(str, resolution))
    return ",".join([f"{builder}@{size}", *(f"{k}={v}" for k, v in options.items())])


@pytest.mark.parametrize("spec", HELD_OUT, ids=_id)
def test_held_out_variants_match_torchvision(
    torchvision: ModuleType, spec: tuple[str, str, Any, dict[str, Any]]
) -> None:
    from capture_torchvision import BASE_KWARGS, Case, measure

    builder, family, resolution, options = spec
    given = dict(options)
    width = given.pop("width_mult", None)  # convcount's -a/--width-multiplier
    case = Case(
        name=f"torchvision/{builder}",
        builder=builder,
        kwargs={**BASE_KWARGS.get(builder, {}), **options},
        resolution=resolution,
        kind="live",
        resolution_variant=resolution if isinstance(resolution, int) else list(resolution),
        width_multiplier=None if width is None else str(width),
        options={k: list(v) if isinstance(v, tuple) else v for k, v in given.items()},
    )
    record = measure(torchvision, case)
    record["family"] = family
    # -O input_size/image_size follow -r for ViT and MaxViT: the resolution says them
    for key in ("image_size", "input_size"):
        record["variant"]["options"].pop(key, None)
    _check(record, torch=True)


@pytest.mark.parametrize(("builder", "size", "batch"), [("swin_v2_t", 192, 3), ("resnet18", 96, 4)])
def test_macs_at_a_batch_match_flop_counter_mode(
    torchvision: ModuleType, torch: ModuleType, builder: str, size: int, batch: int
) -> None:
    """At a batch above 1 what runs once per forward (Swin V2's bias MLP on its buffer of
    relative coordinates) counts once, as FlopCounterMode counts it: in every format."""
    import json

    from torch.utils.flop_counter import FlopCounterMode

    from tests.conftest import run

    with torch.device("meta"):
        model = torchvision.models.get_model(builder, weights=None).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.empty(batch, 3, size, size, device="meta"))
    truth = counter.get_total_flops() // 2
    args = ["model", f"torchvision/{builder}", "-r", str(size), "--batch-size", str(batch)]
    record = json.loads(run(*args, "--json").stdout)
    assert record["macs"] == truth
    assert sum(layer["macs"] for layer in record["layers"]) == truth
    assert json.loads(run(*args, "--count-as", "flop_counter", "--json").stdout)["total"] == truth
