"""Writing answers to stdout in the chosen format, and the standard streams.

JSON, CSV and plain text are written here with the standard library; only a
table imports :mod:`convcount.render` (and so rich), which keeps the
scripting paths fast to start.

The streams: stdout carries answers only and diagnostics go to stderr through
:func:`say`, which never raises. A closed or full stdout ends the run with
exit code 74 (141, quietly, for a pipe whose reader has gone); a Ctrl-C is
held back while an answer is being written (:class:`HeldInterrupts`), so the
output never ends in half a line.
"""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from convcount.errors import (
    EXIT_CLOSED_PIPE,
    EXIT_INTERRUPTED,
    EXIT_IO,
    ConvcountError,
    printable,
)
from convcount.limits import MAX_ANSWER_DIGITS

if TYPE_CHECKING:
    from convcount.counting import Report

FORMATS: tuple[str, ...] = ("table", "json", "csv", "plain")


def resolve_format(
    format_: str | None,
    json_: bool,
    quiet: bool,
    *,
    choices: Sequence[str] = FORMATS,
    default: str | None = "table",
) -> str | None:
    """The one output format asked for by --format, --json and -q/--quiet."""
    asked = [f for f, on in (("json", json_), ("plain", quiet)) if on]
    if format_ is not None:
        word = format_.strip().lower()
        if word not in choices:
            from convcount.errors import did_you_mean

            raise ConvcountError(
                "format",
                f"--format must be one of {', '.join(choices)}, got {format_!r}"
                + did_you_mean(word, tuple(choices), as_field=False),
            )
        asked.append(word)
    if len(set(asked)) > 1:
        raise ConvcountError(
            "format", "--json, -q/--quiet and --format ask for different outputs; give one"
        )
    return asked[0] if asked else default


def json_text(value: Any) -> str:
    """One JSON document, indented, ending in a newline.

    orjson first (a 1,000-layer model's record in 2 ms instead of 30 ms); the
    standard library for what orjson refuses, integers beyond 64 bits.
    """
    import orjson

    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n"
    except TypeError:  # orjson.JSONEncodeError: an integer too large for it
        import json

        return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def write_json(value: Any) -> None:
    """One JSON document on stdout (:func:`json_text`)."""
    sys.stdout.write(json_text(value))


def csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A header and rows as CSV."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A header and rows as CSV on stdout."""
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def emit_report(report: Report, fmt: str) -> None:
    """One layer's answer in ``fmt``."""
    from convcount.records import to_record

    check_answers(to_record(report))
    with uninterrupted():
        _write_report(report, fmt)


def _write_report(report: Report, fmt: str) -> None:
    if fmt == "plain":
        sys.stdout.write(f"{report.total}\n")
    elif fmt == "json":
        from convcount.records import to_record

        write_json(to_record(report))
    elif fmt == "csv":
        from convcount.records import CSV_COLUMNS, to_csv_row

        write_csv(CSV_COLUMNS, [to_csv_row(report)])
    else:
        from convcount.render import print_report

        print_report(report)


def emit_comparison(rows: Sequence[Any], fmt: str) -> None:
    """A comparison's rows in ``fmt`` (plain: one total per line)."""
    from convcount.compare import to_compare_record

    records = [to_compare_record(row) for row in rows]
    check_answers(records)
    with uninterrupted():
        _write_comparison(rows, records, fmt)


def _write_comparison(rows: Sequence[Any], records: list[dict[str, Any]], fmt: str) -> None:
    from convcount.compare import COMPARE_COLUMNS
    from convcount.records import csv_cell

    if fmt == "plain":
        # The one number a comparison answers: what the separable block costs
        # as a fraction of the standard conv (its row's params_ratio).
        separable = next(r for r in records if r["name"] == "separable")
        sys.stdout.write(f"{separable['params_ratio']}\n")
    elif fmt == "json":
        write_json(records)
    elif fmt == "csv":
        write_csv(COMPARE_COLUMNS, [[csv_cell(r[c]) for c in COMPARE_COLUMNS] for r in records])
    else:
        from convcount.render import print_comparison

        print_comparison(rows)


