"""Other tools' figures, reproduced: against what each tool printed (tools.json) and live.

``tools.json`` and ``windowed.json`` are written by ``capture_tools.py`` (run by hand
with torchvision); the live tests run torchinfo, fvcore and ptflops again in CI on
the hand-built networks of ``nets.py``.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest

from convcount.model import load_model
from convcount.model.tools import (
    _ptflops_pytorch_layer,
    _rows,
    _thop_layer,
    count_as,
    peak_activation,
    torch_call,
)
from tests.tools.layer_cases import torchinfo_memory
from tests.tools.nets import NETS, TORCHVISION_NETS

HERE = Path(__file__).resolve().parent

TRUTH = json.loads((HERE / "tools.json").read_text())
#: Swin, MaxViT and a hand-built network of their modules, in a file of their own
WINDOWED = json.loads((HERE / "windowed.json").read_text())
assert WINDOWED["versions"] == TRUTH["versions"]
CASES = {**TRUTH["cases"], **WINDOWED["cases"]}


def report_of(case: str, tmp_path: Path) -> Any:
    if case.startswith("net/"):
        # net/windowed@batch2: the same network at batch 2
        name = case[4:].split("@", maxsplit=1)[0]
        path = tmp_path / f"{name}.toml"
        path.write_text({**NETS, **TORCHVISION_NETS}[name].toml)
        return load_model(str(path))
    builder, size = case.split("@")
    # torchvision's builders as the capture called them (weights=None): googlenet then
    # keeps its auxiliary heads, which convcount adds on request
    options = {"aux_logits": "true"} if builder == "torchvision/googlenet" else None
    return load_model(builder, resolution=size, options=options)


#: Cases whose FlopCounterMode, fvcore and ptflops-aten figures are not reproduced:
#: under torch.no_grad() in eval, nn.MultiheadAttention runs its fused fast path,
#: which those three see differently from convcount's model of it (their figures are
#: in tools.json). torchinfo, thop and ptflops-pytorch are reproduced.
FAST_PATH = {"torchvision/vit_b_32@224"}
#: Cases captured with every tool's totals only: deeper and wider stacks of the modules
#: of cases captured per layer (swin_t, swin_v2_t).
TOTALS_ONLY = {name for name, record in CASES.items() if "layers" not in record["torchinfo"]}


def _to_rows(report: Any, names: Any) -> dict[str, str]:
    """Each of a tool's module names, as the layer that holds it: the same name, or the
    longest layer name it extends (a module of several parts folded into one layer:
    ``merge.norm`` is in ``merge``)."""
    modules = {layer.name.split("#")[0] for layer in report.layers}
    found = {}
    for name in names:
        parts = name.split(".")
        found[name] = next(
            (p for n in range(len(parts), 0, -1) if (p := ".".join(parts[:n])) in modules), name
        )
    return found


def _sum_by_row(report: Any, figures: dict[str, Any]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for name, row in _to_rows(report, figures).items():
        rows[row] = rows.get(row, 0) + figures[name]
    return rows


@pytest.mark.parametrize("case", sorted(CASES))
def test_captured(case: str, tmp_path: Path) -> None:
    check_counters(case, CASES[case], report_of(case, tmp_path))


def check_counters(case: str, truth: dict[str, Any], report: Any) -> None:
    """FlopCounterMode, torchinfo, fvcore and ptflops (aten) against what each printed."""
    batch = truth.get("batch", 1)
    assert report.total_params == truth["params"]
    if case not in FAST_PATH:
        # at batch 2 FlopCounterMode counts Swin V2's bias MLP once: so does convcount
        assert report.macs_at(batch) == truth["flop_counter"]["macs"]
        assert count_as(report, "flop_counter", batch).total == truth["flop_counter"]["macs"]

    info = count_as(report, "torchinfo", batch)
    expected = truth["torchinfo"]
    assert info.total == expected["total_mult_adds"]
    assert info.params == expected["total_params"]
    assert info.memory == torchinfo_memory(expected)
    for key, text in expected["printed"].items():
        assert info.printed[key] == text, key
    ours = {layer.name: layer.figure for layer in info.layers}
    # the larger Swin variants keep only totals (TOTALS_ONLY)
    leaves = {
        name: macs
        for name, _cls, _shape, params, macs, recursive in expected.get("layers", [])
        if params and not recursive
    }
    for name, macs in _sum_by_row(report, leaves).items():
        assert ours[name] == macs, name
    if case in FAST_PATH:
        return

    fv = count_as(report, "fvcore", batch)
    assert fv.total == truth["fvcore"]["total"]
    ours = {layer.name: layer.figure for layer in fv.layers}
    # fvcore gives what a module of several parts computes itself to that module, not
    # to its leaves: only the layers that are leaf modules compare
    per_module = truth["fvcore"].get("by_leaf_module", {})
    rows = _to_rows(report, per_module)
    for name, flops in per_module.items():
        if rows[name] == name:
            assert ours[name] == flops, name

    pt = count_as(report, "ptflops", batch)
    assert pt.total == truth["ptflops_aten"]["macs"]
    assert pt.params == truth["ptflops_aten"]["params"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_captured_module_hooks(case: str, tmp_path: Path) -> None:
    check_module_hooks(case, CASES[case], report_of(case, tmp_path))


def check_module_hooks(case: str, truth: dict[str, Any], report: Any) -> None:
    """thop and ptflops's pytorch backend: totals, parameters, thop per module."""
    batch = truth.get("batch", 1)
    assert report.total_params == truth["params"]
    pt = count_as(report, "ptflops-pytorch", batch)
    assert pt.total == truth["ptflops_pytorch"]["macs"]
    assert pt.params == truth["ptflops_pytorch"]["params"]

    th = count_as(report, "thop", batch)
    assert th.total == truth["thop"]["macs"]
    assert th.params == truth["thop"]["params"]
    assert th.printed == {
        "MACs": repr(truth["thop"]["macs"]),
        "params": repr(truth["thop"]["params"]),
    }
    # per module: a module called twice (relu#2) sums its calls, as thop's buffer does;
    # thop's tree lists the modules with a non-zero count
    by_module: dict[str, int] = {}
    for layer in th.layers:
        if layer.figure:
            module = layer.name.split("#")[0]
            by_module[module] = by_module.get(module, 0) + layer.figure
    if case not in TOTALS_ONLY:
        assert by_module == _sum_by_row(report, truth["thop"]["by_leaf_module"])
    if "params_by_leaf_module" in truth["thop"]:
        kept = _sum_by_row(report, truth["thop"]["params_by_leaf_module"])
        assert _thop_params_by_module(report) == kept
    if "by_module" in truth["ptflops_pytorch"]:
        # per module: its hooks, and apart the patched functions called inside it
        hooks, functional = _ptflops_by_module(report, batch)
        assert hooks == _sum_by_row(report, truth["ptflops_pytorch"]["by_module"])
        assert functional == _sum_by_row(report, truth["ptflops_pytorch"]["functional"])


