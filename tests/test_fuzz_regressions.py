"""Hostile input, case by case: every input from issue 9 that broke a promise.

The promises: one line on stderr and a documented exit code for any bad input
(never a traceback), exact answers or one clear refusal in every format, a
batch that answers every line in order and loses no good row, bounded memory,
and streams (closed, full, interrupted) that end with a code from the table:
0 done, 1 bad batch rows, 2 bad input, 74 output not written, 130 Ctrl-C,
141 closed pipe. Model-file cases are in test_fuzz_model.py.
"""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import convcount
from convcount.batch import BatchInput, RowError, run_batch
from convcount.batch_cli import _workers
from convcount.limits import MAX_ANSWER_DIGITS, MAX_DIGITS, MAX_JOBS_PER_CORE, MAX_ROW_BYTES
from convcount.output import check_answers

from .conftest import assert_usage_error, run

EXIT_CODES = {0, 1, 2, 74, 130, 141}
GOOD = {"layer": "conv", "kernel_size": 3, "in_channels": 10, "out_channels": 32}
GOOD_LINE = json.dumps(GOOD)
#: Memory a subprocess may map: far more than convcount needs, far less than
#: reading a hostile input whole would take.
MEMORY_CAP = 1 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def convcount_process(
    *args: str,
    input: bytes | None = None,
    close: tuple[int, ...] = (),
    timeout: float = 60,
    **kwargs: Any,
) -> subprocess.CompletedProcess[bytes]:
    """The real CLI in a subprocess, its memory capped; ``close`` closes those fds first."""

    def prepare() -> None:
        _limit_memory()
        for fd in close:
            os.close(fd)

    return subprocess.run(
        [sys.executable, "-m", "convcount", *args],
        input=input,
        capture_output="stdout" not in kwargs,
        preexec_fn=prepare,  # the tests start no threads
        timeout=timeout,
        check=False,
        **kwargs,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[bytes], code: int, needle: str) -> None:
    assert done.returncode == code, done
    assert done.stdout == b"", done.stdout[:300]
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines
    assert "Traceback" not in lines[0]


def lines_of(rows: list[str]) -> bytes:
    return "".join(row + "\n" for row in rows).encode()


def batch_both_ways(data: bytes, **options: Any) -> tuple[bytes, list[RowError]]:
    """run_batch in-process, row by row and in parallel blocks; asserts they agree."""
    results = []
    for jobs in (1, 2):
        errors: list[RowError] = []
        if jobs == 1:
            out: Any = io.BytesIO()
            run_batch(io.BytesIO(data), out=out, on_error=errors.append, jobs=1, **options)
            text = out.getvalue()
        else:
            with open(Path("out.bin"), "w+b") as real:
                run_batch(
                    io.BufferedReader(io.BytesIO(data)),
                    out=real,
                    on_error=errors.append,
                    jobs=2,
                    block_bytes=4096,
                    **options,
                )
                real.seek(0)
                text = real.read()
        results.append((text, errors))
    assert results[0] == results[1]
    return results[0]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# --- one row never takes a batch down -------------------------------------------------


def test_a_row_nested_1025_deep_is_that_rows_error() -> None:
    data = lines_of([GOOD_LINE, "[" * 1025 + "]" * 1025, GOOD_LINE])
    text, errors = batch_both_ways(data, input_format="jsonl", output_format="jsonl")
    lines = text.splitlines()
    assert len(lines) == 3 and json.loads(lines[0]) == json.loads(lines[2])
    assert json.loads(lines[1]) == {"line": 2, "error": "not valid JSON (nested too deeply)"}
    assert errors == [RowError(2, "not valid JSON (nested too deeply)")]


def test_a_row_whose_answer_would_pass_4300_digits_is_refused_in_place() -> None:
    huge = {**GOOD, "in_channels": "1" + "0" * 4400}
    data = lines_of([GOOD_LINE, json.dumps(huge), GOOD_LINE])
    for output_format in ("jsonl", "csv"):
        text, errors = batch_both_ways(data, input_format="jsonl", output_format=output_format)
        assert len(text.splitlines()) == 3 + (output_format == "csv")
        assert [e.line for e in errors] == [2]
        assert errors[0].message == (
            "in_channels must be a positive integer of at most 100 digits, got one of 4,401 digits"
        )


