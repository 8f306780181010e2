"""`convcount batch`: formats, round trips, bad rows, pipes and parallel chunks."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import convcount
from convcount.batch import BATCH_CSV_COLUMNS, PARALLEL_MIN_BYTES
from convcount.records import to_record

from .conftest import assert_usage_error, run

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
    },
    {
        "layer": "depthwise",
        "kernel_size": [3, 3, 3],
        "in_channels": 4,
        "depth_multiplier": 2,
        "bias": False,
    },
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


def expected_record(row: dict[str, object]) -> dict[str, Any]:
    fields = {k: v for k, v in row.items() if k != "layer"}
    record = to_record(convcount.count(convcount.make_layer(str(row["layer"]), **fields)))
    return json.loads(json.dumps(record))  # as JSON: tuples become lists


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_rows_give_the_single_layer_json_objects(tmp_path: Path) -> None:
    result = run("batch", str(write_jsonl(tmp_path / "in.jsonl", ROWS)), "--format", "jsonl")
    assert result.exit_code == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert [json.loads(line) for line in lines] == [expected_record(r) for r in ROWS]
    single = json.loads(run("separable", "-k", "3", "-i", "10", "-o", "32", "--json").stdout)
    assert json.loads(lines[0]) == single


def test_jsonl_is_the_default_when_stdout_is_not_a_terminal(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", ROWS)
    assert run("batch", str(path)).stdout == run("batch", str(path), "--format", "jsonl").stdout


def test_csv_input_with_defaults_for_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "layer,kernel_size,in_channels,out_channels,depth_multiplier,bias,input_size,convention\n"
        "separable,3,10,32,,,,\n"
        "conv,3x3,10,32,,false,16,torch\n"
        "depthwise,5,8,,3,,,\n",
        encoding="utf-8",
    )
    result = run("batch", str(path), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    totals = [json.loads(line)["total"] for line in result.stdout.splitlines()]
    assert totals == [
        442,
        convcount.conv(kernel_size=3, in_channels=10, out_channels=32, bias=False).total,
        convcount.depthwise(kernel_size=5, in_channels=8, depth_multiplier=3).total,
    ]


def test_jsonl_round_trip(tmp_path: Path) -> None:
    first = run("batch", str(write_jsonl(tmp_path / "in.jsonl", ROWS)), "--format", "jsonl").stdout
    (tmp_path / "out.jsonl").write_text(first, encoding="utf-8")
    again = run("batch", str(tmp_path / "out.jsonl"), "--format", "jsonl")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == first


def test_csv_round_trip(tmp_path: Path) -> None:
    first = run("batch", str(write_jsonl(tmp_path / "in.jsonl", ROWS)), "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(first)))
    assert list(rows[0]) == list(BATCH_CSV_COLUMNS)
    assert [int(r["total"]) for r in rows] == [expected_record(r)["total"] for r in ROWS]
    (tmp_path / "out.csv").write_text(first, encoding="utf-8")
    again = run("batch", str(tmp_path / "out.csv"), "--format", "csv")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == first


def test_table_format(tmp_path: Path) -> None:
    result = run("batch", str(write_jsonl(tmp_path / "in.jsonl", ROWS)), "--format", "table")
    assert result.exit_code == 0
    assert "442" in result.stdout and "separable" in result.stdout


def test_a_bad_row_is_reported_and_the_others_go_on(tmp_path: Path) -> None:
    rows: list[object] = [
        *ROWS,
        {"layer": "conv", "kernel_size": 3, "in_channels": 10, "out_channels": 32, "groups": 3},
        *ROWS,
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{not json\n", encoding="utf-8")
    result = run("batch", str(path), "--format", "jsonl")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "convcount: line 5: groups 3 must divide in_channels 10",
        "convcount: line 10: not valid JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
    ]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 10
    assert lines[4] == {"line": 5, "error": "groups 3 must divide in_channels 10"}
    assert lines[5] == expected_record(ROWS[0])


def test_fail_fast_stops_at_the_first_bad_row(tmp_path: Path) -> None:
    rows = [ROWS[0], {"layer": "pool", "kernel_size": 3, "in_channels": 1}, ROWS[1]]
    result = run(
        "batch", str(write_jsonl(tmp_path / "in.jsonl", rows)), "--format", "jsonl", "--fail-fast"
    )
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2  # the good row and the error object
    assert (
        result.stderr
        == "convcount: line 2: layer must be one of conv, depthwise, separable, transpose, "
        "got 'pool'\n"
    )


def test_row_errors_use_the_single_layer_words(tmp_path: Path) -> None:
    row = {"layer": "depthwise", "kernel_size": 3, "in_channels": 10, "out_channels": 7}
    batch = run("batch", str(write_jsonl(tmp_path / "in.jsonl", [row])), "--format", "jsonl")
    with pytest.raises(convcount.ConvcountError) as info:
        convcount.make_layer("depthwise", kernel_size=3, in_channels=10, out_channels=7)
    # The same rule, in the row's words: its fields, not the command line's flags.
    assert batch.stderr == f"convcount: line 1: {info.value.spelled('field')}\n"
    assert "out_channels does not apply to depthwise" in batch.stderr
    assert "--" not in batch.stderr
    missing = run(
        "batch", str(write_jsonl(tmp_path / "m.jsonl", [{"kernel_size": 3}])), "--format", "jsonl"
    )
    assert "line 1: layer is required" in missing.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("batch", "/no/such/file.jsonl"), "FILE '/no/such/file.jsonl' is missing"),
        (("batch", "/"), "FILE '/' cannot be read"),
        (
            ("batch", "-", "--format", "xml"),
            "--format must be one of table, json, jsonl, csv, plain",
        ),
        (("batch", "-", "--input-format", "yaml"), "--input-format must be one of jsonl, csv"),
        (("batch", "-", "--jobs", "0"), "--jobs must be a positive integer"),
    ],
)
def test_bad_batch_options(args: tuple[str, ...], needle: str) -> None:
    assert_usage_error(run(*args), needle)


def test_csv_without_a_layer_column(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("kernel_size,in_channels\n3,4\n", encoding="utf-8")
    assert_usage_error(run("batch", str(path)), "header row with a 'layer' column")


# --- large files: parallel chunks, streaming, pipes --------------------------------


def random_rows(count: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for _ in range(count):
        kind = rng.choice(["conv", "depthwise", "separable", "transpose"])
        row: dict[str, object] = {
            "layer": kind,
            "kernel_size": rng.choice([1, 3, 5]),
            "in_channels": rng.choice([8, 16, 24]),
        }
        if kind != "depthwise":
            row["out_channels"] = rng.choice([8, 32, 48])
        if rng.random() < 0.5:
            row["input_size"] = rng.choice([14, 28, 56])
            row["stride"] = rng.choice([1, 2])
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = random_rows(12_000, 1)
    rows[6000] = {
        "layer": "conv",
        "kernel_size": 3,
        "in_channels": 10,
        "out_channels": 32,
        "groups": 4,
    }
    path = write_jsonl(tmp_path_factory.mktemp("big") / "big.jsonl", rows)
    assert path.stat().st_size > PARALLEL_MIN_BYTES
    return path


def _convcount(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "convcount", *args],
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


def test_parallel_chunks_match_one_process_row_for_row(big_file: Path) -> None:
    parallel = _convcount("batch", str(big_file), "--jobs", "2")
    serial = _convcount("batch", str(big_file), "--jobs", "1")
    assert parallel.returncode == serial.returncode == 1
    assert parallel.stdout == serial.stdout
    assert (
        parallel.stderr
        == serial.stderr
        == "convcount: line 6001: groups 4 must divide in_channels 10\n"
    )
    lines = parallel.stdout.splitlines()
    assert len(lines) == 12_000
    assert json.loads(lines[6000])["line"] == 6001
    assert json.loads(lines[5999])["total"] > 0  # no progress bar or anything else on stdout


def test_stdin_pipe_is_sniffed_and_streamed(big_file: Path) -> None:
    text = "".join(big_file.read_text(encoding="utf-8").splitlines(keepends=True)[:50])
    done = _convcount("batch", "-", input=text)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 50


def test_a_closed_pipe_stops_quietly_with_141(big_file: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "convcount", "batch", str(big_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()  # like `| head -1`
        stderr = process.stderr.read()
        code = process.wait(timeout=60)
    assert json.loads(first)["layer"]
    assert stderr == ""  # quiet, like `yes | head -1`
    assert code == 141


def test_a_row_is_written_as_soon_as_it_is_counted() -> None:
    """With a pipe in, each result comes out before the next row goes in."""
    with subprocess.Popen(
        [sys.executable, "-m", "convcount", "batch", "-", "--input-format", "jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        for row in ROWS[:2]:
            process.stdin.write(json.dumps(row) + "\n")
            process.stdin.flush()
            assert json.loads(process.stdout.readline())["total"] == expected_record(row)["total"]
        process.stdin.close()
        assert process.wait(timeout=30) == 0


def test_a_progress_display_only_when_stderr_is_a_terminal(big_file: Path, tmp_path: Path) -> None:
    import os
    import pty

    leader, follower = pty.openpty()
    with (tmp_path / "out.jsonl").open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-m", "convcount", "batch", str(big_file)],
            stdout=out,
            stderr=follower,
            check=False,
        )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert done.returncode == 1  # the bad row of big_file
    assert b"layers" in seen  # the progress display's counter
    assert (tmp_path / "out.jsonl").read_bytes().count(b"\n") == 12_000
