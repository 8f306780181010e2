"""Streams and signals (issue 15): a closed stdin never matters to a command that
does not read it; Ctrl-C at any moment of start-up ends with 130 and no traceback
from convcount's code; a write stalled on a pipe whose reader stopped reading
still ends on Ctrl-C."""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convcount

from .fuzzutil import EXIT_CODES, check_promise, run_cli

SCRIPT = str(Path(sys.executable).with_name("convcount"))
SOURCES = {
    str(Path(convcount.__file__).parent),  # the package
    str(Path(convcount.__file__).parent.with_name("_convcount_entry.py")),  # the entry module
}
GOOD = {"layer": "conv", "kernel_size": 3, "in_channels": 10, "out_channels": 32}
MODEL = """[model]
input = { size = 8, channels = 3 }

[[layer]]
kind = "conv"
out_channels = 4
kernel_size = 3
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("streams")
    rows = base / "rows.jsonl"
    rows.write_text("".join(json.dumps({**GOOD, "input_size": 8 + n}) + "\n" for n in range(40)))
    csv = base / "rows.csv"
    csv.write_text("layer,kernel_size,in_channels,out_channels\nconv,3,10,32\nconv,5,3,8\n")
    model = base / "model.toml"
    model.write_text(MODEL)
    big = base / "big.jsonl"
    big.write_text("".join(json.dumps(GOOD) + "\n" for _ in range(3000)))
    return {"rows": rows, "csv": csv, "model": model, "big": big}


# --- a closed standard input -------------------------------------------------------------


COMMANDS_NOT_READING_STDIN = [
    ["conv", "-k", "3", "-i", "10", "-o", "32"],
    ["separable", "-k", "3", "-i", "10", "-o", "32", "--json"],
    ["compare", "-k", "3", "-i", "10", "-o", "32", "--format", "csv"],
    ["batch", "{rows}"],
    ["batch", "{rows}", "--format", "table"],
    ["batch", "{csv}", "--format", "csv"],
    ["batch", "{rows}", "-j", "2", "-q"],
    ["model", "keras/mobilenet", "-q"],
    ["model", "{model}"],
    ["model", "--list", "--format", "csv"],
    ["model", "--kinds", "--json"],
    ["--version"],
    ["conv", "--help"],
]


@pytest.mark.parametrize("argv", COMMANDS_NOT_READING_STDIN, ids=" ".join)
def test_a_closed_stdin_does_not_matter_to_a_command_that_does_not_read_it(
    argv: list[str], files: dict[str, Path]
) -> None:
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    with_stdin = run_cli(argv)
    closed = run_cli(argv, closed=(0,))
    assert (closed.code, closed.err) == (0, ""), closed.err
    assert closed.stdout == with_stdin.stdout != b""


def test_batch_file_with_stdin_closed_through_the_real_executable(files: dict[str, Path]) -> None:
    """The reported case: the whole output, then "internal error: AttributeError"."""
    done = run_cli(["batch", str(files["rows"])], closed=(0,), fresh=True)
    assert (done.code, done.err) == (0, "")
    assert [json.loads(line)["input_size"] for line in done.out.splitlines()] == [
        [8 + n, 8 + n] for n in range(40)
    ]


def test_batch_of_standard_input_when_it_is_closed_is_refused() -> None:
    done = run_cli(["batch", "-"], closed=(0,))
    check_promise(done)
    assert done.code == 2 and "standard input is closed" in done.err


STREAM_COMMANDS = [
    *(argv for argv in COMMANDS_NOT_READING_STDIN if "--list" not in argv and "-j" not in argv),
    ["batch", "-"],
    ["batch", "-", "--format", "table"],
    ["batch", "-", "--input-format", "csv", "--format", "csv"],
    ["model", "{model}", "--format", "table"],
]
stdin_bytes = st.one_of(
    st.just(b""),
    st.binary(max_size=200),
    st.lists(
        st.sampled_from(
            [json.dumps(GOOD).encode(), b"{", b"layer,kernel_size", b"conv,3,4,4", b"\xff\xfe"]
        ),
        max_size=6,
    ).map(b"\n".join),
)


@settings(
    max_examples=40,
    deadline=None,  # each case has its own time budget (fuzzutil)
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    argv=st.sampled_from(STREAM_COMMANDS),
    closed=st.sets(st.sampled_from([0, 1, 2])),
    data=stdin_bytes,
)
def test_any_streams_end_with_a_code_from_the_table(
    argv: list[str], closed: set[int], data: bytes, files: dict[str, Path]
) -> None:
    """Any command, any standard descriptors closed, anything on stdin."""
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    done = run_cli(argv, stdin=data, closed=sorted(closed))
    if 2 in closed:  # nothing can be said; the code still comes from the table
        assert done.code in EXIT_CODES and done.stderr == b""
        return
    if 1 in closed:
        assert done.stdout == b""
        assert done.code in (2, 74), done.err  # refused, or the answer could not be written
        assert "Traceback" not in done.err and "internal error" not in done.err
        return
    check_promise(done)


# --- Ctrl-C at any moment of start-up -----------------------------------------------------


def _frames_in_convcount(stderr: str) -> list[str]:
    """The traceback frames of convcount's own code, the console script's call of
    main() included (its `import re` and the import of the entry module are
    Python's own start-up)."""
    lines = stderr.splitlines()
    ours = []
    for number, line in enumerate(lines):
        if not line.startswith('  File "'):
            continue
        code = lines[number + 1] if number + 1 < len(lines) else ""
        if any(f'"{source}' in line for source in SOURCES) or (
            line.startswith(f'  File "{SCRIPT}"') and "main()" in code
        ):
            ours.append(line)
    return ours


def test_ctrl_c_at_any_moment_of_start_up_ends_with_130_and_no_traceback_of_ours() -> None:
    """SIGINT, as a terminal sends it, at 30 delays spread over the whole start-up.

    Before Python has installed its own handler the process dies of the signal
    (-2 here, 130 in a shell); while Python itself starts (its site module, the
    console script's `import re`), a traceback can only come from Python's own
    code, which convcount cannot reach. From the first statement of convcount's
    entry module on: exit 130 and nothing on stderr.
    """
    argv = [SCRIPT, "model", "keras/mobilenet", "--format", "table"]
    started = time.monotonic()
    answer = subprocess.run(argv, capture_output=True, check=True).stdout
    whole = time.monotonic() - started
    spread = random.Random(15)
    delays = sorted(spread.uniform(0, 1.2 * whole) for _ in range(30))
    ours = 0
    for delay in delays:
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        ) as process:
            time.sleep(delay)
            os.killpg(process.pid, signal.SIGINT)
            out, err = process.communicate(timeout=30)
        text = err.decode("utf-8", "replace")
        assert _frames_in_convcount(text) == [], (delay, text[-3000:])
        if process.returncode == 130:
            ours += 1
            assert err == b"", (delay, text[-3000:])
            assert out in (b"", answer)  # never half an answer
        elif process.returncode != 0:  # 0: it was done before the signal came
            # Python was still starting: killed by the signal (its handler not yet
            # in place), or its own start-up interrupted.
            assert process.returncode == -signal.SIGINT or "Fatal Python error" in text, (
                delay,
                process.returncode,
                text[-3000:],
            )
            assert out == b""
    assert ours >= 5, "too few signals landed in convcount's own start-up to tell"


