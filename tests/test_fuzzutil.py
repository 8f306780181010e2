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


def test_a_memory_bomb_fails_the_case() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"memory bomb: .* more than 1 MiB"):
        run_cli(["model", "keras/resnet50", "--json"], memory=1 << 20)


def test_a_case_within_its_budget_answers() -> None:
    done = run_cli(["conv", "-k", "3", "-i", "10", "-o", "32", "-q"], seconds=30)
    check_promise(done)
    assert (done.code, done.stdout, done.stderr) == (0, b"2912\n", b"")
