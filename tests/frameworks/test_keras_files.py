"""Keras model files saved live by the real Keras, in CI, read back by convcount.

A representative set of the hand-written models of tests/files/capture_keras_files.py
is built, saved as .keras, legacy .h5 and
to_json() into a temporary folder, read by convcount and compared with what Keras
says of them right then (count_params(), trainable and non-trainable weights,
FlopCounterMode MACs, each layer's output shapes and parameters). The committed
files of every model are checked the same way in tests/test_files_keras.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from convcount.model import load_file
from tests.test_files_keras import CUSTOM, WEIGHTLESS, check

pytestmark = pytest.mark.frameworks

CAPTURE = Path(__file__).parent.parent / "files" / "capture_keras_files.py"


@pytest.fixture(scope="module")
def capture(keras: ModuleType, torch: ModuleType) -> ModuleType:
    spec = importlib.util.spec_from_file_location("capture_keras_files", CAPTURE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _save(model: Any, folder: Path, name: str) -> dict[str, Path]:
    paths = {form: folder / f"{name}.{form}" for form in ("keras", "h5", "json")}
    model.save(paths["keras"])
    model.save(paths["h5"])
    paths["json"].write_text(model.to_json())
    return paths


@pytest.mark.parametrize(
    "name", ["branches", "shared", "nested", "custom", "transposes", "sequences"]
)
def test_hand_written_models_saved_live(
    capture: ModuleType, keras: ModuleType, name: str, tmp_path: Path
) -> None:
    capture.fresh(keras)
    model = capture.USER[name](keras)
    expected = capture.truth(model)
    custom, weightless = CUSTOM.get(name, ()), WEIGHTLESS.get(name, ())
    for form, path in _save(model, tmp_path, name).items():
        report = load_file(path)
        if form == "json":
            check(report, expected, unknown=custom, weighed=weightless)
        else:
            check(report, expected, weighed=custom + weightless)
        if not custom and not weightless:
            assert report.macs_exact and report.macs == expected["macs"], form


def test_an_open_input_saved_live(capture: ModuleType, keras: ModuleType, tmp_path: Path) -> None:
    capture.fresh(keras)
    model = capture.USER["open_input"](keras)
    expected = capture.truth(model, (40, 56))
    capture.fresh(keras)
    fixed = keras.models.clone_model(model, input_tensors=keras.Input((40, 56, 3)))
    expected["layers"] = capture.layers(fixed)
    for path in _save(model, tmp_path, "open").values():
        report = load_file(path, resolution="40x56")
        check(report, expected)
        assert report.macs == expected["macs"]
