"""The `convcount batch` command's I/O: opening the input, choosing formats,
reporting bad rows and progress. The counting itself is :mod:`convcount.batch`."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from typing import IO

from convcount.batch import (
    BLOCK_BYTES,
    INPUT_FORMATS,
    OUTPUT_FORMATS,
    PARALLEL_MIN_BYTES,
    BatchInput,
    RowError,
    default_jobs,
    labelled_answer,
    max_jobs,
    run_batch,
)
from convcount.errors import EXIT_BAD_ROWS, EXIT_OK, ConvcountError
from convcount.layers import parse_choice, parse_int
from convcount.output import held_interrupts, say, stdin_closed

TABLE_ROWS = 50
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


def _open(file: str) -> tuple[IO[bytes], int | None]:
    """The input stream (bytes) and, for a regular file, its size."""
    if file == "-":
        if stdin_closed():
            raise ConvcountError("file", "FILE '-': standard input is closed")
        return sys.stdin.buffer, None
    try:
        stream = open(file, "rb")  # noqa: SIM115  # closed by the caller
    except FileNotFoundError:
        raise ConvcountError("file", f"FILE {file!r} is missing (no such file)") from None
    except (OSError, ValueError) as error:  # ValueError: a NUL in the name
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise ConvcountError("file", f"FILE {file!r} cannot be read: {reason}") from None
    info = os.fstat(stream.fileno())
    return stream, info.st_size if stat.S_ISREG(info.st_mode) else None


def _input_format(file: str, given: str | None, source: BatchInput) -> str:
    if given is not None:
        return parse_choice("input_format", given, INPUT_FORMATS)
    source.check_not_array()
    suffix = os.path.splitext(file)[1].lower()
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    # Standard input or an unknown suffix: a JSON object starts with '{'.
    return source.sniff()


def _report_error(error: RowError) -> None:
    say(f"line {error.line}: {error.message}")


def _progress(size: int | None) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A progress bar on stderr for long inputs, only when stderr is a terminal."""
    if not sys.stderr.isatty() or size is None or size < PARALLEL_MIN_BYTES:
        return None, lambda: None
    from convcount.render import progress_bar

    return progress_bar()


def _workers(jobs: str | None, size: int | None) -> int:
    """Worker processes: -j (capped at MAX_JOBS_PER_CORE per core), else one per
    core for a large file, else none; never more than the file has blocks."""
    if jobs is not None:
        workers = min(parse_int("jobs", jobs), max_jobs())
    elif size is not None and size >= PARALLEL_MIN_BYTES:
        workers = default_jobs()
    else:
        workers = 1
    if size is not None:
        workers = min(workers, max(1, -(-size // BLOCK_BYTES)))
    return workers


def run_batch_command(
    file: str, input_format: str | None, format_: str | None, fail_fast: bool, jobs: str | None
) -> int:
    """Run `convcount batch`; returns the exit code (1 if any row failed)."""
    if format_ is None:
        output_format = "table" if sys.stdout.isatty() else "jsonl"
    else:
        output_format = parse_choice("format", format_, OUTPUT_FORMATS)
    if jobs is not None:
        parse_int("jobs", jobs)  # refused before the input is opened
    stream, size = _open(file)
    try:
        source = BatchInput.open(stream, "FILE '-'" if file == "-" else f"FILE {file!r}")
        fmt = _input_format(file, input_format, source)
        if output_format == "table":
            return _table(source, fmt, fail_fast)
        update, close = _progress(size)
        try:
            result = run_batch(
                source,
                input_format=fmt,
                output_format=output_format,
                out=sys.stdout.buffer,
                on_error=_report_error,
                fail_fast=fail_fast,
                jobs=_workers(jobs, size),
                progress=update,
            )
        finally:
            close()
        return EXIT_BAD_ROWS if result.failed else EXIT_OK
    finally:
        if file != "-":  # standard input stays open (it may even be closed: sys.stdin is None)
            stream.close()


def _table(source: BatchInput, input_format: str, fail_fast: bool) -> int:
    """Tables of up to TABLE_ROWS layers each, printed as they fill."""
    from convcount.render import print_batch_table

    header = source.header(input_format)
    failed = 0
    pending: list[tuple[int, object, object]] = []

    def flush() -> None:
        with held_interrupts:
            print_batch_table(pending)
            sys.stdout.flush()
        pending.clear()

    for number, line in source.rows(input_format):
        done = labelled_answer(number, line, input_format, header)
        if done is None:
            continue
        result, labels = done
        if isinstance(result, RowError):
            _report_error(result)
            failed += 1
            if fail_fast:
                break
            continue
        pending.append((number, result, labels))
        if len(pending) >= TABLE_ROWS:
            flush()
    if pending:
        flush()
    return EXIT_BAD_ROWS if failed else EXIT_OK