def test_a_csv_cell_over_131072_characters_is_that_rows_error() -> None:
    data = lines_of(["layer,kernel_size,in_channels,out_channels", "conv,3," + "1" * 140_000])
    data += lines_of(["conv,3,10,32"])
    text, errors = batch_both_ways(data, input_format="csv", output_format="jsonl")
    lines = text.splitlines()
    assert json.loads(lines[0])["line"] == 2 and json.loads(lines[1])["total"] == 2912
    assert errors == [RowError(2, f"the line is longer than {MAX_ROW_BYTES:,} bytes (the limit)")]


def test_a_csv_row_with_a_lone_carriage_return_is_that_rows_error() -> None:
    data = b"layer,kernel_size,in_channels,out_channels\nconv,3\r,10,32\nconv,3,10,32\n"
    _, errors = batch_both_ways(data, input_format="csv", output_format="csv")
    assert [e.line for e in errors] == [2] and "not valid CSV" in errors[0].message


def test_bad_rows_in_a_parallel_batch_lose_no_good_row(tmp_path: Path) -> None:
    """40,000 rows, the bad ones from row 20,001: every other row is answered, in order."""
    rows = [json.dumps({**GOOD, "out_channels": 8 + n % 64}) for n in range(40_000)]
    rows[20_000] = "[" * 1025 + "]" * 1025
    rows[20_001] = json.dumps({**GOOD, "out_channels": "1" + "0" * 4400})
    rows[20_002] = '{"layer": "conv", "kernel_size": 3, "in_chan'
    rows[30_000] = "x" * 200_000
    path = tmp_path / "big.jsonl"
    path.write_bytes(lines_of(rows))
    parallel = convcount_process("batch", str(path), "-j", "2")
    serial = convcount_process("batch", str(path), "-j", "1")
    assert parallel.returncode == serial.returncode == 1
    assert parallel.stdout == serial.stdout and parallel.stderr == serial.stderr
    out = parallel.stdout.splitlines()
    assert len(out) == 40_000
    assert [json.loads(out[n]).get("line") for n in (20_000, 20_001, 20_002, 30_000)] == [
        20_001,
        20_002,
        20_003,
        30_001,
    ]
    assert json.loads(out[39_999])["out_channels"] == 8 + 39_999 % 64
    assert b"Traceback" not in parallel.stderr and len(parallel.stderr.splitlines()) == 4


def test_truncated_json_says_the_same_in_both_paths() -> None:
    data = lines_of(['{"layer": "conv", "kernel_size": 3, "in_chan', GOOD_LINE] * 40)
    _, errors = batch_both_ways(data, input_format="jsonl", output_format="jsonl")
    assert len(errors) == 40
    assert {e.message for e in errors} == {
        "not valid JSON (Unterminated string starting at: line 1 column 37 (char 36))"
    }


# --- bounded reads --------------------------------------------------------------------


def test_batch_of_dev_zero_is_refused_at_once() -> None:
    """Sniffed as CSV (it is no JSON), whose header is longer than a row may be."""
    done = convcount_process("batch", "/dev/zero", timeout=20)
    assert_one_line_error(done, 2, f"the CSV header is longer than {MAX_ROW_BYTES:,} bytes")


def test_batch_of_dev_zero_as_json_lines_reads_in_flat_memory_until_ctrl_c() -> None:
    """One endless line: its error comes out at once, then it is read past (memory
    capped at 1 GiB for the process) until Ctrl-C."""
    with subprocess.Popen(
        [sys.executable, "-m", "convcount", "batch", "/dev/zero", "--input-format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
        preexec_fn=_limit_memory,  # noqa: PLW1509  # the tests start no threads
        start_new_session=True,
    ) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        time.sleep(0.3)
        assert process.poll() is None  # still reading, within its memory
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=5)
    assert json.loads(first) == {
        "line": 1,
        "error": f"the line is longer than {MAX_ROW_BYTES:,} bytes (the limit)",
    }
    assert process.returncode == 130 and out == b""
    assert b"Traceback" not in err


