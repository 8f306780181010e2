"""Parsing, defaults and every refusal, through the library (the CLI says the same)."""

from __future__ import annotations

import pytest

from convcount import ConvcountError, make_layer

BASE = {"kernel_size": 3, "in_channels": 8, "out_channels": 16}


def refused(kind: str, **kwargs: object) -> str:
    with pytest.raises(ConvcountError) as info:
        make_layer(kind, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_kernel_forms() -> None:
    assert make_layer("conv", **{**BASE, "kernel_size": "3x5"}).kernel_size == (3, 5)
    assert make_layer("conv", **{**BASE, "kernel_size": "3X5"}).kernel_size == (3, 5)
    assert make_layer("conv", **{**BASE, "kernel_size": [3, 5, 7]}).dims == 3
    assert make_layer("conv", **{**BASE, "kernel_size": "3"}).kernel_size == (3, 3)
    assert make_layer("conv", **{**BASE, "dims": 1}).kernel_size == (3,)
    assert make_layer("conv", **{**BASE, "dims": "3"}).kernel_size == (3, 3, 3)


def test_any_option_with_several_numbers_fixes_the_dims() -> None:
    layer = make_layer("conv", **BASE, input_size="8x32x32")
    assert layer.dims == 3 and layer.kernel_size == (3, 3, 3) and layer.stride == (1, 1, 1)


def test_defaults_follow_the_convention() -> None:
    keras = make_layer("separable", **BASE)
    torch = make_layer("separable", **BASE, convention="torch")
    assert (keras.depthwise_bias, keras.pointwise_bias) == (False, True)
    assert (torch.depthwise_bias, torch.pointwise_bias) == (True, True)
    assert keras.padding == "valid" and torch.padding == (0, 0)
    assert make_layer("conv", **BASE).bias is True


def test_depthwise_out_channels_is_accepted_only_when_it_agrees() -> None:
    assert (
        make_layer(
            "depthwise", kernel_size=3, in_channels=8, depth_multiplier=2, out_channels=16
        ).out_channels
        == 16
    )
    message = refused("depthwise", kernel_size=3, in_channels=8, out_channels=20)
    assert message.startswith("--out-channels") and "-m/--depth-multiplier" in message


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("in_channels", 0, "--in-channels must be a positive integer, got 0"),
        ("in_channels", -3, "--in-channels must be a positive integer, got -3"),
        ("in_channels", "ten", "--in-channels must be a positive integer, got 'ten'"),
        ("in_channels", 2.5, "--in-channels must be a positive integer, got 2.5"),
        ("in_channels", True, "--in-channels must be a positive integer, got True"),
        ("out_channels", 0, "--out-channels must be a positive integer"),
        ("groups", 0, "--groups must be a positive integer"),
        ("kernel_size", 0, "--kernel-size must be a positive integer, got 0"),
        ("kernel_size", "3x0", "--kernel-size must be a positive integer, got 0"),
        ("kernel_size", "3x", "--kernel-size must be one number or up to three joined by 'x'"),
        ("kernel_size", "a", "--kernel-size must be one number"),
        ("kernel_size", "3x3x3x3", "--kernel-size takes one to three numbers, got 4"),
        ("kernel_size", "-3", "--kernel-size must be one number"),
        ("stride", 0, "--stride must be a positive integer"),
        ("dilation", "2x0", "--dilation must be a positive integer"),
        ("input_size", 0, "--input-size must be a positive integer"),
        ("padding", -1, "--padding must be valid, same, causal, or zeros per side"),
        ("padding", "full", "--padding must be valid, same, causal, or zeros per side"),
        ("dims", 4, "--dims must be 1, 2 or 3, got 4"),
        ("dims", 0, "--dims must be a positive integer"),
        ("convention", "tf", "--convention must be one of keras, torch, got 'tf'"),
        ("dtype", "float8", "--dtype must be one of float32, float16, bfloat16, int8, float64"),
        ("bias", "maybe", "--bias must be true or false"),
        ("in_channels", "9" * 5000, "--in-channels must be a positive integer"),
    ],
)
def test_bad_values(option: str, value: object, needle: str) -> None:
    message = refused("conv", **{**BASE, option: value})
    assert needle in message


def test_missing_required_options() -> None:
    assert refused("conv", kernel_size=3, in_channels=4) == "-o/--out-channels is required for conv"
    assert refused("conv") == (
        "-k/--kernel-size, -i/--in-channels and -o/--out-channels are required for conv"
    )
    assert (
        refused("depthwise") == "-k/--kernel-size and -i/--in-channels are required for depthwise"
    )
    assert "--kernel-size is required" in refused("depthwise", in_channels=4)
    assert "--in-channels is required" in refused("separable", kernel_size=3, out_channels=4)


