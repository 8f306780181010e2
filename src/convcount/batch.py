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
from convcount.layers import FIELDS, layer_from_fields
from convcount.records import CSV_COLUMNS, to_csv_row, to_record

INPUT_FORMATS = ("jsonl", "csv")
OUTPUT_FORMATS = ("jsonl", "csv", "table", "plain")
#: Columns of batch CSV output: the single-layer CSV columns and the row's error.
BATCH_CSV_COLUMNS = (*CSV_COLUMNS, "error")
#: Keys of an output record that are results, not inputs: a batch reads the
#: objects and rows it writes, and these are skipped.
RESULT_KEYS = frozenset({*CSV_COLUMNS, "terms", "error", "line"} - {*FIELDS, "layer"})
BLOCK_BYTES = 1 << 18
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
    if RESULT_KEYS.isdisjoint(row):
        fields = dict(row)
        del fields["layer"]
    else:  # an output record read back in: skip its results
        fields = {k: v for k, v in row.items() if k != "layer" and k not in RESULT_KEYS}
    return count(layer_from_fields(kind, fields))


# ---------------------------------------------------------------------------
# JSON: orjson when installed (a dependency; ten times faster on these records),
# the standard library otherwise. Both give the same bytes for these records.

try:
    import orjson

    def _loads(data: bytes) -> Any:
        return orjson.loads(data)

    def _dumps(value: object) -> bytes:
        try:
            return orjson.dumps(value)
        except TypeError:  # an integer beyond 64 bits: exact, so the slow way
            return _ENCODER.encode(value).encode()

except ImportError:  # pragma: no cover - orjson is a dependency

    def _loads(data: bytes) -> Any:
        return json.loads(data)

    def _dumps(value: object) -> bytes:
        return _ENCODER.encode(value).encode()


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------
# Rows in (lines are bytes: UTF-8 is decoded only where a value needs it)


def jsonl_rows(
    lines: Iterable[tuple[int, bytes]],
) -> Iterator[tuple[int, Mapping[str, object] | RowError]]:
    """(line number, object or error) for each non-blank line."""
    for number, data in lines:
        try:
            value = _loads(data)
        except ValueError:
            if not data.strip():
                continue
            try:  # the standard library's message, whichever parser failed
                json.loads(data)
                message = "not valid JSON"
            except ValueError as error:
                message = f"not valid JSON ({error})"
            yield number, RowError(number, message)
            continue
        if type(value) is not dict:
            yield number, RowError(number, "expected a JSON object with the layer's fields")
            continue
        yield number, value


def csv_rows(
    lines: Iterable[tuple[int, bytes]], header: list[str]
) -> Iterator[tuple[int, Mapping[str, object] | RowError]]:
    """(line number, record or error) for each data line, given the header."""
    for number, data in lines:
        if not data.strip():
            continue
        cells = next(csv.reader([data.decode("utf-8", errors="replace")]))
        if len(cells) > len(header):
            yield (
                number,
                RowError(number, f"has {len(cells)} cells but the header has {len(header)}"),
            )
            continue
        yield number, dict(zip(header, cells, strict=False))


# ---------------------------------------------------------------------------
# Rows out (bytes)


def _jsonl_out(report: Any) -> bytes:
    return _dumps(to_record(report)) + b"\n"


def _jsonl_error(error: RowError) -> bytes:
    return _dumps({"line": error.line, "error": error.message}) + b"\n"


def _csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue().encode()


def _csv_out(report: Any) -> bytes:
    return _csv_line([*to_csv_row(report), ""])


def _csv_error(error: RowError) -> bytes:
    return _csv_line([""] * len(CSV_COLUMNS) + [f"line {error.line}: {error.message}"])


def _plain_out(report: Any) -> bytes:
    return b"%d\n" % report.total


def _plain_error(error: RowError) -> bytes:
    return b"\n"  # a bad row keeps its place: output line N is still input row N


WRITERS: dict[str, tuple[Callable[[Any], bytes], Callable[[RowError], bytes]]] = {
    "jsonl": (_jsonl_out, _jsonl_error),
    "csv": (_csv_out, _csv_error),
    "plain": (_plain_out, _plain_error),
}


