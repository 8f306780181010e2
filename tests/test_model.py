"""`convcount model`: the model language, every layer kind, branches, blocks,
expressions, errors and hostile files, and the MobileNet paper's figures."""

from __future__ import annotations

import json
import re
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from convcount import ConvcountError
from convcount.limits import MAX_MODEL_FILE_BYTES
from convcount.model import build_model, load_file, load_model, resolve_source
from convcount.model.kinds import KINDS
from convcount.model.reference import reference_text

from .conftest import assert_usage_error, run

README = Path(__file__).parent.parent / "README.md"


def model(text: str, **options: Any) -> Any:
    return build_model(tomllib.loads(text), "test.toml", **options)


HEAD = '[model]\nname = "t"\ninput = { size = 8, channels = 3 }\n'


def layers_of(text: str, **options: Any) -> dict[str, Any]:
    return {layer.name: layer for layer in model(HEAD + text, **options).layers}


def error_of(text: str, **options: Any) -> str:
    with pytest.raises(ConvcountError) as info:
        model(text, **options)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- the MobileNet paper (Howard et al. 2017) ------------------------------------------

# Table 6 (width at 224) and Table 7 (resolution at width 1.0): million mult-adds and
# million parameters of the conv and fully connected layers.


@pytest.mark.parametrize(
    ("alpha", "mmacs", "mparams"),
    [("1.0", 569, 4.2), ("0.75", 325, 2.6), ("0.5", 149, 1.3), ("0.25", 41, 0.5)],
)
def test_mobilenet_paper_table_6(alpha: str, mmacs: int, mparams: float) -> None:
    report = load_model("mobilenet-v1", width_multiplier=alpha)
    weights = sum(layer.params for layer in report.layers if layer.kind != "batchnorm")
    assert round(report.macs / 1e6) == mmacs
    assert round(weights / 1e6, 1) == mparams


