"""Fuzzing `convcount batch`: hostile JSON Lines and CSV rows.

For every generated input: no exception, exactly one output line per input
line that is not blank, in order (an error object or cell in place of a bad
row, carrying its line number), the same bytes and errors row by row and in
parallel blocks, and every message one printable line. Through the CLI: an
exit code from the table, nothing on stdout with exit 2.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcount.batch import BATCH_CSV_COLUMNS, RESULT_KEYS, RowError, is_label, run_batch
from convcount.errors import ConvcountError
from convcount.layers import FIELDS
from convcount.limits import MAX_ROW_BYTES

from .fuzzutil import run_cli

FUZZ = settings(
    max_examples=60,
    deadline=None,  # a shared CI machine: time is bounded by the example count
    derandomize=True,  # the same cases on every run, so CI is reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NAMES = [f for f in FIELDS if f != "kind"]
BOM = b"\xef\xbb\xbf"

scalar = st.one_of(
    st.integers(min_value=-3, max_value=64),
    st.integers(),
    st.sampled_from([2**64, 2**64 - 1, 10**100 - 1, 10**100, 10**400, -(2**70)]),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.sampled_from(
        ["3", "3x5", "3x3x3", "３", "٣", "", " ", "same", "valid", "torch", "true", "1" * 200]
    ),
    st.text(max_size=20),
)
json_value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner),
    max_leaves=12,
)
good_row = st.fixed_dictionaries(
    {
        "layer": st.sampled_from(["conv", "depthwise", "separable", "transpose"]),
        "kernel_size": st.sampled_from([1, 3, "3x5", [3, 3]]),
        "in_channels": st.integers(min_value=1, max_value=64),
    },
    optional={
        "out_channels": st.integers(min_value=1, max_value=64),
        "input_size": st.integers(min_value=1, max_value=64),
        "stride": st.integers(min_value=1, max_value=3),
        "convention": st.sampled_from(["keras", "torch"]),
    },
)
hostile_row = st.dictionaries(
    st.sampled_from(["layer", *NAMES]) | st.text(max_size=12), json_value, max_size=8
)
#: Lines that are not rows: broken JSON, deep nesting, binary, too long.
raw_line = st.one_of(
    st.binary(max_size=60),
    st.text(max_size=60).map(str.encode),
    st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=1, max_value=50).map(lambda n: b'{"layer": "conv", "k'[: n % 20]),
    st.integers(min_value=-2, max_value=2).map(lambda d: b"x" * (MAX_ROW_BYTES + d)),
    st.sampled_from([b"", b" ", b"\r", b"\t", BOM, b"{}", b"[]", b"null", b'"x"', b"1e999"]),
)
json_line = st.one_of(
    good_row.map(lambda r: json.dumps(r).encode()),
    hostile_row.map(lambda r: json.dumps(r).encode()),
    raw_line,
).map(lambda line: line.replace(b"\n", b" "))

csv_cell = st.one_of(
    st.sampled_from(["conv", "depthwise", "separable", "transpose", "3", "3x5", "10", "32", ""]),
    st.text(max_size=15),
    st.integers().map(str),
)


@st.composite
def csv_lines(draw: st.DrawFn) -> list[bytes]:
    header = draw(
        st.lists(
            st.sampled_from(["layer", *NAMES, "id", "name", "x_note"]) | st.text(max_size=8),
            max_size=8,
        ).map(lambda names: ["layer", *names])
    )
    rows = draw(st.lists(st.lists(csv_cell, max_size=10) | raw_line.map(lambda b: b), max_size=25))
    lines = [_csv(header)]
    for row in rows:
        lines.append(row if isinstance(row, bytes) else _csv(row))
    return [line.replace(b"\n", b" ") for line in lines]


def _csv(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue().encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-batch")


def expected_numbers(lines: list[bytes], skip_header: bool) -> list[int]:
    """Numbers of the lines that get an output line: every line that is not blank."""
    numbers = []
    seen_header = not skip_header
    for number, line in enumerate(lines, 1):
        content = line[len(BOM) :] if number == 1 and line.startswith(BOM) else line
        if not content.strip():
            continue
        if not seen_header:
            seen_header = True
            continue
        numbers.append(number)
    return numbers


def both_ways(data: bytes, workdir: Path, **options: Any) -> tuple[bytes, list[RowError]]:
    """Row by row and in parallel blocks (small ones: many blocks); asserts they agree."""
    serial_errors: list[RowError] = []
    out = io.BytesIO()
    run_batch(io.BytesIO(data), out=out, on_error=serial_errors.append, jobs=1, **options)
    parallel_errors: list[RowError] = []
    with (workdir / "out").open("w+b") as real:
        run_batch(
            io.BufferedReader(io.BytesIO(data)),
            out=real,
            on_error=parallel_errors.append,
            jobs=2,
            block_bytes=512,
            **options,
        )
        real.seek(0)
        parallel = real.read()
    assert parallel == out.getvalue()
    assert parallel_errors == serial_errors
    for error in serial_errors:
        assert error.message.isprintable() and "internal error" not in error.message, error
    return parallel, serial_errors


@FUZZ
@given(lines=st.lists(json_line, max_size=30))
def test_json_lines_one_output_line_per_line_in_order(lines: list[bytes], workdir: Path) -> None:
    data = b"\n".join(lines) + b"\n"
    text, errors = both_ways(data, workdir, input_format="jsonl", output_format="jsonl")
    numbers = expected_numbers(lines, skip_header=False)
    out = text.splitlines()
    assert len(out) == len(numbers)
    error_lines = []
    for number, line in zip(numbers, out, strict=True):
        record = json.loads(line)
        if "error" in record:
            assert record["line"] == number
            error_lines.append(number)
        else:
            assert record["total"] >= 1
    assert [e.line for e in errors] == error_lines


@FUZZ
@given(lines=csv_lines(), output_format=st.sampled_from(["jsonl", "csv"]))
def test_csv_one_output_line_per_line_in_order(
    lines: list[bytes], output_format: str, workdir: Path
) -> None:
    data = b"\n".join(lines) + b"\n"
    header = next(csv.reader([lines[0].decode("utf-8", "replace")]))
    known = {*FIELDS, "layer", *RESULT_KEYS}
    unknown = [h.strip() for h in header if h.strip() not in known and not is_label(h.strip())]
    if unknown:  # refused once, at the header, before any row
        with pytest.raises(ConvcountError, match="the CSV header has"):
            both_ways(data, workdir, input_format="csv", output_format=output_format)
        return
    text, errors = both_ways(data, workdir, input_format="csv", output_format=output_format)
    numbers = expected_numbers(lines, skip_header=True)
    out = text.splitlines()
    labels = [h.strip() for h in header if is_label(h.strip())]
    if output_format == "csv":
        assert out[0].decode() == ",".join([*BATCH_CSV_COLUMNS, *labels])
        cells = list(csv.reader(io.StringIO(text.decode())))[1:]
        assert len(out) == len(numbers) + 1 == len(cells) + 1  # no cell spans lines
        error = len(BATCH_CSV_COLUMNS) - 1
        failed = [n for n, row in zip(numbers, cells, strict=True) if row[error]]
        for n, row in zip(numbers, cells, strict=True):
            assert not row[error] or row[error].startswith(f"line {n}: ")
    else:
        assert len(out) == len(numbers)
        failed = [n for n, line in zip(numbers, out, strict=True) if "error" in json.loads(line)]
    assert [e.line for e in errors] == failed


@settings(FUZZ, max_examples=40)
@given(
    lines=st.lists(json_line, max_size=12), output_format=st.sampled_from(["jsonl", "csv", "table"])
)
def test_the_batch_command_ends_with_an_exit_code_from_the_table(
    lines: list[bytes], output_format: str, workdir: Path
) -> None:
    path = workdir / "rows"
    path.write_bytes(b"\n".join(lines))
    result = run_cli(["batch", str(path), "--format", output_format])  # time and memory budget
    assert result.code in (0, 1, 2)
    assert "Traceback" not in result.err and "internal error" not in result.err
    if result.code == 2:  # sniffed as CSV, without a layer column
        assert result.stdout == b"" and result.err.count("\n") == 1
    for message in result.err.splitlines():
        assert message.startswith("convcount: ") and message.isprintable()
