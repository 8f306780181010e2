"""Many layers at once: JSON Lines or CSV in, JSON Lines, CSV or a table out.

Streaming: rows are read, counted and written in order, and memory stays flat
for any input, one endless line included: a line is read up to
:data:`~convcount.limits.MAX_ROW_BYTES` and the rest of a longer one is read
past without being kept. A row that cannot be read, parsed or counted never
loses the others: its error goes to stderr with its line number and into an
``{"line": N, "error": "..."}`` object (a CSV ``error`` cell) in its place,
and the rest go on.

Large regular files are split into blocks of whole lines counted by worker
processes (one per core); each worker writes its block to the output when its
turn comes. Small files and pipes are counted in-process, row by row. Both
paths answer every line with the same bytes, error messages included.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from convcount.counting import Report, count
from convcount.errors import ConvcountError, InputReadError, clip, printable
from convcount.layers import FIELDS, layer_from_fields
from convcount.limits import MAX_DIGITS, MAX_JOBS_PER_CORE, MAX_ROW_BYTES
from convcount.output import held_interrupts, masked_interrupts
from convcount.records import CSV_COLUMNS, to_csv_row, to_record

INPUT_FORMATS = ("jsonl", "csv")
OUTPUT_FORMATS = ("jsonl", "csv", "table", "plain")
#: Columns of batch CSV output: the single-layer CSV columns and the row's error.
BATCH_CSV_COLUMNS = (*CSV_COLUMNS, "error")
#: Keys of an output record that are results, not inputs: a batch reads the
#: objects and rows it writes, and these are skipped.
RESULT_KEYS = frozenset({*CSV_COLUMNS, "terms", "error", "line"} - {*FIELDS, "layer"})
#: Fields that label a row: written back with its answer, untouched (JSON Lines:
#: first in the object; CSV: columns after ``error``; table: a label column).
LABEL_KEYS = frozenset({"id", "name"})
#: Any field whose name starts with this is a label too (``x_note``, ``x_source``).
LABEL_PREFIX = "x_"


def is_label(key: str) -> bool:
    """Whether a row's field is a label (:data:`LABEL_KEYS` or :data:`LABEL_PREFIX`)."""
    return key in LABEL_KEYS or key.startswith(LABEL_PREFIX)


def labels_of(row: Mapping[str, object]) -> dict[str, object] | None:
    """The row's labels, in its order (None when it has none)."""
    found = None
    for key in row:
        if key in LABEL_KEYS or key.startswith(LABEL_PREFIX):
            if found is None:
                found = {}
            found[key] = row[key]
    return found


#: Every column a CSV input may have besides labels: fields, and an output's results.
_KNOWN_COLUMNS = frozenset({*FIELDS, "layer", *RESULT_KEYS})
JSON_ARRAY = (
    "the input is a JSON array; convcount batch reads JSON Lines, one object per line "
    "(jq -c '.[]' FILE | convcount batch turns one into the other)"
)
BLOCK_BYTES = 1 << 18
PARALLEL_MIN_BYTES = 1 << 20
_BOM = b"\xef\xbb\xbf"
#: The longest line the readers return: a row, its line ending and one byte
#: more, which marks it as too long.
_READ_LIMIT = MAX_ROW_BYTES + 2
_SKIP_BYTES = 1 << 20
#: The most bytes a write to a pipe is sure to make whole (PIPE_BUF on Linux).
_ATOMIC_BYTES = 4096


@dataclass(frozen=True)
class RowError:
    """A row that could not be counted."""

    line: int
    """Line number in the input (1 is the first line, a CSV header included)."""
    message: str
    """The same sentence the single-layer command would print."""


def report_from_row(
    row: Mapping[str, object], labels: Mapping[str, object] | None = None
) -> Report:
    """Count one input row (a JSON object or a CSV record); ``labels`` are left out."""
    kind = row.get("layer")
    if kind is None or kind == "":
        raise ConvcountError("layer", "layer is required: conv, depthwise, separable or transpose")
    if RESULT_KEYS.isdisjoint(row) and not labels:
        fields = dict(row)
        del fields["layer"]
    else:  # labels, or an output record read back in: skip its results
        fields = {
            k: v
            for k, v in row.items()
            if k != "layer" and k not in RESULT_KEYS and not (labels and k in labels)
        }
    return count(layer_from_fields(kind, fields))


