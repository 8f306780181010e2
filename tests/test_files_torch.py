"""ONNX, torch.export and weight files against the truth captured from PyTorch.

tests/files/capture_torch.py exported torchvision families and hand-written
models to ``.pt2``, dynamo ONNX and legacy ONNX (weights stripped) and wrote
``tests/files/torch.json``: PyTorch's parameters, buffers and FlopCounterMode
MACs with one row per module, and, for each ONNX file, what the ``onnx``
package finds in it (parameter values, every node output's shape). Each
figure and each layer is compared here.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import struct
import sys
import zipfile
from collections import defaultdict
from math import prod
from pathlib import Path
from typing import Any

import pytest

from convcount.errors import ConvcountError
from convcount.model import load_file
from convcount.model.files.onnx import Engine
from convcount.model.files.onnx_proto import decode_model
from convcount.model.graph import ModelReport
from convcount.summary import model_from_csv
from tests.conftest import run

FILES = Path(__file__).parent / "files"
TRUTH = json.loads((FILES / "torch.json").read_text())
CASES = {case["name"]: case for case in TRUTH["cases"]}
WEIGHTED = ("conv", "depthwise", "transpose", "dense")


def _shape(report: ModelReport, layer: Any) -> list[int]:
    return list(report.output_shape(layer.output))


def _by_module(report: ModelReport) -> dict[str, list[Any]]:
    """Rows grouped by module: ``name`` and its repeats ``name_1``, ``name_2``..."""
    names = {layer.name for layer in report.layers}
    groups: dict[str, list[Any]] = defaultdict(list)
    for layer in report.layers:
        base = re.sub(r"_\d+$", "", layer.name)
        groups[base if base in names else layer.name].append(layer)
    return groups


# -- torch.export ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_pt2_totals_and_layers(name: str) -> None:
    case = CASES[name]
    report = load_file(FILES / "torch" / f"{name}.pt2")
    assert report.total_params == case["total_params"]
    assert report.trainable_params == case["trainable_params"]
    assert report.buffers == case["buffers"]
    assert report.macs == case["macs"]
    assert report.macs_exact
    assert _shape(report, report.layers[-1]) == case["output_shape"]
    assert list(report.output_shape(report.input)) == case["input_shape"][1:]
    groups = _by_module(report)
    checked = 0
    for module, _cls, shape, params, buffers, macs in case["layers"]:
        if not (params or buffers or macs):
            continue
        rows = groups[module]
        assert sum(r.params for r in rows) == params, module
        assert sum(r.buffers for r in rows) == buffers, module
        if macs is not None:
            assert sum(r.macs for r in rows) == macs, module
        weighted = [r for r in rows if r.kind in WEIGHTED]
        if weighted and shape is not None:
            assert _shape(report, weighted[0]) == shape, module
        checked += 1
    assert checked >= 3


# -- ONNX --------------------------------------------------------------------

ONNX_CASES = sorted(
    (name, variant) for name, case in CASES.items() for variant in case.get("onnx", {})
)


def _onnx_path(name: str, variant: str) -> Path:
    exporter, _, dynamic = variant.partition("_")
    return FILES / "torch" / f"{name}{'_dynamic' if dynamic else ''}.{exporter}.onnx"


@pytest.mark.parametrize(("name", "variant"), ONNX_CASES)
def test_onnx_totals(name: str, variant: str) -> None:
    case = CASES[name]
    truth = case["onnx"][variant]
    size = "x".join(map(str, case["input_shape"][2:]))
    report = load_file(_onnx_path(name, variant), resolution=size if "dynamic" in variant else None)
    assert report.trainable_params + report.buffers == truth["params"]
    assert report.macs == case["macs"]
    assert report.macs_exact
    assert _shape(report, report.layers[-1]) == case["output_shape"]
    # Folding BatchNorm only ever removes values.
    assert report.total_params <= case["total_params"]


@pytest.mark.parametrize(("name", "variant"), ONNX_CASES)
def test_onnx_shapes_inferred_node_by_node(name: str, variant: str) -> None:
    """Every node output's inferred shape (the file's records ignored) against onnx's."""
    case = CASES[name]
    truth = case["onnx"][variant]
    graph = decode_model(_onnx_path(name, variant).read_bytes())
    engine = Engine(graph, "test", trust_file=False)
    first = next(v for v in graph.inputs if v.name not in graph.initializers)
    engine.shapes[first.name] = tuple(case["input_shape"])
    engine.producer[first.name] = "input"
    engine.run()
    compared = 0
    for value, shape in truth["shapes"].items():
        if all(isinstance(d, int) for d in shape) and "dynamic" not in variant:
            assert engine.shapes.get(value) == tuple(shape), value
            compared += 1
    assert compared > 0 or "dynamic" in variant