def emit_model(
    source: str,
    width_multiplier: str | None,
    resolution: str | None,
    convention: str | None,
    dtype: str | None,
    fmt: str,
    options: dict[str, str] | None = None,
    batch_size: str | None = None,
    view: dict[str, Any] | None = None,
    count_as: str | None = None,
    *,
    strict: bool = False,
) -> None:
    """Count a model file (or a shipped model) and write it in ``fmt``.

    ``view`` holds the --depth, --only, --match and --range options
    (:func:`convcount.view.parse_selection`); the rows change, never the totals.
    ``count_as`` names another counter whose figures to print instead of the
    summary (:mod:`convcount.model.tools`), or ``all``.
    ``strict`` refuses a model with layers whose MACs are unknown instead of
    reporting its MACs as a lower bound.
    """
    from convcount.layers import parse_int
    from convcount.model import load_model, resolve_source
    from convcount.summary import model_record

    batch = 1 if batch_size is None else parse_int("batch_size", batch_size)
    tools = None
    if count_as is not None:
        from convcount.model.tools import tool_names

        tools = tool_names(count_as)
        if view and any(view.values()):
            raise ConvcountError(
                "count_as",
                "--count-as shows every layer's figure; --depth, --only, --match and "
                "--range are for the summary",
            )
    selection = None
    if view and any(view.values()):
        from convcount.model.kinds import KINDS
        from convcount.view import parse_selection

        selection = parse_selection(
            view.get("depth"),
            view.get("only") or (),
            view.get("match") or (),
            view.get("range"),
            tuple(KINDS),
        )
    notice = resolve_source(source).notice
    if notice:
        say(notice)
    report = load_model(
        source,
        width_multiplier=width_multiplier,
        resolution=resolution,
        convention=convention,
        dtype=dtype,
        options=options,
    )
    uncounted = report.uncounted
    if strict and uncounted:
        from convcount.summary import uncounted_text

        raise ConvcountError(
            "strict",
            f"{source}: MACs unknown for {uncounted_text(uncounted)}; "
            "without --strict the totals are reported as at least",
        )
    if tools is not None:
        if report.dtype == "int8":
            raise ConvcountError(
                "dtype",
                "--count-as: --dtype int8: the counters run PyTorch modules, which take "
                "floating-point tensors (float32, float16, bfloat16, float64)",
            )
        from convcount.model.tools import unreproduced

        uncounted = unreproduced(uncounted)
        # onnx-tool counts every node by its own rules, whatever convcount knows of it
        if uncounted and tools != ["onnx-tool"]:
            from convcount.summary import uncounted_text

            raise ConvcountError(
                "count_as",
                f"--count-as: {source}: MACs unknown for {uncounted_text(uncounted)}, "
                "so no other counter's figure can be reproduced",
            )
        _write_tools(report, tools, fmt, batch, all_tools=count_as.lower() == "all")  # type: ignore[union-attr]  # tools is set only with count_as
        return
    record = model_record(report, batch, selection)
    # Every per-layer figure is at most a total (parameters, MACs, buffers) or a part
    # of the activation memory, so checking the totals checks them all, in a
    # fraction of the time a 1,000-layer walk takes.
    check_answers({key: value for key, value in record.items() if key != "layers"})
    with uninterrupted():
        _write_model(report, record, fmt, batch, selection)


def _write_model(
    report: Any, record: dict[str, Any], fmt: str, batch: int, selection: Any = None
) -> None:
    if fmt == "plain":
        if not record["params_exact"]:
            say("the parameters of some layers are unknown: this is a lower bound")
        sys.stdout.write(f"{report.total_params}\n")
    elif fmt == "json":
        write_json(record)
    elif fmt == "csv":
        from convcount.summary import model_csv

        write_csv(*model_csv(record))
    else:
        from convcount.render import print_model

        print_model(report, batch, selection)


