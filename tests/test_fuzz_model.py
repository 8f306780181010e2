"""Fuzzing `convcount model`: hostile model files never give a traceback.

For every generated TOML file (and width multiplier, resolution, format): an
exit code from the table, exactly one printable line on stderr and nothing on
stdout with exit 2, never an "internal error", in bounded time and memory.
Then every model-file case from issue 9, by name.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

import convcount
from convcount.limits import MAX_MODEL_FILE_BYTES
from convcount.model.kinds import KINDS

from .conftest import run

EXIT_CODES = {0, 1, 2, 74, 130, 141}
MEMORY = 1 << 30
CONV_KINDS = ("conv", "depthwise", "separable", "transpose")
FIELDS = sorted({field.name for kind in KINDS.values() for field in kind.fields})
FUZZ = settings(
    max_examples=80,
    deadline=None,  # time is checked per example below, generously for a shared machine
    derandomize=True,  # the same cases on every run, so CI is reproducible
    # No shrinking: while the loader fails, shrinking would take minutes of the
    # suite's budget; add Phase.shrink back to get a minimal case when debugging.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- TOML out of generated values ---------------------------------------------------


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def _key(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def toml_file(model: dict[str, object], layers: list[dict[str, object]]) -> str:
    lines = ["[model]", *(f"{_key(k)} = {toml_value(v)}" for k, v in model.items())]
    for layer in layers:
        lines += [
            "",
            "[[layer]]",
            *(f"{_key(k)} = {toml_value(v)}" for k, v in layer.items()),
        ]
    return "\n".join(lines) + "\n"


safe_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x7f"),
    max_size=12,
)
scalar = st.one_of(
    st.integers(min_value=-2, max_value=64),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([10**30, 10**100 - 1, 10**100, 10**400, 9007199254740993, 100_000_000]),
    st.floats(),
    st.booleans(),
    st.sampled_from(["3", "3x5", "８", "٣", "", "same", "valid", "up", "input", "relu", "1" * 40]),
    safe_text,
)
value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(safe_text, inner, max_size=3),
    max_leaves=6,
)
#: Values a model file may well hold for each field, so that many files count.
PLAUSIBLE = {
    "kernel_size": st.sampled_from([1, 3, 5, "3x1", [3, 3]]),
    "out_channels": st.integers(min_value=1, max_value=32),
    "expand": st.integers(min_value=1, max_value=6),
    "groups": st.sampled_from([1, 1, 2]),
    "depth_multiplier": st.integers(min_value=1, max_value=3),
    "stride": st.sampled_from([1, 1, 2]),
    "dilation": st.sampled_from([1, 2]),
    "padding": st.sampled_from(["same", "valid", 1]),
    "output_padding": st.sampled_from([0, 1]),
    "units": st.integers(min_value=1, max_value=16),
    "pool_size": st.sampled_from([1, 2, 3]),
    "scale": st.sampled_from([True, False, "up"]),
    "keepdims": st.booleans(),
    "function": st.just("relu"),
    "rate": st.just(0.5),
}
hostile = st.one_of(
    st.sampled_from([0, -1, 10**40, 10**100, 10**400, 9007199254740993, 100_000_000, "３２"]),
    value,
)
size = st.integers(min_value=1, max_value=64) | st.sampled_from(
    ["32", "32x32", "8x16x16", [16, 16]]
)


def rarely(valid: st.SearchStrategy[object], bad: st.SearchStrategy[object]) -> Any:
    """Mostly ``valid``, one time in five ``bad`` (one_of would favour ``bad``)."""
    return st.sampled_from([True, True, True, True, False]).flatmap(lambda ok: valid if ok else bad)


def field(name: str) -> st.SearchStrategy[object]:
    return rarely(PLAUSIBLE.get(name, size), hostile)


model_head = st.fixed_dictionaries(
    {
        "input": rarely(
            st.fixed_dictionaries(
                {
                    "size": rarely(st.integers(min_value=8, max_value=64), hostile),
                    "channels": rarely(size, hostile),
                },
                optional={"dims": rarely(st.sampled_from([1, 2, 3]), hostile)},
            ),
            hostile,
        )
    },
    optional={
        "name": safe_text,
        "convention": rarely(st.sampled_from(["keras", "torch"]), value),
        "channel_divisor": rarely(st.sampled_from([1, 8]), hostile),
        "dtype": rarely(st.sampled_from(["float32", "int8"]), value),
    },
)
layer_name = st.sampled_from(["a", "b", "input", "conv_1"]) | safe_text


@st.composite
def layer(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(rarely(st.sampled_from(sorted(KINDS)), hostile))
    fields = [f.name for f in KINDS[kind].fields] if isinstance(kind, str) and kind in KINDS else []
    chosen = draw(st.lists(st.sampled_from(fields or FIELDS), max_size=4, unique=True))
    chosen += draw(rarely(st.just([]), st.lists(st.sampled_from(FIELDS) | safe_text, max_size=1)))
    spec: dict[str, object] = {"kind": kind}
    if kind in CONV_KINDS:
        spec["kernel_size"] = draw(field("kernel_size"))
        spec["out_channels"] = draw(field("out_channels"))
    for name in chosen:
        spec[name] = draw(field(name))
    if draw(st.booleans()):
        spec["name"] = draw(st.sampled_from(["a", "b", "c"]) | layer_name)
    if draw(rarely(st.just(False), st.just(True))):
        spec["input"] = draw(layer_name | hostile)
    if kind in ("add", "concat") or draw(rarely(st.just(False), st.just(True))):
        spec["inputs"] = draw(st.lists(layer_name | hostile, max_size=3))
    return spec


hostile_text = st.one_of(
    st.text(max_size=200),
    st.integers(min_value=1, max_value=20_000).map(lambda n: "x = " + "[" * n + "]" * n + "\n"),
    st.integers(min_value=4000, max_value=6000).map(lambda n: "x = 1" + "0" * n + "\n"),
)


@st.composite
def model_files(draw: st.DrawFn) -> str:
    text = toml_file(draw(model_head), draw(st.lists(layer(), min_size=1, max_size=6)))
    if draw(rarely(st.just(False), st.just(True))):
        text = draw(hostile_text) if draw(st.booleans()) else text + draw(hostile_text)
    return text


options = st.lists(
    st.one_of(
        st.tuples(
            st.just("-a"),
            st.sampled_from(["0.5", "1e307", "1e-300", "nan", "inf", "-1", "３", "1" * 400]),
        ),
        st.tuples(st.just("-r"), st.sampled_from(["160", "1", "0", "1" * 120, "16x16x16", "x"])),
        st.tuples(st.just("--format"), st.sampled_from(["json", "csv", "table"])),
        st.tuples(st.just("--convention"), st.sampled_from(["keras", "torch"])),
    ),
    max_size=3,
)


@contextmanager
def memory_cap(extra: int) -> Iterator[None]:
    """Cap this process's address space at what it uses now plus ``extra`` bytes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (used + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-model")