def test_a_sparse_2_gb_file_is_one_bad_line_read_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "sparse.jsonl"
    with path.open("wb") as handle:
        handle.truncate(2 << 30)
    done = convcount_process("batch", str(path), timeout=120)
    assert done.returncode == 1
    assert json.loads(done.stdout)["line"] == 1
    assert done.stderr.decode().splitlines() == [
        f"convcount: line 1: the line is longer than {MAX_ROW_BYTES:,} bytes (the limit)"
    ]


# --- exact or clearly refused, the same in every format -------------------------------


FORMATS = (("--format", "table"), ("--json",), ("--format", "csv"), ("-q",))


def test_the_largest_inputs_give_whole_answers_in_every_format() -> None:
    """Every field at its limit: the answers (under MAX_ANSWER_DIGITS) print whole."""
    big = "9" * MAX_DIGITS
    args = ("transpose", "-k", f"{big}x{big}x{big}", "-i", big, "-o", big, "-s", big)
    more = ("--stride", big, "--dilation", big, "--convention", "torch", "--dtype", "float64")
    api = convcount.transpose(
        kernel_size=(int(big),) * 3,
        in_channels=int(big),
        out_channels=int(big),
        input_size=int(big),
        stride=int(big),
        dilation=int(big),
        convention="torch",
        dtype="float64",
    )
    assert api.macs is not None and len(str(api.macs)) < MAX_ANSWER_DIGITS
    for fmt in FORMATS:
        result = run(*args, *more, *fmt)
        assert result.exit_code == 0 and result.stderr == "", (fmt, result.stderr)
        if fmt == ("--json",):
            data = json.loads(result.stdout)
            assert (data["total"], data["macs"], data["output_bytes"]) == (
                api.total,
                api.macs,
                api.output_bytes,
            )
        elif fmt == ("-q",):
            assert result.stdout == f"{api.total}\n"
        elif fmt == ("--format", "table"):
            assert "…" not in result.stdout  # folded onto more lines, never cut
            wide = run(*args, *more, *fmt, env={"COLUMNS": "5000"})
            assert f" {api.total:,} " in wide.stdout and f" {api.macs:,} " in wide.stdout


def test_depthwise_input_size_of_161_digits_is_refused_the_same_in_every_format() -> None:
    """It used to work in JSON and crash the table (a float conversion)."""
    for fmt in FORMATS:
        assert_usage_error(
            run("depthwise", "-k", "3", "-i", "8", "-s", "1" + "0" * 160, *fmt),
            "--input-size must be a positive integer of at most 100 digits, got one of 161 digits",
        )


def test_a_100_digit_input_size_prints_in_the_table_too() -> None:
    result = run("depthwise", "-k", "3", "-i", "8", "-s", "1" + "0" * 99)
    assert result.exit_code == 0
    assert "PiB" in result.stdout  # the memory figure, no float overflow


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_answer_over_4300_digits_cannot_be_asked_for(fmt: tuple[str, ...]) -> None:
    assert_usage_error(
        run("conv", "-k", "3", "-i", "10", "-o", "1" + "0" * 4400, *fmt),
        "--out-channels must be a positive integer of at most 100 digits, got one of 4,401",
    )


def test_an_answer_too_long_to_print_is_refused_with_one_message() -> None:
    """Only a model file can build one (a long chain of layers); the check is shared."""
    with pytest.raises(convcount.ConvcountError) as info:
        check_answers({"layers": [{"macs": 10**MAX_ANSWER_DIGITS}]})
    assert str(info.value) == (
        "an answer has more than 4,300 digits, more than convcount prints; use smaller values"
    )
    check_answers({"layers": [{"macs": 10**MAX_ANSWER_DIGITS - 1}]})


def test_compare_with_a_400_digit_multiplier_is_refused_even_with_q() -> None:
    for quiet in ((), ("-q",)):
        assert_usage_error(
            run("compare", "-k", "3", "-i", "8", "-o", "8", "-m", "1" + "0" * 400, *quiet),
            "--depth-multiplier must be a positive integer of at most 100 digits",
        )