def test_kernel_length_must_agree_with_dims() -> None:
    assert refused("conv", **{**BASE, "kernel_size": "3x3", "dims": 3}) == (
        "--kernel-size 3x3 has 2 numbers but --dims is 3"
    )
    message = refused("conv", **{**BASE, "kernel_size": "3x3", "stride": "1x1x2"})
    assert message == "--stride 1x1x2 has 3 numbers but --kernel-size 3x3 has 2"


def test_groups_must_divide_both_channel_counts() -> None:
    assert refused("conv", kernel_size=3, in_channels=10, out_channels=32, groups=3) == (
        "--groups 3 must divide --in-channels 10"
    )
    assert refused("conv", kernel_size=3, in_channels=12, out_channels=10, groups=4) == (
        "--groups 4 must divide --out-channels 10"
    )
    assert "--groups 3 must divide --in-channels 8" in refused(
        "transpose", kernel_size=3, in_channels=8, out_channels=6, groups=3, convention="torch"
    )


@pytest.mark.parametrize(
    ("kind", "option", "needle"),
    [
        (
            "conv",
            "depth_multiplier",
            "--depth-multiplier does not apply to conv (only to depthwise, separable)",
        ),
        ("transpose", "depth_multiplier", "does not apply to transpose"),
        ("depthwise", "groups", "--groups does not apply to depthwise (only to conv, transpose)"),
        ("separable", "groups", "--groups does not apply to separable"),
        ("separable", "bias", "use --depthwise-bias and --pointwise-bias"),
        ("conv", "depthwise_bias", "--depthwise-bias does not apply to conv (only to separable)"),
        ("conv", "output_padding", "--output-padding does not apply to conv (only to transpose)"),
        ("conv", "colour", "--colour is not a field convcount knows"),
    ],
)
def test_options_that_do_not_belong(kind: str, option: str, needle: str) -> None:
    assert needle in refused(kind, **{**BASE, option: 2})


def test_unknown_layer_kind() -> None:
    assert (
        refused("pool", **BASE)
        == "--layer must be one of conv, depthwise, separable, transpose, got 'pool'"
    )


# --- what each framework refuses ------------------------------------------------


def test_keras_refuses_integer_padding_and_names_torch() -> None:
    message = refused("conv", **BASE, padding=1)
    assert message.startswith("--padding 1x1")
    assert "Keras refuses it" in message and "--convention torch" in message
    make_layer("conv", **BASE, padding=1, convention="torch")


@pytest.mark.parametrize("kind", ["conv", "transpose"])
def test_keras_refuses_stride_with_dilation_in_conv_and_transpose(kind: str) -> None:
    message = refused(kind, **BASE, stride=2, dilation="1x2")
    assert "--stride 2x2 with --dilation 1x2" in message and "--convention torch" in message
    make_layer(kind, **BASE, stride=2, dilation=2, convention="torch")


@pytest.mark.parametrize("kind", ["depthwise", "separable"])
def test_keras_accepts_stride_with_dilation_in_depthwise_and_separable(kind: str) -> None:
    options = {"kernel_size": 3, "in_channels": 8, "stride": 2, "dilation": 2}
    if kind == "separable":
        options["out_channels"] = 4
    assert make_layer(kind, **options).stride == (2, 2)


def test_keras_has_no_groups_on_transposed_layers() -> None:
    message = refused("transpose", **BASE, groups=2)
    assert (
        message.startswith("--groups 2 on a transposed layer") and "--convention torch" in message
    )


def test_keras_output_padding_must_be_below_stride() -> None:
    assert "must be smaller than --stride 2x2" in refused(
        "transpose", **BASE, stride=2, output_padding=2
    )
    assert "Keras's rule" in refused("transpose", **BASE, output_padding="0x1", stride=1)
    make_layer("transpose", **BASE, stride=2, output_padding=1)


def test_torch_output_padding_must_be_below_stride_or_dilation() -> None:
    make_layer("transpose", **BASE, dilation=3, output_padding=2, convention="torch")
    message = refused("transpose", **BASE, stride=2, output_padding=2, convention="torch")
    assert (
        "must be smaller than --stride 2x2 or --dilation 1x1" in message
        and "PyTorch's rule" in message
    )


