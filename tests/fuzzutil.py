"""A time and memory budget for every fuzz case: a hang or a memory bomb fails the test.

:func:`run_cli` runs the command line on one argv in a child process with its
address space capped, and kills it when its time is up. The child runs
:func:`convcount.cli.main`, the console script's own function, with its
standard streams on files (or closed), its working directory and environment
those of the test at that moment, exactly as a shell would start it. It is
forked from a small server process that has convcount loaded (started once,
on first use): a case then costs a millisecond or two beyond the command's
own work, not a Python start-up, and not the copy of a test process holding
PyTorch and Keras. ``fresh=True`` starts the real executable instead
(``python -m convcount``), with the same budget.

Either way the case fails, saying which budget it broke, when it runs past
``seconds`` (killed: a hang costs the suite ``seconds`` and no more) or when it
needs more than ``memory`` bytes of address space beyond what the process it
was started from had (MemoryError inside, or death by the cap).
:func:`check_promise` then asserts the command line's promise about the outcome.

Usage::

    from .fuzzutil import check_promise, run_cli

    outcome = run_cli(["model", str(path), "--json"])
    check_promise(outcome)
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

#: Seconds a case may take. Every hostile input of issue 15 must end within a
#: second on a developer's machine; this leaves room for a loaded CI runner
#: (and a fresh interpreter's start-up) while catching the hangs, which ran
#: for minutes.
SECONDS = float(os.environ.get("CONVCOUNT_FUZZ_SECONDS", "10"))
#: Address space a case may map beyond its parent's. convcount needs a few MiB
#: for any input within its limits; the memory bombs of issue 15 took gigabytes.
MEMORY = 512 << 20
#: Exit codes of the README's table.
EXIT_CODES = frozenset({0, 1, 2, 74, 130, 141})
_FAILED_TO_START = 99
#: How running out of the capped address space shows on stderr.
_OUT_OF_MEMORY = (b"MemoryError", b"Cannot allocate memory", b"failed to map segment")
_ROOT = str(Path(__file__).resolve().parent.parent)


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


def run_cli(
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    closed: Sequence[int] = (),
    seconds: float = SECONDS,
    memory: int = MEMORY,
    fresh: bool = False,
    env: dict[str, str] | None = None,
    target: str | None = None,
) -> Outcome:
    """Run ``convcount *argv`` within the budget; fail the test on a hang or a bomb.

    ``stdin`` is fed to standard input (else it is empty); ``closed`` names
    the standard descriptors (0, 1, 2) closed before the run, as ``<&-`` or
    ``>&-`` does; ``env`` replaces the environment. ``target``
    (``"module:function"``, called with the argv) runs instead of convcount's
    main: the harness's own tests use it.
    """
    import pytest

    argv = tuple(argv)
    with tempfile.TemporaryDirectory(prefix="convcount-fuzz-") as scratch:
        files = [os.path.join(scratch, name) for name in ("stdin", "stdout", "stderr")]
        Path(files[0]).write_bytes(stdin or b"")
        Path(files[1]).touch()
        Path(files[2]).touch()
        started = time.monotonic()
        grown = 0  # a fresh interpreter is held by its cap alone
        if fresh:
            code, killed = _run_fresh(argv, files, closed, seconds, memory, env)
        else:
            request = {
                "argv": argv,
                "files": files,
                "closed": list(closed),
                "memory": memory,
                "env": dict(os.environ if env is None else env),
                "cwd": os.getcwd(),
                "target": target,
            }
            code, killed, grown = _server().run(request, seconds)
        took = time.monotonic() - started
        outcome = Outcome(
            argv, code, Path(files[1]).read_bytes(), Path(files[2]).read_bytes(), took
        )
    if killed:
        pytest.fail(f"hang: {_show(argv)} ran past its {seconds:g} s budget", pytrace=False)
    if (
        grown > memory
        or any(sign in outcome.stderr for sign in _OUT_OF_MEMORY)
        or code in (-signal.SIGSEGV, -signal.SIGABRT)
    ):
        pytest.fail(
            f"memory bomb: {_show(argv)} needed more than {memory >> 20} MiB "
            f"(grew {grown >> 20} MiB, exit {code}): {outcome.err[-300:]}",
            pytrace=False,
        )
    if code == _FAILED_TO_START:
        pytest.fail(f"the case could not start: {outcome.err[-2000:]}", pytrace=False)
    return outcome


def _show(argv: Sequence[str]) -> str:
    text = " ".join(argv)
    return repr(text if len(text) < 200 else text[:200] + "...")


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


# --- the real executable -------------------------------------------------------------------


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _cap_memory(limit: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _run_fresh(
    argv: tuple[str, ...],
    files: list[str],
    closed: Sequence[int],
    seconds: float,
    memory: int,
    env: dict[str, str] | None,
) -> tuple[int, bool]:
    def prepare() -> None:
        _cap_memory((1 << 30) + memory)  # a fresh interpreter maps far less than a test process
        for fd in closed:
            os.close(fd)

    with open(files[0], "rb") as source, open(files[1], "wb") as out, open(files[2], "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "convcount", *argv],
            stdin=source,
            stdout=out,
            stderr=err,
            preexec_fn=prepare,  # noqa: PLW1509  # the tests start no threads of their own
            env=env,
        )
        try:
            return process.wait(timeout=seconds), False
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return -signal.SIGKILL, True


# --- the fork server -----------------------------------------------------------------------


class _Server:
    """A small process with convcount loaded that forks one child per case.

    Requests and answers are JSON lines on its stdin and stdout: a request
    gets ``{"pid": N}`` when its child has started and ``{"code": C}`` when it
    has ended (the server reaps it, also after the test killed it).
    """

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path.insert(0, {_ROOT!r}); "
                "from tests.fuzzutil import _serve; _serve()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,  # unbuffered: select() sees every answer not yet read
            cwd=_ROOT,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, request: dict[str, Any], seconds: float) -> tuple[int, bool, int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()
        pid = self._answer(self.process.stdout, 60)["pid"]
        ready, _, _ = select.select([self.process.stdout], [], [], seconds)
        killed = not ready
        if killed:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # it ended just now
                killed = False
        answer = self._answer(self.process.stdout, 60)
        return int(answer["code"]), killed, int(answer["grown"])

    def _answer(self, stream: IO[bytes], seconds: float) -> dict[str, int]:
        ready, _, _ = select.select([stream], [], [], seconds)
        line = stream.readline() if ready else b""
        if not line:
            self.process.kill()
            raise RuntimeError("the fuzz server stopped answering")
        answer: dict[str, int] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


_SERVER: _Server | None = None


def _server() -> _Server:
    global _SERVER  # noqa: PLW0603  # one server per test session
    if _SERVER is None or not _SERVER.alive():
        import atexit

        _SERVER = _Server()
        atexit.register(_SERVER.close)
    return _SERVER


def _serve() -> None:
    """The server's loop (in its own process)."""
    import gc

    import convcount.cli
    import convcount.render  # and rich, which tables on a terminal load

    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    gc.freeze()  # the children never copy the server's pages to collect them
    for line in requests:
        request = json.loads(line)
        limit = _mapped_bytes() + request["memory"]
        resident = _resident_bytes()
        pid = os.fork()
        if pid == 0:
            try:
                _child(request, limit, _target(request["target"]) or convcount.cli.main)
            except BaseException:  # on the case's stderr, once _child has set it up
                import traceback

                traceback.print_exc()
                if sys.stderr is not None:
                    sys.stderr.flush()
            finally:
                os._exit(_FAILED_TO_START)
        answers.write(json.dumps({"pid": pid}).encode() + b"\n")
        answers.flush()
        _, status, usage = os.wait4(pid, 0)
        grown = max(0, usage.ru_maxrss * 1024 - resident)  # ru_maxrss is in KiB on Linux
        code = os.waitstatus_to_exitcode(status)
        answers.write(json.dumps({"code": code, "grown": grown}).encode() + b"\n")
        answers.flush()


def _target(name: str | None) -> Any:
    if name is None:
        return None
    import importlib

    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def _child(request: dict[str, Any], limit: int, main: Any) -> None:
    """In a forked child: the streams a shell would give, the cap, then the CLI."""
    for fd, (name, flags) in enumerate(
        zip(request["files"], (os.O_RDONLY, os.O_WRONLY, os.O_WRONLY), strict=True)
    ):
        opened = os.open(name, flags)
        os.dup2(opened, fd)
        os.close(opened)
    for fd in request["closed"]:
        os.close(fd)
    # What Python does at start-up: a stream whose descriptor is closed is None.
    streams: list[Any] = []
    for fd, mode in ((0, "r"), (1, "w"), (2, "w")):
        closed = fd in request["closed"]
        streams.append(None if closed else open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115
    sys.stdin, sys.stdout, sys.stderr = streams
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    argv = request["argv"]
    sys.argv = ["convcount", *argv]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _cap_memory(limit)
    main(list(argv))  # ends the process itself (os._exit)