@pytest.mark.parametrize(("resolution", "mmacs"), [(224, 569), (192, 418), (160, 290), (128, 186)])
def test_mobilenet_paper_table_7(resolution: int, mmacs: int) -> None:
    report = load_model("mobilenet-v1", resolution=resolution)
    assert abs(report.macs / 1e6 - mmacs) < 1  # the paper rounds 290.7 down
    assert report.layers[0].output.spatial == (resolution // 2, resolution // 2)


def test_mobilenet_v1_shares_from_the_paper_table_2() -> None:
    report = load_model("mobilenet-v1")
    pointwise = [layer for layer in report.layers if layer.name.startswith("conv_pw_")]
    weights = sum(layer.params for layer in report.layers if layer.kind != "batchnorm")
    assert weights == 4_210_088
    assert round(sum(layer.macs for layer in pointwise) / report.macs, 2) == 0.95
    assert round(sum(layer.params for layer in pointwise) / weights, 2) == 0.75
    classifier = next(layer for layer in report.layers if layer.name == "conv_preds")
    assert round(classifier.params / weights, 2) == 0.24


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
    # transposed: output (L-1)*s + max(k, s); MACs per INPUT position
    assert layers["t"].output.spatial == (2, 2) and layers["t"].params == 4 * 5 * 3 + 3
    assert layers["t"].macs == 1 * 4 * 5 * 3


def test_batchnorm_follows_the_convention() -> None:
    text = (
        '[[layer]]\nkind = "conv"\nkernel_size = 1\nout_channels = 6\n'
        '[[layer]]\nname = "bn"\nkind = "batchnorm"\n'
        '[[layer]]\nname = "bn2"\nkind = "batchnorm"\nscale = false\n'
    )
    keras = layers_of(text)
    torch = layers_of(text, convention="torch")
    assert (keras["bn"].trainable, keras["bn"].non_trainable, keras["bn"].buffers) == (12, 12, 0)
    assert (keras["bn2"].trainable, keras["bn2"].non_trainable) == (6, 12)  # InceptionV3's
    assert (torch["bn"].trainable, torch["bn"].non_trainable, torch["bn"].buffers) == (12, 0, 13)


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


def test_torch_pooling_with_ceil_mode_and_adaptive_pooling() -> None:
    layers = layers_of(
        '[[layer]]\nname = "m"\nkind = "max_pool"\npool_size = 3\nstride = 2\n'
        "padding = 0\nceil_mode = true\n"
        '[[layer]]\nname = "a"\nkind = "adaptive_avg_pool"\noutput_size = 7\n',
        convention="torch",
    )
    # PyTorch: ceil((8 - 3) / 2) + 1 = 4, the last window still starts inside the input
    assert layers["m"].output.spatial == (4, 4)
    assert layers["a"].output.spatial == (7, 7)


def test_dense_on_a_spatial_input_applies_to_the_channels() -> None:
    layers = layers_of('[[layer]]\nname = "d"\nkind = "dense"\nunits = 4\nbias = false\n')
    assert (layers["d"].params, layers["d"].macs, layers["d"].output.spatial) == (
        12,
        64 * 12,
        (8, 8),
    )


def test_squeeze_and_excite_with_reshape_and_broadcast_multiply() -> None:
    layers = layers_of(
        """
[[layer]]
name = "squeeze"
kind = "global_avg_pool"
[[layer]]
name = "r"
kind = "reshape"
shape = [1, 1, 3]
[[layer]]
name = "reduce"
kind = "conv"
kernel_size = 1
out_channels = 2
[[layer]]
name = "expand"
kind = "conv"
kernel_size = 1
out_channels = 3
[[layer]]
name = "scale"
kind = "multiply"
inputs = ["input", "expand"]
"""
    )
    assert layers["r"].output.spatial == (1, 1)
    assert layers["reduce"].macs == 3 * 2 and layers["expand"].params == 2 * 3 + 3
    assert layers["scale"].output.spatial == (8, 8) and layers["scale"].output.channels == 3


def test_normalisation_kinds() -> None:
    layers = layers_of(
        '[[layer]]\nname = "n"\nkind = "normalization"\n'
        '[[layer]]\nname = "c"\nkind = "normalization"\nconstant = true\n'
        '[[layer]]\nname = "r"\nkind = "rescaling"\nscale = 0.5\n'
        '[[layer]]\nname = "ln"\nkind = "layer_norm"\n'
        '[[layer]]\nname = "ls"\nkind = "layer_scale"\n'
    )
    assert (layers["n"].trainable, layers["n"].non_trainable) == (0, 7)  # mean, variance, count
    assert layers["c"].params == layers["r"].params == 0
    assert layers["ln"].trainable == 6 and layers["ls"].trainable == 3


def test_shape_kinds() -> None:
    layers = layers_of(
        '[[layer]]\nname = "c"\nkind = "cropping"\ncropping = [[1, 0], [0, 2]]\n'
        '[[layer]]\nname = "u"\nkind = "upsampling"\nsize = 2\ninterpolation = "bilinear"\n'
        '[[layer]]\nname = "w"\nkind = "conv"\nkernel_size = 1\nout_channels = 4\n'
        '[[layer]]\nname = "s"\nkind = "channel_shuffle"\ngroups = 2\n'
        '[[layer]]\nname = "h"\nkind = "split"\nparts = 2\nindex = 1\n'
    )
    assert layers["c"].output.spatial == (7, 6)
    assert layers["u"].output.spatial == (14, 12) and layers["u"].macs == 0
    assert layers["s"].output.channels == 4 and layers["h"].output.channels == 2


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


def test_receptive_field() -> None:
    report = model(
        HEAD
        + '[[layer]]\nkind = "conv"\nkernel_size = 3\nout_channels = 2\nstride = 2\npadding = "same"\n'
        + '[[layer]]\nkind = "conv"\nkernel_size = 3\nout_channels = 2\npadding = "same"\n'
        + '[[layer]]\nkind = "global_avg_pool"\n[[layer]]\nkind = "dense"\nunits = 2\n'
    )
    # 3, then + (3 - 1) x jump 2
    assert report.receptive_field == ((7, 7), "conv_1")


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


# --- the language: parameters, expressions, blocks, repeats ------------------------------

RESNETISH = """
[model]
name = "resnetish"
input = { size = 32, channels = 3 }

[params]
width = 16
depth = 1

[blocks.basic]
params = { out = 16, stride = 1 }
[[blocks.basic.layer]]
kind = "conv"
name = "conv1"
kernel_size = 3
out_channels = "= out"
stride = "= stride"
padding = "same"
bias = false
[[blocks.basic.layer]]
kind = "batchnorm"
name = "bn1"
[[blocks.basic.layer]]
kind = "conv"
name = "shortcut"
input = "input"
kernel_size = 1
out_channels = "= out"
stride = "= stride"
bias = false
when = "= stride != 1 or block_in_channels != out"
[[blocks.basic.layer]]
kind = "add"
inputs = ["shortcut", "bn1"]
when = "= stride != 1 or block_in_channels != out"
[[blocks.basic.layer]]
kind = "add"
name = "residual"
inputs = ["input", "bn1"]
when = "= stride == 1 and block_in_channels == out"

[[layer]]
kind = "conv"
name = "stem"
kernel_size = 3
out_channels = "= make_divisible(width * alpha, 8)"
padding = "same"

[[layer]]
block = "basic"
name = "stage1"
repeat = "= ceil(2 * depth)"
out = "= make_divisible(width * alpha, 8)"

[[layer]]
block = "basic"
name = "stage2"
repeat = 2
first = { stride = 2 }
out = "= make_divisible(2 * width * alpha, 8)"

[[layer]]
kind = "global_avg_pool"
[[layer]]
kind = "dense"
units = 10
"""


def test_blocks_repeats_first_and_when() -> None:
    report = model(RESNETISH)
    names = [layer.name for layer in report.layers]
    assert "stage1.0.residual" in names and "stage1.1.residual" in names
    assert "stage1.0.shortcut" not in names  # same channels, stride 1: identity shortcut
    assert "stage2.0.shortcut" in names and "stage2.1.shortcut" not in names
    layers = {layer.name: layer for layer in report.layers}
    assert layers["stage2.0.conv1"].output.spatial == (16, 16)  # first = { stride = 2 }
    assert layers["stage2.1.conv1"].inputs == ("stage2.0.add",)
    assert layers["stage2.1.conv1"].output.channels == 32
    # 3x3x16x16 twice in stage1, then 3x3x16x32 + 1x1x16x32 + 3x3x32x32
    assert layers["stage1.1.conv1"].params == 9 * 16 * 16
    assert layers["stage2.0.shortcut"].params == 16 * 32


def test_parameters_options_and_width_multiplier_in_exact_arithmetic() -> None:
    deeper = model(RESNETISH, options={"depth": "1.5"})
    assert sum(layer.name.endswith(".conv1") for layer in deeper.layers) == 3 + 2
    slim = {layer.name: layer for layer in model(RESNETISH, width_multiplier="0.75").layers}
    assert slim["stem"].output.channels == 16  # make_divisible(12, 8)
    assert slim["stage2.0.conv1"].output.channels == 24
    assert model(RESNETISH, width_multiplier="3/4").total_params == sum(
        layer.params for layer in slim.values()
    )
    with pytest.raises(ConvcountError, match=r"--option widht: .*did you mean width"):
        model(RESNETISH, options={"widht": "8"})


def test_big_channel_counts_stay_exact() -> None:
    # 2**53 + 1 has no float: a width multiplier of 1 must not pass through one
    text = HEAD + '[[layer]]\nkind = "pointwise"\nout_channels = "= 9007199254740993 * alpha"\n'
    layer = model(text, width_multiplier="1.0").layers[0]
    assert layer.output.channels == 9_007_199_254_740_993
    assert layer.params == 3 * 9_007_199_254_740_993 + 9_007_199_254_740_993


def test_a_width_multiplier_needs_alpha_in_the_file() -> None:
    text = HEAD + '[[layer]]\nkind = "pointwise"\nout_channels = 4\n'
    assert "never uses alpha" in error_of(text, width_multiplier="0.5")
    assert model(text, width_multiplier="1").total_params == 16


def test_expressions_must_give_whole_channels() -> None:
    text = HEAD + '[[layer]]\nkind = "pointwise"\nname = "p"\nout_channels = "= 10 * alpha"\n'
    message = error_of(text, width_multiplier="0.25")
    assert "layer 1 'p': out_channels: = 10 * alpha gives 5/2" in message
    assert "make_divisible" in message


def test_correct_pad_follows_the_incoming_size() -> None:
    text = (
        '[model]\ninput = { size = "7x8", channels = 1 }\n'
        '[[layer]]\nkind = "zero_padding"\nname = "z"\npadding = "= correct_pad(3)"\n'
    )
    # Keras: ((1 - 0, 1), (1 - 1, 1)) for an odd height and an even width
    assert model(text).layers[0].output.spatial == (7 + 2, 8 + 1)


@pytest.mark.parametrize(
    ("expression", "needle"),
    [
        ("\"= __import__('os')\"", "unknown function '__import__'"),
        ('"= (1).real"', "attribute access (a.b) is not part of the expression language"),
        ('"= 10 ** 10 ** 10"', "** takes a whole exponent from 0 to 64"),
        ('"= nope * 2"', "unknown name 'nope'"),
        ('"= 1 / 0"', "division by zero"),
        ('"= 3 +"', "not a valid expression"),
        ('"= ' + "9" * 40 + '"', "a number beyond"),
    ],
)
def test_expressions_are_never_executed(expression: str, needle: str) -> None:
    text = HEAD + f'[[layer]]\nkind = "pointwise"\nname = "p"\nout_channels = {expression}\n'
    message = error_of(text)
    assert "layer 1 'p': out_channels:" in message and needle in message


def test_errors_inside_blocks_name_the_repeat_and_block() -> None:
    text = RESNETISH.replace('out_channels = "= out"\nstride', 'out_channels = "= out"\nstrides')
    message = error_of(text)
    assert "layer 2 'stage1' > stage1.0 > block basic > layer 1 'conv1'" in message
    assert "strides: not a field of a conv layer (did you mean stride?)" in message


# --- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[[layer]]\nkind = "conv"\n', "test.toml: model: needs a [model] table"),
        (
            '[model]\ninput = { size = 0, channels = 3 }\n[[layer]]\nkind = "flatten"\n',
            "[model]: input.size: must be at least 1",
        ),
        (HEAD, "needs at least one [[layer]]"),
        (
            HEAD + '[[layers]]\nkind = "conv"\n',
            "layers: not a top-level table (did you mean layer?)",
        ),
        (HEAD + '[[layer]]\nkind = "lstm"\n', "layer 1: kind: no layer kind 'lstm'"),
        (HEAD + '[[layer]]\nkind = "maxpool"\n', "(did you mean max_pool?)"),
        (HEAD + '[[layer]]\nkind = "batch_normalization"\n', "(did you mean batchnorm?)"),
        (HEAD + '[[layer]]\nkind = "Conv2D"\n', "(did you mean conv?)"),
        (
            HEAD
            + '[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 3\nout_channels = 2\nin_channels = 3\n',
            "layer 1 'c': in_channels: not a field of a conv layer (it comes from the layer before)",
        ),
        (
            HEAD
            + '[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 3\nout_channels = 3\ngroups = 2\n',
            "layer 1 'c':",
        ),
        (
            HEAD + '[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 9\nout_channels = 3\n',
            "layer 1 'c':",
        ),
        (
            HEAD + '[[layer]]\nname = "c"\nkind = "conv"\nout_channels = 3\n',
            "layer 1 'c': kernel_size: required for conv",
        ),
        (
            HEAD + '[[layer]]\nname = "a"\nkind = "add"\ninputs = ["input", "nope"]\n',
            "layer 1 'a': inputs: no earlier layer is named 'nope'",
        ),
        (
            HEAD
            + '[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 1\nout_channels = 4\n[[layer]]\nname = "a"\nkind = "add"\ninputs = ["input", "c"]\n',
            "layer 2 'a': inputs: add needs equal shapes, got 8x8x3, 8x8x4",
        ),
        (
            HEAD
            + '[[layer]]\nname = "a"\nkind = "max_pool"\n[[layer]]\nname = "j"\nkind = "concat"\ninputs = ["input", "a"]\n',
            "layer 2 'j': inputs: concat needs equal spatial sizes",
        ),
        (
            HEAD
            + '[[layer]]\nname = "x"\nkind = "flatten"\n[[layer]]\nname = "x"\nkind = "flatten"\n',
            "layer 2 'x': name: 'x' is used twice",
        ),
        (
            HEAD
            + '[[layer]]\nkind = "flatten"\n[[layer]]\nname = "c"\nkind = "conv"\nkernel_size = 1\nout_channels = 2\n',
            "layer 2 'c': input: a conv layer needs a spatial input",
        ),
        (
            HEAD + '[[layer]]\nname = "z"\nkind = "zero_padding"\npadding = [[1, 1]]\n',
            "layer 1 'z': padding: give one [before, after] pair per spatial dimension",
        ),
        (HEAD + "[[layer]]\nkind = []\n", "layer 1: kind: must be a layer kind (a string)"),
        (
            HEAD + '[[layer]]\nkind = "flatten"\ninput = ["input"]\n',
            "layer 1: input: must be a layer name",
        ),
        (
            HEAD + '[[layer]]\nkind = "add"\ninputs = [["a"], "input"]\n',
            "layer 1: inputs: must be a list of at least two layer names",
        ),
        (
            HEAD + '[[layer]]\nblock = "nope"\n',
            "layer 1: block: the file defines no [blocks.NAME]",
        ),
        (
            '[model]\ninput = { size = 8, channels = 3, dims = 100000000 }\n[[layer]]\nkind = "flatten"\n',
            "input.dims: must be 1, 2 or 3, got 100000000",
        ),
        (
            '[model]\ninput = { size = 8, channels = 3, dims = "' + "1" * 30 + '" }\n',
            "input.dims: must be at most",
        ),
        (
            "[model]\ninput = { size = 8, channels = 3 }\n[blocks.b]\nparams = {}\n"
            '[[blocks.b.layer]]\nblock = "b"\n[[layer]]\nblock = "b"\n',
            "blocks nest deeper than 16",
        ),
        (
            "[model]\ninput = { size = 8, channels = 3 }\n[blocks.b]\nparams = {}\n"
            '[[blocks.b.layer]]\nkind = "flatten"\n[[layer]]\nblock = "b"\nrepeat = 100000\n',
            "repeat: must be at most 10,000",
        ),
    ],
)
def test_model_errors_name_the_file_layer_and_field(text: str, needle: str) -> None:
    assert needle in error_of(text)


