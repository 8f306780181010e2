"""--count-as onnx-tool against what onnx-tool 1.0.1 printed (tests/tools/onnx_tool.json,
written by capture_onnx_tool.py): every node's Forward_MACs, Memory and Params, its name,
type and shapes, and the Total row, for every ONNX fixture and the hand-written graphs."""

from __future__ import annotations

import hashlib
import json
import time
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcount.errors import ConvcountError
from convcount.model import load_model
from convcount.model.tools import count_as, tool_names

HERE = Path(__file__).resolve().parent
FILES = HERE.parent / "files"


@cache
def truth() -> dict[str, Any]:
    cases: dict[str, Any] = json.loads((HERE / "onnx_tool.json").read_text())["cases"]
    return cases


def _path(case: str) -> Path:
    kind, name = case.split("/", 1)
    return FILES / "torch" / name if kind == "file" else FILES / "onnx" / f"{name}.onnx"


def _digest(rows: list[list[Any]]) -> str:
    text = "\n".join("\t".join(map(str, row)) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


CASES = sorted(k for k, v in truth().items() if "error" not in v)


@pytest.mark.parametrize("case", CASES)
def test_every_node_and_the_total(case: str) -> None:
    want = truth()[case]
    resolution = "224" if "_dynamic" in case else None
    report = load_model(str(_path(case)), resolution=resolution)
    got = count_as(report, "onnx-tool")
    rows = [
        [
            r.name,
            r.extra["op"],
            r.figure,
            r.extra["memory"],
            r.extra["params"],
            r.extra["in_shape"],
            r.extra["out_shape"],
            r.extra["FPercent"],
            r.extra["MPercent"],
            r.extra["PPercent"],
        ]
        for r in got.layers
        if r.extra is not None
    ]
    assert len(rows) == want["nodes"]
    figures = want.get("figures") or [row[2:5] for row in want["rows"]]
    for index, (row, expected) in enumerate(zip(rows, figures, strict=True)):
        assert row[2:5] == expected, f"node {index} {row[0]} ({row[1]})"
    if "rows" in want:
        assert rows == want["rows"]
    assert _digest(rows) == want["digest"]  # names, types, shapes and percentages too
    # model_profile()'s Total row: the same MACs (the nodes it hides count 0), its own
    # memory and params
    brief = want["model_profile"]
    assert brief["Forward_MACs"] == want["printed"]["Forward_MACs"]
    assert got.printed == {
        **want["printed"],
        "model_profile() Memory": brief["Memory"],
        "model_profile() Params": brief["Params"],
    }
    assert (got.total, got.memory, got.params) == (
        want["macs"],
        {"memory_bytes": want["memory"]},
        want["params"],
    )


def test_an_op_onnx_tool_stops_on_is_refused_naming_the_node() -> None:
    assert "NotImplementedError" in truth()["graph/unregistered"]["error"]
    report = load_model(str(FILES / "onnx" / "unregistered.onnx"))
    with pytest.raises(
        ConvcountError, match=r"node 'gmax' \(GlobalMaxPool\): onnx-tool 1\.0\.1 has no class"
    ):
        count_as(report, "onnx-tool")


def test_the_batch_sets_the_input_s_first_axis() -> None:
    # onnx-tool at another batch is onnx-tool given an input of that shape: every
    # node's figures scale with it here (no node fixes the batch)
    report = load_model(str(FILES / "torch" / "resnet18.legacy.onnx"))
    one, four = count_as(report, "onnx-tool"), count_as(report, "onnx-tool", 4)
    assert four.total == 4 * one.total
    assert [r.figure for r in four.layers] == [4 * r.figure for r in one.layers]


@pytest.mark.parametrize("source", ["torchvision/resnet18", "keras/mobilenetv2"])
def test_other_sources_are_refused_with_why(source: str) -> None:
    report = load_model(source)
    with pytest.raises(ConvcountError, match="onnx-tool counts an ONNX file"):
        count_as(report, "onnx-tool")


def test_names() -> None:
    assert tool_names("onnx_tool") == tool_names("ONNXTOOL") == ["onnx-tool"]
    assert "onnx-tool" in tool_names("all")


# ---------------------------------------------------------------------------
# The command line


def test_every_format_carries_every_node() -> None:
    import csv
    import io

    from tests.conftest import assert_usage_error, run

    path = str(FILES / "torch" / "shufflenet_v2_x0_5.legacy.onnx")
    want = truth()["file/shufflenet_v2_x0_5.legacy.onnx"]
    record = json.loads(run("model", path, "--count-as", "onnx_tool", "--json").stdout)
    assert record["tool"] == "onnx-tool" and record["version"] == "1.0.1"
    assert [[r["figure"], r["memory"], r["params"]] for r in record["layers"]] == want["figures"]
    assert record["printed"]["Memory"] == want["printed"]["Memory"]
    # a node convcount folds away (a shape computation) is listed, with no layer
    assert any(r["layer"] is None and r["op"] == "Shape" for r in record["layers"])
    rows = list(
        csv.DictReader(
            io.StringIO(run("model", path, "--count-as", "onnx-tool", "--format", "csv").stdout)
        )
    )
    *nodes, total = rows
    assert [
        (r["name"], int(r["figure"]), int(r["node.memory"]), int(r["node.params"]), r["node.op"])
        for r in nodes
    ] == [(r["name"], r["figure"], r["memory"], r["params"], r["op"]) for r in record["layers"]]
    assert int(total["memory.memory_bytes"]) == want["memory"]
    assert total["printed.Forward_MACs"] == want["printed"]["Forward_MACs"]
    assert run("model", path, "--count-as", "onnx-tool", "-q").stdout == f"{want['macs']}\n"
    every = json.loads(run("model", path, "--count-as", "all", "--json").stdout)
    assert every["tools"][-1]["total"] == want["macs"]
    quiet = run("model", path, "--count-as", "all", "-q").stdout.split()
    assert quiet[-1] == str(want["macs"])
    assert_usage_error(
        run("model", "torchvision/resnet18", "--count-as", "onnx-tool"),
        "--count-as",
        "counts an ONNX file",
    )


@pytest.mark.parametrize("columns", [40, 50, 60, 80, 120, 200])
def test_the_table_never_cuts_a_number(columns: int) -> None:
    from rich.cells import cell_len

    from tests.conftest import run

    # long node names (/features/denseblock1/denselayer1/norm1/BatchNormalization)
    path = str(FILES / "torch" / "densenet121.legacy.onnx")
    record = json.loads(run("model", path, "--count-as", "onnx-tool", "--json").stdout)
    table = run("model", path, "--count-as", "onnx-tool", env={"COLUMNS": str(columns)}).stdout
    assert all(cell_len(line) <= columns for line in table.splitlines())
    words = set(table.split())
    for row in record["layers"]:
        for figure in (row["figure"], row["memory"], row["params"]):
            assert f"{figure:,}" in words
    for value in record["printed"].values():
        assert value in words


def test_ops_convcount_does_not_count_are_onnx_tool_s_own() -> None:
    """Sin and Cos have no MACs in convcount (the summary says at least): the other
    counters refuse such a file, onnx-tool counts them by its own rule."""
    from tests.conftest import assert_usage_error, run

    path = str(FILES / "onnx" / "pointwise.onnx")
    assert_usage_error(run("model", path, "--count-as", "fvcore"), "MACs unknown")
    record = json.loads(run("model", path, "--count-as", "onnx-tool", "--json").stdout)
    want = truth()["graph/pointwise"]["printed"]
    assert record["printed"]["Forward_MACs"] == want["Forward_MACs"]
    sin = next(r for r in record["layers"] if r["op"] == "Sin")
    assert sin["note"] == "39 per output element"


# ---------------------------------------------------------------------------
# Damaged files


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    source=st.sampled_from(
        [
            *sorted((FILES / "onnx").glob("*.onnx")),
            FILES / "torch" / "shufflenet_v2_x0_5.legacy.onnx",
            FILES / "torch" / "hand_decoder.dynamo.onnx",
        ]
    ),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=6),
)
def test_damaged_files_are_counted_or_refused_in_one_line(
    tmp_path_factory: pytest.TempPathFactory, source: Path, edits: list[tuple[float, int]]
) -> None:
    data = bytearray(source.read_bytes())
    for where, value in edits:
        data[int(where * (len(data) - 1))] = value
    path = tmp_path_factory.mktemp("fuzz") / source.name
    path.write_bytes(bytes(data))
    start = time.perf_counter()
    try:
        count_as(load_model(str(path), resolution="32"), "onnx-tool")
    except ConvcountError as error:
        assert "\n" not in str(error)
    assert time.perf_counter() - start < 5.0


def test_a_graph_that_fixes_its_batch_is_refused_at_another() -> None:
    """The dynamo export reshapes to 1x512: onnx-tool given a batch of 4 stops there."""
    report = load_model(str(FILES / "torch" / "resnet18.dynamo.onnx"))
    with pytest.raises(ConvcountError, match=r"node 'node_view' \(Reshape\): a reshape of 4x512"):
        count_as(report, "onnx-tool", 4)
