"""The fuzz harness itself: its budgets can fail a test (tests/fuzzutil.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from .fuzzutil import check_promise, run_cli


def test_a_hang_fails_the_case_within_its_budget(tmp_path: Path) -> None:
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)  # opening it for reading waits for a writer that never comes
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match=r"hang: .* ran past its 1 s budget"):
        run_cli(["batch", str(fifo)], seconds=1)
    assert time.monotonic() - started < 10


def allocate(argv: list[str]) -> None:
    """A stand-in for a command that allocates ``argv[0]`` MiB, then ends."""
    held = bytearray(int(argv[0]) << 20)
    os._exit(0 if held else 1)


def sleep(argv: list[str]) -> None:
    """A stand-in for a command that never ends."""
    while True:
        time.sleep(1)


def test_a_memory_bomb_fails_the_case() -> None:
    target = f"{__name__}:allocate"
    assert run_cli(["64"], target=target).code == 0  # well within the 512 MiB budget
    with pytest.raises(pytest.fail.Exception, match=r"memory bomb: '600' needed more than 512"):
        run_cli(["600"], target=target)
    with pytest.raises(pytest.fail.Exception, match=r"memory bomb: '200' needed more than 16"):
        run_cli(["200"], target=target, memory=16 << 20)


def test_a_hang_of_any_kind_is_killed() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"hang: 'x' ran past its 0.5 s budget"):
        run_cli(["x"], target=f"{__name__}:sleep", seconds=0.5)


def test_a_case_within_its_budget_answers() -> None:
    done = run_cli(["conv", "-k", "3", "-i", "10", "-o", "32", "-q"], seconds=30)
    check_promise(done)
    assert (done.code, done.stdout, done.stderr) == (0, b"2912\n", b"")
