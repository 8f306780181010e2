"""`convcount model`: the file format, every layer kind, branches, errors, and the
reference models against Keras's published totals and the MobileNet paper."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from convcount import ConvcountError
from convcount.model import build_model, read_model, shipped_models

from . import reference_models
from .conftest import assert_usage_error, run


def model(text: str, **options: Any) -> Any:
    return build_model(tomllib.loads(text), "test.toml", **options)


HEAD = '[model]\nname = "t"\ninput = { size = 8, channels = 3 }\n'


def layers_of(text: str, **options: Any) -> dict[str, Any]:
    return {layer.name: layer for layer in model(HEAD + text, **options).layers}


# --- the reference models --------------------------------------------------------


@pytest.mark.parametrize("name", sorted(reference_models.GENERATORS))
def test_reference_model_files_are_current(name: str, overwrite: bool) -> None:
    text = reference_models.GENERATORS[name]()
    path = reference_models.MODELS / f"{name}.toml"
    if overwrite:
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, "run pytest --overwrite to regenerate"


def test_shipped_models() -> None:
    assert shipped_models() == ["mobilenet-v1", "mobilenet-v2", "resnet50", "vgg16", "xception"]


@pytest.mark.parametrize(
    ("name", "total", "trainable", "macs"),
    [
        # keras.applications with the 1000-class top, as background.md quotes them
        ("mobilenet-v1", 4_253_864, 4_231_976, 568_740_352),
        ("mobilenet-v2", 3_538_984, 3_504_872, None),
        ("xception", 22_910_480, 22_855_952, None),
        # and the Keras documentation's table for these two
        ("vgg16", 138_357_544, 138_357_544, None),
        ("resnet50", 25_636_712, 25_583_592, None),
    ],
)
def test_reference_totals_match_keras(
    name: str, total: int, trainable: int, macs: int | None
) -> None:
    data = json.loads(run("model", name, "--json").stdout)
    assert (data["total_params"], data["trainable_params"]) == (total, trainable)
    assert data["non_trainable_params"] == total - trainable
    if macs is not None:
        assert data["macs"] == macs and data["flops"] == 2 * macs
    assert sum(layer["params"] for layer in data["layers"]) == total


def test_mobilenet_v1_conv_and_dense_weights() -> None:
    layers = model(Path(reference_models.MODELS / "mobilenet-v1.toml").read_text()).layers
    assert sum(layer.params for layer in layers if layer.kind != "batchnorm") == 4_210_088


# MobileNet paper, Table 6 (width at 224) and Table 7 (resolution at width 1.0):
# million mult-adds and million parameters of the conv and fully connected layers.
@pytest.mark.parametrize(
    ("alpha", "mmacs", "mparams"),
    [(1.0, 569, 4.2), (0.75, 325, 2.6), (0.5, 149, 1.3), (0.25, 41, 0.5)],
)
def test_mobilenet_paper_table_6(alpha: float, mmacs: int, mparams: float) -> None:
    spec, source = read_model("mobilenet-v1")
    report = build_model(spec, source, width_multiplier=alpha)
    weights = sum(layer.params for layer in report.layers if layer.kind != "batchnorm")
    assert round(report.macs / 1e6) == mmacs
    assert round(weights / 1e6, 1) == mparams


@pytest.mark.parametrize(("resolution", "mmacs"), [(224, 569), (192, 418), (160, 290), (128, 186)])
def test_mobilenet_paper_table_7(resolution: int, mmacs: int) -> None:
    spec, source = read_model("mobilenet-v1")
    report = build_model(spec, source, resolution=resolution)
    assert abs(report.macs / 1e6 - mmacs) < 1  # the paper rounds 290.7 down
    assert report.layers[0].output.spatial == (resolution // 2, resolution // 2)


def test_mobilenet_v1_shares_from_the_paper_table_2() -> None:
    report = model(Path(reference_models.MODELS / "mobilenet-v1.toml").read_text())
    pointwise = [layer for layer in report.layers if layer.name.startswith("conv_pw_")]
    weights = sum(layer.params for layer in report.layers if layer.kind != "batchnorm")
    assert round(sum(layer.macs for layer in pointwise) / report.macs, 2) == 0.95
    assert (
        round(sum(layer.params for layer in pointwise if layer.kind == "conv") / weights, 2) == 0.75
    )
    assert round(report.layers[-3].params / weights, 2) == 0.24  # conv_preds, the classifier


# --- every layer kind, worked by hand ----------------------------------------------


def test_conv_kinds_take_channels_and_size_from_the_layer_before() -> None:
    layers = layers_of(
        """
