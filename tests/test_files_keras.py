"""Keras model files (.keras, to_json() JSON, legacy .h5) against what Keras says of them.

tests/files/keras/ holds files saved by the real Keras 3.15.1 and their truth
(count_params(), trainable and non-trainable weights, FlopCounterMode MACs, each
layer's output shapes and parameters), written by tests/files/capture_keras_files.py
(run by hand): every keras.applications model at its defaults as to_json(), a
handful also as .keras and .h5, and hand-written models in every format.
"""

from __future__ import annotations

import gzip
import json
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from convcount import ConvcountError
from convcount.model import load_file
from convcount.model.graph import ModelReport

from .conftest import assert_usage_error, run

FILES = Path(__file__).parent / "files" / "keras"


@cache
def truth() -> dict[str, Any]:
    models: dict[str, Any] = json.loads(gzip.decompress((FILES / "truth.json.gz").read_bytes()))[
        "models"
    ]
    return models


USER = sorted(name for name in truth() if (FILES / f"{name}.json").exists() and name[0].islower())
APPLICATIONS = sorted(p.name.split(".")[0] for p in (FILES / "applications").glob("*.json.gz"))
HANDFUL = sorted(p.stem for p in FILES.glob("*.keras") if p.stem[0].isupper())

#: Hand-written models whose custom layers' weights are only in the .keras/.h5 files.
CUSTOM = {"custom": ("Scale", "Mixer")}
#: Keras classes convcount knows the weights of (from their config, or none) but does
#: not count the MACs of.
WEIGHTLESS: dict[str, tuple[str, ...]] = {
    "operations": ("Matmul",),  # keras.ops: no weights; a matrix product not counted
}


def read(path: Path, truth_of: dict[str, Any]) -> ModelReport:
    size = truth_of["resolution"]
    return load_file(path, resolution=None if size is None else "x".join(map(str, size)))


def check(
    report: ModelReport,
    expected: dict[str, Any],
    *,
    unknown: tuple[str, ...] = (),
    weighed: tuple[str, ...] = (),
) -> None:
    """Figure by figure and layer by layer. ``unknown``: classes whose parameters the file
    does not hold (counted as unknown, so the totals fall short by exactly theirs);
    ``weighed``: classes counted from their stored weights, which do not say which are
    trainable (all count as trainable)."""
    rows = {layer.name: layer for layer in report.layers}
    missing = 0
    for name, cls, shapes, params, trainable in expected["layers"]:
        assert name in rows, f"{cls} {name!r} is missing"
        calls = [rows[name]] + [rows[f"{name}@{k}"] for k in range(2, len(shapes) + 1)]
        for number, (layer, shape) in enumerate(zip(calls, shapes, strict=True)):
            assert list(report.output_shape(layer.output)) == shape, (name, number)
            if number:  # a later call shares the first call's weights
                assert layer.params == 0, name
        first = calls[0]
        if cls in unknown:
            assert not first.params_known and first.macs is None, name
            missing += params
            continue
        assert first.op == cls, name
        if cls in weighed:
            assert first.params == params and first.trainable in (params, trainable), name
            assert first.params_known and first.macs is None, name
            continue
        assert (first.params, first.trainable) == (params, trainable), name
    assert report.total_params == expected["total_params"] - missing
    if not missing and not weighed:
        assert report.trainable_params == expected["trainable_params"]
        assert report.non_trainable_params == expected["non_trainable_params"]
    if report.macs_exact:
        assert report.macs == expected["macs"]
    else:
        assert report.macs <= expected["macs"]


