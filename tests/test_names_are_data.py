"""Names are data (issue 15): control characters and escape sequences in any name a
model file gives are shown escaped wherever a terminal may display them (every
column and the title of a table, plain or drawn by rich, at any width; error
messages), and kept exactly as given in JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from .conftest import assert_usage_error, run
from .fuzzutil import run_cli

#: Each one a terminal would act on rather than show: clear the screen, ring the
#: bell, NUL, carriage return, newline, tab, DEL, the C1 controls NEL and CSI, a
#: right-to-left override that makes "exe.png" read "gnp.exe", a line separator.
HOSTILE = [
    "\x1b[2J",
    "\x07",
    "\x00",
    "\r",
    "\n",
    "\t",
    "\x7f",
    "\x85",
    "\x9b31m",
    "\u202e",
    "\u2028",
]
ESCAPED = [
    "\\x1b[2J",
    "\\x07",
    "\\x00",
    "\\r",
    "\\n",
    "\\t",
    "\\x7f",
    "\\x85",
    "\\x9b31m",
    "\\u202e",
    "\\u2028",
]
MODEL_NAME = "net" + "".join(HOSTILE)
FIRST = "conv" + "".join(HOSTILE) + "end"
SECOND = "add\x1b]0;title\x07"  # an OSC sequence setting the window title


def toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string with \\u escapes is a TOML basic string


MODEL = f"""[model]
name = {toml_string(MODEL_NAME)}
input = {{ size = 8, channels = 3 }}

[[layer]]
name = {toml_string(FIRST)}
kind = "conv"
out_channels = 4
kernel_size = 3

