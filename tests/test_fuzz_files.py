"""Fuzzing Keras model files: hostile .keras, JSON and .h5 never give a traceback.

Every generated file (a real configuration with values replaced, a real .keras
or .h5 with bytes changed or cut): an exit code from the table, exactly one
printable line on stderr naming the file and nothing on stdout with exit 2,
in bounded time and memory. Then every hostile-file case of issue 17, by name.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import run
from .test_fuzz_model import EXIT_CODES, FUZZ, MEMORY, assert_refused, memory_cap, model_process

FILES = Path(__file__).parent / "files" / "keras"
CONFIG = json.loads((FILES / "branches.json").read_text())
KERAS = (FILES / "shared.keras").read_bytes()
H5 = (FILES / "custom.h5").read_bytes()


def check(path: Path) -> None:
    with memory_cap(MEMORY):
        result = run("model", str(path))
    assert result.exit_code in EXIT_CODES
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    if result.exit_code == 2:
        assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr[:-1].isprintable(), result.stderr
        assert str(path) in result.stderr, result.stderr
    else:
        assert result.exit_code == 0 and result.stdout, result


# --- configurations with values replaced ------------------------------------------------

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(min_value=-3, max_value=300), max_size=5),
    st.dictionaries(st.sampled_from(["class_name", "config", "name", "shape"]), st.integers()),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


PATHS = _paths(CONFIG)[1:]


def _replace(config: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(config))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


@settings(FUZZ, max_examples=40)
@given(
    changes=st.lists(st.tuples(st.sampled_from(PATHS), JUNK), min_size=1, max_size=4),
)
def test_any_changed_configuration_ends_with_an_exit_code_from_the_table(
    changes: list[tuple[tuple[Any, ...], Any]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    config = CONFIG
    for path, value in changes:
        try:
            config = _replace(config, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the place
    path = tmp_path_factory.mktemp("fuzz") / "model.json"
    path.write_text(json.dumps(config))
    check(path)


@settings(FUZZ, max_examples=40)
@given(
    data=st.data(),
    which=st.sampled_from(["keras", "h5"]),
)
def test_any_changed_or_cut_file_ends_with_an_exit_code_from_the_table(
    data: st.DataObject, which: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    original = KERAS if which == "keras" else H5
    content = bytearray(original)
    if data.draw(st.booleans(), label="cut"):
        content = content[: data.draw(st.integers(0, len(content)), label="length")]
    flips = data.draw(
        st.lists(
            st.tuples(st.integers(0, max(len(content) - 1, 0)), st.integers(0, 255)), max_size=8
        ),
        label="flips",
    )
    for at, byte in flips:
        if at < len(content):
            content[at] = byte
    path = tmp_path_factory.mktemp("fuzz") / f"model.{which}"
    path.write_bytes(bytes(content))
    check(path)


# --- the hostile files of issue 17 ------------------------------------------------------


def test_a_truncated_keras_archive_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.keras"
    path.write_bytes(KERAS[: len(KERAS) // 2])
    done, _ = model_process(str(path))
    assert_refused(done, str(path))


def _zip_with_claim(path: Path, data: bytes, claimed: int) -> None:
    """A zip whose config.json says it inflates to ``claimed`` bytes (the local and the
    central headers both)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", data)
    raw = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(signature)
        raw[at + offset : at + offset + 4] = struct.pack("<I", claimed)
    path.write_bytes(bytes(raw))


def test_a_member_claiming_a_huge_size_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "claims.keras"
    _zip_with_claim(path, b"{}", 0xFFFFFFF0)
    done, took = model_process(str(path))
    assert_refused(done, str(path), "config.json", "claims")
    assert took < 10


def test_a_member_inflating_past_its_claim_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.keras"
    bomb = b"[" + b" " * (80 * 1024 * 1024) + b"]"
    _zip_with_claim(path, bomb, 100)
    assert path.stat().st_size < 1024 * 1024
    done, took = model_process(str(path))
    assert_refused(done, str(path), "config.json")
    assert took < 20


def test_a_config_nested_100000_deep_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"class_name": ' + "[" * 100_000 + "]" * 100_000 + "}")
    done, _ = model_process(str(path))
    assert_refused(done, str(path), "nested too deeply")


def test_models_nested_in_models_thousands_deep_are_refused(tmp_path: Path) -> None:
    model: dict[str, Any] = {
        "class_name": "Sequential",
        "config": {
            "name": "leaf",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "i"}},
                {"class_name": "Dense", "config": {"units": 2, "name": "d"}},
            ],
        },
    }
    for depth in range(300):
        model = {
            "class_name": "Sequential",
            "config": {"name": f"m{depth}", "layers": [model]},
            "build_config": {"input_shape": [None, 4]},
        }
    path = tmp_path / "nested.json"
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)  # json.dumps needs it to write the file
    try:
        path.write_text(json.dumps(model))
    finally:
        sys.setrecursionlimit(limit)
    done, _ = model_process(str(path))
    assert_refused(done, str(path))