@FUZZ
@given(text=model_files(), extra=options)
def test_any_model_file_ends_with_an_exit_code_from_the_table(
    text: str, extra: list[tuple[str, str]], workdir: Path
) -> None:
    path = workdir / "model.toml"
    path.write_text(text, encoding="utf-8")
    argv = ["model", str(path), *(part for pair in extra for part in pair)]
    started = time.monotonic()
    with memory_cap(MEMORY):
        result = run(*argv)
    assert time.monotonic() - started < 10, "took too long"
    assert result.exit_code in EXIT_CODES
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    if result.exit_code == 2:
        assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr[:-1].isprintable(), result.stderr
    else:
        assert result.exit_code == 0 and result.stdout and result.stderr == ""


# --- the model-file cases of issue 9 ----------------------------------------------------

HEAD = "[model]\ninput = { size = 8, channels = 3 }\n"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def model_process(
    *args: str, timeout: float = 30
) -> tuple[subprocess.CompletedProcess[str], float]:
    """The real CLI, its memory capped at 1 GiB; (result, seconds)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "convcount", "model", *args],
        capture_output=True,
        text=True,
        preexec_fn=_limit_memory,  # the tests start no threads
        timeout=timeout,
        check=False,
    )
    return done, time.monotonic() - started


def assert_refused(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].isprintable(), done.stderr[-500:]
    assert "internal error" not in lines[0] and "Traceback" not in done.stderr, lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_90_byte_file_asking_for_100_million_dims_is_refused_fast(tmp_path: Path) -> None:
    text = "[model]\ninput = { size = 8, channels = 3, dims = 100000000 }\n"
    text += '[[layer]]\nkind = "flatten"\n'
    assert len(text) <= 90
    done, took = model_process(write(tmp_path, text))
    assert_refused(done, "dims")
    assert took < 5


def test_dims_of_30_digits_as_a_string(tmp_path: Path) -> None:
    text = HEAD.replace("channels = 3", f'channels = 3, dims = "1{"0" * 29}"')
    assert_refused(
        model_process(write(tmp_path, text + '[[layer]]\nkind = "flatten"\n'))[0], "dims"
    )


@pytest.mark.parametrize(
    ("layer", "needle"),
    [
        ("kind = []", "kind"),
        ('kind = "flatten"\ninput = ["input"]', "input"),
        ('kind = "add"\ninputs = [["a"], "input"]', "inputs"),
    ],
    ids=["kind-is-a-list", "input-is-a-list", "inputs-hold-a-list"],
)
def test_unhashable_kinds_and_inputs_are_refused(tmp_path: Path, layer: str, needle: str) -> None:
    assert_refused(model_process(write(tmp_path, f"{HEAD}[[layer]]\n{layer}\n"))[0], needle)


def test_toml_nested_10000_deep_is_refused(tmp_path: Path) -> None:
    text = HEAD + "x = " + "[" * 10_000 + "]" * 10_000 + '\n[[layer]]\nkind = "flatten"\n'
    assert_refused(model_process(write(tmp_path, text))[0])


def test_a_5001_digit_integer_is_refused(tmp_path: Path) -> None:
    text = f'{HEAD}[[layer]]\nkind = "dense"\nunits = 1{"0" * 5000}\n'
    assert_refused(model_process(write(tmp_path, text))[0])


def test_model_of_dev_zero_is_refused_fast() -> None:
    done, took = model_process("/dev/zero")
    assert_refused(done, "/dev/zero")
    assert took < 5


def test_a_model_file_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    filler = "# " + "x" * 98 + "\n"
    text = (
        HEAD + '[[layer]]\nkind = "flatten"\n' + filler * (MAX_MODEL_FILE_BYTES // len(filler) + 1)
    )
    assert len(text.encode()) > MAX_MODEL_FILE_BYTES
    assert_refused(model_process(write(tmp_path, text))[0])
    fits = (
        HEAD + '[[layer]]\nkind = "flatten"\n' + filler * (MAX_MODEL_FILE_BYTES // len(filler) - 1)
    )
    assert model_process(write(tmp_path, fits))[0].returncode == 0


def test_out_channels_past_2_to_the_53_are_counted_exactly(tmp_path: Path) -> None:
    text = f'{HEAD}[[layer]]\nkind = "conv"\nkernel_size = 3\nout_channels = 9007199254740993\n'
    done, _ = model_process(write(tmp_path, text), "--json")
    assert done.returncode == 0, done.stderr
    exact = convcount.conv(kernel_size=3, in_channels=3, out_channels=9007199254740993)
    assert json.loads(done.stdout)["total_params"] == exact.total


def test_a_width_multiplier_of_1e307_is_refused() -> None:
    assert_refused(model_process("mobilenet-v1", "-a", "1e307")[0])


# --- the language: parameters, blocks, repeats and expressions -------------------------

EXPRESSIONS = [
    "= out",
    "= make_divisible(out * alpha, 8)",
    "= stride",
    "= ceil(depth * 2)",
    "= in_channels",
    "= correct_pad(3)",
    "= 'same' if stride == 1 else 'valid'",
    "= 1/0",
    "= 2 ** 70",
    "= [1, 2]",
    "= block_in_channels == out",
    "= (",
    "= nope",
    "= resolution // 4",
]
block_value = st.one_of(
    st.sampled_from(EXPRESSIONS),
    st.sampled_from([1, 2, 3, 0, -1, 16, "3x3", "same", True, [[0, 1], [1, 0]], 2**64]),
)
block_layer = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(
            ["conv", "depthwise", "pointwise", "batchnorm", "add", "zero_padding"]
        )
    },
    optional={
        "name": st.sampled_from(["c", "d", "input"]),
        "kernel_size": block_value,
        "out_channels": block_value,
        "stride": block_value,
        "padding": block_value,
        "when": st.sampled_from([*EXPRESSIONS, True, "stride == 1"]),
        "inputs": st.lists(st.sampled_from(["input", "c", "d", "zz"]), min_size=2, max_size=2),
    },
)


@st.composite
def language_files(draw: st.DrawFn) -> str:
    lines = [
        "[model]",
        f"input = {{ size = {draw(st.sampled_from([8, 16, 33]))}, channels = 3 }}",
        "[params]",
        f"out = {toml_value(draw(st.sampled_from([8, 16, '= 2 * 8'])))}",
        f"depth = {toml_value(draw(st.sampled_from([1, 1.5, 'x'])))}",
        "[blocks.b]",
        "params = { out = 8, stride = 1 }",
    ]
    for body in draw(st.lists(block_layer, min_size=1, max_size=4)):
        lines += ["[[blocks.b.layer]]", *(f"{_key(k)} = {toml_value(v)}" for k, v in body.items())]
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        lines += [
            "[[layer]]",
            f"block = {toml_value(draw(st.sampled_from(['b', 'nope'])))}",
            f"repeat = {toml_value(draw(st.sampled_from([1, 2, 0, '= ceil(depth * 2)'])))}",
            f"out = {toml_value(draw(block_value))}",
        ]
        if draw(st.booleans()):
            lines.append("first = { stride = 2 }")
    return "\n".join(lines) + "\n"


@settings(FUZZ, max_examples=60)
@given(
    text=language_files(),
    extra=st.lists(st.sampled_from(["-a=0.5", "-a=3/4", "-O=depth=2", "-O=nope=1"]), max_size=2),
)
def test_any_file_of_blocks_and_expressions_ends_with_an_exit_code_from_the_table(
    text: str, extra: list[str], workdir: Path
) -> None:
    path = workdir / "language.toml"
    path.write_text(text, encoding="utf-8")
    argv = ["model", str(path), "--json", *(part for a in extra for part in a.split("=", 1))]
    result = run(*argv)
    assert result.exit_code in (0, 2)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if result.exit_code == 2:
        assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr[:-1].isprintable(), result.stderr
    else:
        assert json.loads(result.stdout)["total_params"] >= 0 and result.stderr == ""


# --- issue 15: the language under hostile numbers, in every field of every kind ----------

#: Numbers at and past every bound, as TOML values, strings and expressions.
EXTREME: list[object] = [
    0,
    -1,
    1,
    2,
    10**18,
    10**18 + 1,
    10**29,
    10**30,
    10**31,
    2**63 - 1,
    10**400,
    1e-300,
    1e300,
    float("inf"),
    float("nan"),
    0.25,
    10.0,
    "1e999999999",
    "1e-999999999",
    "-1e99999999",
    "３",
    "٠.٥",
    "9" * 120,
    "= 0.1 ** 64",
    "= ((((0.1 ** 64) ** 64) ** 64) ** 64) ** 64",
    "= ((1 + 1/10**29) ** 64) ** 64",
    "= 10 ** 30 * 10",
    "= 1/3",
    "= 10**30 / 7",
    "= 2 ** 64",
    "= in_size[0] * 1000",
    "= in_size[9]",
    "= resolution[-1] + i",
    "= in_channels * repeats",
    "= block_in_channels",
    "= [x for x in [1]]",
    "= {1: 2}",
    "= n",
    "= m",
    "= 'causal'",
    "= ['input', 'a']",
]
extreme = st.sampled_from(EXTREME)


def _plausible_or_extreme(name: str) -> st.SearchStrategy[object]:
    return rarely(PLAUSIBLE.get(name, size), extreme)


@st.composite
def any_layer(draw: st.DrawFn, local: list[str]) -> dict[str, object]:
    """A layer of any kind, each of its fields plausible or extreme, maybe skipped."""
    kind = draw(st.sampled_from(sorted(KINDS)))
    spec: dict[str, object] = {"kind": kind}
    fields = [f.name for f in KINDS[kind].fields]
    if kind in CONV_KINDS:
        spec["kernel_size"] = draw(_plausible_or_extreme("kernel_size"))
        spec["out_channels"] = draw(_plausible_or_extreme("out_channels"))
    for name in draw(st.lists(st.sampled_from(fields), max_size=3, unique=True)) if fields else []:
        spec[name] = draw(_plausible_or_extreme(name))
    if KINDS[kind].joins:
        spec["inputs"] = draw(
            st.lists(st.sampled_from(["input", *local, "= ['input', 'a']"]), min_size=2, max_size=3)
        )
    if draw(st.booleans()):
        name = draw(st.sampled_from(["a", "b", "conv", "conv_1", "add"]))
        spec["name"] = name
        local.append(name)
    if draw(st.integers(0, 3)) == 0:
        spec["when"] = draw(st.sampled_from([False, True, "= i == 0", "= n > 1", "= in_size > 4"]))
    return spec


@st.composite
def hostile_language_files(draw: st.DrawFn) -> str:
    """Blocks nested in blocks, repeats, stage tables, `when`, expressions, and extreme
    numbers in every field of every kind, in the language's long and short forms."""
    lines = [
        "[model]",
        f"input = {{ size = {toml_value(draw(st.sampled_from([8, '8x6', [4, 4, 4], 9])))}, "
        "channels = "
        + toml_value(draw(rarely(st.sampled_from([3, 1]), st.sampled_from([10**18, 10**19]))))
        + " }",
        "[params]",
        f"n = {toml_value(draw(rarely(st.sampled_from([1, 2, 3]), extreme)))}",
        f"m = {toml_value(draw(rarely(st.sampled_from([1, 2.5, '= 1/3', '= n * 2']), extreme)))}",
        "rows = "
        + toml_value(
            draw(rarely(st.just([[1, 8], [2, 16]]), st.sampled_from([[[0, 8]], [[10**40, 1]]])))
        ),
    ]
    for level in range(draw(st.integers(1, 3))):
        lines += [f"[blocks.b{level}]", "params = { k = 1, out = 8 }"]
        local: list[str] = []
        for _ in range(draw(st.integers(1, 3))):
            if level and draw(st.integers(0, 2)) == 0:
                use = {
                    "block": f"b{level - 1}",
                    "repeat": draw(st.sampled_from([1, 2, 3, 0, 64, "= n", "= m"])),
                    "out": draw(st.one_of(st.sampled_from([8, 4.5, "= 1/2"]), extreme)),
                }
                lines += [
                    f"[[blocks.b{level}.layer]]",
                    *(f"{_key(k)} = {toml_value(v)}" for k, v in use.items()),
                ]
            else:
                body = draw(any_layer(local))
                lines += [
                    f"[[blocks.b{level}.layer]]",
                    *(f"{_key(k)} = {toml_value(v)}" for k, v in body.items()),
                ]
    top = f"b{draw(st.integers(0, 0))}"
    uses = [
        {"block": top, "name": "s", "repeat": draw(st.sampled_from([1, 2, 0, "= n", "= m", 70]))},
        {"block": top, "name": "t", "table": "= rows", "columns": ["repeat", "out"]},
        {"kind": "identity", "input": draw(st.sampled_from(["s.0.a", "s", "input", "= 'input'"]))},
    ]
    chosen = draw(st.lists(st.sampled_from(uses), min_size=1, max_size=3))
    local_top: list[str] = []
    chosen += draw(st.lists(any_layer(local_top), max_size=2))
    if draw(st.booleans()):  # the short form: the layer list opens the file
        return "layer = " + toml_value(chosen) + "\n" + "\n".join(lines) + "\n"
    for item in chosen:
        lines += ["[[layer]]", *(f"{_key(k)} = {toml_value(v)}" for k, v in item.items())]
    return "\n".join(lines) + "\n"


