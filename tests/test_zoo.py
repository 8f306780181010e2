"""Every shipped network against the figures captured from the real frameworks.

tests/zoo/keras.json and tests/zoo/torchvision.json are written by the capture
scripts beside them (run by hand against Keras 3.15.1 and torchvision 0.29.1
on torch 2.13.0). Every captured case (defaults, other resolutions, widths,
options) is rebuilt here and compared in total (parameters, trainable,
non-trainable or buffers, MACs) and layer by layer: every framework layer
that owns parameters must be one of ours with the same name, parameters,
output shape and (for PyTorch) buffers and MACs.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from convcount.model import load_model
from convcount.model.graph import ModelReport
from convcount.model.zoo import FAMILIES, ZOO, build_zoo, family

ZOO_DIR = Path(__file__).parent / "zoo"


@cache
def captured(framework: str) -> list[dict[str, Any]]:
    data = json.loads((ZOO_DIR / f"{framework}.json").read_text())
    cases: list[dict[str, Any]] = data.get("cases") or data["models"]
    return cases + data.get("transformer_cases", [])


def _id(case: dict[str, Any]) -> str:
    variant = case["variant"]
    parts = [case["name"]]
    if variant.get("width_multiplier"):
        parts.append(f"a{variant['width_multiplier']}")
    if variant.get("resolution"):
        parts.append(f"r{variant['resolution']}")
    parts += [f"{k}={v}" for k, v in sorted((variant.get("options") or {}).items())]
    return ",".join(str(p).replace(" ", "") for p in parts)


def model_name(case: dict[str, Any]) -> str:
    """The shipped name of a captured case (its name may carry the variant after @ or [)."""
    if case.get("callable") == "torchvision.models.MNASNet":
        return "torchvision/mnasnet1_0"  # the class with another alpha: the width multiplier
    name: str = case["name"]
    return name.split("@", 1)[0].split("[", 1)[0]


def build(case: dict[str, Any]) -> ModelReport:
    variant = case["variant"]
    resolution = variant.get("resolution")
    if isinstance(resolution, int):
        resolution = (resolution, resolution)
    elif resolution is not None:
        resolution = tuple(resolution)
    options = {k: "none" if v is None else v for k, v in (variant.get("options") or {}).items()}
    width = variant.get("width_multiplier")
    return build_zoo(
        model_name(case),
        width_multiplier=None if width is None else str(width),
        resolution=resolution,
        options=options,
    )


def _check(case: dict[str, Any], torch: bool) -> None:
    report = build(case)
    assert report.total_params == case["total_params"]
    assert report.trainable_params == case["trainable_params"]
    if torch:
        assert report.non_trainable_params == 0
        assert report.buffers == case["buffers"]
    else:
        assert report.non_trainable_params == case["non_trainable_params"]
    assert report.macs == case["macs"]
    assert list(report.output_shape(report.output)) == case["output_shape"]
    ours = {layer.name: layer for layer in report.layers}
    rows = _fold_into_composites(case["layers"], ours) if torch else case["layers"]
    for row in rows:
        name, cls, shape, params = row[:4]
        own_buffers = row[4] if torch else 0
        if not params and not own_buffers:
            continue
        if name == "" and cls in ROOT_PARAMETERS:
            # Parameters of the model itself (ViT's class token): a layer named after them.
            name, shape = ROOT_PARAMETERS[cls], None
        if cls == "Sequential":
            # Keras's ConvNeXt nests its stem and downsampling pairs in a Sequential
            # listed as one layer; their inner layers are ours, checked in the totals.
            continue
        assert name in ours, f"{cls} {name!r} ({params} params) is missing"
        layer = ours[name]
        assert (layer.params, layer.buffers if torch else 0) == (params, own_buffers), name
        if shape is not None:
            assert list(report.output_shape(layer.output)) == list(shape), name
        if torch and row[5] is not None:
            assert layer.macs == row[5], name


#: Attention kinds hold the projections torchvision's attention modules call through
#: their weights (nn.MultiheadAttention's out_proj, Swin's qkv and proj): those
#: modules never run, so they are no layers of their own.
COMPOSITE_KINDS = frozenset({"attention", "window_attention"})


#: The layer that holds a model's own parameters (torchvision's root module has no name).
ROOT_PARAMETERS = {"VisionTransformer": "class_token"}


def _fold_into_composites(rows: list[list[Any]], ours: dict[str, Any]) -> list[list[Any]]:
    """Captured rows with each never-run module's parameters summed into its attention.

    A module that never runs (no shape, no MACs of its own: its weights are used
    by its parent) and is no layer of ours belongs to the nearest enclosing
    layer of ours of an attention kind, whose row then holds both.
    """
    composite = {n for n, layer in ours.items() if layer.kind in COMPOSITE_KINDS}
    totals = {row[0]: list(row) for row in rows if row[0] in composite}
    kept: list[list[Any]] = []
    for row in rows:
        name = row[0]
        if name in totals:
            continue
        parts = name.split(".")
        owner = next(
            (
                ".".join(parts[:i])
                for i in range(len(parts) - 1, 0, -1)
                if ".".join(parts[:i]) in totals
            ),
            None,
        )
        if name in ours or owner is None or row[2] is not None or row[5] is not None:
            kept.append(row)
            continue
        totals[owner][3] += row[3]
        totals[owner][4] += row[4]
    return kept + list(totals.values())


@pytest.mark.parametrize(
    "case", captured("keras") if (ZOO_DIR / "keras.json").exists() else [], ids=_id
)
def test_keras_applications(case: dict[str, Any]) -> None:
    _check(case, torch=False)


@pytest.mark.parametrize("case", captured("torchvision"), ids=_id)
def test_torchvision(case: dict[str, Any]) -> None:
    _check(case, torch=True)


def test_every_shipped_model_has_a_captured_default() -> None:
    defaults = {
        model_name(case)
        for framework in ("keras", "torchvision")
        for case in captured(framework)
        if case.get("kind") == "default"  # torchvision's, aux_logits set as its weights have it
        or not any(case["variant"].get(k) for k in ("width_multiplier", "resolution", "options"))
    }
    missing = sorted(set(ZOO) - defaults)
    assert not missing, f"no captured default for {missing}"


@pytest.mark.parametrize("module", sorted(FAMILIES))
def test_family_index_matches_the_modules(module: str) -> None:
    assert tuple(family(module).MODELS) == FAMILIES[module]


def test_torchvision_published_num_params_and_gflops() -> None:
    for case in captured("torchvision"):
        if case.get("num_params_meta") is None:
            continue
        report = build(case)
        assert report.total_params == case["num_params_meta"], case["name"]
        assert round(report.macs / 1e9, 3) == pytest.approx(case["ops_meta"]), case["name"]


def test_old_names_are_aliases() -> None:
    assert load_model("mobilenet-v1").total_params == 4_253_864
    assert load_model("MobileNet-V2").total_params == 3_538_984
    assert load_model("xception").trainable_params == 22_855_952