def _thop_params_by_module(report: Any) -> dict[str, int]:
    """The parameters thop keeps, per module (a module called twice counts them once)."""
    kept: dict[str, int] = {}
    for row in _rows(report):
        _count, params, _note = _thop_layer(row, 1)
        if params:
            module = row.name.split("#")[0]
            kept[module] = max(kept.get(module, 0), params)
    return kept


def _ptflops_by_module(report: Any, batch: int) -> tuple[dict[str, float], dict[str, int]]:
    """ptflops's pytorch backend per module: its hooks' figures (what its per-layer
    table prints: the batch's count / batch), and apart the patched functions called
    inside each (the batch's count)."""
    hooks: dict[str, float] = {}
    functional: dict[str, int] = {}
    for row in _rows(report):
        count = _ptflops_pytorch_layer(row)
        module = row.name.split("#")[0]
        if torch_call(row).startswith(("F.", "torch.", "Tensor.")):
            # a function (F.relu, torch.cat) runs in the module whose forward calls it:
            # the layer <module>.<function> (or <function> in the network's own forward)
            module = module.rpartition(".")[0]
        for into, figure in (
            (hooks, (count.module * batch + count.module_once) / batch),
            (functional, count.functional * batch + count.functional_once),
        ):
            if figure:
                into[module] = into.get(module, 0) + figure
    return hooks, _sum_by_row(report, functional)