@pytest.mark.parametrize(("name", "variant"), ONNX_CASES)
def test_onnx_weighted_layers_match_the_modules(name: str, variant: str) -> None:
    """Each convolution and dense layer has its module's MACs and output shape."""
    case = CASES[name]
    size = "x".join(map(str, case["input_shape"][2:]))
    report = load_file(_onnx_path(name, variant), resolution=size if "dynamic" in variant else None)
    modules = {row[0]: row for row in case["layers"]}
    matched = 0
    for layer in report.layers:
        row = modules.get(layer.name)
        if layer.kind in ("conv", "depthwise", "transpose") and row is not None:
            assert layer.macs == row[5], layer.name
            assert _shape(report, layer) == row[2], layer.name
            matched += 1
    convs = [r for r in case["layers"] if r[1].startswith("Conv") and r[5] is not None]
    assert matched == len(convs)


def test_onnx_open_sizes_ask_for_resolution() -> None:
    path = _onnx_path("resnet18", "dynamo_dynamic")
    with pytest.raises(ConvcountError, match="-r/--resolution"):
        load_file(path)
    result = run("model", str(path))
    assert result.exit_code == 2
    assert "--resolution" in result.stderr
    assert result.stdout == ""


def test_onnx_open_sizes_at_other_resolutions() -> None:
    """A dynamic export counts at any -r; the MACs scale like the fixed model's."""
    dynamo = load_file(_onnx_path("resnet18", "dynamo_dynamic"), resolution="64")
    legacy = load_file(_onnx_path("resnet18", "legacy_dynamic"), resolution="64")
    assert dynamo.macs == legacy.macs == CASES["resnet18"]["macs"]
    big = load_file(_onnx_path("resnet18", "legacy_dynamic"), resolution="224")
    zoo = json.loads((FILES.parent / "zoo" / "torchvision.json").read_text())
    at_224 = next(c for c in zoo["cases"] if c["name"] == "torchvision/resnet18")
    assert big.macs == at_224["macs"]


def test_onnx_fixed_sizes_refuse_resolution() -> None:
    with pytest.raises(ConvcountError, match="fixes its input size"):
        load_file(_onnx_path("resnet18", "dynamo"), resolution="224")


def test_onnx_notes_folded_batchnorm() -> None:
    result = run("model", str(_onnx_path("resnet18", "legacy")))
    assert result.exit_code == 0
    assert "fold" in result.stdout


# -- weight files ------------------------------------------------------------