def results(
    chunk: Iterable[tuple[int, bytes]], input_format: str, header: list[str] | None
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
            yield number, RowError(number, error.spelled("field"))


def count_chunk(
    chunk: list[tuple[int, bytes]], input_format: str, output_format: str, header: list[str] | None
) -> tuple[bytes, list[RowError]]:
    """Count a chunk of raw lines: (output bytes, errors in order).

    Runs in a worker process for large files; pure apart from its result.
    """
    write, write_error = WRITERS[output_format]
    out: list[bytes] = []
    errors: list[RowError] = []
    if input_format == "jsonl":
        # The hot loop of large batches, without the generators of results().
        loads = _loads
        for number, data in chunk:
            try:
                row = loads(data)
                if type(row) is dict:
                    out.append(write(report_from_row(row)))
                    continue
            except (ValueError, ConvcountError):
                pass
            for _, result in results(((number, data),), input_format, header):
                errors.append(result)  # the slow path says what was wrong
                out.append(write_error(result))
        return b"".join(out), errors
    for _, result in results(chunk, input_format, header):
        if isinstance(result, RowError):
            errors.append(result)
            out.append(write_error(result))
        else:
            out.append(write(result))
    return b"".join(out), errors


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


def _numbered(stream: IO[bytes], first: int) -> Iterator[tuple[int, bytes]]:
    return enumerate(stream, first)


def read_header(
    stream: IO[bytes], input_format: str
) -> tuple[list[str] | None, Iterator[tuple[int, bytes]]]:
    """The CSV header (None for JSON Lines) and the numbered lines after it."""
    if input_format != "csv":
        return None, _numbered(stream, 1)
    header_line = stream.readline().decode("utf-8-sig", errors="replace")
    header = [h.strip() for h in next(csv.reader([header_line]), [])] if header_line.strip() else []
    if "layer" not in header:
        raise ConvcountError("input", "the CSV input needs a header row with a 'layer' column")
    return header, _numbered(stream, 2)


def run_batch(
    stream: IO[bytes],
    *,
    input_format: str,
    output_format: str,
    out: IO[bytes],
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

    def finish(errors: list[RowError], rows: int) -> bool:
        """Account for written rows; False once --fail-fast should stop the run."""
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

    if jobs > 1 and not _has_fileno(out):
        jobs = 1  # workers write to the output's file descriptor; this one has none
    if jobs <= 1 or fail_fast:
        # In-process, row by row: each result leaves as soon as it is counted.
        for number, line in lines:
            if not line.strip():
                continue
            text, errors = count_chunk([(number, line)], input_format, output_format, header)
            out.write(text)
            out.flush()
            if not finish(errors, 1):
                break
        return result

    # Parallel: the main process only cuts the input into numbered blocks of
    # whole lines (counting newlines at C speed); each worker counts a block
    # and, when its turn comes, writes it to the output itself, so results
    # never travel back through the main process.
    import multiprocessing

    out.flush()
    first = 1 if header is None else 2
    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    turn = context.Value("q", 0, lock=False)
    condition = context.Condition()
    writer = (out.fileno(), turn, condition)
    with context.Pool(jobs, initializer=_init_writer, initargs=writer) as pool:
        pending: deque[Any] = deque()
        number = 0
        while True:
            block = stream.read(BLOCK_BYTES)
            if not block:
                break
            if not block.endswith(b"\n"):
                block += stream.readline()
            task = (number, block, first, input_format, output_format, header)
            pending.append(pool.apply_async(count_and_write_block, task))
            number += 1
            first += block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
            # A bounded window of blocks in flight keeps memory flat.
            if len(pending) >= 2 * jobs and not finish(*pending.popleft().get()):
                break
        while pending and finish(*pending.popleft().get()):
            pass
    return result


def _has_fileno(out: IO[bytes]) -> bool:
    try:
        out.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return False
    return True


_WRITER: tuple[int, Any, Any] | None = None


def _init_writer(fd: int, turn: Any, condition: Any) -> None:
    global _WRITER  # noqa: PLW0603  # per worker process, set once by the pool
    _WRITER = (fd, turn, condition)


def count_and_write_block(
    number: int,
    block: bytes,
    first: int,
    input_format: str,
    output_format: str,
    header: list[str] | None,
) -> tuple[list[RowError], int]:
    """In a worker: count block ``number`` and write it in order; (errors, rows)."""
    assert _WRITER is not None
    fd, turn, condition = _WRITER
    text, errors, rows = count_block(block, first, input_format, output_format, header)
    with condition:
        while turn.value != number:
            condition.wait()
        view = memoryview(text)
        while view:
            view = view[os.write(fd, view) :]
        turn.value = number + 1
        condition.notify_all()
    return errors, rows


def count_block(
    block: bytes, first: int, input_format: str, output_format: str, header: list[str] | None
) -> tuple[bytes, list[RowError], int]:
    """Count a block of whole lines starting at line ``first``: (bytes, errors, rows)."""
    lines = block.split(b"\n")
    if not lines[-1]:
        lines.pop()
    text, errors = count_chunk(list(enumerate(lines, first)), input_format, output_format, header)
    return text, errors, sum(1 for line in lines if line.strip())


def default_jobs() -> int:
    """Worker processes for a large file: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
