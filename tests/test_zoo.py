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
    return cases


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
    for row in case["layers"]:
        name, cls, shape, params = row[:4]
        own_buffers = row[4] if torch else 0
        if not params and not own_buffers:
            continue
        assert name in ours, f"{cls} {name!r} ({params} params) is missing"
        layer = ours[name]
        assert (layer.params, layer.buffers if torch else 0) == (params, own_buffers), name
        if shape is not None:
            assert list(report.output_shape(layer.output)) == list(shape), name
        if torch and row[5] is not None:
            assert layer.macs == row[5], name


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
        if not any(case["variant"].get(k) for k in ("width_multiplier", "resolution", "options"))
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