def test_hostile_files_are_refused_quickly(tmp_path: Path) -> None:
    cases = {
        "deep.toml": "a = " + "[" * 10_000 + "]" * 10_000,
        "digits.toml": HEAD + "x = " + "9" * 5001,
        "big.toml": "# " + "x" * (MAX_MODEL_FILE_BYTES + 10),
        "binary.toml": "\udcff",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        start = time.perf_counter()
        with pytest.raises(ConvcountError) as info:
            load_file(path)
        assert time.perf_counter() - start < 5
        assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_dev_zero_is_read_with_a_cap() -> None:
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero here")
    with pytest.raises(ConvcountError, match="larger than 1,048,576 bytes"):
        load_model("/dev/zero")


# --- names, files and the shipped zoo ------------------------------------------------


def test_a_file_is_a_file_only_when_it_exists(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_source("vgg16").shipped == "keras/vgg16"
    (tmp_path / "x.toml").write_text(HEAD + '[[layer]]\nkind = "flatten"\n')
    assert_usage_error(run("model", "x"), "'x' is no file and no shipped model")
    assert_usage_error(run("model", "missing.toml"), "'missing.toml': no such file")
    assert_usage_error(run("model", "./nowhere/m"), "no such file")
    (tmp_path / "vgg16").write_text(HEAD + '[[layer]]\nkind = "flatten"\n')
    shadowed = run("model", "vgg16", "--json")
    assert shadowed.exit_code == 0
    assert json.loads(shadowed.stdout)["total_params"] == 0
    assert "reading the file 'vgg16'" in shadowed.stderr and "keras/vgg16" in shadowed.stderr


def test_model_names_get_suggestions() -> None:
    assert_usage_error(run("model", "resnet-50"), "keras/resnet50 or torchvision/resnet50")
    assert_usage_error(run("model", "efficientnet-b0"), "did you mean keras/efficientnetb0")
    assert_usage_error(run("model", "KERAS/MobileNet", "--resolution", "0"), "--resolution")


def test_a_zoo_model_keeps_its_convention() -> None:
    assert_usage_error(
        run("model", "resnet50", "--convention", "torch"),
        "keras/resnet50 is built as Keras builds it",
        "the closest PyTorch model is torchvision/resnet50",
    )
    same = run("model", "keras/resnet50", "--convention", "keras", "--json")
    assert same.exit_code == 0


def test_options_and_width_are_checked_per_model() -> None:
    assert_usage_error(
        run("model", "keras/mobilenet", "-O", "poolin=avg"), "(did you mean pooling?)"
    )
    assert_usage_error(
        run("model", "keras/mobilenet", "-O", "pooling"), "--option takes NAME=VALUE"
    )
    assert_usage_error(run("model", "keras/vgg16", "-a", "0.5"), "keras/vgg16 has no width")
    assert_usage_error(run("model", "keras/mobilenet", "-a", "1e307"), "--width-multiplier")
    headless = json.loads(
        run(
            "model", "keras/mobilenet", "-O", "include_top=false", "-O", "pooling=avg", "--json"
        ).stdout
    )
    assert headless["layers"][-1]["kind"] == "global_avg_pool"
    assert headless["total_params"] == 4_253_864 - (1024 * 1000 + 1000)


def test_kinds_reference_is_generated_from_the_registry() -> None:
    text = run("model", "--kinds", "--format", "markdown").stdout
    assert text == reference_text()
    for kind in KINDS:
        assert f"| `{kind}` |" in text
    assert reference_text() in README.read_text(), "README's model format reference has drifted"
    data = json.loads(run("model", "--kinds", "--json").stdout)
    assert [k["kind"] for k in data] == list(KINDS)
    table = run("model", "--kinds", env={"COLUMNS": "100"}).stdout
    assert "|" not in table and all(len(line) <= 100 for line in table.splitlines())
    for kind in KINDS:
        assert re.search(rf"^{kind} ", table, re.MULTILINE), kind


def test_kinds_and_list_take_a_filter() -> None:
    data = json.loads(run("model", "--kinds", "conv,dense", "--json").stdout)
    assert [k["kind"] for k in data] == ["conv", "dense"]
    assert run("model", "--kinds", "dense", "-q").stdout == "dense\n"
    text = run("model", "--kinds", "dense", "--format", "markdown").stdout
    assert text.count("\n") == 3 and "| `dense` |" in text
    assert_usage_error(run("model", "--kinds", "dens"), "did you mean dense?")
    names = run("model", "--list", "keras/efficientnetb*", "-q").stdout.split()
    assert names == [f"keras/efficientnetb{i}" for i in range(8)]
    listed = json.loads(run("model", "--list", "RESNET18", "--json").stdout)
    assert [row["name"] for row in listed] == ["torchvision/resnet18"]
    assert_usage_error(run("model", "--list", "effnet"), "no shipped model matches 'effnet'")


def test_model_needs_a_source_or_list() -> None:
    assert_usage_error(run("model"), "give a model file or a shipped model's name")
    assert_usage_error(run("model", "--list", "--kinds"), "--list and --kinds ask for different")
    assert_usage_error(run("model", "keras/vgg16", "--format", "markdown"), "is for --kinds")


def test_the_readme_example_network_builds_and_scales(tmp_path: Path) -> None:
    text = README.read_text()
    start = text.index('```toml\n[model]\nname = "tinynet"') + len("```toml\n")
    example = text[start : text.index("```", start)]
    path = tmp_path / "tinynet.toml"
    path.write_text(example)
    base = load_file(path)
    scaled = load_file(path, width_multiplier="0.5", options={"depth": "2"}, resolution="96")
    names = [layer.name for layer in scaled.layers]
    assert "stage1.3.add" in names and "stage1.0.add" not in names  # stride 2 first
    assert "stage1.0.zero_padding" in names and "stage1.1.zero_padding" not in names
    layers = {layer.name: layer for layer in scaled.layers}
    assert layers["stem"].output.channels == 16  # make_divisible(32 * 0.5, 8)
    assert layers["stage1.0.depthwise"].output.spatial == (24, 24)
    assert scaled.total_params < base.total_params
    broken = tmp_path / "broken.toml"
    broken.write_text(example.replace('stride = "= stride"', 'strides = "= stride"'))
    message = run("model", str(broken)).stderr
    # Lines of the [[layer]] and [[blocks.inverted.layer]] headers, counted in the file.
    headers = [n for n, line in enumerate(example.splitlines(), 1) if line.startswith("[[")]
    stage1, depthwise = headers[9], headers[4]
    assert (
        f"tinynet.toml: layer 2 'stage1' (line {stage1}) > stage1.0 > block inverted > "
        f"layer 5 'depthwise' (line {depthwise}): strides: "
        "not a field of a depthwise layer (did you mean stride?)"
    ) in message.replace("broken.toml", "tinynet.toml")


def test_keras_minimum_input_sizes() -> None:
    assert_usage_error(run("model", "keras/xception", "-r", "70"), "needs at least 71x71")
    assert_usage_error(run("model", "keras/resnet50", "-r", "31x64"), "needs at least 32x32")
    assert_usage_error(
        run("model", "keras/mobilenetv3small", "-r", "31"), "needs at least 32x32"
    )  # MobileNetV3 checks its own minimum, outside obtain_input_shape
    assert run("model", "keras/mobilenetv3small", "-r", "32", "--json").exit_code == 0


def test_dtype_and_tiny_widths_are_checked() -> None:
    assert_usage_error(
        run("model", "keras/mobilenet", "--dtype", "bogus"), "--dtype must be one of"
    )
    assert_usage_error(run("model", "keras/mobilenet", "-a", "1e-300"), "out_channels")
    assert load_model("keras/mobilenet", dtype="float16").param_bytes == 2 * 4_253_864


def test_resolution_is_known_to_expressions() -> None:
    text = HEAD + '[[layer]]\nkind = "pointwise"\nname = "p"\nout_channels = "= resolution * 2"\n'
    assert model(text).layers[0].output.channels == 16
    assert model(text, resolution="10").layers[0].output.channels == 20
    assert "resolution is a built-in name (the input's sizes, -r)" in error_of(
        text + "[params]\nresolution = 3\n"
    )


@pytest.mark.parametrize("spacing", ["model = {", "net   = {"])
def test_a_model_file_whose_ninth_byte_is_a_brace_is_toml(spacing: str, tmp_path: Path) -> None:
    """A safetensors file starts with an 8-byte header length and then "{": a TOML file
    beginning ``model = {`` has its "{" there too, and was taken for one."""
    from convcount.model import load_model

    key = spacing.split("=", maxsplit=1)[0].strip()
    text = (
        f'{spacing} name = "n", input = {{ size = 8, channels = 3 }} }}\n'
        'layer = [{ kind = "conv", out_channels = 4, kernel_size = 3 }]\n'
    )
    path = tmp_path / "net.toml"
    path.write_text(text)
    assert text.encode()[8:9] == b"{"
    if key == "model":
        assert load_model(str(path)).total_params == 3 * 3 * 3 * 4 + 4
    else:  # read as TOML: the language names what is wrong
        with pytest.raises(ConvcountError, match="net"):
            load_model(str(path))