# ---------------------------------------------------------------------------
# JSON: orjson (a dependency; ten times faster on these records) for the rows
# that count; the standard library says what is wrong with the others, and
# reads integers of any size exactly (orjson turns those past 64 bits into floats).

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


def _json_int(literal: str) -> int | str:
    # An integer too long for the rules is kept as its text, so that it gets the
    # same refusal as the same digits typed on the command line.
    return literal if len(literal) > MAX_DIGITS + 1 else int(literal)


def _parse_json(data: bytes) -> Mapping[str, object] | str:
    """The row's object, or why it is not one (the standard library's words)."""
    try:
        value = json.loads(data.decode("utf-8"), parse_int=_json_int)
    except UnicodeDecodeError as error:
        return f"not valid JSON (not UTF-8: {error.reason} at byte {error.start})"
    except RecursionError:
        return "not valid JSON (nested too deeply)"
    except ValueError as error:
        return f"not valid JSON ({error})"
    if type(value) is not dict:
        return "expected a JSON object with the layer's fields"
    return value


def _parse_csv(data: bytes, header: list[str]) -> Mapping[str, object] | str:
    try:
        cells = next(csv.reader([data.decode("utf-8", errors="replace")]), [])
    except csv.Error as error:
        return f"not valid CSV ({error})"
    if len(cells) > len(header):
        return f"has {len(cells)} cells but the header has {len(header)}"
    return dict(zip(header, cells, strict=False))


# ---------------------------------------------------------------------------
# One row: its answer or its error, never an exception


def answer(
    number: int, data: bytes, input_format: str, header: list[str] | None
) -> Report | RowError | None:
    """Count the line ``data`` (without its line ending); None for a blank line.

    Whatever goes wrong is that row's :class:`RowError`, never an exception.
    """
    result = labelled_answer(number, data, input_format, header)
    return None if result is None else result[0]


def labelled_answer(
    number: int, data: bytes, input_format: str, header: list[str] | None
) -> tuple[Report | RowError, dict[str, object] | None] | None:
    """:func:`answer` and the row's labels (None when it has none or was not read)."""
    if not data.strip():
        return None
    if len(data) > MAX_ROW_BYTES:
        too_long = f"the line is longer than {MAX_ROW_BYTES:,} bytes (the limit)"
        return RowError(number, too_long), None
    labels = None
    try:
        row = _parse_json(data) if input_format == "jsonl" else _parse_csv(data, header or [])
        if isinstance(row, str):
            return RowError(number, row), None
        labels = labels_of(row)
        return report_from_row(row, labels), labels
    except ConvcountError as error:
        return RowError(number, error.spelled("field")), labels
    except Exception as error:  # the promise: one bad row never takes the batch down
        return RowError(number, _internal(error)), labels