@pytest.mark.parametrize("name", APPLICATIONS)
def test_every_keras_application_from_its_json(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(gzip.decompress((FILES / "applications" / f"{name}.json.gz").read_bytes()))
    report = read(path, truth()[name])
    assert report.macs_exact and report.params_exact
    check(report, truth()[name])


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("name", HANDFUL)
def test_applications_as_keras_and_h5_files(name: str, suffix: str, tmp_path: Path) -> None:
    path = FILES / f"{name}{suffix}"
    if suffix == ".h5":  # stored gzipped: its architecture attribute is not compressed
        path = tmp_path / f"{name}.h5"
        path.write_bytes(gzip.decompress((FILES / f"{name}.h5.gz").read_bytes()))
    report = read(path, truth()[name])
    check(report, truth()[name])


@pytest.mark.parametrize("form", ["json", "keras", "h5", "keras2"])
@pytest.mark.parametrize("name", USER)
def test_hand_written_models(name: str, form: str) -> None:
    path = FILES / (f"keras2_{name}.json" if form == "keras2" else f"{name}.{form}")
    if (name in CUSTOM or name in WEIGHTLESS) and form == "keras2":
        # Keras 2 records no shapes of the tensors between layers: a custom layer's
        # output shape is unknown, and the layers after it cannot be counted.
        with pytest.raises(ConvcountError, match="does not record it"):
            read(path, truth()[name])
        return
    report = read(path, truth()[name])
    custom = CUSTOM.get(name, ())
    weightless = WEIGHTLESS.get(name, ())
    if form == "json":
        check(report, truth()[name], unknown=custom, weighed=weightless)
    else:
        check(report, truth()[name], weighed=custom + weightless)
    if custom or weightless:
        assert set(report.uncounted) == {*custom, *weightless}
    elif form == "keras2" and report.uncounted:
        # The rewritten form keeps Keras 3's operations (Masking's mask ops), which Keras 2
        # never wrote, without the shapes that say what they make: uncounted, never a layer.
        assert not set(report.uncounted) & {row[1] for row in truth()[name]["layers"]}
        assert report.macs <= truth()[name]["macs"]
    else:
        assert report.macs_exact and report.macs == truth()[name]["macs"]


def test_custom_layers_are_counted_from_the_weights_and_listed(tmp_path: Path) -> None:
    path = str(FILES / "custom.keras")
    record = json.loads(run("model", path, "--json").stdout)
    assert record["macs_exact"] is False and record["params_exact"] is True
    assert record["uncounted"] == {"Scale": 1, "Mixer": 1}
    assert record["total_params"] == truth()["custom"]["total_params"]
    assert_usage_error(run("model", path, "--strict"), "custom.keras", "Scale ×1", "Mixer ×1")
    table = run("model", str(FILES / "custom.json"), env={"COLUMNS": "150"}).stdout
    assert "at least" in table and "unknown" in table


def test_open_input_needs_a_resolution() -> None:
    path = str(FILES / "open_input.keras")
    assert_usage_error(run("model", path), "open_input.keras", "open", "-r/--resolution")
    assert run("model", path, "-r", "64x96", "-q").exit_code == 0
    assert_usage_error(run("model", str(FILES / "branches.keras"), "-r", "64"), "-r fills only")


def test_options_for_shipped_models_are_refused() -> None:
    path = str(FILES / "branches.json")
    assert_usage_error(run("model", path, "-a", "0.5"), "shipped models only")
    assert_usage_error(run("model", path, "-O", "classes=3"), "shipped models only")
    assert_usage_error(run("model", path, "--convention", "torch"), "counts as Keras")


def test_a_renamed_file_is_read_by_its_content(tmp_path: Path) -> None:
    for source in ("branches.keras", "branches.h5", "branches.json"):
        copy = tmp_path / "model.bin"
        shutil.copy(FILES / source, copy)
        assert load_file(copy).total_params == truth()["branches"]["total_params"], source


def test_a_zip_without_config_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "x.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", "{}")
    with pytest.raises(ConvcountError, match=r"without config\.json"):
        load_file(path)


def test_hdf5_of_the_latest_format_is_read(tmp_path: Path) -> None:
    """Superblock version 3, version 2 object headers, groups of link messages: what h5py
    writes with libver="latest" (Keras writes the earliest format, read everywhere above)."""
    h5py = pytest.importorskip("h5py")
    expected = truth()["custom"]
    path = tmp_path / "latest.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.attrs["model_config"] = (FILES / "custom.json").read_text()
        weights = f.create_group("model_weights")
        scale = weights.create_group("scale")
        scale.create_dataset("gamma", shape=(6,), dtype="f4")
        scale.create_dataset("steps", shape=(), dtype="f4")
        mixer = weights.create_group("mixer").create_group("dense")
        mixer.create_dataset("kernel", shape=(6, 5), dtype="f4")
        mixer.create_dataset("bias", shape=(5,), dtype="f4")
    assert path.read_bytes()[8] == 3  # the superblock's version
    report = load_file(path)
    check(report, expected, weighed=CUSTOM["custom"])
    many = tmp_path / "dense.h5"
    with h5py.File(many, "w", libver="latest") as f:
        f.attrs["model_config"] = (FILES / "custom.json").read_text()
        for i in range(12):  # past 8 attributes, h5py keeps them in a fractal heap
            f.attrs[f"extra{i}"] = "x"
    with pytest.raises(ConvcountError, match="stored densely"):
        load_file(many)


def test_a_keras_2_1_sequential_config_is_a_list_of_layers(tmp_path: Path) -> None:
    """Keras 2.0 to 2.2 wrote a Sequential model's config as the list of its layers, the
    first carrying batch_input_shape (no InputLayer)."""
    config = json.loads((FILES / "keras2_mlp.json").read_text())
    layers = [layer for layer in config["config"]["layers"] if layer["class_name"] != "InputLayer"]
    layers[0]["config"]["batch_input_shape"] = [None, 64]
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"class_name": "Sequential", "config": layers}))
    check(load_file(path), truth()["mlp"])


@pytest.mark.parametrize(
    ("layer", "key", "value"),
    [
        ("plain_lstm", "units", 0),
        ("plain_lstm", "units", "5"),
        ("plain_lstm", "units", 10**40),
        ("fused", "num_heads", -1),
        ("fused", "key_dim", 10**40),
        ("rows", "attention_axes", [99]),
        ("rows", "attention_axes", []),
        ("rows", "attention_axes", "x"),
        ("cross", "output_shape", [0]),
        ("cross", "output_shape", [[1]]),
        ("mixed", "layer", {"class_name": "LSTM"}),
        ("embed", "output_dim", 10**40),
    ],
)
def test_hostile_recurrent_and_attention_configs(
    layer: str, key: str, value: object, tmp_path: Path
) -> None:
    """What the recurrent and attention layers' figures read from the config, broken:
    one line naming the layer, exit 2, nothing on stdout."""
    config = json.loads((FILES / "sequences.json").read_text())
    for entry in config["config"]["layers"]:
        if entry["name"] == layer:
            entry["config"][key] = value
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(config))
    assert_usage_error(run("model", str(path)), f"layer {layer!r}")