def emit_layer_tools(report: Report, count_as: str, fmt: str) -> None:
    """Other counters' figures for one layer (``--count-as`` on the layer commands): those
    of its PyTorch equivalent (:func:`convcount.model.layer_tools.layer_network`)."""
    from convcount.model.layer_tools import layer_network
    from convcount.model.tools import tool_names

    tools = tool_names(count_as)
    all_tools = count_as.strip().lower() == "all"
    if all_tools:  # onnx-tool counts ONNX files: never a layer's PyTorch equivalent
        tools = [tool for tool in tools if tool != "onnx-tool"]
    network = layer_network(report)
    head = {
        "layer": report.layer.kind,
        "convention": report.layer.convention,
        "counted": network.counted,
    }
    _write_tools(network.report, tools, fmt, 1, all_tools=all_tools, about=head, one_layer=report)


def _write_tools(
    report: Any,
    tools: list[str],
    fmt: str,
    batch: int,
    *,
    all_tools: bool,
    about: dict[str, Any] | None = None,
    one_layer: Report | None = None,
) -> None:
    """Other counters' figures for a model (``--count-as``): one tool, or all side by side.

    For one layer, ``about`` replaces the model's name and convention in the records
    (its first items lead the CSV rows with ``all``) and ``one_layer`` titles the tables."""
    from convcount.model.tools import TOOL_VERSIONS, count_as, tool_record, tools_csv

    if all_tools and report.convention != "torch":
        from convcount.model.tools import torchinfo

        torchinfo(report)  # refuses with the reason, naming the convention
    results = []
    left_out: list[dict[str, str]] = []
    for tool in tools:
        try:
            results.append(count_as(report, tool, batch))
        except ConvcountError as error:
            # with all, a tool that cannot count this network is left out, saying why
            if not all_tools:
                raise
            left_out.append({"tool": tool, "reason": str(error)})
    head = {
        **(about or {"model": report.name, "convention": report.convention}),
        "input_shape": list(report.output_shape(report.input)),
        "batch_size": batch,
        "macs": report.macs_at(batch),
    }
    if all_tools:
        records = [tool_record(r, layers=False) for r in results]
        check_answers(records)
        with uninterrupted():
            if fmt == "plain":
                sys.stdout.write("".join(f"{r.total}\n" for r in results))
            elif fmt == "json":
                write_json({**head, "tools": records, "left_out": left_out})
            elif fmt == "csv":
                from convcount.records import csv_cell

                header, table = tools_csv(records)
                # a tool left out: its name and why, in the counts column
                table += [
                    [e["tool"], TOOL_VERSIONS[e["tool"]], "", "", "", e["reason"]]
                    + [None] * (len(header) - 6)
                    for e in left_out
                ]
                # what was counted leads each row: the model, or the layer and its modules
                lead = [k for k in ("model", "layer", "counted") if k in head]
                write_csv(
                    [*lead, *header],
                    [[csv_cell(v) for v in (*(head[k] for k in lead), *r)] for r in table],
                )
            else:
                from convcount.render import print_tools

                print_tools(
                    report, results, left_out, one_layer=one_layer, counted=head.get("counted")
                )
        return
    result = results[0]
    record = {**head, **tool_record(result)}
    check_answers({k: v for k, v in record.items() if k != "layers"})
    with uninterrupted():
        if fmt == "plain":
            sys.stdout.write(f"{result.total}\n")
        elif fmt == "json":
            write_json(record)
        elif fmt == "csv":
            from convcount.records import csv_cell

            extra_header, extra = tools_csv([tool_record(result, layers=False)])
            if one_layer is not None:  # the layer and the modules counted, on the total row
                extra_header = ["layer", "counted", *extra_header]
                extra = [[head["layer"], head["counted"], *extra[0]]]
            # a tool with rows of its own (onnx-tool: one per ONNX node) adds its columns;
            # macs is then convcount's of the layer the row is (empty: folded away)
            own = list(dict.fromkeys(k for r in result.layers for k in (r.extra or {})))
            header = ["index", "name", "kind", "macs", "figure", "note"]
            header += [f"node.{k}" for k in own] + extra_header
            blank = [""] * len(extra_header)
            layers = {layer.name: layer for layer in report.layers}
            lines = []
            for i, r in enumerate(result.layers, 1):
                layer = layers.get((r.extra.get("layer") or "") if r.extra else r.name)
                macs = None if layer is None else layer.macs_at(batch) or 0
                kind = (
                    layer.kind if layer is not None and not r.extra else (r.extra or {}).get("op")
                )
                cells = (
                    i,
                    r.name,
                    kind,
                    macs,
                    r.figure,
                    r.note,
                    *((r.extra or {}).get(k) for k in own),
                )
                lines.append([csv_cell(v) for v in cells] + blank)
            total = ["", "total", "", report.macs_at(batch), result.total, "", *[""] * len(own)]
            lines.append([csv_cell(v) for v in (*total, *extra[0])])
            write_csv(header, lines)
        else:
            from convcount.render import print_tool

            print_tool(report, result, batch, one_layer=one_layer, counted=head.get("counted"))