def _internal(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:  # a message that cannot be built either
        text = ""
    return printable(clip(f"internal error, please report it: {type(error).__name__}: {text}", 300))


# ---------------------------------------------------------------------------
# Rows out (bytes)


Labels = Mapping[str, object] | None


def _jsonl_out(report: Report, labels: Labels, columns: tuple[str, ...]) -> bytes:
    if labels:
        return _dumps({**labels, **to_record(report)}) + b"\n"
    return _dumps(to_record(report)) + b"\n"


def _jsonl_error(error: RowError, labels: Labels, columns: tuple[str, ...]) -> bytes:
    if labels:
        return _dumps({"line": error.line, **labels, "error": error.message}) + b"\n"
    return _dumps({"line": error.line, "error": error.message}) + b"\n"


def _csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue().encode()


def label_cell(value: object) -> str:
    """A label as CSV text: text as it is, other JSON values as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return _ENCODER.encode(value)


def _label_cells(labels: Labels, columns: tuple[str, ...]) -> list[str]:
    if not labels:
        return [""] * len(columns)
    return [label_cell(labels.get(c)) for c in columns]


def _csv_out(report: Report, labels: Labels, columns: tuple[str, ...]) -> bytes:
    if columns:
        return _csv_line([*to_csv_row(report), "", *_label_cells(labels, columns)])
    return _csv_line([*to_csv_row(report), ""])


def _csv_error(error: RowError, labels: Labels, columns: tuple[str, ...]) -> bytes:
    return _csv_line(
        [
            *([""] * len(CSV_COLUMNS)),
            f"line {error.line}: {error.message}",
            *_label_cells(labels, columns),
        ]
    )


def _plain_out(report: Report, labels: Labels, columns: tuple[str, ...]) -> bytes:
    return b"%d\n" % report.total


def _plain_error(error: RowError, labels: Labels, columns: tuple[str, ...]) -> bytes:
    return b"\n"  # a bad row keeps its place: output line N is still input row N


Writer = Callable[[Report, Labels, tuple[str, ...]], bytes]
ErrorWriter = Callable[[RowError, Labels, tuple[str, ...]], bytes]
WRITERS: dict[str, tuple[Writer, ErrorWriter]] = {
    "jsonl": (_jsonl_out, _jsonl_error),
    "csv": (_csv_out, _csv_error),
    "plain": (_plain_out, _plain_error),
}


def _answer_line(
    number: int,
    data: bytes,
    input_format: str,
    output_format: str,
    header: list[str] | None,
    columns: tuple[str, ...] = (),
) -> tuple[bytes, RowError | None] | None:
    """The output line for one input line and its error, if any (None: blank)."""
    done = labelled_answer(number, data, input_format, header)
    if done is None:
        return None
    result, labels = done
    write, write_error = WRITERS[output_format]
    if isinstance(result, Report):
        try:
            return write(result, labels, columns), None
        except Exception as error:  # the answer could not be written out
            result = RowError(number, _internal(error))
    return write_error(result, labels, columns), result


def count_lines(
    lines: Iterable[tuple[int, bytes]],
    input_format: str,
    output_format: str,
    header: list[str] | None,
    columns: tuple[str, ...] = (),
) -> tuple[bytes, list[RowError], int]:
    """Count numbered lines (without line endings): (output bytes, errors in order, rows).

    ``columns`` are the label columns of CSV output. Runs in a worker process
    for large files; pure apart from its result.
    """
    write = WRITERS[output_format][0]
    loads = _loads
    out: list[bytes] = []
    errors: list[RowError] = []
    rows = 0
    fast = input_format == "jsonl"
    for number, data in lines:
        if fast and len(data) <= MAX_ROW_BYTES:
            # The hot loop of large batches: orjson and straight on.
            try:
                row = loads(data)
                if type(row) is dict:
                    labels = None
                    try:
                        report = report_from_row(row)
                    except ConvcountError:
                        # A label is not a field: only a row that has one pays for them.
                        labels = labels_of(row)
                        if not labels:
                            raise
                        report = report_from_row(row, labels)
                    out.append(write(report, labels, columns))
                    rows += 1
                    continue
            except Exception:  # the general path below says what was wrong
                pass
        done = _answer_line(number, data, input_format, output_format, header, columns)
        if done is None:
            continue
        rows += 1
        out.append(done[0])
        if done[1] is not None:
            errors.append(done[1])
    return b"".join(out), errors, rows


# ---------------------------------------------------------------------------
# Reading: whole lines, each at most MAX_ROW_BYTES, in flat memory


class LineReader:
    """Numbered lines of a byte stream, without their line endings (\\n or \\r\\n).

    A line longer than :data:`MAX_ROW_BYTES` comes back cut to its first
    ``MAX_ROW_BYTES + 1`` bytes (so that :func:`answer` refuses it) and the
    rest of it is read past, without being kept, before the next line. A UTF-8
    byte order mark at the start of the input is dropped.
    """

    def __init__(self, stream: IO[bytes], source: str = "the input") -> None:
        self.stream = stream
        self.source = source
        #: Number of the next line :meth:`readline` returns.
        self.number = 1
        self._rest_of_long_line = False
        try:
            self._seekable = stream.seekable()
        except (OSError, ValueError):
            self._seekable = False

    def readline(self) -> bytes | None:
        """The next line, or None at the end of the input."""
        self.finish_line()
        try:
            line = self.stream.readline(_READ_LIMIT)
        except OSError as error:
            raise InputReadError(self.source, error) from None
        if not line:
            return None
        if self.number == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        self.number += 1
        if line.endswith(b"\n"):
            line = line[:-1]
        elif len(line) == _READ_LIMIT:
            self._rest_of_long_line = True
        return line[:-1] if line.endswith(b"\r") else line

    def finish_line(self) -> None:
        """Read past the rest of a line that was too long, if the last one was."""
        try:
            while self._rest_of_long_line:
                if self._seekable:
                    self._skip_hole()
                    # Large reads, then back to the line's end: a 2 GB line takes a second.
                    piece = self.stream.read(_SKIP_BYTES)
                    end = piece.find(b"\n")
                    if end >= 0:
                        self.stream.seek(end + 1 - len(piece), io.SEEK_CUR)
                else:
                    piece = self.stream.readline(_SKIP_BYTES)
                    end = len(piece) - 1 if piece.endswith(b"\n") else -1
                self._rest_of_long_line = bool(piece) and end < 0
        except OSError as error:
            raise InputReadError(self.source, error) from None

    def _skip_hole(self) -> None:
        """Jump over a hole of a sparse file: it reads as zeros, so no line ends in it."""
        seek_data = getattr(os, "SEEK_DATA", None)
        if seek_data is None:
            return
        try:
            fd = self.stream.fileno()
            here = self.stream.tell()
            raw = os.lseek(fd, 0, os.SEEK_CUR)
            try:
                data = os.lseek(fd, here, seek_data)
            except OSError as error:  # ENXIO: a hole up to the end; else no holes here
                data = os.lseek(fd, 0, os.SEEK_END) if error.errno == errno.ENXIO else here
            os.lseek(fd, raw, os.SEEK_SET)  # the buffered reader's own position, back
            if data > here:
                self.stream.seek(data)
        except (OSError, AttributeError, ValueError):  # not a plain file after all
            return

    def first_row(self) -> tuple[int, bytes] | None:
        """The first line that is not blank and its number; None if there is none."""
        while (line := self.readline()) is not None:
            if line.strip():
                return self.number - 1, line
        return None

    def numbered(self) -> Iterator[tuple[int, bytes]]:
        """(number, line) for every remaining line."""
        while (line := self.readline()) is not None:
            yield self.number - 1, line

    def read_block(self, size: int) -> tuple[bytes, bool]:
        """About ``size`` bytes of whole lines (the last line may be cut, see above).

        Returns (block, whether its last line was too long and cut); lines are
        left with their endings, for the workers to split.
        """
        self.finish_line()
        try:
            block = self.stream.read(size)
            if not block or block.endswith(b"\n"):
                return block, False
            tail = self.stream.readline(_READ_LIMIT)
        except OSError as error:
            raise InputReadError(self.source, error) from None
        if len(tail) == _READ_LIMIT and not tail.endswith(b"\n"):
            self._rest_of_long_line = True
        return block + tail, self._rest_of_long_line


def split_block(block: bytes, first: int) -> list[tuple[int, bytes]]:
    """Numbered lines of a block of whole lines, as :class:`LineReader` returns them."""
    lines = block.split(b"\n")
    if not lines[-1]:
        lines.pop()
    return [
        (number, line[:-1] if line.endswith(b"\r") else line)
        for number, line in enumerate(lines, first)
    ]


@dataclass
class BatchInput:
    """An input opened for a batch: its first row read, to choose its format by."""

    reader: LineReader
    head: tuple[int, bytes] | None
    """The first non-blank line and its number (a CSV header, or the first JSON row)."""

    @classmethod
    def open(cls, stream: IO[bytes], source: str = "the input") -> BatchInput:
        """Read up to the first non-blank line (leading blank lines and a BOM are skipped)."""
        reader = LineReader(stream, source)
        return cls(reader, reader.first_row())

    def sniff(self) -> str:
        """jsonl if the first row is a JSON object, else csv."""
        return "jsonl" if self.head is not None and self.head[1].lstrip()[:1] == b"{" else "csv"

    def header(self, input_format: str) -> list[str] | None:
        """The CSV header (None for JSON Lines); refuses a CSV input without a layer column."""
        if input_format != "csv":
            return None
        line = self.head[1] if self.head is not None else b""
        if len(line) > MAX_ROW_BYTES:
            raise ConvcountError(
                "input", f"the CSV header is longer than {MAX_ROW_BYTES:,} bytes (the limit)"
            )
        try:
            cells = next(csv.reader([line.decode("utf-8", errors="replace")]), [])
        except csv.Error as error:
            raise ConvcountError("input", f"the CSV header is not valid CSV ({error})") from None
        header = [h.strip() for h in cells]
        if "layer" not in header:
            if line.lstrip()[:1] == b"[":
                raise ConvcountError("input", JSON_ARRAY)
            raise ConvcountError("input", "the CSV input needs a header row with a 'layer' column")
        unknown = [h for h in header if h not in _KNOWN_COLUMNS and not is_label(h)]
        if unknown:
            from convcount.errors import did_you_mean

            names = ", ".join(repr(h) for h in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
            hint = did_you_mean(unknown[0], sorted(_KNOWN_COLUMNS - RESULT_KEYS), as_field=False)
            raise ConvcountError(
                "input",
                f"the CSV header has {'a column' if len(unknown) == 1 else 'columns'} convcount "
                f"does not know: {names}{hint}; a label column is named id, name or "
                f"{LABEL_PREFIX}anything",
            )
        return header

    def label_columns(self, input_format: str) -> tuple[str, ...]:
        """The label columns of CSV output: the CSV header's, or the first JSON row's."""
        if self.head is None:
            return ()
        if input_format == "csv":
            return tuple(h for h in self.header(input_format) or [] if is_label(h))
        row = _parse_json(self.head[1]) if len(self.head[1]) <= MAX_ROW_BYTES else None
        return tuple(k for k in row if is_label(k)) if isinstance(row, Mapping) else ()

    def check_not_array(self) -> None:
        """Refuse a JSON array (``[{...}, {...}]``), in its own words, when the format
        was not given (with ``--input-format jsonl``, each of its lines is a bad row)."""
        if self.head is not None and self.head[1].lstrip()[:1] == b"[":
            raise ConvcountError("input", JSON_ARRAY)

    def rows(self, input_format: str) -> Iterator[tuple[int, bytes]]:
        """Numbered data lines: the first row too for JSON Lines, not the CSV header."""
        if self.head is not None and input_format == "jsonl":
            yield self.head
        yield from self.reader.numbered()


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


def run_batch(
    stream: IO[bytes] | BatchInput,
    *,
    input_format: str,
    output_format: str,
    out: IO[bytes],
    on_error: Callable[[RowError], None],
    fail_fast: bool = False,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    block_bytes: int = BLOCK_BYTES,
) -> BatchResult:
    """Count every row of ``stream`` and write the results to ``out`` in order.

    ``jobs`` > 1 counts blocks of ``block_bytes`` in that many worker processes
    (use it for large regular files); ``progress`` is called with the number
    of rows done. Ctrl-C stops the run after whole lines (KeyboardInterrupt);
    a failed write raises the OSError.
    """
    source = stream if isinstance(stream, BatchInput) else BatchInput.open(stream)
    header = source.header(input_format)
    columns = source.label_columns(input_format) if output_format == "csv" else ()
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
    if output_format == "csv":
        with held_interrupts:
            out.write(_csv_line([*BATCH_CSV_COLUMNS, *columns]))
            out.flush()
    if jobs <= 1 or fail_fast:
        # In-process, row by row: each result leaves as soon as it is counted,
        # and a Ctrl-C waits for the line being written.
        for number, line in source.rows(input_format):
            text, errors, rows = count_lines(
                ((number, line),), input_format, output_format, header, columns
            )
            if not rows:
                continue
            if len(text) <= _ATOMIC_BYTES:
                # Written whole or not at all, even by a pipe (POSIX): a Ctrl-C
                # leaves no half line, and holding it back would cost two
                # system calls a row.
                out.write(text)
                out.flush()
            else:
                with held_interrupts:
                    out.write(text)
                    out.flush()
            if not finish(errors, rows):
                break
        return result
    _run_parallel(
        source, input_format, output_format, header, columns, out, jobs, block_bytes, finish
    )
    return result


def _run_parallel(
    source: BatchInput,
    input_format: str,
    output_format: str,
    header: list[str] | None,
    columns: tuple[str, ...],
    out: IO[bytes],
    jobs: int,
    block_bytes: int,
    finish: Callable[[list[RowError], int], bool],
) -> None:
    """Blocks of whole lines counted by ``jobs`` workers, each writing its block in turn.

    The main process only cuts the input into numbered blocks (counting
    newlines at C speed); results never travel back through it. Workers ignore
    Ctrl-C: the main process stops them after the block being written, so the
    output ends with a whole line.
    """
    import multiprocessing

    out.flush()
    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    turn = context.Value("q", 0, lock=False)
    stop = context.Value("i", 0, lock=False)
    condition = context.Condition()
    pool = None
    try:
        # Workers must never see a Ctrl-C: it is held back until they ignore it.
        with masked_interrupts:
            pool = context.Pool(
                jobs, initializer=_init_worker, initargs=(out.fileno(), turn, condition, stop)
            )
        pending: deque[Any] = deque()
        first = source.head[0] if source.head is not None else 1
        if input_format == "csv":
            first += 1
        prefix = b""
        if input_format == "jsonl" and source.head is not None:
            prefix = source.head[1] + b"\n"
        number = 0
        while True:
            block, cut = source.reader.read_block(block_bytes)
            block = prefix + block
            prefix = b""
            if not block:
                break
            if cut:
                block += b"\n"
            task = (number, block, first, input_format, output_format, header, columns)
            pending.append(pool.apply_async(count_and_write_block, task))
            number += 1
            first += block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
            # A bounded window of blocks in flight keeps memory flat.
            if len(pending) >= 2 * jobs and not _collect(pending.popleft(), stop, finish):
                break
        while pending and _collect(pending.popleft(), stop, finish):
            pass
        pool.close()
        pool.join()
    except BaseException:
        if pool is not None:
            _abandon(pool, condition, stop)
        raise


def _collect(task: Any, stop: Any, finish: Callable[[list[RowError], int], bool]) -> bool:
    errors, rows = task.get()
    if stop.value > 0:  # a worker could not write: the errno it got
        raise OSError(stop.value, os.strerror(stop.value))
    return finish(errors, rows)


_STOPPED = -1


def _abandon(pool: Any, condition: Any, stop: Any) -> None:
    """Stop the workers after the block being written (Ctrl-C, a failed write, an error).

    Never waits long: a pool whose workers do not end within a second is
    killed. A second Ctrl-C meanwhile is ignored: the run is already ending.
    """
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if condition.acquire(timeout=1.0):  # held while a worker writes
            try:
                if not stop.value:
                    stop.value = _STOPPED
                condition.notify_all()
            finally:
                condition.release()
        ending = threading.Thread(target=pool.terminate, daemon=True)
        ending.start()
        ending.join(timeout=1.0)
        if ending.is_alive():
            # The pool's own processes only (a caller may have children of its
            # own); _pool is the list Pool has kept them in since Python 2.6.
            for worker in getattr(pool, "_pool", ()):
                if worker.is_alive():
                    worker.kill()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _has_fileno(out: IO[bytes]) -> bool:
    try:
        out.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return False
    return True


_WRITER: tuple[int, Any, Any, Any] | None = None


def _init_worker(fd: int, turn: Any, condition: Any, stop: Any) -> None:
    global _WRITER  # noqa: PLW0603  # per worker process, set once by the pool
    _WRITER = (fd, turn, condition, stop)
    # The terminal sends Ctrl-C to the whole process group; the main process
    # alone decides what happens (SIGINT was blocked across the fork).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def count_and_write_block(
    number: int,
    block: bytes,
    first: int,
    input_format: str,
    output_format: str,
    header: list[str] | None,
    columns: tuple[str, ...] = (),
) -> tuple[list[RowError], int]:
    """In a worker: count block ``number`` and write it in order; (errors, rows).

    Writes nothing once the run is stopping; a failed write stops the run,
    leaving its errno in ``stop`` for the main process to raise.
    """
    assert _WRITER is not None
    fd, turn, condition, stop = _WRITER
    if stop.value:
        return [], 0
    text, errors, rows = count_lines(
        split_block(block, first), input_format, output_format, header, columns
    )
    with condition:
        while turn.value != number and not stop.value:
            condition.wait()
        if stop.value:
            return [], 0
        try:
            view = memoryview(text)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as error:
            stop.value = error.errno or 5  # EIO when the system gives none
            condition.notify_all()
            return [], 0
        turn.value = number + 1
        condition.notify_all()
    return errors, rows


def default_jobs() -> int:
    """Worker processes for a large file: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def max_jobs() -> int:
    """The most worker processes a batch starts (-j above it is capped)."""
    return MAX_JOBS_PER_CORE * default_jobs()