[[layer]]
name = {toml_string(SECOND)}
kind = "add"
inputs = [{toml_string(FIRST)}, {toml_string(FIRST)}]
"""

#: What a terminal acts on: C0 and C1 controls, DEL, format and separator characters.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
#: rich's own styling: SGR sequences only.
SGR = re.compile("\x1b\\[[0-9;]*m")


@pytest.fixture
def model(tmp_path: Path) -> str:
    path = tmp_path / "hostile.toml"
    path.write_text(MODEL, encoding="utf-8")
    return str(path)


def assert_shown_escaped(text: str, *, styled: bool = False) -> None:
    if styled:
        text = SGR.sub("", text)
    assert CONTROL.search(text) is None, repr(CONTROL.search(text))


@pytest.mark.parametrize("columns", [None, "200", "70", "40", "20"])
@pytest.mark.parametrize("styled", [False, True], ids=["plain", "rich"])
def test_a_table_shows_every_name_escaped_at_any_width(
    model: str, columns: str | None, styled: bool
) -> None:
    env = {"COLUMNS": columns} if columns else {}
    if styled:
        env |= {"TTY_COMPATIBLE": "1", "FORCE_COLOR": "1"}  # rich draws it, styles and all
    result = run("model", model, "--format", "table", env=env)
    assert result.exit_code == 0, result.stderr
    assert_shown_escaped(result.stdout, styled=styled)
    text = SGR.sub("", result.stdout)
    lines = text.splitlines()
    full = "conv" + "".join(ESCAPED) + "end"
    # The title, whatever the width.
    assert lines[0].startswith("net" + "".join(ESCAPED))
    if columns == "200" or (columns is None and not styled):  # rich takes 80 columns here
        # Every column at its natural width: the layer, connected to (one input a
        # line) and the receptive field's layer.
        assert lines[0].startswith("net" + "".join(ESCAPED) + " · input 8×8×3")
        assert len([line for line in lines if full in line]) == 3
        assert lines[3].startswith("1  " + full + "  conv  ")
        assert lines[4].startswith("2  add\\x1b]0;title\\x07")
        assert "input pixels at add\\x1b]0;title\\x07" in text
    elif columns != "20":
        # Names shortened with an ellipsis, cut between escapes, never inside one.
        assert "1  conv\\x1b[" in text.replace("1 conv", "1  conv")
        assert "…" in text
        assert re.search(r"\\(x[0-9a-f]?|u[0-9a-f]{0,3})?…", text) is None
    else:
        # Stacked: one block per layer, names whole.
        assert "1 " + full in lines and f"  from {full}, {full}" in lines


def test_json_keeps_every_name_as_given(model: str) -> None:
    result = run("model", model, "--json")
    record = json.loads(result.stdout)
    assert record["model"] == MODEL_NAME
    assert [layer["name"] for layer in record["layers"]] == [FIRST, SECOND]
    assert record["layers"][1]["inputs"] == [FIRST, FIRST]
    assert record["receptive_field"]["layer"] == SECOND


def test_csv_keeps_every_name_as_given(model: str) -> None:
    # The real process's bytes: the in-process runner turns "\r\n" into "\n".
    done = run_cli(["model", model, "--format", "csv"])
    assert (done.code, done.err) == (0, "")
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode("utf-8"), newline="")))
    assert [row["name"] for row in rows] == [FIRST, SECOND, "total"]
    assert json.loads(rows[1]["inputs"]) == [FIRST, FIRST]
    assert rows[2]["model"] == MODEL_NAME
    assert rows[2]["receptive_field_layer"] == SECOND


@pytest.mark.parametrize(
    ("layer", "needle"),
    [
        (f'name = {toml_string(FIRST)}\nkind = "conv\\u001b[2J"\n', "kind 'conv\\x1b[2J'"),
        (
            f'name = {toml_string(FIRST)}\nkind = "add"\ninputs = ["x\\u001b[31m", "input"]\n',
            "no earlier layer is named 'x\\x1b[31m'",
        ),
        (
            f'name = {toml_string(FIRST)}\nkind = "conv"\nout_channels = 0\nkernel_size = 3\n',
            "layer 1 'conv" + "".join(ESCAPED),
        ),
    ],
    ids=["kind", "inputs", "name"],
)
def test_an_error_quotes_a_name_escaped_on_one_line(
    tmp_path: Path, layer: str, needle: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        "[model]\ninput = { size = 8, channels = 3 }\n\n[[layer]]\n" + layer, encoding="utf-8"
    )
    result = run("model", str(path))
    assert_usage_error(result, needle[:60])
    assert_shown_escaped(result.stderr[:-1])


def test_a_file_name_with_escapes_is_shown_escaped(tmp_path: Path) -> None:
    path = tmp_path / "m\x1b[2J\n.toml"
    result = run("model", str(path))
    assert_usage_error(result, "m\\x1b[2J\\n.toml")


@pytest.mark.parametrize("styled", [False, True], ids=["plain", "rich"])
def test_every_printed_table_line_is_escaped_whatever_the_view(
    styled: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The safety net under every view (a column added later that forgets to escape)."""
    from convcount import render

    monkeypatch.setattr(render, "_styled", lambda: styled)
    monkeypatch.setenv("FORCE_COLOR", "1")
    lines = [render.Line("name\x1b[2J\x07"), render.Line("plain", "bold:3")]
    render.print_view(lambda width: render.View(lines))
    out = capsys.readouterr().out
    assert_shown_escaped(out, styled=styled)
    assert "name\\x1b[2J\\x07" in SGR.sub("", out)


@pytest.mark.parametrize("columns", ["200", "40"])
def test_a_batch_label_is_shown_escaped_and_kept_in_json(tmp_path: Path, columns: str) -> None:
    row = {"layer": "conv", "kernel_size": 3, "in_channels": 3, "out_channels": 8, "name": FIRST}
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    table = run("batch", str(path), "--format", "table", env={"COLUMNS": columns})
    assert table.exit_code == 0, table.stderr
    assert_shown_escaped(table.stdout)
    assert "conv" + "".join(ESCAPED) + "end" in table.stdout
    assert json.loads(run("batch", str(path), "--json").stdout)["name"] == FIRST