WATCH = '''
import signal, sys

class Watch:
    """Notes any convcount module imported while Python's own SIGINT handler is in place."""
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "convcount" and name != "convcount":
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                sys.stderr.write("UNGUARDED " + name + "\\n")
        return None

sys.meta_path.insert(0, Watch())
'''


@pytest.mark.parametrize("how", ["console script", "python -m"])
def test_the_handler_is_in_place_before_any_module_of_convcount_loads(
    how: str, tmp_path: Path
) -> None:
    """Deterministically: every module of convcount is imported with convcount's
    handler in place, not Python's (whose Ctrl-C would print a traceback)."""
    (tmp_path / "sitecustomize.py").write_text(WATCH)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    command = [SCRIPT] if how == "console script" else [sys.executable, "-m", "convcount"]
    done = subprocess.run(
        [*command, "model", "keras/mobilenet", "-q"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "4253864\n"), done.stderr
    assert done.stderr == ""
    first_statement = (
        Path(convcount.__file__).read_text().split('"""', 2)[2].lstrip().splitlines()[:3]
    )
    assert first_statement == ["import sys", "", 'if sys.argv[:1] == ["-m"]:']


# --- a write stalled on a pipe whose reader stopped reading ------------------------------


def _stalled(argv: list[str], *, pipe_bytes: int = 4096) -> tuple[int, float, bytes]:
    """Run convcount into a small pipe that is never read; once the pipe has stopped
    filling (its writer blocked), Ctrl-C, which the reader (like `less`) ignores;
    (exit code, seconds to end, stderr)."""
    read, write = os.pipe()
    fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, pipe_bytes)
    process = subprocess.Popen(
        [sys.executable, "-m", "convcount", *argv],
        stdout=write,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    os.close(write)
    try:
        waiting, last, since = bytearray(4), -1, time.monotonic()
        deadline = since + 60
        while True:
            fcntl.ioctl(read, termios.FIONREAD, waiting)
            now = int.from_bytes(waiting, sys.byteorder)
            if now != last:
                last, since = now, time.monotonic()
            elif now >= pipe_bytes // 2 and time.monotonic() - since > 0.3:
                break  # the pipe stopped filling near full: convcount waits in a write
            assert process.poll() is None, "it ended before the pipe was full"
            assert time.monotonic() < deadline, "the pipe never filled"
            time.sleep(0.01)
        sent = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError("Ctrl-C did not end a write stalled on a pipe") from None
        took = time.monotonic() - sent
        assert process.stderr is not None
        err = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(read)
        if process.stderr is not None:
            process.stderr.close()
    return code, took, err


@pytest.mark.parametrize(
    "argv",
    [
        ["model", "keras/resnet50", "--json"],  # one answer, written whole unless stalled
        ["model", "keras/resnet50", "--format", "table"],
        ["model", "keras/resnet50", "--format", "csv"],
        ["model", "--kinds"],  # flushed at the end
        ["batch", "{big}", "--format", "table"],
        ["batch", "{big}", "-j", "1"],
    ],
    ids=" ".join,
)
def test_ctrl_c_ends_a_write_stalled_on_a_pipe(argv: list[str], files: dict[str, Path]) -> None:
    argv = [a.format(big=files["big"]) for a in argv]
    code, took, err = _stalled(argv)
    assert code == 130, (code, err[-2000:])
    assert took < 5, took
    assert b"Traceback" not in err, err[-2000:]