def test_compare_at_the_limit_answers_in_every_format() -> None:
    big = "9" * MAX_DIGITS
    for fmt in FORMATS:
        result = run("compare", "-k", "3", "-i", big, "-o", "7", "-m", big, "-s", big, *fmt)
        assert result.exit_code == 0, result.stderr


# --- streams ----------------------------------------------------------------------------


FLAGSHIP = ("separable", "-k", "3", "-i", "10", "-o", "32")


def test_a_closed_stdout_is_exit_74_with_one_line() -> None:
    for fmt in (("-q",), ("--json",), ()):
        assert_one_line_error(
            convcount_process(*FLAGSHIP, *fmt, close=(1,)),
            74,
            "the output could not be written: standard output is closed",
        )


def test_a_closed_stderr_never_sends_errors_to_stdout() -> None:
    bad = convcount_process("conv", "-k", "3", "-i", "10", "-o", "32", "-g", "3", close=(2,))
    assert (bad.returncode, bad.stdout) == (74, b"")  # the message could not be written
    good = convcount_process(*FLAGSHIP, "-q", close=(2,))
    assert (good.returncode, good.stdout) == (0, b"442\n")


def test_a_full_disk_is_exit_74_with_one_line() -> None:
    with open("/dev/full", "wb") as full:
        for fmt in (("-q",), ("--json",), ()):
            done = convcount_process(*FLAGSHIP, *fmt, stdout=full, stderr=subprocess.PIPE)
            assert done.returncode == 74
            assert done.stderr == (
                b"convcount: the output could not be written: No space left on device\n"
            )


def test_batch_on_a_closed_stdin_is_exit_2() -> None:
    assert_one_line_error(
        convcount_process("batch", "-", close=(0,)), 2, "FILE '-': standard input is closed"
    )


