"""One set of output options on every command, CSV that carries what JSON carries,
and one exit-code table in every --help."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from convcount.cli import EXIT_CODES
from convcount.compare import COMPARE_COLUMNS
from convcount.records import CSV_COLUMNS, JSON_KEYS, from_csv_row, parse_cell
from convcount.summary import MODEL_CSV_COLUMNS, model_from_csv

from .conftest import run

ROWS = [
    {"layer": "separable", "kernel_size": 3, "in_channels": 10, "out_channels": 32},
    {
        "layer": "conv",
        "kernel_size": "3x5",
        "in_channels": 8,
        "out_channels": 16,
        "groups": 2,
        "input_size": 32,
        "stride": 2,
        "padding": "same",
    },
    {"layer": "depthwise", "kernel_size": 3, "in_channels": 4, "depth_multiplier": 2, "dims": 3},
    {
        "layer": "transpose",
        "kernel_size": 4,
        "in_channels": 16,
        "out_channels": 8,
        "input_size": 7,
        "stride": 2,
        "padding": 1,
        "output_padding": 1,
        "convention": "torch",
        "dtype": "float16",
    },
]


@pytest.fixture(scope="module")
def rows_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rows") / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    return path


LAYER_ARGS = {
    "conv": ["conv", "-k", "3", "-i", "64", "-o", "128", "-g", "4", "-s", "56", "--stride", "2"],
    "depthwise": ["depthwise", "-k", "3", "-i", "10", "-m", "2"],
    "separable": ["separable", "-k", "3", "-i", "10", "-o", "32", "--convention", "torch"],
    "transpose": ["transpose", "-k", "4", "-i", "8", "-o", "4", "-s", "5", "--stride", "2"],
    "compare": ["compare", "-k", "3", "-i", "10", "-o", "32", "-s", "112", "-g", "2"],
    "model": ["model", "torchvision/mobilenet_v2"],
}


def _args(command: str, rows_file: Path) -> list[str]:
    return ["batch", str(rows_file)] if command == "batch" else LAYER_ARGS[command]


def _the_number(command: str, data: Any) -> str:
    """What plain/-q prints, from the --json answer: the figure each help names."""
    if command == "compare":
        return str(next(r for r in data if r["name"] == "separable")["params_ratio"])
    if command == "model":
        return str(data["total_params"])
    return str(data["total"])


@pytest.mark.parametrize("command", [*LAYER_ARGS, "batch"])
def test_every_command_takes_format_json_and_quiet(command: str, rows_file: Path) -> None:
    args = _args(command, rows_file)
    outputs = {}
    for fmt in ("table", "json", "csv", "plain"):
        result = run(*args, "--format", fmt)
        assert (result.exit_code, result.stderr) == (0, ""), (fmt, result)
        outputs[fmt] = result.stdout
    assert run(*args, "--json").stdout == outputs["json"]
    assert run(*args, "-q").stdout == run(*args, "--quiet").stdout == outputs["plain"]
    if command == "batch":
        # json is JSON Lines: each row's --json object on its own line, in order
        assert run(*args, "--format", "jsonl").stdout == outputs["json"]
        lines = [json.loads(line) for line in outputs["json"].splitlines()]
        assert outputs["plain"] == "".join(f"{_the_number('conv', r)}\n" for r in lines)
        return
    data = json.loads(outputs["json"])
    assert outputs["plain"] == f"{_the_number(command, data)}\n"


def _help(command: str) -> str:
    """A command's help as one line of words, without the boxes around the options."""
    return " ".join(run(command, "-h").stdout.replace("│", " ").split())


def test_help_says_what_quiet_prints() -> None:
    assert "params_ratio of the separable row" in _help("compare")
    assert "the total parameters alone" in _help("model")
    batch_help = _help("batch")
    assert "each row's total parameters alone, one per line" in batch_help
    assert "JSON Lines, each row's --json object on one line" in batch_help


def test_format_names_get_a_suggestion() -> None:
    result = run(*LAYER_ARGS["conv"], "--format", "tabel")
    assert result.exit_code == 2
    assert result.stderr.endswith("got 'tabel' (did you mean table?)\n")