def _state_dict_zip(path: Path, pickle_bytes: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model/data.pkl", pickle_bytes)
        archive.writestr("model/byteorder", "little")
    return path


@pytest.mark.parametrize("path", sorted((FILES / "torch").glob("*.pth")), ids=lambda p: p.stem)
def test_state_dicts_saved_by_torch(path: Path) -> None:
    """torch.save's own state dicts (storages stripped): every value, by module, MACs unknown."""
    case = CASES[path.stem]
    report = load_file(path)
    assert report.total_params + report.buffers == case["total_params"] + case["buffers"]
    assert report.buffers == case["buffers"]  # BatchNorm's running statistics and counter
    assert not report.macs_exact
    owners = {row[0]: row[3] + row[4] for row in case["layers"] if row[3] or row[4]}
    # one row per tensor, named by its key; rolled up by module prefix they are the modules
    by_module: dict[str, int] = {}
    for layer in report.layers:
        module = layer.name.rpartition(".")[0]
        by_module[module] = by_module.get(module, 0) + layer.params + layer.buffers
        assert layer.config is not None and prod(layer.config["shape"]) == (
            layer.params + layer.buffers
        )
    assert by_module == owners
    record = json.loads(run("model", str(path), "--json").stdout)
    rows = list(csv.DictReader(io.StringIO(run("model", str(path), "--format", "csv").stdout)))
    assert model_from_csv(rows) == record
    rolled = json.loads(run("model", str(path), "--depth", "1", "--json").stdout)
    assert sum(row["params"] + row["buffers"] for row in rolled["layers"]) == sum(owners.values())


def test_safetensors_counts_its_header(tmp_path: Path) -> None:
    header = {
        "conv.weight": {"dtype": "F32", "shape": [8, 3, 3, 3], "data_offsets": [0, 864]},
        "conv.bias": {"dtype": "F32", "shape": [8], "data_offsets": [864, 896]},
        "bn.running_mean": {"dtype": "F32", "shape": [8], "data_offsets": [896, 928]},
        "__metadata__": {"format": "pt"},
    }
    raw = json.dumps(header).encode()
    path = tmp_path / "m.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(928))
    report = load_file(path)
    assert report.total_params == 8 * 27 + 8
    assert report.buffers == 8
    assert [layer.name for layer in report.layers] == [
        "conv.weight",
        "conv.bias",
        "bn.running_mean",
    ]
    assert [layer.config for layer in report.layers] == [
        {"shape": (8, 3, 3, 3)},
        {"shape": (8,)},
        {"shape": (8,)},
    ]
    assert not report.macs_exact


def test_state_dict_pickles_refuse_any_other_global(tmp_path: Path) -> None:
    evil = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00echoq\x01\x85q\x02Rq\x03."
    path = _state_dict_zip(tmp_path / "evil.pth", evil)
    result = run("model", str(path))
    assert result.exit_code == 2
    assert "os.system" in result.stderr
    assert "torch.export" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# -- ONNX made by hand: ops convcount does not know ----------------------------


def _encoder() -> Any:
    """benchmarks/onnx_files.py's protobuf encoder (no onnx package needed)."""
    benchmarks = FILES.parent.parent / "benchmarks"
    if str(benchmarks) not in sys.path:  # the script imports its neighbour, timing.py
        sys.path.insert(0, str(benchmarks))
    spec = importlib.util.spec_from_file_location("onnx_files", benchmarks / "onnx_files.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_onnx_unknown_op_keeps_its_parameters(tmp_path: Path) -> None:
    pb = _encoder()
    pads = pb._len(5, pb._ints_attribute("pads", [1, 1, 1, 1]))
    custom = pb._node("MyScale", ["c", "custom.scale"], "s") + pb._len(7, b"my")
    trans_b = pb._len(5, pb._len(1, b"transB") + pb._int(3, 1) + pb._int(20, 2))
    nodes = [
        pb._node("Conv", ["x", "conv.weight"], "c", pads),
        custom,
        pb._node("GlobalAveragePool", ["s"], "p"),
        pb._node("Flatten", ["p"], "f"),
        pb._node("Gemm", ["f", "fc.weight"], "y", trans_b),
    ]
    dims = {"conv.weight": [8, 3, 3, 3], "custom.scale": [8], "fc.weight": [10, 8]}
    graph = (
        b"".join(pb._len(1, n) for n in nodes)
        + b"".join(pb._len(5, pb._tensor(name, d)) for name, d in dims.items())
        + pb._len(11, pb._value("x", [1, 3, 16, 16]))
        + pb._len(13, pb._value("s", [1, 8, 16, 16]))
    )
    path = tmp_path / "custom.onnx"
    path.write_bytes(pb._int(1, 8) + pb._len(7, graph) + pb._len(8, pb._int(2, 17)))

    report = load_file(path)
    assert report.total_params == sum(prod(d) for d in dims.values())
    assert not report.macs_exact
    assert report.uncounted == {"MyScale": 1}
    # node /s/MyScale is the op of module s; conv.weight makes its node conv
    assert [layer.name for layer in report.layers] == ["conv", "s", "p", "f", "fc"]
    assert list(report.output_shape(report.layers[1].output)) == [8, 16, 16]  # as recorded
    result = run("model", str(path), "--strict")
    assert result.exit_code == 2
    assert "MyScale" in result.stderr