[[layer]]
name = "c"
kind = "conv"
kernel_size = 3
out_channels = 4
padding = "same"
[[layer]]
name = "p"
kind = "pointwise"
expand = 2
bias = false
[[layer]]
name = "d"
kind = "depthwise"
kernel_size = 3
stride = 2
depth_multiplier = 2
[[layer]]
name = "s"
kind = "separable"
kernel_size = 3
out_channels = 5
[[layer]]
name = "t"
kind = "transpose"
kernel_size = 2
stride = 2
out_channels = 3
"""
    )
    assert (layers["c"].params, layers["c"].output.spatial, layers["c"].macs) == (
        9 * 3 * 4 + 4,
        (8, 8),
        64 * 4 * 9 * 3,  # P * Cout * K * Cin
    )
    assert (layers["p"].params, layers["p"].output.channels) == (4 * 8, 8)
    assert layers["d"].params == 9 * 8 * 2 + 16
    assert layers["d"].output.spatial == (3, 3) and layers["d"].output.channels == 16
    assert layers["s"].params == 9 * 16 + 16 * 5 + 5 and layers["s"].output.spatial == (1, 1)
    assert layers["t"].output.spatial == (2, 2) and layers["t"].params == 4 * 5 * 3 + 3


def test_batchnorm_follows_the_convention() -> None:
    text = '[[layer]]\nkind = "conv"\nkernel_size = 1\nout_channels = 6\n[[layer]]\nname = "bn"\nkind = "batchnorm"\n'
    keras = layers_of(text)["bn"]
    torch = layers_of(text, convention="torch")["bn"]
    assert (keras.trainable, keras.non_trainable) == (12, 12)
    assert (torch.trainable, torch.non_trainable) == (12, 0)


def test_pooling_flatten_dense_and_padding() -> None:
    layers = layers_of(
        """
[[layer]]
name = "zp"
kind = "zero_padding"
padding = [[0, 1], [2, 3]]
[[layer]]
name = "mp"
kind = "max_pool"
pool_size = 3
stride = 2
padding = "same"
[[layer]]
name = "ap"
kind = "avg_pool"
[[layer]]
name = "fl"
kind = "flatten"
[[layer]]
name = "de"
kind = "dense"
units = 10
[[layer]]
name = "act"
kind = "activation"
function = "softmax"
[[layer]]
name = "drop"
kind = "dropout"
rate = 0.5
"""
    )
    assert layers["zp"].output.spatial == (9, 13)
    assert layers["mp"].output.spatial == (5, 7)  # ceil(9/2), ceil(13/2)
    assert layers["ap"].output.spatial == (2, 3)  # pool 2, stride 2, valid
    assert layers["fl"].output == layers["fl"].output._replace(spatial=(), channels=2 * 3 * 3)
    assert (layers["de"].params, layers["de"].macs) == (18 * 10 + 10, 180)
    assert layers["act"].params == layers["drop"].params == 0


def test_dense_on_a_spatial_input_applies_to_the_last_axis() -> None:
    layers = layers_of('[[layer]]\nname = "d"\nkind = "dense"\nunits = 4\nbias = false\n')
    assert (layers["d"].params, layers["d"].macs, layers["d"].output.spatial) == (
        12,
        64 * 12,
        (8, 8),
    )


def test_global_pooling_and_keepdims() -> None:
    layers = layers_of(
        '[[layer]]\nname = "g"\nkind = "global_avg_pool"\nkeepdims = true\n'
        '[[layer]]\nname = "h"\nkind = "global_max_pool"\n'
    )
    assert layers["g"].output.spatial == (1, 1) and layers["h"].output.spatial == ()


def test_residual_add_and_concat_branches() -> None:
    layers = layers_of(
        """
