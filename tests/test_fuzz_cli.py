"""Fuzzing the command line: hostile argv never gives a traceback.

For every generated argv: an exit code from the documented table, exactly one
printable line on stderr and nothing on stdout with exit 2, an answer on
stdout and nothing on stderr with exit 0, and never an "internal error".
Every case runs within a time and memory budget (tests/fuzzutil.py): most in a
child forked from the test process (fast), a few through the real executable.
A hang or a memory bomb fails the test.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .fuzzutil import run_cli

EXIT_CODES = {0, 1, 2, 74, 130, 141}
LAYER_COMMANDS = ["conv", "depthwise", "separable", "transpose", "compare"]
VALUE_OPTIONS = [
    "-k",
    "-i",
    "-o",
    "-g",
    "-m",
    "--dims",
    "--convention",
    "-s",
    "--stride",
    "--padding",
    "--dilation",
    "--output-padding",
    "--dtype",
    "--format",
    "--count-as",
]
FLAGS = ["--bias", "--no-bias", "--depthwise-bias", "--no-pointwise-bias", "--json", "-q", "-h"]
FUZZ = settings(
    max_examples=250,
    deadline=None,  # a shared CI machine: time is bounded by the example count
    derandomize=True,  # the same cases on every run, so CI is reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

digits = st.integers(min_value=-(10**5), max_value=10**120).map(str)
hostile_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40
) | st.sampled_from(
    [
        "",
        " ",
        "３",
        "٣",
        "²",
        "1_000",
        "+3",
        "--3",
        "3\n",
        "\x1b[31m3",
        "3x",
        "x3",
        "3x3x3x3",
        "3×5",
        "3,5",
        "1e3",
        "0x10",
        "nan",
        "inf",
        "1" + "0" * 5000,
        "9" * 101,
        "9" * 100,
        "same",
        "valid",
        "causal",
        "torch",
        "keras",
        "float64",
        "int8",
        "table",
        "json",
        "csv",
        "plain",
        "all",
        "torchinfo",
        "\u2028",
        "\udcff",
    ]
)
value = st.one_of(
    st.integers(min_value=1, max_value=64).map(str),
    digits,
    hostile_text,
    st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=5).map(
        lambda parts: "x".join(map(str, parts))
    ),
)
option = st.one_of(
    st.tuples(st.sampled_from(VALUE_OPTIONS), value),
    st.tuples(st.sampled_from(FLAGS)),
    st.tuples(hostile_text.filter(lambda t: t.startswith("-")), value),
)


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(LAYER_COMMANDS) | hostile_text)
    options = draw(st.lists(option, max_size=8))
    argv = [command]
    for parts in options:
        argv.extend(parts)
    return argv


def check(code: int, stdout: str, stderr: str) -> None:
    assert code in EXIT_CODES, code
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    if code == 2:
        assert stdout == "", stdout
        assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
        assert stderr[:-1].isprintable(), stderr
    elif code == 0:
        assert stdout != "" and stderr == "", stderr


@FUZZ
@given(argvs())
def test_any_argv_ends_with_an_exit_code_from_the_table(argv: list[str]) -> None:
    outcome = run_cli([a.replace("\x00", "") for a in argv])  # within the time and memory budget
    check(outcome.code, outcome.out, outcome.err)


@settings(FUZZ, max_examples=12)
@given(argvs())
def test_any_argv_through_the_real_executable(argv: list[str]) -> None:
    outcome = run_cli([a.replace("\x00", "") for a in argv], fresh=True)
    check(outcome.code, outcome.out, outcome.err)