def zoo_names(pattern: str | None) -> list[str]:
    """Shipped names matching ``pattern``: a glob (``keras/efficientnet*``) when it
    holds ``*``, ``?`` or ``[``, else a part of the name; any case."""
    from convcount.model.zoo import ZOO

    names = sorted(ZOO)
    if pattern is None:
        return names
    word = pattern.strip().lower()
    if any(c in word for c in "*?["):
        from fnmatch import fnmatchcase

        found = [n for n in names if fnmatchcase(n, word)]
    else:
        found = [n for n in names if word in n]
    if not found:
        raise ConvcountError(
            "list",
            f"--list: no shipped model matches {pattern!r}; convcount model --list shows all",
        )
    return found


def emit_zoo_list(fmt: str, pattern: str | None = None) -> None:
    """Every shipped model (or those ``pattern`` matches) with its parameters, MACs and
    default input."""
    from convcount.model.zoo import listing

    names = zoo_names(pattern)
    if fmt == "plain":
        sys.stdout.write("".join(f"{name}\n" for name in names))
        return
    rows = listing(names)
    columns = ("name", "framework", "input_shape", "total_params", "non_trainable_params", "macs")
    if fmt == "json":
        write_json([dict(zip(columns, row, strict=True)) for row in rows])
    elif fmt == "csv":
        from convcount.records import csv_cell

        write_csv(columns, [[csv_cell(v) for v in row] for row in rows])
    else:
        from convcount.render import print_zoo_list

        print_zoo_list(columns, rows)


def kind_names(given: str | None) -> list[str]:
    """The layer kinds ``given`` names (``conv,dense``), all of them when None."""
    from convcount.model.kinds import KINDS

    if given is None:
        return list(KINDS)
    from convcount.view import check_kinds

    wanted = [k.strip() for k in given.split(",") if k.strip()]
    check_kinds("kinds", wanted, tuple(KINDS))
    return [k for k in KINDS if k in wanted]


def emit_kinds(fmt: str, given: str | None = None) -> None:
    """The model format's reference, from the layer-kind registry (or the kinds
    ``given`` names): a table, Markdown (``--format markdown``), JSON, CSV, or the
    kind names (plain)."""
    from convcount.model.reference import kinds_records, reference_text

    names = kind_names(given)
    records = [k for k in kinds_records() if k["kind"] in names]
    if fmt == "json":
        write_json(records)
    elif fmt == "csv":
        from convcount.records import csv_cell

        rows = [
            [csv_cell(v) for v in (k["kind"], f["name"], f["type"], f["default"], f["doc"])]
            for k in records
            for f in k["fields"] or [{"name": "", "type": "", "default": "", "doc": ""}]
        ]
        write_csv(("kind", "field", "type", "default", "doc"), rows)
    elif fmt == "plain":
        sys.stdout.write("".join(f"{name}\n" for name in names))
    elif fmt == "markdown":
        sys.stdout.write(reference_text(names if given is not None else None))
    else:
        from convcount.render import print_kinds

        print_kinds(records)


# ---------------------------------------------------------------------------
# Answers too long to print

_ANSWER_BOUND = 10**MAX_ANSWER_DIGITS