[[layer]]
name = "a"
kind = "conv"
kernel_size = 3
out_channels = 4
padding = "same"
[[layer]]
name = "b"
kind = "conv"
kernel_size = 1
out_channels = 4
input = "input"
[[layer]]
name = "sum"
kind = "add"
inputs = ["a", "b"]
[[layer]]
name = "cat"
kind = "concat"
inputs = ["sum", "a", "input"]
"""
    )
    assert layers["b"].inputs == ("input",)
    assert layers["sum"].output.channels == 4 and layers["sum"].inputs == ("a", "b")
    assert layers["cat"].output.channels == 4 + 4 + 3


def test_width_multiplier_and_channel_divisor() -> None:
    text = '[[layer]]\nkind = "conv"\nkernel_size = 1\nout_channels = 30\n[[layer]]\nname = "fc"\nkind = "dense"\nunits = 7\n'
    assert layers_of(text, width_multiplier=0.5)["conv_1"].output.channels == 15
    assert (
        layers_of(text, width_multiplier=0.5)["fc"].output.channels == 7
    )  # classifiers keep their size
    divided = model(
        "[model]\ninput = { size = 8, channels = 3 }\nchannel_divisor = 8\n" + text,
        width_multiplier=0.5,
    )
    assert divided.layers[0].output.channels == 16  # Keras's _make_divisible(15, 8)


def test_receptive_field() -> None:
    report = model(
        HEAD
        + '[[layer]]\nkind = "conv"\nkernel_size = 3\nout_channels = 2\nstride = 2\npadding = "same"\n'
        + '[[layer]]\nkind = "conv"\nkernel_size = 3\nout_channels = 2\npadding = "same"\n'
        + '[[layer]]\nkind = "global_avg_pool"\n[[layer]]\nkind = "dense"\nunits = 2\n'
    )
    # 3, then + (3 - 1) x jump 2
    assert report.receptive_field == ((7, 7), "conv_2")


def test_one_and_three_dimensional_models() -> None:
    conv = '[[layer]]\nkind = "conv"\nkernel_size = 3\nout_channels = 2\n'
    one = model("[model]\ninput = { size = 10, channels = 3, dims = 1 }\n" + conv)
    assert one.layers[0].output.spatial == (8,) and one.layers[0].params == 3 * 3 * 2 + 2
    three = model('[model]\ninput = { size = "4x6x6", channels = 1 }\n' + conv)
    assert three.layers[0].output.spatial == (2, 4, 4) and three.layers[0].params == 27 * 2 + 2
    with pytest.raises(ConvcountError, match="a size of 8x8 for 3 spatial dimensions"):
        model('[model]\ninput = { size = "4x6x6", channels = 1 }\n' + conv, resolution="8x8")


def test_resolution_replaces_the_input_size() -> None:
    report = model(
        HEAD + '[[layer]]\nkind = "conv"\nkernel_size = 3\nout_channels = 2\n', resolution="10x12"
    )
    assert report.layers[0].output.spatial == (8, 10)


# --- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[[layer]]\nkind = "conv"\n', "test.toml: needs a [model] table"),
        (
            '[model]\ninput = { size = 0, channels = 3 }\n[[layer]]\nkind = "flatten"\n',
            "[model]: input.size: --input-size must be a positive integer",
        ),
        (HEAD, "needs at least one [[layer]]"),
        (HEAD + '[[layer]]\nkind = "lstm"\n', "layer 1 'lstm_1': kind must be one of"),
        (
            HEAD
            + '[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 3\nout_channels = 2\nin_channels = 3\n',
            "layer 1 'c': in_channels: not a field of a conv layer (it comes from the layer before)",
        ),
        (
            HEAD
            + '[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 3\nout_channels = 3\ngroups = 2\n',
            "layer 1 'c': --groups 2 must divide --in-channels 3",
        ),
        (
            HEAD + '[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 9\nout_channels = 3\n',
            "layer 1 'c': --input-size 8x8 is too small",
        ),
        (
            HEAD + '[[layer]]\nname = "c"\nkind = "conv"\nout_channels = 3\n',
            "layer 1 'c': -k/--kernel-size is required",
        ),
        (
            HEAD + '[[layer]]\nname = "a"\nkind = "add"\ninputs = ["input", "nope"]\n',
            "layer 1 'a': input: no earlier layer is named 'nope'",
        ),
        (
            HEAD
            + '[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 1\nout_channels = 4\n[[layer]]\nname = "a"\nkind = "add"\ninputs = ["input", "c"]\n',
            "layer 2 'a': inputs: add needs equal shapes, got input 8x8x3, c 8x8x4",
        ),
        (
            HEAD
            + '[[layer]]\nname = "a"\nkind = "max_pool"\n[[layer]]\nname = "j"\nkind = "concat"\ninputs = ["input", "a"]\n',
            "layer 2 'j': inputs: concat needs equal spatial sizes",
        ),
        (
            HEAD
            + '[[layer]]\nname = "x"\nkind = "flatten"\n[[layer]]\nname = "x"\nkind = "flatten"\n',
            "layer 2 'x': name is used twice",
        ),
        (
            HEAD
            + '[[layer]]\nkind = "flatten"\n[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 1\nout_channels = 2\n',
            "layer 2 'c': input: a conv layer needs a spatial input",
        ),
        (
            HEAD
            + '[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 1\nout_channels = 2\npadding = 1\n',
            "layer 1 'c': --padding 1x1 (zeros on each side): Keras refuses it",
        ),
        (
            HEAD + '[[layer]]\nname = "z"\nkind = "zero_padding"\npadding = [[1, 1]]\n',
            "layer 1 'z': padding: give one [before, after] pair per spatial dimension",
        ),
    ],
)
def test_model_errors_name_the_file_layer_and_field(text: str, needle: str) -> None:
    with pytest.raises(ConvcountError) as info:
        model(text)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_cli_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        HEAD
        + '[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 3\nout_channels = 3\ngroups = 2\n'
    )
    assert_usage_error(
        run("model", str(bad)), f"{bad}: layer 1 'c': --groups 2 must divide --in-channels 3"
    )
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\n")
    assert_usage_error(run("model", str(broken)), "not valid TOML")
    assert_usage_error(
        run("model", "resnet-50"), "'resnet-50' is neither a model file nor a shipped model"
    )
    assert_usage_error(
        run("model", "mobilenet-v1", "-a", "zero"), "--width-multiplier must be a positive number"
    )
    assert_usage_error(
        run("model", "mobilenet-v1", "-r", "0"), "--input-size must be a positive integer"
    )


# --- the command ---------------------------------------------------------------------


def test_model_table_json_and_csv(tmp_path: Path) -> None:
    table = run("model", "mobilenet-v1")
    assert table.exit_code == 0
    for text in (
        "conv_pw_13",
        "4,253,864",
        "4,231,976",
        "21,888",
        "568,740,352",
        "receptive field",
    ):
        assert text in table.stdout
    data = json.loads(run("model", "mobilenet-v1", "--json").stdout)
    assert {"total_params", "trainable_params", "non_trainable_params", "macs", "layers"} <= set(
        data
    )
    assert data["layers"][0] == {
        "index": 1,
        "name": "conv1",
        "kind": "conv",
        "inputs": ["input"],
        "output_shape": [112, 112, 32],
        "params": 27 * 32,
        "trainable_params": 27 * 32,
        "non_trainable_params": 0,
        "macs": 112 * 112 * 32 * 27,
    }
    csv_text = run("model", "mobilenet-v1", "--format", "csv").stdout.splitlines()
    assert csv_text[0].startswith("index,name,kind") and csv_text[-1].startswith(",total,")
    assert len(csv_text) == len(data["layers"]) + 2
    small = run(
        "model", "mobilenet-v1", "--width-multiplier", "0.5", "--resolution", "160", "--json"
    )
    assert json.loads(small.stdout)["input_shape"] == [160, 160, 3]


def test_load_model_reads_and_counts_in_one_call() -> None:
    from convcount.model import load_model

    report = load_model("mobilenet-v1", width_multiplier=0.5, resolution=160)
    spec, source = read_model("mobilenet-v1")
    assert report == build_model(spec, source, width_multiplier=0.5, resolution=160)
