"""What convcount cannot count is never silently zero: unknown MACs, at-least totals, --strict."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from convcount import ConvcountError
from convcount.model import Net
from convcount.summary import model_from_csv, model_record

from .conftest import assert_usage_error, run

MODEL = """\
[model]
name = "t"
input = { size = 8, channels = 3 }

[[layer]]
kind = "conv"
out_channels = 4
kernel_size = 3

[[layer]]
kind = "opaque"
name = "custom"
trainable = 7
non_trainable = 2
shape = [6, 6, 5]

[[layer]]
kind = "dense"
units = 2
"""


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "custom.toml"
    path.write_text(MODEL)
    return path


def test_an_opaque_layer_keeps_its_parameters_and_shape_and_has_unknown_macs() -> None:
    net = Net("n", (8, 8), 3)
    net.conv(None, 4, 3)
    net.layer("opaque", name="s", op="LayerScale", trainable=4, non_trainable=1)
    net.dense(None, 2)
    report = net.report()
    conv, scale, dense = report.layers
    assert (scale.trainable, scale.non_trainable, scale.macs, scale.op) == (
        4,
        1,
        None,
        "LayerScale",
    )
    assert scale.output == conv.output  # the input's shape by default
    assert conv.macs is not None and dense.macs is not None
    assert report.macs == conv.macs + dense.macs
    assert report.total_params == conv.params + 5 + dense.params
    assert not report.macs_exact
    assert report.uncounted == {"LayerScale": 1}


def test_uncounted_layers_are_listed_by_class_else_by_kind() -> None:
    net = Net("n", (8, 8), 3)
    for i in range(3):
        net.layer("opaque", name=f"a{i}", op="Custom")
    net.layer("opaque", name="b")
    assert net.report().uncounted == {"Custom": 3, "opaque": 1}


def test_a_counted_model_is_exact() -> None:
    net = Net("n", (8, 8), 3)
    net.conv(None, 4, 3)
    report = net.report()
    assert report.macs_exact and report.uncounted == {}
    record = model_record(report)
    assert (record["macs_exact"], record["uncounted"]) == (True, {})


def test_an_opaque_layer_may_change_the_shape_and_take_several_inputs() -> None:
    net = Net("n", (8, 8), 3)
    a = net.conv("input", 4, 3, name="a")
    b = net.conv("input", 6, 3, name="b")
    net.layer("opaque", (a, b), name="j", shape=[36, 10])
    assert net.shape().spatial == (36,) and net.shape().channels == 10
    net.layer("opaque", name="flat", shape=[7])
    assert net.shape().spatial == () and net.shape().channels == 7
    with pytest.raises(ConvcountError, match="no -1"):
        net.layer("opaque", name="bad", shape=[-1, 7])


def test_json_and_csv_say_at_least(model_file: Path) -> None:
    record = json.loads(run("model", str(model_file), "--json").stdout)
    macs = [layer["macs"] for layer in record["layers"]]
    assert macs[1] is None and all(isinstance(m, int) and m > 0 for m in (macs[0], macs[2]))
    assert record["macs"] == macs[0] + macs[2] and record["flops"] == 2 * record["macs"]
    assert (record["macs_exact"], record["uncounted"]) == (False, {"opaque": 1})
    assert record["layers"][1]["params"] == 9
    text = run("model", str(model_file), "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[1]["macs"] == ""
    assert model_from_csv(rows) == record


def test_the_table_says_unknown_and_at_least(model_file: Path) -> None:
    text = run("model", str(model_file), env={"COLUMNS": "120"}).stdout
    record = json.loads(run("model", str(model_file), "--json").stdout)
    row = next(line for line in text.splitlines() if " custom " in line)
    assert "unknown" in row
    assert f"at least {record['macs']:,}" in text
    assert f"at least {record['flops']:,}" in text
    assert "1 layer (opaque ×1)" in text


def test_strict_refuses_a_model_with_unknown_macs(model_file: Path) -> None:
    result = run("model", str(model_file), "--strict")
    assert_usage_error(result, str(model_file), "1 layer (opaque ×1)", "--strict")
    exact = model_file.with_name("exact.toml")
    exact.write_text(
        MODEL.replace('kind = "opaque"', 'kind = "identity"').replace(
            "trainable = 7\nnon_trainable = 2\nshape = [6, 6, 5]\n", ""
        )
    )
    result = run("model", str(exact), "--strict", "--json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["macs_exact"] is True
    assert run("model", "keras/mobilenet", "--strict", "-q").exit_code == 0


def test_an_opaque_layer_of_known_macs_is_counted() -> None:
    net = Net("n", (8, 8), 3)
    net.layer("opaque", name="reduce", shape=[8, 8], macs=0)
    net.layer("opaque", name="custom", trainable=2, macs=5)
    report = net.report()
    assert report.macs_exact and report.uncounted == {} and report.macs == 5
    assert report.total_params == 2


def test_a_group_holding_an_unknown_layer_is_unknown(model_file: Path) -> None:
    record = json.loads(run("model", str(model_file), "--depth", "0", "--json").stdout)
    (group,) = record["layers"]
    assert group["kind"] == "group" and group["macs"] is None
    assert group["params"] == record["total_params"]
    assert (record["macs_exact"], record["uncounted"]) == (False, {"opaque": 1})
    table = run("model", str(model_file), "--depth", "0", env={"COLUMNS": "120"}).stdout
    assert "unknown" in table.splitlines()[3]