def test_batch_plain_keeps_a_bad_row_in_its_place(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"layer": "conv", "kernel_size": 3, "in_channels": 4, "out_channels": 4}\n'
        '{"layer": "conv", "strides": 2}\n'
        '{"layer": "depthwise", "kernel_size": 3, "in_channels": 4}\n',
        encoding="utf-8",
    )
    result = run("batch", str(path), "-q")
    assert (result.exit_code, result.stdout) == (1, "148\n\n40\n")
    assert "line 2: strides is not a field convcount knows (did you mean stride?)" in (
        result.stderr
    )


@pytest.mark.parametrize("command", ["", *LAYER_ARGS, "batch"])
def test_every_help_shows_the_exit_codes(command: str) -> None:
    text = run(*([command] if command else []), "--help").stdout
    assert "Exit codes:" in text
    for code, meaning in EXIT_CODES:
        assert f" {code:<4} {meaning}" in text, (code, text)


# --- CSV carries what JSON carries, and reads back -------------------------------------


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("command", ["conv", "depthwise", "separable", "transpose"])
def test_layer_csv_reads_back_as_its_json(command: str) -> None:
    args = LAYER_ARGS[command]
    rows = _csv(run(*args, "--format", "csv").stdout)
    assert len(rows) == 1 and list(rows[0]) == list(CSV_COLUMNS)
    assert from_csv_row(rows[0]) == json.loads(run(*args, "--json").stdout)


def test_json_keys_are_the_records_keys() -> None:
    data = json.loads(run(*LAYER_ARGS["conv"], "--json").stdout)
    assert tuple(data) == JSON_KEYS


def test_batch_csv_reads_back_as_its_json_lines(rows_file: Path) -> None:
    rows = _csv(run("batch", str(rows_file), "--format", "csv").stdout)
    lines = run("batch", str(rows_file), "--json").stdout.splitlines()
    assert [from_csv_row(row) for row in rows] == [json.loads(line) for line in lines]
    assert all(row["error"] == "" for row in rows)


def test_compare_csv_reads_back_as_its_json() -> None:
    args = LAYER_ARGS["compare"]
    rows = _csv(run(*args, "--format", "csv").stdout)
    data = json.loads(run(*args, "--json").stdout)
    assert list(rows[0]) == list(COMPARE_COLUMNS) == list(data[0])
    assert [{c: parse_cell(c, row[c]) for c in COMPARE_COLUMNS} for row in rows] == data
    assert [row["groups"] for row in rows] == ["1", "", "2"]
    assert [row["depth_multiplier"] for row in rows] == ["", "1", ""]


@pytest.mark.parametrize(
    "args",
    [
        ("torchvision/mobilenet_v2",),  # inputs lists on every residual add
        ("keras/mobilenet", "--batch-size", "8", "--dtype", "float16"),
        ("torchvision/resnet50", "-b", "3"),  # buffers
        ("keras/efficientnetb0",),  # pads per side, exact decimals, reshape shapes
        ("torchvision/resnet18", "--depth", "2"),  # groups
        ("keras/mobilenetv2", "--only", "conv,depthwise", "--match", "block_1*,*_1*"),
        ("torchvision/shufflenet_v2_x0_5", "--range", "3:stage2.1.chunk0", "-d", "1"),
    ],
)
def test_model_csv_reads_back_as_its_json(args: tuple[str, ...]) -> None:
    text = run("model", *args, "--format", "csv").stdout
    rows = _csv(text)
    assert list(rows[0])[: len(MODEL_CSV_COLUMNS)] == list(MODEL_CSV_COLUMNS)
    data = json.loads(run("model", *args, "--json").stdout)
    fields = {f for layer in data["layers"] for f in layer["config"]}
    assert {c for c in rows[0] if c.startswith("config.")} == {f"config.{f}" for f in fields}
    assert model_from_csv(rows) == data
    assert rows[-1]["name"] == "total" and rows[-1]["index"] == ""


def test_a_name_with_any_character_survives_the_csv() -> None:
    from convcount.records import csv_cell

    names = ["block_1_project_BN", "a,b", 'say "x"', "x"]
    assert parse_cell("inputs", csv_cell(names)) == names
