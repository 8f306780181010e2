"""The `convcount batch` command's I/O: opening the input, choosing formats,
reporting bad rows and progress. The counting itself is :mod:`convcount.batch`."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from typing import IO

from convcount.batch import (
    INPUT_FORMATS,
    OUTPUT_FORMATS,
    PARALLEL_MIN_BYTES,
    RowError,
    default_jobs,
    read_header,
    results,
    run_batch,
)
from convcount.errors import ConvcountError
from convcount.layers import parse_choice, parse_int

TABLE_ROWS = 50
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


def _open(file: str) -> tuple[IO[bytes], int | None]:
    """The input stream (bytes) and, for a regular file, its size."""
    if file == "-":
        return sys.stdin.buffer, None
    try:
        stream = open(file, "rb")  # noqa: SIM115  # closed by the caller
    except FileNotFoundError:
        raise ConvcountError("file", f"FILE {file!r} is missing (no such file)") from None
    except OSError as error:
        raise ConvcountError("file", f"FILE {file!r} cannot be read: {error.strerror}") from None
    info = os.fstat(stream.fileno())
    return stream, info.st_size if stat.S_ISREG(info.st_mode) else None


def _input_format(file: str, given: str | None, stream: IO[bytes]) -> str:
    if given is not None:
        return parse_choice("input_format", given, INPUT_FORMATS)
    suffix = os.path.splitext(file)[1].lower()
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    # Standard input or an unknown suffix: a JSON object starts with '{'.
    peek = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
    return "jsonl" if peek.lstrip()[:1] == b"{" else "csv"


def _report_error(error: RowError) -> None:
    print(f"convcount: line {error.line}: {error.message}", file=sys.stderr, flush=True)


def _progress(size: int | None) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A progress bar on stderr for long inputs, only when stderr is a terminal."""
    if not sys.stderr.isatty() or size is None or size < PARALLEL_MIN_BYTES:
        return None, lambda: None
    from convcount.render import progress_bar

    return progress_bar()


def run_batch_command(
    file: str, input_format: str | None, format_: str | None, fail_fast: bool, jobs: str | None
) -> int:
    """Run `convcount batch`; returns the exit code (1 if any row failed)."""
    if format_ is None:
        output_format = "table" if sys.stdout.isatty() else "jsonl"
    else:
        output_format = parse_choice("format", format_, OUTPUT_FORMATS)
    workers = parse_int("jobs", jobs) if jobs is not None else None
    stream, size = _open(file)
    try:
        fmt = _input_format(file, input_format, stream)
        if output_format == "table":
            return _table(stream, fmt, fail_fast)
        large = size is not None and size >= PARALLEL_MIN_BYTES
        if workers is None:
            workers = default_jobs() if large else 1
        update, close = _progress(size)
        try:
            result = run_batch(
                stream,
                input_format=fmt,
                output_format=output_format,
                out=sys.stdout.buffer,
                on_error=_report_error,
                fail_fast=fail_fast,
                jobs=workers,
                progress=update,
            )
        finally:
            close()
        return 1 if result.failed else 0
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _table(stream: IO[bytes], input_format: str, fail_fast: bool) -> int:
    """Tables of up to TABLE_ROWS layers each, printed as they fill."""
    from convcount.render import print_batch_table

    header, lines = read_header(stream, input_format)
    failed = 0
    pending: list[tuple[int, object]] = []
    for number, result in results(lines, input_format, header):
        if isinstance(result, RowError):
            _report_error(result)
            failed += 1
            if fail_fast:
                break
            continue
        pending.append((number, result))
        if len(pending) >= TABLE_ROWS:
            print_batch_table(pending)
            pending = []
    if pending:
        print_batch_table(pending)
    return 1 if failed else 0
