"""--count-as on the layer commands, against what the tools printed for 200 layers'
PyTorch equivalents (``layer_tools.json``, written by ``capture_layer_tools.py``), and
the command line's refusals, formats and widths."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcount.counting import count
from convcount.errors import ConvcountError
from convcount.layers import make_layer
from convcount.model.layer_tools import layer_network
from convcount.model.tools import TOOLS as EVERY_TOOL
from convcount.model.tools import count_as, tool_record
from tests.conftest import assert_usage_error, run
from tests.tools.layer_cases import compare

HERE = Path(__file__).resolve().parent
#: The counters of a layer's PyTorch equivalent (onnx-tool counts ONNX files only).
TOOLS = [tool for tool in EVERY_TOOL if tool != "onnx-tool"]
TRUTH = json.loads((HERE / "layer_tools.json").read_text())
CASES = TRUTH["cases"]


def _ours(kind: str, fields: dict[str, Any]) -> tuple[Any, dict[str, dict[str, Any]], list[int]]:
    network = layer_network(count(make_layer(kind, **fields)))
    results = {tool: count_as(network.report, tool) for tool in TOOLS}
    records = {tool: tool_record(result) for tool, result in results.items()}
    return network, records, [result.total for result in results.values()]


@pytest.mark.parametrize("case", sorted(CASES))
def test_captured(case: str) -> None:
    entry = CASES[case]
    network, records, quiet = _ours(entry["kind"], entry["fields"])
    # the modules measured are the ones convcount prints as the layer's equivalent
    assert network.counted == entry["counted"]
    compare(records, quiet, entry["truth"])


def test_the_captured_layers_cover_the_options() -> None:
    """Every kind in 1-, 2- and 3-D, both conventions, and each padding rule."""
    seen = Counter(
        (entry["kind"], entry["fields"]["dims"], entry["fields"]["convention"])
        for entry in CASES.values()
    )
    for kind in ("conv", "depthwise", "separable", "transpose"):
        for dims in (1, 2, 3):
            for convention in ("keras", "torch"):
                assert seen[(kind, dims, convention)], (kind, dims, convention)
    counted = [entry["counted"] for entry in CASES.values()]
    assert any(code.startswith("F.pad") for code in counted)
    assert any('padding="same"' in code for code in counted)
    assert any("output_padding" in code for code in counted)
    assert any("groups" in code and "ConvTranspose" in code for code in counted)
    dtypes = {entry["fields"].get("dtype", "float32") for entry in CASES.values()}
    assert dtypes == {"float32", "float64", "float16", "bfloat16"}
    assert any(entry["fields"].get("padding") == "causal" for entry in CASES.values())
    # and the tools disagree with FlopCounterMode somewhere, each of them
    for key in ("torchinfo", "ptflops_aten", "ptflops_pytorch"):
        figure = "total_mult_adds" if key == "torchinfo" else "macs"
        assert any(
            e["truth"][key][figure] != e["truth"]["flop_counter"]["macs"] for e in CASES.values()
        ), key
    assert any(
        e["truth"]["fvcore"]["total"] != e["truth"]["flop_counter"]["macs"] for e in CASES.values()
    )
    assert any(
        e["truth"]["thop"]["macs"] != e["truth"]["flop_counter"]["macs"] for e in CASES.values()
    )


# ---------------------------------------------------------------------------
# The command line


FLAGSHIP = ["separable", "-k", "3", "-i", "10", "-o", "32", "-s", "32"]


def test_every_format_carries_the_same_figures() -> None:
    record = json.loads(run(*FLAGSHIP, "--count-as", "torchinfo", "--json").stdout)
    assert record["layer"] == "separable"
    assert record["convention"] == "keras"
    assert record["counted"] == "nn.Conv2d(10, 10, 3, groups=10, bias=False) + nn.Conv2d(10, 32, 1)"
    assert record["input_shape"] == [10, 32, 32]
    assert record["batch_size"] == 1
    assert [r["name"] for r in record["layers"]] == ["depthwise", "pointwise"]
    rows = list(
        csv.DictReader(
            io.StringIO(run(*FLAGSHIP, "--count-as", "torchinfo", "--format", "csv").stdout)
        )
    )
    *layers, total = rows
    assert [(r["name"], int(r["figure"]), r["note"]) for r in layers] == [
        (r["name"], r["figure"], r["note"]) for r in record["layers"]
    ]
    assert (total["layer"], total["counted"]) == ("separable", record["counted"])
    assert int(total["total"]) == record["total"]
    for key, value in record["memory"].items():
        assert int(total[f"memory.{key}"]) == value
    for key, text in record["printed"].items():
        assert total[f"printed.{key}"] == text
    assert run(*FLAGSHIP, "--count-as", "torchinfo", "-q").stdout == f"{record['total']}\n"

    every = json.loads(run(*FLAGSHIP, "--count-as", "all", "--json").stdout)
    assert [t["tool"] for t in every["tools"]] == list(TOOLS)
    assert every["left_out"] == []
    assert every["counted"] == record["counted"]
    assert every["tools"][1] == {k: v for k, v in record.items() if k in every["tools"][1]}
    quiet = run(*FLAGSHIP, "--count-as", "all", "-q").stdout
    assert quiet.split() == [str(t["total"]) for t in every["tools"]]
    table = list(
        csv.DictReader(io.StringIO(run(*FLAGSHIP, "--count-as", "all", "--format", "csv").stdout))
    )
    assert [(r["layer"], r["counted"], r["tool"], int(r["total"])) for r in table] == [
        ("separable", record["counted"], t["tool"], t["total"]) for t in every["tools"]
    ]
    text = run(*FLAGSHIP, "--count-as", "all").stdout
    assert "as each counter prints it" in text and f"counted: {record['counted']}" in text


def test_the_table_says_which_modules_were_counted() -> None:
    text = run(
        "conv", "-k", "3", "-i", "6", "-o", "8", "-s", "9", "--stride", "2", "--padding",
        "same", "--count-as", "fvcore", env={"COLUMNS": "200"},
    ).stdout  # fmt: skip
    lines = text.splitlines()
    assert lines[0] == (
        "conv 2-D · kernel 3×3 · 6 → 8 channels · keras convention · "
        "as fvcore 0.1.5 counts it · batch 1"
    )
    assert lines[-1] == (
        "counted: F.pad(x, (1, 1, 1, 1)) + nn.Conv2d(6, 8, 3, stride=2), "
        "the layer's PyTorch equivalent, on input 6×9×9."
    )


def test_aliases_and_both_conventions() -> None:
    keras = json.loads(run(*FLAGSHIP, "--count-as", "ptflops_aten", "--json").stdout)
    assert keras["tool"] == "ptflops"
    torch = json.loads(
        run(*FLAGSHIP, "--convention", "torch", "--count-as", "ptflops-aten", "--json").stdout
    )
    # PyTorch's separable has a depthwise bias: 10 more parameters, 10 × 30 × 30 more adds
    assert torch["params"] == keras["params"] + 10
    assert torch["total"] == keras["total"] + 10 * 30 * 30


@pytest.mark.parametrize("command", ["conv", "depthwise", "separable", "transpose"])
@pytest.mark.parametrize("output", [[], ["--json"], ["-q"], ["--format", "csv"]])
def test_without_an_input_size_it_is_refused(command: str, output: list[str]) -> None:
    args = [command, "-k", "3", "-i", "4", *([] if command == "depthwise" else ["-o", "8"])]
    assert_usage_error(run(*args, "--count-as", "all", *output), "--count-as needs --input-size")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        ("--count-as fvcor", ["no counter 'fvcor'", "did you mean fvcore?", "one of flop_counter"]),
        ("--count-as THOP -q --json", ["--json, -q/--quiet and --format"]),
        ("--count-as ''", ["no counter ''"]),
        ("--count-as onnx-tool", ["onnx-tool counts an ONNX file", "torch.onnx.export"]),
    ],
)
def test_bad_counter_names(args: str, needles: list[str]) -> None:
    import shlex

    assert_usage_error(run(*FLAGSHIP, *shlex.split(args)), *needles)


def test_hostile_values_are_refused_in_one_line() -> None:
    long_name = "x" * 100_000 + "\x1b[31m"
    result = run(*FLAGSHIP, "--count-as", long_name)
    assert_usage_error(result, "no counter")
    assert len(result.stderr) < 400 and "\x1b" not in result.stderr
    huge = "9" * 30
    assert_usage_error(
        run("conv", "-k", "3", "-i", "4", "-o", "4", "-s", huge, "--count-as", "all"),
        "--input-size",
        "10^18",
    )
    assert_usage_error(
        run("conv", "-k", "1", "-i", huge, "-o", "4", "-s", "4", "--count-as", "thop"),
        "--in-channels",
        "10^18",
    )
    assert_usage_error(
        run(
            "conv",
            "-k",
            huge,
            "-i",
            "4",
            "-o",
            "4",
            "-s",
            "4",
            "--padding",
            "same",
            "--count-as",
            "torchinfo",
        ),
        "--kernel-size",
        "10^18",
    )
    # a layer whose numbers are large but bounded answers in every format, at once
    big = ["transpose", "-k", "9", "-i", "10" + "0" * 17, "-o", "10" + "0" * 17, "-s", "999"]
    for output in ([], ["--json"], ["-q"], ["--format", "csv"]):
        done = run(*big, "--count-as", "all", *output)
        assert done.exit_code == 0, done.stderr


def test_int8_is_refused() -> None:
    assert_usage_error(run(*FLAGSHIP, "--dtype", "int8", "--count-as", "all"), "--dtype int8")


def test_a_keras_layer_pytorch_cannot_build_is_refused() -> None:
    # Keras's same on a 2x2 transposed kernel at stride 1: no padding/output_padding pair
    args = ["transpose", "-k", "2", "-i", "4", "-o", "4", "-s", "5", "--padding", "same"]
    assert run(*args).exit_code == 0
    assert_usage_error(run(*args, "--count-as", "thop"), "no ConvTranspose2d", "--count-as")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.randoms(use_true_random=False))
def test_every_layer_is_its_pytorch_equivalent_or_refused(rng: Any) -> None:
    """For any layer convcount accepts with an input size, the network counted has the
    layer's parameters, output and MACs (layer_network checks them), or --count-as is
    refused with one of its reasons."""
    from tests.tools.capture_layer_tools import draw

    kind, fields = draw(rng)
    try:
        report = count(make_layer(kind, **fields))
    except ConvcountError:
        return
    try:
        network = layer_network(report)
    except ConvcountError as error:
        assert "no ConvTranspose" in str(error), error
        return
    results = [count_as(network.report, tool) for tool in TOOLS]
    assert results[0].total == report.macs
    assert all(r.params in (None, report.total) for r in results)