def test_every_tool_disagrees_somewhere() -> None:
    """The captured set is worth having: each tool differs from FlopCounterMode."""
    for tool, figure in (
        ("torchinfo", lambda t: t["torchinfo"]["total_mult_adds"]),
        ("fvcore", lambda t: t["fvcore"]["total"]),
        ("ptflops_aten", lambda t: t["ptflops_aten"]["macs"]),
        ("ptflops_pytorch", lambda t: t["ptflops_pytorch"]["macs"]),
        ("thop", lambda t: t["thop"]["macs"]),
    ):
        assert any(figure(t) != t["flop_counter"]["macs"] for t in CASES.values()), tool


# ---------------------------------------------------------------------------
# Peak activation memory


def _peak_by_steps(report: Any) -> tuple[int, str]:
    """The same figure, by brute force: which tensors are alive at each layer."""
    width = 4
    sizes = {"input": math.prod(report.input.spatial) * report.input.channels * width}
    order = ["input"] + [layer.name for layer in report.layers]
    readers: dict[str, list[int]] = {name: [] for name in order}
    for step, layer in enumerate(report.layers, start=1):
        sizes[layer.name] = math.prod(layer.output.spatial) * layer.output.channels * width
        for name in layer.inputs:
            readers[name].append(step)
    readers[order[-1]].append(len(order))
    best = (sizes["input"], "input")
    for step in range(1, len(order)):
        alive = sum(
            sizes[name]
            for born, name in enumerate(order[: step + 1])
            if born == step or max(readers[name], default=born) >= step
        )
        if alive > best[0]:
            best = (alive, order[step])
    return best


@pytest.mark.parametrize(
    "model", ["torchvision/resnet18", "torchvision/densenet121", "keras/mobilenetv2"]
)
def test_peak_activation_matches_brute_force(model: str) -> None:
    report = load_model(model)
    assert peak_activation(report) == _peak_by_steps(report)


def test_peak_activation_of_a_chain_is_the_largest_neighbouring_pair(tmp_path: Path) -> None:
    path = tmp_path / "chain.toml"
    path.write_text(
        '[model]\ninput = { size = 8, channels = 3 }\nconvention = "torch"\n'
        '[[layer]]\nkind = "conv"\nkernel_size = 1\nout_channels = 64\n'
        '[[layer]]\nkind = "conv"\nkernel_size = 1\nout_channels = 16\n'
        '[[layer]]\nkind = "conv"\nkernel_size = 1\nout_channels = 32\n'
    )
    report = load_model(str(path))
    sizes = [3 * 64 * 4] + [layer.output.channels * 64 * 4 for layer in report.layers]
    pairs = [a + b for a, b in itertools.pairwise(sizes)]
    best = max(pairs)
    assert peak_activation(report) == (best, report.layers[pairs.index(best)].name)
    assert peak_activation(report, batch_size=8)[0] == 8 * best


# ---------------------------------------------------------------------------
# The command line: --count-as


def test_count_as_in_every_format() -> None:
    import csv
    import io

    from tests.conftest import assert_usage_error, run

    truth = CASES["torchvision/resnet18@224"]
    record = json.loads(
        run("model", "torchvision/resnet18", "--count-as", "torchinfo", "--json").stdout
    )
    assert record["total"] == truth["torchinfo"]["total_mult_adds"]
    assert (
        record["memory"]["forward_backward_bytes"] == truth["torchinfo"]["forward_backward_bytes"]
    )
    assert (
        record["printed"]["Estimated Total Size (MB)"]
        == truth["torchinfo"]["printed"]["Estimated Total Size (MB)"]
    )
    assert run("model", "torchvision/resnet18", "--count-as", "fvcore", "-q").stdout == (
        f"{truth['fvcore']['total']}\n"
    )
    # CSV carries what JSON carries: every layer's figure and the tool's totals
    rows = list(
        csv.DictReader(
            io.StringIO(
                run(
                    "model", "torchvision/resnet18", "--count-as", "torchinfo", "--format", "csv"
                ).stdout
            )
        )
    )
    *layers, total = rows
    assert [(r["name"], int(r["figure"]), r["note"]) for r in layers] == [
        (r["name"], r["figure"], r["note"]) for r in record["layers"]
    ]
    assert int(total["total"]) == record["total"]
    assert int(total["memory.total_bytes"]) == record["memory"]["total_bytes"]
    assert total["printed.Input size (MB)"] == record["printed"]["Input size (MB)"]

    every = json.loads(run("model", "torchvision/resnet18", "--count-as", "all", "--json").stdout)
    assert [t["total"] for t in every["tools"]] == [
        truth["flop_counter"]["macs"],
        truth["torchinfo"]["total_mult_adds"],
        truth["fvcore"]["total"],
        truth["ptflops_aten"]["macs"],
        truth["ptflops_pytorch"]["macs"],
        truth["thop"]["macs"],
    ]
    quiet = run("model", "torchvision/resnet18", "--count-as", "all", "-q").stdout
    assert quiet.split() == [str(t["total"]) for t in every["tools"]]
    table = run("model", "torchvision/resnet18", "--count-as", "all", env={"COLUMNS": "70"})
    assert all(len(line) <= 70 for line in table.stdout.splitlines())
    for t in every["tools"]:
        assert f"{t['total']:,}" in table.stdout

    assert_usage_error(run("model", "keras/mobilenet", "--count-as", "all"), "keras convention")
    assert_usage_error(run("model", "torchvision/resnet18", "--count-as", "flopth"), "--count-as")
    assert (
        json.loads(
            run("model", "torchvision/resnet18", "--count-as", "ptflops_pytorch", "--json").stdout
        )["tool"]
        == "ptflops-pytorch"
    )
    assert_usage_error(
        run("model", "torchvision/resnet18", "--count-as", "fvcore", "--depth", "1"), "--depth"
    )


