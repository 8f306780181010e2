"""``--count-as`` on torch.export ``.pt2`` files against what each tool printed for the
module that was exported (``pt2.json``, written by ``capture_pt2_tools.py`` with the
files in ``pt2/``): totals, parameters, torchinfo's memory and printed lines, and per
module where the tool gives per-module figures."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from convcount.model import load_model
from convcount.model.tools import count_as

HERE = Path(__file__).resolve().parent
TRUTH = json.loads((HERE / "pt2.json").read_text())


def by_module(report: Any, tool: str) -> dict[str, int]:
    """A tool's per-layer figures summed per module path (the file's ops of one module)."""
    sums: dict[str, int] = defaultdict(int)
    for layer, figure in zip(report.layers, count_as(report, tool).layers, strict=True):
        if figure.figure and layer.origin is not None:
            sums[layer.origin["module"]] += figure.figure
    return dict(sums)


def check(report: Any, record: dict[str, Any]) -> None:
    """Every figure convcount reproduces for ``report`` equals the tool's in ``record``."""
    assert count_as(report, "flop_counter").total == record["flop_counter"]["macs"]

    info, want = count_as(report, "torchinfo"), record["torchinfo"]
    assert info.total == want["total_mult_adds"]
    assert info.params == want["total_params"]
    assert info.memory == {
        "input_bytes": want["input_bytes"],
        "forward_backward_bytes": want["forward_backward_bytes"],
        "param_bytes": want["param_bytes"],
        "total_bytes": want["input_bytes"] + want["forward_backward_bytes"] + want["param_bytes"],
    }
    assert {k: v for k, v in info.printed.items() if k in want["printed"]} == want["printed"]
    assert len(want["printed"]) == 8  # 3 params, mult-adds, 4 memory lines
    # per leaf module: torchinfo's rows, a module called twice summed
    leaves: dict[str, int] = defaultdict(int)
    for name, _cls, _shape, _params, macs, _recursive in want["layers"]:
        if macs:
            leaves[name] += macs
    assert by_module(report, "torchinfo") == dict(leaves)

    fvcore = count_as(report, "fvcore")
    assert fvcore.total == record["fvcore"]["total"]
    # fvcore's per leaf module figures: ops inside a leaf module are that module's
    mine = by_module(report, "fvcore")
    for name, flops in record["fvcore"]["by_leaf_module"].items():
        assert mine.get(name, 0) == flops, name

    aten = count_as(report, "ptflops")
    assert (aten.total, aten.params) == (
        record["ptflops_aten"]["macs"],
        record["ptflops_aten"]["params"],
    )
    pytorch = count_as(report, "ptflops-pytorch")
    assert (pytorch.total, pytorch.params) == (
        record["ptflops_pytorch"]["macs"],
        record["ptflops_pytorch"]["params"],
    )

    thop = count_as(report, "thop")
    assert (thop.total, thop.params) == (record["thop"]["macs"], record["thop"]["params"])
    assert thop.printed == {
        "MACs": repr(float(record["thop"]["macs"])),
        "params": repr(float(record["thop"]["params"])),
    }
    assert by_module(report, "thop") == record["thop"]["by_leaf_module"]


@pytest.mark.parametrize("case", sorted(TRUTH["cases"]))
def test_pt2_tools(case: str) -> None:
    report = load_model(str(HERE / "pt2" / f"{case}.pt2"))
    check(report, TRUTH["cases"][case])


def test_cases_cover_the_networks_asked_for() -> None:
    """torchvision's families and the hand-built networks are all captured."""
    assert len(TRUTH["cases"]) >= 12
    assert {"hand_functional", "hand_nested", "hand_signal", "hand_attention"} <= set(
        TRUTH["cases"]
    )


def test_default_figures_unchanged_by_module_reading() -> None:
    """The modules read for --count-as change nothing convcount prints by default:
    every op stays a layer with its own parameters and MACs."""
    report = load_model(str(HERE / "pt2" / "hand_functional.pt2"))
    record = TRUTH["cases"]["hand_functional"]
    assert report.total_params == record["params"]
    assert sum(layer.macs or 0 for layer in report.layers) == record["flop_counter"]["macs"]
    assert [layer.name for layer in report.layers][:4] == ["conv", "relu", "branch", "relu_1"]


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (HERE.parent / "files" / "torch").glob("*.pt2"))
)
def test_every_torch_fixture_is_counted_by_every_tool(name: str) -> None:
    """The reader's own fixtures (tests/files/torch): no PyTorch counter refuses a layer,
    and the default figures stay FlopCounterMode's."""
    from tests.conftest import run

    path = str(HERE.parent / "files" / "torch" / f"{name}.pt2")
    result = run("model", path, "--count-as", "all", "--json")
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    # onnx-tool counts ONNX files only
    assert [entry["tool"] for entry in printed["left_out"]] == ["onnx-tool"]
    tools = {entry["tool"]: entry for entry in printed["tools"]}
    assert tools["flop_counter"]["total"] == printed["macs"]


def test_an_op_without_its_module_is_refused_by_name(tmp_path: Path) -> None:
    """A file whose ops carry no nn_module_stack or torch_fn (metadata stripped): the
    tools that need them refuse, naming the layer; fvcore and ptflops-aten count."""
    import zipfile

    from convcount.errors import ConvcountError

    source = HERE / "pt2" / "hand_nested.pt2"
    path = tmp_path / "bare.pt2"
    with zipfile.ZipFile(source) as full, zipfile.ZipFile(path, "w") as out:
        for info in full.infolist():
            data = full.read(info)
            if info.filename.endswith("models/model.json"):
                document = json.loads(data)
                for node in document["graph_module"]["graph"]["nodes"]:
                    node["metadata"] = {}
                data = json.dumps(document).encode()
            out.writestr(info.filename, data)
    report = load_model(str(path))
    record = TRUTH["cases"]["hand_nested"]
    assert count_as(report, "fvcore").total == record["fvcore"]["total"]
    assert count_as(report, "ptflops").total == record["ptflops_aten"]["macs"]
    for tool in ("torchinfo", "thop", "ptflops-pytorch"):
        with pytest.raises(ConvcountError, match=r"layer '[^']+'"):
            count_as(report, tool)


def test_a_product_without_its_source_line_is_refused_by_ptflops_pytorch(
    tmp_path: Path,
) -> None:
    """Without stack traces, x.matmul(y) (ptflops-pytorch counts it) and x @ y (it does
    not) are one op: ptflops-pytorch refuses, naming the layer; every other tool counts."""
    import zipfile

    from convcount.errors import ConvcountError

    path = tmp_path / "traceless.pt2"
    with (
        zipfile.ZipFile(HERE / "pt2" / "hand_methods.pt2") as full,
        zipfile.ZipFile(path, "w") as out,
    ):
        for info in full.infolist():
            data = full.read(info)
            if info.filename.endswith("models/model.json"):
                document = json.loads(data)
                for node in document["graph_module"]["graph"]["nodes"]:
                    node.get("metadata", {}).pop("stack_trace", None)
                data = json.dumps(document).encode()
            out.writestr(info.filename, data)
    report = load_model(str(path))
    with pytest.raises(ConvcountError, match=r"layer 'matmul'.*x @ y"):
        count_as(report, "ptflops-pytorch")
    record = TRUTH["cases"]["hand_methods"]
    assert count_as(report, "thop").total == record["thop"]["macs"]
    assert count_as(report, "torchinfo").total == record["torchinfo"]["total_mult_adds"]