def test_a_batch_into_a_full_disk_is_exit_74(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(lines_of([GOOD_LINE] * 20_000))
    with open("/dev/full", "wb") as full:
        for jobs in ("1", "2"):
            done = convcount_process(
                "batch", str(path), "-j", jobs, stdout=full, stderr=subprocess.PIPE
            )
            assert done.returncode == 74
            assert done.stderr == (
                b"convcount: the output could not be written: No space left on device\n"
            )


@pytest.mark.parametrize("args", [("--format", "table"), ("--format", "csv"), ("-j", "1")])
def test_a_closed_pipe_is_141_in_every_batch_format(tmp_path: Path, args: tuple[str, ...]) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(lines_of([GOOD_LINE] * 5_000))
    with subprocess.Popen(
        [sys.executable, "-m", "convcount", "batch", str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read()
        assert process.wait(timeout=30) == 141
    assert err == b""


# --- Ctrl-C: exit 130 within a second, whole lines, no traceback -----------------------


def interrupt(
    args: list[str], *, started: Callable[[subprocess.Popen[bytes]], bytes], **kwargs: Any
) -> tuple[int, bytes, bytes, float]:
    """Start convcount in its own process group, wait for ``started``, send the group
    SIGINT as a terminal does; (exit code, stdout, stderr, seconds to end)."""
    with subprocess.Popen(
        [sys.executable, "-m", "convcount", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,  # unbuffered: communicate() reads on where `started` stopped
        start_new_session=True,
        preexec_fn=_limit_memory,  # noqa: PLW1509  # the tests start no threads
        **kwargs,
    ) as process:
        head = started(process)
        sent = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=10)
        took = time.monotonic() - sent
    return process.returncode, head + out, err, took


def _first_line(process: subprocess.Popen[bytes]) -> bytes:
    assert process.stdout is not None
    return process.stdout.readline()


@pytest.fixture(scope="module")
def big_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sigint") / "big.jsonl"
    path.write_bytes(
        lines_of([json.dumps({**GOOD, "input_size": 28 + n % 9}) for n in range(60_000)])
    )
    assert path.stat().st_size > 2 << 20
    return path


@pytest.mark.parametrize("jobs", ["2", "1"])
def test_ctrl_c_during_a_batch_file(big_jsonl: Path, jobs: str) -> None:
    code, out, err, took = interrupt(["batch", str(big_jsonl), "-j", jobs], started=_first_line)
    assert code == 130 and took < 2, (code, took)
    assert b"Traceback" not in err and b"Error" not in err, err[-2000:]
    assert out.endswith(b"\n")
    assert all(json.loads(line)["total"] for line in out.splitlines())
    assert len(out.splitlines()) < 60_000  # it did stop


def test_ctrl_c_while_a_batch_waits_for_standard_input() -> None:
    def one_row_answered(process: subprocess.Popen[bytes]) -> bytes:
        assert process.stdin is not None
        process.stdin.write(lines_of([GOOD_LINE]))
        process.stdin.flush()
        return _first_line(process)

    code, out, err, took = interrupt(
        ["batch", "-"], started=one_row_answered, stdin=subprocess.PIPE
    )
    assert (code, took < 2, err) == (130, True, b"")
    assert json.loads(out)["total"] == 2912


def test_ctrl_c_while_a_model_is_written_ends_after_the_whole_answer() -> None:
    """A model summary too big for the pipe: Ctrl-C while it is being written waits
    for the answer to be whole, then ends with 130."""
    import fcntl
    import termios

    def pipe_full(process: subprocess.Popen[bytes]) -> bytes:
        assert process.stdout is not None
        fcntl.fcntl(process.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
        deadline = time.monotonic() + 30
        waiting = bytearray(4)
        while time.monotonic() < deadline:
            fcntl.ioctl(process.stdout.fileno(), termios.FIONREAD, waiting)
            if int.from_bytes(waiting, sys.byteorder) >= 4096:
                return b""
            assert process.poll() is None, "the model was written whole before the test began"
            time.sleep(0.01)
        raise AssertionError("the model did not start writing")

    code, out, err, took = interrupt(["model", "resnet50", "--json"], started=pipe_full)
    assert code == 130 and took < 2 and b"Traceback" not in err
    assert json.loads(out)["total_params"] == 25_636_712  # whole, not half


# --- capped workers, sniffing, values ---------------------------------------------------


def test_jobs_are_capped_by_the_cores_and_the_blocks() -> None:
    """-j 1000 on a one-line file started 1,002 processes."""
    assert _workers("1000", 80) == 1
    cores = len(os.sched_getaffinity(0))
    assert _workers("1000", None) == MAX_JOBS_PER_CORE * cores
    assert _workers("1000", 10 << 20) == min(MAX_JOBS_PER_CORE * cores, 40)
    assert _workers(None, 100) == 1


def test_jobs_1000_on_a_one_line_file(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_bytes(lines_of([GOOD_LINE]))
    done = convcount_process("batch", str(path), "-j", "1000")
    assert done.returncode == 0 and json.loads(done.stdout)["total"] == 2912


@pytest.mark.parametrize(
    "prefix",
    [b"\xef\xbb\xbf", b"\n" * 100, b" \r\n\t\n" * 40, b"\xef\xbb\xbf\n\n"],
    ids=["bom", "100-blank-lines", "blank-lines-with-spaces", "bom-then-blank-lines"],
)
def test_json_lines_on_stdin_are_sniffed_past_a_bom_and_blank_lines(prefix: bytes) -> None:
    done = convcount_process("batch", "-", input=prefix + lines_of([GOOD_LINE, "{"]))
    blank = prefix.count(b"\n")
    assert done.returncode == 1
    out = done.stdout.splitlines()
    assert json.loads(out[0])["total"] == 2912
    assert json.loads(out[1])["line"] == blank + 2  # lines are counted from the first byte


def test_a_csv_header_after_a_bom_and_blank_lines() -> None:
    data = b"\xef\xbb\xbf\n\nlayer,kernel_size,in_channels,out_channels\nconv,3,10,32\nconv,3,10\n"
    text, errors = batch_both_ways(data, input_format="csv", output_format="jsonl")
    assert json.loads(text.splitlines()[0])["total"] == 2912
    assert [e.line for e in errors] == [5]
    assert BatchInput.open(io.BytesIO(data)).sniff() == "csv"


def test_a_json_integer_past_64_bits_is_exact_like_the_cli() -> None:
    """orjson reads 2**64 as 1.8446744073709552e+19; the CLI took it whole."""
    row = {**GOOD, "out_channels": 2**64, "groups": 2}
    text, errors = batch_both_ways(
        lines_of([json.dumps(row)]), input_format="jsonl", output_format="jsonl"
    )
    assert errors == []
    cli = run("conv", "-k", "3", "-i", "10", "-o", str(2**64), "-g", "2", "--json")
    assert json.loads(text) == json.loads(cli.stdout)


@pytest.mark.parametrize(
    "text",
    ["bad\nkey", "\x1b[31mred\x1b[0m", "tab\there", "line\u2028separator", "bell\x07"],
)
def test_control_characters_are_escaped_in_every_message(text: str) -> None:
    escaped = text.encode("unicode_escape").decode()
    row = json.dumps({**GOOD, text: 1})
    _, errors = batch_both_ways(lines_of([row]), input_format="jsonl", output_format="jsonl")
    # a batch row names its own fields, not flags
    assert errors[0].message == f"{escaped} is not a field convcount knows"
    for args in (
        ("conv", "-k", "3", "-i", "10", "-o", "32", "--dtype", text),
        ("conv", "-k", "3", "-i", text, "-o", "32"),
        ("conv", "-k", "3", "-i", "10", "-o", "32", "--" + text),
        (text,),
    ):
        result = run(*args)
        assert_usage_error(result)
        assert result.stderr.isprintable() or result.stderr[:-1].isprintable(), result.stderr


@pytest.mark.parametrize("digit", ["３", "٣", "३", "³", "𝟑"])
def test_only_ascii_digits_are_digits_in_every_field_and_source(digit: str) -> None:
    for args in (
        ("conv", "-k", digit, "-i", "10", "-o", "32"),
        ("conv", "-k", "3", "-i", digit, "-o", "32"),
        ("conv", "-k", f"3x{digit}", "-i", "10", "-o", "32"),
        ("conv", "-k", "3", "-i", "10", "-o", "32", "-s", digit + "2"),
        ("conv", "-k", "3", "-i", "10", "-o", "32", "--dims", digit),
        ("depthwise", "-k", "3", "-i", "10", "-m", digit),
        ("conv", "-k", "3", "-i", "10", "-o", "32", "--padding", digit, "--convention", "torch"),
        ("batch", "-", "-j", digit),
        ("model", "mobilenet-v1", "-r", digit + "24"),
    ):
        assert_usage_error(run(*args))
    csv_rows = f"layer,kernel_size,in_channels,out_channels\nconv,3,{digit},32\n".encode()
    _, errors = batch_both_ways(csv_rows, input_format="csv", output_format="jsonl")
    assert len(errors) == 1
    _, errors = batch_both_ways(
        lines_of([json.dumps({**GOOD, "in_channels": digit})]),
        input_format="jsonl",
        output_format="jsonl",
    )
    assert len(errors) == 1


def test_long_values_are_quoted_short() -> None:
    result = run("conv", "-k", "3", "-i", "10", "-o", "32", "--dtype", "x" * 100_000)
    assert_usage_error(result, "--dtype must be one of")
    assert len(result.stderr) < 300


def test_the_readme_states_the_limits() -> None:
    """The README's Limits section says what convcount.limits holds."""
    from convcount.limits import MAX_MODEL_FILE_BYTES

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Limits", 1)[1].split("\n## ", 1)[0]
    for stated in (
        f"{MAX_DIGITS} digits",
        f"{MAX_ANSWER_DIGITS:,} digits",
        f"{MAX_ROW_BYTES:,} bytes",
        f"{MAX_MODEL_FILE_BYTES:,} bytes",
        f"{MAX_JOBS_PER_CORE} worker processes per core",
    ):
        assert stated in section, stated