def test_torch_refuses_same_with_stride_and_names_keras() -> None:
    message = refused("conv", **BASE, padding="same", stride="1x2", convention="torch")
    assert message.startswith("--padding same with --stride 1x2: PyTorch refuses it")
    assert "--convention keras" in message
    make_layer("conv", **BASE, padding="same", stride=2)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_torch_transposed_takes_integer_padding_only(padding: str) -> None:
    message = refused("transpose", **BASE, padding=padding, convention="torch")
    assert (
        f"--padding {padding} on a transposed layer" in message and "--convention keras" in message
    )


def test_causal_padding_is_keras_conv1d_only() -> None:
    assert make_layer("conv", **BASE, dims=1, padding="causal").padding == "causal"
    assert "causal is for 1-D conv only" in refused("conv", **BASE, padding="causal")
    assert "not a 1-D depthwise" in refused(
        "depthwise", kernel_size=3, in_channels=4, dims=1, padding="causal"
    )
    message = refused("conv", **BASE, dims=1, padding="causal", convention="torch")
    assert (
        message.startswith("--padding causal: PyTorch refuses it")
        and "--convention keras" in message
    )


def test_keras_transposed_accepts_same_and_valid() -> None:
    for padding in ("same", "valid"):
        assert make_layer("transpose", **BASE, padding=padding).padding == padding


# --- one rule, spelled for its source ------------------------------------------------


def spelled(kind: str, **kwargs: object) -> tuple[str, str]:
    """(command-line words, batch-row and model-file words) of one refusal."""
    with pytest.raises(ConvcountError) as info:
        make_layer(kind, **kwargs)
    return str(info.value), info.value.spelled("field")


@pytest.mark.parametrize(
    ("kind", "options", "cli", "field"),
    [
        (
            "conv",
            {**BASE, "groups": 3},
            "--groups 3 must divide --in-channels 8",
            "groups 3 must divide in_channels 8",
        ),
        (
            "depthwise",
            {"kernel_size": 3, "in_channels": 8, "out_channels": 5},
            "--out-channels does not apply to depthwise: its outputs are --in-channels x "
            "--depth-multiplier (8); use -m/--depth-multiplier",
            "out_channels does not apply to depthwise: its outputs are in_channels x "
            "depth_multiplier (8); use depth_multiplier",
        ),
        (
            "conv",
            {"kernel_size": 3, "in_channels": 8},
            "-o/--out-channels is required for conv",
            "out_channels is required for conv",
        ),
        (
            "conv",
            {**BASE, "padding": 1},
            "--padding 1x1 (zeros on each side): Keras refuses it",
            "padding 1x1 (zeros on each side): Keras refuses it",
        ),
        (
            "conv",
            {**BASE, "padding": 1},
            "use --convention torch",
            "use convention torch",
        ),
        (
            "separable",
            {**BASE, "bias": False},
            "use --depthwise-bias and --pointwise-bias",
            "use depthwise_bias and pointwise_bias",
        ),
        (
            "conv",
            {**BASE, "strides": 2},
            "--strides is not a field convcount knows (did you mean --stride?)",
            "strides is not a field convcount knows (did you mean stride?)",
        ),
        (
            "conv",
            {**BASE, "kernel": 3},
            "(did you mean --kernel-size?)",
            "(did you mean kernel_size?)",
        ),
        (
            "conv",
            {**BASE, "input_size": 2},
            "--input-size 2x2 is too small",
            "input_size 2x2 is too small",
        ),
    ],
)
def test_one_rule_spelled_for_its_source(
    kind: str, options: dict[str, object], cli: str, field: str
) -> None:
    from convcount.counting import count

    with pytest.raises(ConvcountError) as info:
        count(make_layer(kind, **options))
    assert cli in str(info.value)
    assert field in info.value.spelled("field")
    assert "--" not in info.value.spelled("field")


def test_unknown_choices_suggest_the_nearest() -> None:
    assert refused("convv", **BASE).endswith("got 'convv' (did you mean conv?)")
    assert refused("conv", **BASE, convention="kears").endswith("(did you mean keras?)")
    assert refused("conv", **BASE, convention="tensorflow").endswith("(did you mean keras?)")
    assert refused("conv", **BASE, dtype="float").endswith("(did you mean float32?)")


def test_an_error_placed_in_context_keeps_its_spelling() -> None:
    with pytest.raises(ConvcountError) as info:
        make_layer("conv", **{**BASE, "groups": 3})
    placed = info.value.within("net.toml: layer 2 'c'")
    assert str(placed) == "net.toml: layer 2 'c': --groups 3 must divide --in-channels 8"
    assert placed.spelled("field") == "net.toml: layer 2 'c': groups 3 must divide in_channels 8"
    assert placed.option == "groups"
