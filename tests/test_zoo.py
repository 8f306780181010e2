"""Every shipped network against the figures captured from the real frameworks.

tests/zoo/keras.json and tests/zoo/torchvision.json are written by the capture
scripts beside them (run by hand against Keras 3.15.1 and torchvision 0.29.1
on torch 2.13.0). Every captured case (defaults, other resolutions, widths,
options) is rebuilt here and compared in total (parameters, trainable,
non-trainable or buffers, MACs, output shape) and layer by layer, zero-parameter
layers included:

* Keras: the rows of ``model.summary()`` (``model._operations``: every layer, and
  the ops Keras applies to tensors, such as ConvNeXt's ``inputs + x``; a nested
  Sequential counts as its layers) are convcount's layers one for one: the same
  names (Keras's automatic names as a fresh session gives them), a kind that
  counts as the Keras class, the same output shape, parameters and trainable
  parameters. Keras lists them by depth from the output, convcount in the order
  it builds them, so the order is not compared.
* torchvision: every leaf module and every module owning parameters is a layer
  of the same name, kind, output shape, parameters, buffers and MACs; the leaf
  modules in the order of the forward pass. A module called more than once (ResNet's ``relu``)
  is one layer per call: ``name``, then ``name#2``, ``name#3`` with each call's
  shape. Every other layer is a functional op of some module's ``forward``
  (``torch.flatten``, ``+``, ``torch.cat``, ``F.relu``...), named
  ``<module>.<op>`` (``layer1.0.add``, ``Mixed_5b.avg_pool2d``; ``flatten`` at the
  top), never a module's own name, and owns no parameters and no MACs.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from convcount.errors import ConvcountError
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


#: Each framework class and the kinds convcount may count it as.
KERAS_KINDS: dict[str, set[str]] = {
    "Conv2D": {"conv"},
    "DepthwiseConv2D": {"depthwise"},
    "SeparableConv2D": {"separable"},
    "Dense": {"dense"},
    "BatchNormalization": {"batchnorm"},
    "LayerNormalization": {"layer_norm"},
    "LayerScale": {"layer_scale"},
    "Normalization": {"normalization"},
    "Rescaling": {"rescaling"},
    "Activation": {"activation", "identity"},  # Activation("linear") is ConvNeXt's identity
    "ReLU": {"activation"},
    "Dropout": {"dropout"},
    "ZeroPadding2D": {"zero_padding"},
    "Cropping2D": {"cropping"},
    "MaxPooling2D": {"max_pool"},
    "AveragePooling2D": {"avg_pool"},
    "GlobalAveragePooling2D": {"global_avg_pool"},
    "GlobalMaxPooling2D": {"global_max_pool"},
    "Flatten": {"flatten"},
    "Reshape": {"reshape"},
    "Add": {"add"},
    "Multiply": {"multiply"},
    "Concatenate": {"concat"},
    "CustomScaleLayer": {"add"},  # InceptionResNetV2's x + scale * up
    "ops.Add": {"add", "rescaling"},  # a + b, or x + 3.0 (MobileNetV3's hard_sigmoid)
    "ops.Multiply": {"multiply", "rescaling"},
}
TORCH_KINDS: dict[str, set[str]] = {
    "Conv2d": {"conv", "depthwise", "pointwise"},
    "Linear": {"dense"},
    "BatchNorm2d": {"batchnorm"},
    "LayerNorm": {"layer_norm"},
    "LayerNorm2d": {"layer_norm"},
    "CNBlock": {"layer_scale"},  # owns ConvNeXt's layer_scale parameter
    **{
        name: {"activation"}
        for name in ("ReLU", "ReLU6", "SiLU", "GELU", "Sigmoid", "Hardswish", "Hardsigmoid")
    },
    "Dropout": {"dropout"},
    "StochasticDepth": {"stochastic_depth"},
    "MaxPool2d": {"max_pool"},
    "AvgPool2d": {"avg_pool"},
    "AdaptiveAvgPool2d": {"adaptive_avg_pool"},
    "Flatten": {"flatten"},
    "Permute": {"permute"},
}
#: Kinds a functional op of a torchvision forward may be.
TORCH_FUNCTIONAL = {
    "add",
    "multiply",
    "concat",
    "split",
    "channel_shuffle",
    "flatten",
    "activation",
    "max_pool",
    "avg_pool",
    "adaptive_avg_pool",
    "global_avg_pool",
}


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
    if not torch:
        _check_keras_layers(case, report)
    elif case["family"] in TRANSFORMER_FAMILIES:
        _check_transformer_layers(case, report)
    else:
        _check_torch_layers(case, report)


def _shape(report: ModelReport, layer: Any) -> list[int]:
    return list(report.output_shape(layer.output))


def _check_keras_layers(case: dict[str, Any], report: ModelReport) -> None:
    rows: list[list[Any]] = []
    for row in case["layers"]:
        if row[1] == "InputLayer":
            continue  # convcount's input is no layer
        if row[1] == "Sequential":  # ConvNeXt's stem and downsampling blocks
            rows += row[5]
            continue
        rows.append(row)
    ours = {layer.name: layer for layer in report.layers}
    names = [row[0] for row in rows]
    extra = sorted(set(ours) - set(names))
    missing = [name for name in names if name not in ours]
    assert not missing and not extra, f"missing {missing[:5]}, not in Keras {extra[:5]}"
    assert len(names) == len(ours)
    for name, cls, shape, params, trainable in (row[:5] for row in rows):
        layer = ours[name]
        assert layer.kind in KERAS_KINDS[cls], (name, cls, layer.kind)
        assert _shape(report, layer) == shape, name
        assert (layer.params, layer.trainable) == (params, trainable), name


def _containers(names: set[str]) -> set[str]:
    """Every module path above a captured module: ``layer1``, ``layer1.0``..."""
    paths = set()
    for name in names:
        parts = name.split(".")
        paths.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return paths


def _check_torch_layers(case: dict[str, Any], report: ModelReport) -> None:
    rows = case["layers"]
    modules = {row[0] for row in rows}
    containers = _containers(modules)
    calls: dict[str, list[list[int]]] = case["multi_call"]
    ours = {layer.name: layer for layer in report.layers}
    for name, cls, shape, params, buffers, macs in rows:
        layer = ours.get(name)
        if shape is None and not (params or buffers):
            continue  # never runs and owns nothing (an unused Identity-like module)
        assert layer is not None, f"{cls} {name!r} is missing"
        assert layer.kind in TORCH_KINDS[cls], (name, cls, layer.kind)
        assert (layer.params, layer.buffers) == (params, buffers), name
        if shape is not None:  # it runs (auxiliary heads do not, in eval)
            assert _shape(report, layer) == shape, name
            assert layer.macs == macs, name
    for layer in report.layers:
        if layer.name in modules:
            continue
        module, repeat, number = layer.name.partition("#")
        if repeat:  # a later call of a module that runs more than once
            assert module in calls and 2 <= int(number) <= len(calls[module]), layer.name
            assert _shape(report, layer) == calls[module][int(number) - 1], layer.name
            assert layer.kind == ours[module].kind, layer.name
            continue
        parent = layer.name.rpartition(".")[0]
        assert layer.name not in containers, f"{layer.name!r} takes a module's name"
        assert parent == "" or parent in modules | containers, f"{layer.name!r}: no module {parent}"
        assert layer.kind in TORCH_FUNCTIONAL, (layer.name, layer.kind)
        assert layer.params == layer.buffers == layer.macs == 0, layer.name
    for module, shapes in calls.items():
        if module in modules:
            for number in range(2, len(shapes) + 1):
                assert f"{module}#{number}" in ours, f"call {number} of {module!r} is missing"
    # Leaf modules in the order they run (a module owning parameters around others,
    # ConvNeXt's CNBlock, finishes after them: its place is not compared).
    ran = [row[0] for row in rows if row[2] is not None and row[0] not in containers]
    order = [layer.name for layer in report.layers if layer.name in set(ran)]
    assert order == ran, "not in the forward's order"


#: The transformer builders (tests/zoo's ``transformer_cases``): every layer owning
#: parameters is compared, the zero-parameter ones are not (yet).
TRANSFORMER_FAMILIES = frozenset({"vit", "swin", "maxvit"})


def _check_transformer_layers(case: dict[str, Any], report: ModelReport) -> None:
    ours = {layer.name: layer for layer in report.layers}
    for row in _fold_into_composites(case["layers"], ours):
        name, cls, shape, params, own_buffers = row[:5]
        if not params and not own_buffers:
            continue
        if name == "" and cls in ROOT_PARAMETERS:
            # Parameters of the model itself (ViT's class token): a layer named after them.
            name, shape = ROOT_PARAMETERS[cls], None
        assert name in ours, f"{cls} {name!r} ({params} params) is missing"
        layer = ours[name]
        assert (layer.params, layer.buffers) == (params, own_buffers), name
        if shape is not None:
            assert list(report.output_shape(layer.output)) == list(shape), name
        if row[5] is not None:
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


def test_keras_minimum_sizes() -> None:
    """Every constructor one pixel below its minimum: Keras refuses, and so does convcount."""
    refused = json.loads((ZOO_DIR / "keras.json").read_text())["rejected"]
    below = [case for case in refused if "Input size must be at least" in case["error"]]
    assert {model_name(case) for case in below} == {n for n in ZOO if n.startswith("keras/")}
    for case in below:
        smallest = case["error"].split("at least ", 1)[1].split(";", 1)[0]
        with pytest.raises(ConvcountError, match=f"needs at least {smallest}"):
            build(case)
    assert len(below) == len(refused), "Keras refused a case for another reason"


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