def test_count_as_is_for_one_model() -> None:
    from tests.conftest import assert_usage_error, run

    assert_usage_error(run("model", "--list", "--count-as", "all"), "--count-as", "--list")


def test_count_as_all_counts_swin_and_maxvit_with_every_tool() -> None:
    from tests.conftest import run

    for model, case in (
        ("torchvision/swin_t", "torchvision/swin_t@224"),
        ("torchvision/maxvit_t", "torchvision/maxvit_t@224"),
    ):
        truth = CASES[case]
        every = json.loads(run("model", model, "--count-as", "all", "--json").stdout)
        # onnx-tool counts an ONNX file: a shipped model is left out of it
        assert [e["tool"] for e in every["left_out"]] == ["onnx-tool"]
        assert [(t["tool"], t["total"]) for t in every["tools"]] == [
            ("flop_counter", truth["flop_counter"]["macs"]),
            ("torchinfo", truth["torchinfo"]["total_mult_adds"]),
            ("fvcore", truth["fvcore"]["total"]),
            ("ptflops", truth["ptflops_aten"]["macs"]),
            ("ptflops-pytorch", truth["ptflops_pytorch"]["macs"]),
            ("thop", truth["thop"]["macs"]),
        ]


WINDOW_NO_BIAS = """
[model]
input = { size = 14, channels = 8 }
convention = "torch"
[[layer]]
kind = "permute"
to = "channels_last"
[[layer]]
kind = "window_attention"
name = "attn"
heads = 2
window = 7
position_bias = "none"
"""


def test_count_as_all_leaves_out_a_tool_that_cannot_count_the_network(tmp_path: Path) -> None:
    """A window attention without a position bias is no torchvision module: which of its
    parts run as modules is unknown, so the module-hook counters refuse it alone and are
    left out of all; the operator counters count it."""
    from tests.conftest import assert_usage_error, run

    path = tmp_path / "window.toml"
    path.write_text(WINDOW_NO_BIAS)
    every = json.loads(run("model", str(path), "--count-as", "all", "--json").stdout)
    assert [t["tool"] for t in every["tools"]] == ["flop_counter", "fvcore", "ptflops"]
    assert [e["tool"] for e in every["left_out"]] == [
        "torchinfo",
        "ptflops-pytorch",
        "thop",
        "onnx-tool",
    ]
    assert all("'attn'" in e["reason"] for e in every["left_out"][:3])
    assert "counts an ONNX file" in every["left_out"][3]["reason"]
    quiet = run("model", str(path), "--count-as", "all", "-q").stdout
    assert quiet.split() == [str(t["total"]) for t in every["tools"]]
    table = run("model", str(path), "--count-as", "all").stdout
    assert table.count("left out: --count-as") == 4
    assert_usage_error(
        run("model", str(path), "--count-as", "thop"), "'attn'", "ShiftedWindowAttention"
    )
    # a call naming a module that does not build this configuration is refused too
    path.write_text(
        WINDOW_NO_BIAS.replace('name = "attn"', 'name = "attn"\ncall = "ShiftedWindowAttention"')
    )
    assert_usage_error(
        run("model", str(path), "--count-as", "ptflops-pytorch"), "'attn'", "position_bias = table"
    )
    # and any other module class: its insides are unknown
    path.write_text(
        WINDOW_NO_BIAS.replace('name = "attn"', 'name = "attn"\ncall = "WindowAttention"')
    )
    assert_usage_error(run("model", str(path), "--count-as", "thop"), "'WindowAttention'")


