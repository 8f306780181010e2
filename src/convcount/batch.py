"""Many layers at once: JSON Lines or CSV in, JSON Lines, CSV or a table out.

Streaming: rows are read, counted and written in order, and memory stays flat
for any input length. A bad row never loses the others: its error goes to
stderr with its line number (and, in JSON Lines output, into an
``{"line": N, "error": "..."}`` object in its place) and the rest go on.

Large regular files are split into chunks counted by worker processes (one per
core); the main process reads and writes, keeping a bounded number of chunks in
flight. Small files and pipes are counted in-process, row by row.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from convcount.counting import count
from convcount.errors import ConvcountError
from convcount.layers import make_layer
from convcount.records import CSV_COLUMNS, to_csv_row, to_record

INPUT_FORMATS = ("jsonl", "csv")
OUTPUT_FORMATS = ("jsonl", "csv", "table")
#: Columns of batch CSV output: the single-layer CSV columns and the row's error.
BATCH_CSV_COLUMNS = (*CSV_COLUMNS, "error")
#: Keys of an output record that are results, not inputs: a batch reads the
#: objects and rows it writes, and these are skipped.
RESULT_KEYS = frozenset(
    {
        *(c for c in CSV_COLUMNS if c.startswith("params_")),
        "terms",
        "total",
        "output_size",
        "output_shape",
        "macs",
        "flops",
        "bias_adds",
        "param_bytes",
        "output_elements",
        "output_bytes",
        "keras",
        "torch",
        "notes",
        "error",
        "line",
    }
)
CHUNK_ROWS = 2000
PARALLEL_MIN_BYTES = 1 << 20


@dataclass(frozen=True)
class RowError:
    """A row that could not be counted."""

    line: int
    """Line number in the input (1 is the first line, a CSV header included)."""
    message: str
    """The same sentence the single-layer command would print."""


def report_from_row(row: Mapping[str, object]) -> Any:
    """Count one input row (a JSON object or a CSV record)."""
    kind = row.get("layer")
    if kind is None or kind == "":
        raise ConvcountError("layer", "layer is required: conv, depthwise, separable or transpose")
    fields = {k: v for k, v in row.items() if k != "layer" and k not in RESULT_KEYS}
    return count(make_layer(str(kind), **fields))


# ---------------------------------------------------------------------------
# Rows in


def jsonl_rows(
    lines: Iterable[tuple[int, str]],
) -> Iterator[tuple[int, Mapping[str, object] | RowError]]:
    """(line number, object or error) for each non-blank line."""
    for number, text in lines:
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as error:
            yield number, RowError(number, f"not valid JSON ({error})")
            continue
        if not isinstance(value, dict):
            yield number, RowError(number, "expected a JSON object with the layer's fields")
            continue
        yield number, value


def csv_rows(
    lines: Iterable[tuple[int, str]], header: list[str]
) -> Iterator[tuple[int, Mapping[str, object] | RowError]]:
    """(line number, record or error) for each data line, given the header."""
    for number, text in lines:
        if not text.strip():
            continue
        cells = next(csv.reader([text]))
        if len(cells) > len(header):
            yield (
                number,
                RowError(number, f"has {len(cells)} cells but the header has {len(header)}"),
            )
            continue
        yield number, dict(zip(header, cells, strict=False))


# ---------------------------------------------------------------------------
# Rows out


def _jsonl_out(report: Any) -> str:
    return json.dumps(to_record(report), ensure_ascii=False, separators=(",", ":")) + "\n"


def _jsonl_error(error: RowError) -> str:
    return json.dumps({"line": error.line, "error": error.message}, ensure_ascii=False) + "\n"


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def _csv_out(report: Any) -> str:
    return _csv_line([*to_csv_row(report), ""])


def _csv_error(error: RowError) -> str:
    return _csv_line([""] * len(CSV_COLUMNS) + [f"line {error.line}: {error.message}"])


WRITERS: dict[str, tuple[Callable[[Any], str], Callable[[RowError], str]]] = {
    "jsonl": (_jsonl_out, _jsonl_error),
    "csv": (_csv_out, _csv_error),
}


def results(
    chunk: Iterable[tuple[int, str]], input_format: str, header: list[str] | None
) -> Iterator[tuple[int, Any]]:
    """(line number, Report or RowError) for each non-blank line of a chunk."""
    rows = jsonl_rows(chunk) if input_format == "jsonl" else csv_rows(chunk, header or [])
    for number, row in rows:
        if isinstance(row, RowError):
            yield number, row
            continue
        try:
            yield number, report_from_row(row)
        except ConvcountError as error:
            yield number, RowError(number, str(error))


def count_chunk(
    chunk: list[tuple[int, str]], input_format: str, output_format: str, header: list[str] | None
) -> tuple[str, list[RowError]]:
    """Count a chunk of raw lines: (output text, errors in order).

    Runs in a worker process for large files; pure apart from its result.
    """
    write, write_error = WRITERS[output_format]
    out: list[str] = []
    errors: list[RowError] = []
    for _, result in results(chunk, input_format, header):
        if isinstance(result, RowError):
            errors.append(result)
            out.append(write_error(result))
        else:
            out.append(write(result))
    return "".join(out), errors


# ---------------------------------------------------------------------------
# The driver


@dataclass
class BatchResult:
    """How a batch run went."""

    rows: int = 0
    """Rows counted or refused."""
    failed: int = 0
    """Rows refused."""
    stopped: bool = False
    """Whether --fail-fast stopped the run early."""


def _numbered(stream: IO[str], first: int) -> Iterator[tuple[int, str]]:
    for offset, line in enumerate(stream):
        yield first + offset, line


def read_header(
    stream: IO[str], input_format: str
) -> tuple[list[str] | None, Iterator[tuple[int, str]]]:
    """The CSV header (None for JSON Lines) and the numbered lines after it."""
    if input_format != "csv":
        return None, _numbered(stream, 1)
    header_line = stream.readline()
    header = [h.strip() for h in next(csv.reader([header_line]), [])] if header_line.strip() else []
    if "layer" not in header:
        raise ConvcountError("input", "the CSV input needs a header row with a 'layer' column")
    return header, _numbered(stream, 2)


def _chunks(lines: Iterator[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for item in lines:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_batch(
    stream: IO[str],
    *,
    input_format: str,
    output_format: str,
    out: IO[str],
    on_error: Callable[[RowError], None],
    fail_fast: bool = False,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Count every row of ``stream`` and write the results to ``out`` in order.

    ``jobs`` > 1 counts chunks in that many worker processes (use it for large
    regular files); ``progress`` is called with the number of rows done.
    """
    header, lines = read_header(stream, input_format)
    if output_format == "csv":
        out.write(_csv_line(list(BATCH_CSV_COLUMNS)))
    result = BatchResult()
    size = CHUNK_ROWS if jobs > 1 and not fail_fast else 1

    def finish(text: str, errors: list[RowError], rows: int) -> bool:
        out.write(text)
        if size == 1:
            out.flush()  # row by row: each result leaves as soon as it is counted
        result.rows += rows
        for error in errors:
            on_error(error)
        result.failed += len(errors)
        if progress is not None:
            progress(result.rows)
        if errors and fail_fast:
            result.stopped = True
            return False
        return True

    if jobs <= 1 or fail_fast:
        for chunk in _chunks(lines, size):
            text, errors = count_chunk(chunk, input_format, output_format, header)
            if not finish(text, errors, sum(1 for _, t in chunk if t.strip())):
                break
        return result

    import multiprocessing

    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    with context.Pool(jobs) as pool:
        pending: deque[tuple[Any, int]] = deque()
        for chunk in _chunks(lines, size):
            rows = sum(1 for _, t in chunk if t.strip())
            pending.append(
                (pool.apply_async(count_chunk, (chunk, input_format, output_format, header)), rows)
            )
            # A bounded window of chunks in flight keeps memory flat.
            if len(pending) >= 2 * jobs and not _drain(pending, finish):
                break
        while pending and _drain(pending, finish):
            pass
    return result


def _drain(
    pending: deque[tuple[Any, int]], finish: Callable[[str, list[RowError], int], bool]
) -> bool:
    """Write the oldest chunk in flight; False once the run should stop."""
    task, rows = pending.popleft()
    text, errors = task.get()
    return finish(text, errors, rows)


def default_jobs() -> int:
    """Worker processes for a large file: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