def test_a_5000_digit_integer_in_a_config_is_refused(tmp_path: Path) -> None:
    text = (
        (FILES / "branches.json").read_text().replace('"filters": 16', '"filters": ' + "9" * 5000)
    )
    path = tmp_path / "digits.json"
    path.write_text(text)
    done, _ = model_process(str(path))
    assert_refused(done, str(path))


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[1, 2]", "no Keras model configuration"),
        ("", "not valid JSON"),
        ('{"class_name": "Dense", "config": {}}', "not a Functional or Sequential"),
        ('{"class_name": "Functional", "config": {"layers": 3}}', "lists no layers"),
        ("{not json", "not valid JSON"),
        ('{"class_name": "Sequential", "config": {"layers": []}}', "input shape"),
    ],
)
def test_json_that_is_no_model_is_refused(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    result = run("model", str(path))
    assert result.exit_code == 2 and result.stdout == ""
    assert needle in result.stderr and str(path) in result.stderr, result.stderr


def test_hdf5_attributes_of_garbage_are_refused(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    numbers = tmp_path / "numbers.h5"
    with h5py.File(numbers, "w") as f:
        f.attrs["model_config"] = [1, 2, 3]
    result = run("model", str(numbers))
    assert result.exit_code == 2 and "model_config is not a string" in result.stderr
    weights = tmp_path / "weights.h5"
    with h5py.File(weights, "w") as f:
        f.create_dataset("kernel", data=[1.0, 2.0])
    result = run("model", str(weights))
    assert result.exit_code == 2 and "without a model_config" in result.stderr
    garbage = tmp_path / "garbage.h5"
    with h5py.File(garbage, "w") as f:
        f.attrs["model_config"] = "{this is not json"
    result = run("model", str(garbage))
    assert result.exit_code == 2 and "not valid JSON" in result.stderr


def test_hdf5_offsets_past_the_end_are_refused(tmp_path: Path) -> None:
    for keep in (8, 40, 100, 300, len(H5) // 3):
        path = tmp_path / f"cut{keep}.h5"
        path.write_bytes(H5[:keep])
        check(path)
        assert run("model", str(path)).exit_code == 2
    # The root object header's address pointed past the end.
    raw = bytearray(H5)
    raw[64:72] = struct.pack("<Q", 1 << 40)
    path = tmp_path / "far.h5"
    path.write_bytes(bytes(raw))
    result = run("model", str(path))
    assert result.exit_code == 2 and "past the end" in result.stderr, result.stderr


def test_a_zip_of_garbage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "garbage.keras"
    path.write_bytes(b"PK\x03\x04" + zlib.compress(b"x" * 1000))
    check(path)
    assert run("model", str(path)).exit_code == 2


def test_layers_listed_last_first_are_read_in_linear_time(tmp_path: Path) -> None:
    """5,000 Dense layers in a chain, listed from the last: each call waits for its input
    (Keras lists them in order; a file need not)."""
    count = 5000
    layers: list[dict[str, Any]] = [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"}}
    ]
    for i in range(count):
        source = "in" if i == 0 else f"d{i - 1}"
        tensor = {"class_name": "__keras_tensor__", "config": {"keras_history": [source, 0, 0]}}
        layers.append(
            {
                "class_name": "Dense",
                "config": {"name": f"d{i}", "units": 4, "trainable": True},
                "inbound_nodes": [{"args": [tensor], "kwargs": {}}],
            }
        )
    config = {
        "class_name": "Functional",
        "config": {
            "name": "reversed",
            "layers": [layers[0], *layers[:0:-1]],
            "input_layers": [["in", 0, 0]],
            "output_layers": [[f"d{count - 1}", 0, 0]],
        },
    }
    path = tmp_path / "reversed.json"
    path.write_text(json.dumps(config))
    done, took = model_process(str(path), "-q")
    assert done.returncode == 0 and done.stdout == f"{count * 20}\n", done.stderr
    assert took < 20


def test_layers_that_take_each_other_are_refused(tmp_path: Path) -> None:
    def dense(name: str, source: str) -> dict[str, Any]:
        tensor = {"class_name": "__keras_tensor__", "config": {"keras_history": [source, 0, 0]}}
        return {
            "class_name": "Dense",
            "config": {"name": name, "units": 4},
            "inbound_nodes": [{"args": [tensor], "kwargs": {}}],
        }

    config = {
        "class_name": "Functional",
        "config": {
            "name": "cycle",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"}},
                dense("a", "b"),
                dense("b", "a"),
            ],
            "input_layers": [["in", 0, 0]],
            "output_layers": [["b", 0, 0]],
        },
    }
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(config))
    result = run("model", str(path))
    assert result.exit_code == 2 and "never made" in result.stderr, result.stderr
