"""A time and memory budget for every fuzz case: a hang or a memory bomb fails the test.

:func:`run_cli` runs the command line on one argv in a child process forked
from the test process (convcount is already loaded there, so a case costs a
few milliseconds, not a Python start-up) with its address space capped, and
kills it when its time is up. The child runs :func:`convcount.cli.main`, the
console script's own function, with its standard streams on files (or
closed), exactly as a shell would start it; ``fresh=True`` starts the real
executable instead (``python -m convcount``), with the same budget.

Either way the case fails, saying which budget it broke, when it runs past
``seconds`` (killed, so a hang costs the suite ``seconds`` and no more) or
when it needs more than ``memory`` bytes beyond what the test process had
mapped (MemoryError inside, or death by the cap). :func:`check_promise` then
asserts the command line's promise about the outcome.

Usage::

    from .fuzzutil import check_promise, run_cli

    outcome = run_cli(["model", str(path), "--json"])
    check_promise(outcome)
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

import convcount.cli  # loaded once here, so that a forked case costs no start-up
import convcount.render  # and rich, which tables on a terminal load

#: Seconds a case may take. Every hostile input of issue 15 must end within a
#: second on a developer's machine; this leaves room for a loaded CI runner
#: (and a fresh interpreter's start-up) while catching the hangs, which ran
#: for minutes.
SECONDS = float(os.environ.get("CONVCOUNT_FUZZ_SECONDS", "10"))
#: Address space a case may map beyond the test process's own. convcount
#: needs a few MiB for any input within its limits; the memory bombs of issue
#: 15 took gigabytes.
MEMORY = 512 << 20
#: Exit codes of the README's table.
EXIT_CODES = frozenset({0, 1, 2, 74, 130, 141})
_FAILED_TO_START = 99


@dataclass(frozen=True)
class Outcome:
    """How one case ended."""

    argv: tuple[str, ...]
    code: int
    stdout: bytes
    stderr: bytes
    seconds: float

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _cap_memory(limit: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def run_cli(
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    closed: Sequence[int] = (),
    seconds: float = SECONDS,
    memory: int = MEMORY,
    fresh: bool = False,
    env: dict[str, str] | None = None,
) -> Outcome:
    """Run ``convcount *argv`` within the budget; fail the test on a hang or a bomb.

    ``stdin`` is fed to standard input (else it is /dev/null); ``closed``
    names the standard descriptors (0, 1, 2) closed before the run, as
    ``<&-`` or ``>&-`` does.
    """
    argv = tuple(argv)
    with (
        tempfile.TemporaryFile() as source,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        source.write(stdin or b"")
        source.seek(0)
        started = time.monotonic()
        if fresh:
            code, killed = _run_fresh(argv, source, out, err, closed, seconds, memory, env)
        else:
            code, killed = _run_forked(argv, source, out, err, closed, seconds, memory, env)
        took = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        outcome = Outcome(argv, code, out.read(), err.read(), took)
    if killed:
        pytest.fail(f"hang: {_show(argv)} ran past its {seconds:g} s budget", pytrace=False)
    if b"MemoryError" in outcome.stderr or code in (-signal.SIGSEGV, -signal.SIGABRT):
        pytest.fail(
            f"memory bomb: {_show(argv)} needed more than {memory >> 20} MiB "
            f"(exit {code}): {outcome.err[-300:]}",
            pytrace=False,
        )
    if code == _FAILED_TO_START:
        pytest.fail(f"the case could not start: {outcome.err[-2000:]}", pytrace=False)
    return outcome


def _show(argv: Sequence[str]) -> str:
    text = " ".join(argv)
    return repr(text if len(text) < 200 else text[:200] + "...")


def _wait(pid: int, seconds: float, ended: int) -> tuple[int, bool]:
    """Wait for ``pid`` up to ``seconds``; (exit code as subprocess reports it, killed).

    ``ended`` is the read end of a pipe whose only write end the child holds:
    it reads as closed the moment the child ends, so no polling is needed.
    """
    import select

    try:
        ready, _, _ = select.select([ended], [], [], seconds)
    finally:
        os.close(ended)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return -signal.SIGKILL, True
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), False


def _run_forked(
    argv: tuple[str, ...],
    source: object,
    out: object,
    err: object,
    closed: Sequence[int],
    seconds: float,
    memory: int,
    env: dict[str, str] | None,
) -> tuple[int, bool]:
    import gc

    limit = _mapped_bytes() + memory
    files = [source.fileno(), out.fileno(), err.fileno()]  # type: ignore[attr-defined]
    ended, running = os.pipe()
    # The test process's objects stay out of the child's collections: touching
    # them would copy most of the test process's pages into the child.
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(ended)
            _child(argv, files, closed, limit, env)
        finally:
            os._exit(_FAILED_TO_START)
    gc.unfreeze()
    os.close(running)
    return _wait(pid, seconds, ended)


def _child(
    argv: tuple[str, ...],
    files: list[int],
    closed: Sequence[int],
    limit: int,
    env: dict[str, str] | None,
) -> None:
    """In the forked child: the streams a shell would give, the cap, then the CLI."""
    for fd, file in enumerate(files):
        os.dup2(file, fd)
    for fd in closed:
        os.close(fd)
    # What Python does at start-up: a stream whose descriptor is closed is None.
    streams = []
    for fd, mode in ((0, "r"), (1, "w"), (2, "w")):
        if fd in closed:
            streams.append(None)
        else:
            streams.append(open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.argv = ["convcount", *argv]
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _cap_memory(limit)
    convcount.cli.main(list(argv))  # ends the process itself (os._exit)


def _run_fresh(
    argv: tuple[str, ...],
    source: object,
    out: object,
    err: object,
    closed: Sequence[int],
    seconds: float,
    memory: int,
    env: dict[str, str] | None,
) -> tuple[int, bool]:
    limit = _mapped_bytes() + memory  # generous for a fresh interpreter

    def prepare() -> None:
        _cap_memory(limit)
        for fd in closed:
            os.close(fd)

    process = subprocess.Popen(
        [sys.executable, "-m", "convcount", *argv],
        stdin=source,  # type: ignore[arg-type]
        stdout=out,  # type: ignore[arg-type]
        stderr=err,  # type: ignore[arg-type]
        preexec_fn=prepare,  # noqa: PLW1509  # the tests start no threads of their own
        env=env,
    )
    try:
        return process.wait(timeout=seconds), False
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return -signal.SIGKILL, True


def check_promise(outcome: Outcome, codes: frozenset[int] = EXIT_CODES) -> None:
    """The command line's promise for any input: an exit code from the table, never
    a traceback or an internal error; a refusal is one printable line on stderr and
    nothing on stdout; an answer (exit 0) leaves stderr empty."""
    err = outcome.err
    assert outcome.code in codes, (outcome.argv, outcome.code, err[-500:])
    assert "Traceback" not in err and "internal error" not in err, (outcome.argv, err[-2000:])
    if outcome.code == 2:
        assert outcome.stdout == b"", (outcome.argv, outcome.out[:300])
        assert err.endswith("\n") and err.count("\n") == 1, (outcome.argv, err)
        assert err[:-1].isprintable(), (outcome.argv, err)
    elif outcome.code == 0:
        assert outcome.stdout != b"" and err == "", (outcome.argv, err)