@settings(FUZZ, max_examples=100)
@given(
    text=hostile_language_files(),
    extra=st.lists(
        st.sampled_from(
            [
                "-a=0.5",
                "-a=1e999999999",
                "-a=３",
                "-O=n=2",
                "-O=n=1e999999999",
                "-O=m=٠.٥",
                "-O=n=2.0",
                "-O=in_size=3",
                "-r=8x6",
                "-r=7",
                "--convention=torch",
            ]
        ),
        max_size=2,
    ),
)
def test_hostile_language_files_end_in_bounded_time_and_memory(
    text: str, extra: list[str], workdir: Path
) -> None:
    path = workdir / "hostile-language.toml"
    path.write_text(text, encoding="utf-8")
    argv = ["model", str(path), "--json", *(part for a in extra for part in a.split("=", 1))]
    started = time.process_time()
    with memory_cap(MEMORY // 2):
        result = run(*argv)
    took = time.process_time() - started
    event("counted" if result.exit_code == 0 else result.stderr.split(": ")[-2][-30:])
    assert took < 5, ("took too long", took, text)
    assert result.exit_code in (0, 2), result
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, (
        result.stderr,
        text,
    )
    if result.exit_code == 2:
        assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr[:-1].isprintable() and len(result.stderr) < 1000, result.stderr
    else:
        assert json.loads(result.stdout)["total_params"] >= 0 and result.stderr == ""