def test_window_attention_runs_as_torchvision_by_default(tmp_path: Path) -> None:
    """Without a call, a window_attention layer is torchvision's module for its position
    bias (the kind's own): written with the call or without, the figures are the same."""
    written = TORCHVISION_NETS["windowed"].toml
    plain = "\n".join(
        line for line in written.splitlines() if not line.startswith("call = ") or "Permute" in line
    )
    assert plain.count("call = ") == 2
    path = tmp_path / "plain.toml"
    path.write_text(plain)
    report = load_model(str(path))
    truth = CASES["net/windowed"]
    assert count_as(report, "thop").total == truth["thop"]["macs"]
    assert count_as(report, "ptflops-pytorch").total == truth["ptflops_pytorch"]["macs"]
    assert count_as(report, "torchinfo").total == truth["torchinfo"]["total_mult_adds"]


def test_module_hook_counters_refuse_a_fused_activation(tmp_path: Path) -> None:
    """PyTorch runs an activation as a layer of its own: which one thop would see is unknown."""
    from convcount.errors import ConvcountError

    path = tmp_path / "fused.toml"
    path.write_text(
        '[model]\ninput = { size = 8, channels = 3 }\nconvention = "torch"\n'
        '[[layer]]\nkind = "conv"\nkernel_size = 3\nout_channels = 4\nactivation = "relu"\n'
    )
    report = load_model(str(path))
    for tool in ("thop", "ptflops-pytorch"):
        with pytest.raises(ConvcountError, match="activation 'relu'"):
            count_as(report, tool)


def test_a_layers_call_must_name_a_function_or_class(tmp_path: Path) -> None:
    from tests.conftest import assert_usage_error, run

    path = tmp_path / "bad.toml"
    path.write_text(
        '[model]\ninput = { size = 8, channels = 3 }\nconvention = "torch"\n'
        '[[layer]]\nkind = "activation"\ncall = "F.relu; import os"\n'
    )
    assert_usage_error(run("model", str(path)), "call")


def test_module_hook_counters_refuse_a_model_file() -> None:
    """An ONNX file keeps no module classes: which module ran a layer is unknown (a .pt2
    file records them: tests/tools/test_pt2_tools.py)."""
    from tests.conftest import assert_usage_error, run

    onnx = str(HERE.parent / "files" / "torch" / "alexnet.dynamo.onnx")
    assert_usage_error(run("model", onnx, "--count-as", "thop"), "model file")
    every = json.loads(run("model", onnx, "--count-as", "all", "--json").stdout)
    assert [e["tool"] for e in every["left_out"]] == ["ptflops-pytorch", "thop"]
    assert every["tools"][-1]["tool"] == "onnx-tool"  # an ONNX file: onnx-tool counts it


def test_count_as_refuses_a_network_with_unknown_macs() -> None:
    from tests.conftest import assert_usage_error, run

    custom = str(HERE.parent / "files" / "keras" / "custom.json")
    assert_usage_error(run("model", custom, "--count-as", "fvcore"), "--count-as", "MACs unknown")


def test_count_as_quotes_a_hostile_name_short_and_escaped() -> None:
    from tests.conftest import assert_usage_error, run

    result = run("model", "torchvision/resnet18", "--count-as", "\x1b[2J" + "a" * 100_000)
    assert_usage_error(result, "--count-as", "100,004 characters")
    assert "\x1b" not in result.stderr and len(result.stderr) < 400


@pytest.mark.parametrize("tool", ["thop", "all"])
def test_int8_is_refused_the_modules_run_floating_point(tool: str) -> None:
    from tests.conftest import assert_usage_error, run

    result = run("model", "torchvision/resnet18", "--count-as", tool, "--dtype", "int8")
    assert_usage_error(result, "--dtype int8", "floating-point")
    half = run("model", "torchvision/resnet18", "--count-as", "torchinfo", "--dtype", "float16")
    assert half.exit_code == 0 and "Params size (MB)" in half.stdout