def check_answers(value: object) -> None:
    """Refuse, before anything is written, a record holding an integer too long to print.

    Every format prints numbers whole; one past :data:`MAX_ANSWER_DIGITS` digits
    is refused in all of them alike, with this one message.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, int):
            if not -_ANSWER_BOUND < item < _ANSWER_BOUND:
                raise ConvcountError(
                    "answer",
                    f"an answer has more than {MAX_ANSWER_DIGITS:,} digits, "
                    "more than convcount prints; use smaller values",
                )
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


# ---------------------------------------------------------------------------
# The standard streams

_stdin_closed = False


class _Diagnostics(io.TextIOWrapper):
    """stderr that never raises: a message that cannot be written is only noted.

    Diagnostics are written from many places (ours, the option parser's, the
    progress display); the run goes on, and ends with exit code 74.
    """

    lost = False

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except (OSError, ValueError):
            _Diagnostics.lost = True
            return len(text)

    def flush(self) -> None:
        try:
            super().flush()
        except (OSError, ValueError):
            _Diagnostics.lost = True


def prepare_streams() -> None:
    """Make the standard streams safe to use; called once, first thing, by the CLI.

    A descriptor among 0, 1 and 2 that the caller closed (``>&-``) is taken by
    /dev/null opened read-only: a file opened later cannot land there, and a
    write to it fails (EBADF) instead of going anywhere. stderr becomes a
    writer that never raises; stdout escapes what its encoding cannot hold.
    """
    global _stdin_closed  # noqa: PLW0603  # set once per process, before any command runs
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            spare = os.open(os.devnull, os.O_RDONLY)
            if spare != fd:
                os.dup2(spare, fd)
                os.close(spare)
            if fd == 0:
                _stdin_closed = True
    if sys.stdout is None:
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115  # lives as long as the process
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    stderr = sys.stderr
    encoding = getattr(stderr, "encoding", None) or "utf-8"
    raw = open(2, "wb", buffering=0, closefd=False)  # noqa: SIM115  # lives as long as the process
    sys.stderr = _Diagnostics(
        io.BufferedWriter(raw), encoding=encoding, errors="backslashreplace", line_buffering=True
    )


def stdin_closed() -> bool:
    """Whether the caller closed standard input (``<&-``)."""
    return _stdin_closed or sys.stdin is None


def say(message: str) -> None:
    """One diagnostic line on stderr, ``convcount: message``, control characters escaped.

    Never raises: a message that cannot be written is noted (exit code 74).
    """
    try:
        stream = sys.stderr
        if stream is None:
            raise OSError("stderr is closed")
        stream.write(f"convcount: {printable(message)}\n")
        stream.flush()
    except (OSError, ValueError):
        _Diagnostics.lost = True


def diagnostics_lost() -> bool:
    """Whether a message meant for stderr could not be written."""
    return _Diagnostics.lost


def output_failed(error: OSError) -> int:
    """The exit code for answers that could not be written to stdout, said on stderr.

    A pipe whose reader has gone (``| head``) ends quietly with 141, as ``yes |
    head -1`` does; anything else (closed, disk full) says why and gives 74. What
    is still buffered is dropped: stdout is pointed at /dev/null.
    """
    discard_stdout()
    if isinstance(error, BrokenPipeError):
        return EXIT_CLOSED_PIPE
    import errno

    reason = "standard output is closed" if error.errno == errno.EBADF else error.strerror
    say(f"the output could not be written: {reason or error}")
    return EXIT_IO


def discard_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no descriptor (tests): nothing to drop
        pass


# ---------------------------------------------------------------------------
# Ctrl-C

#: How long an answer being written after a Ctrl-C may go without moving (a
#: pipe whose reader stopped reading, as `less` does) before the run ends anyway.
STALLED_SECONDS = 1.0


class _Interrupted:
    raised = False  # KeyboardInterrupt was raised: a further Ctrl-C ends the run at once


def _on_sigint(signum: int, frame: object) -> None:
    if _Interrupted.raised:
        os._exit(EXIT_INTERRUPTED)  # a second Ctrl-C, or one while the run is ending
    _Interrupted.raised = True
    raise KeyboardInterrupt


def handle_interrupts() -> None:
    """Install the CLI's Ctrl-C handler; called once, first thing, by the CLI.

    The first Ctrl-C raises KeyboardInterrupt (the CLI drops what is half
    built and ends with 130); any after it ends the run at once.
    """
    _Interrupted.raised = False
    signal.signal(signal.SIGINT, _on_sigint)


def end_at_once_on_interrupt() -> None:
    """From here on a Ctrl-C ends the run at once with 130 (what is left is flushing)."""
    _Interrupted.raised = True


def _may_stall(fd: int) -> bool:
    """Whether a write to ``fd`` can wait on someone else: a pipe, a socket, a terminal."""
    import stat

    try:
        mode = os.fstat(fd).st_mode
        return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)
    except OSError:
        return False


def _waiting_bytes(fd: int) -> int | None:
    """How many bytes wait in the pipe ``fd`` writes to (None where that cannot be told)."""
    try:
        import fcntl
        import stat
        import termios

        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return None
        waiting = bytearray(4)
        fcntl.ioctl(fd, termios.FIONREAD, waiting)
    except (ImportError, OSError, AttributeError):
        return None
    return int.from_bytes(waiting, sys.byteorder)


def _watch(done: Any, fd: int) -> None:
    """While a held block runs: once a Ctrl-C is pending, end the run with 130
    if the output has not moved for STALLED_SECONDS (moving: the bytes waiting
    in stdout's pipe change, or it is empty). Started inside the block, this
    thread blocks SIGINT too, so it only looks at the pending signal."""
    import time

    while not done.wait(0.05):
        if signal.SIGINT in signal.sigpending():
            break
    else:
        return
    mark, since = _waiting_bytes(fd), time.monotonic()
    while not done.wait(0.05):
        now = _waiting_bytes(fd)
        if now != mark or now == 0:
            mark, since = now, time.monotonic()
        elif time.monotonic() - since >= STALLED_SECONDS:
            os._exit(EXIT_INTERRUPTED)


class HeldInterrupts:
    """Ctrl-C held back while an answer is written, so that it is written whole.

    SIGINT is blocked (not handled) meanwhile: a write that a signal interrupts
    can end short, and Python's buffered writer then drops the rest. Once the
    write is done the signal is let through and the run ends right after it
    (KeyboardInterrupt). A write to a pipe whose reader stopped reading (`less`
    ignores Ctrl-C) would wait forever, so under the CLI, where stdout can
    stall, a watcher thread ends the run with 130 once a Ctrl-C is pending and
    the output has not moved for :data:`STALLED_SECONDS` (on a terminal or a
    socket, where that cannot be told, once that long has passed). Only the
    calling thread's mask changes; a no-op where signals cannot be masked.
    """

    __slots__ = ("_done", "_watched")
    _CAN = hasattr(signal, "pthread_sigmask")
    _SIGINT = frozenset({signal.SIGINT})

    def __init__(self, *, watched: bool = True) -> None:
        self._watched = watched
        self._done: Any = None

    def __enter__(self) -> None:
        if not self._CAN:
            return
        signal.pthread_sigmask(signal.SIG_BLOCK, self._SIGINT)
        # Only under the CLI: a program using the library decides its own endings.
        if (
            self._watched
            and hasattr(signal, "sigpending")
            and signal.getsignal(signal.SIGINT) is _on_sigint
            and _may_stall(1)
        ):
            import threading

            self._done = threading.Event()
            threading.Thread(
                target=_watch, args=(self._done, 1), name="convcount-output", daemon=True
            ).start()

    def __exit__(self, *exc: object) -> None:
        if not self._CAN:
            return
        if self._done is not None:
            self._done.set()
            self._done = None
        signal.pthread_sigmask(signal.SIG_UNBLOCK, self._SIGINT)


#: Use as ``with held_interrupts:`` around a write and its flush.
held_interrupts = HeldInterrupts()
#: Ctrl-C held back, nothing watched: around starting worker processes (a
#: fork while another thread runs can deadlock).
masked_interrupts = HeldInterrupts(watched=False)


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold a Ctrl-C back until the block, and stdout's flush, are done."""
    with held_interrupts:
        yield
        if sys.stdout is not None:
            sys.stdout.flush()
