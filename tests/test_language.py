"""The model language, second pass: hostile numbers and files (issue 15) and the
language's semantics (issue 16): exact parameters, wiring, names, compact forms and
messages. Each test reproduces a reported problem; hostile cases carry a time budget
that fails on a hang (generous for a shared machine: the cases take milliseconds)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from convcount import ConvcountError
from convcount.model import build_model
from convcount.model.language import parse_toml

from .conftest import assert_usage_error, run

HEAD = '[model]\nname = "t"\ninput = { size = 8, channels = 3 }\n'
BUDGET = 5.0
"""Seconds a refused hostile case may take; each takes well under one."""


def model(text: str, **options: Any) -> Any:
    return build_model(parse_toml(text, "t.toml"), "t.toml", **options)


def names_of(text: str, **options: Any) -> list[str]:
    return [layer.name for layer in model(text, **options).layers]


def refused(text: str, *needles: str, **options: Any) -> str:
    """The one-line message ``text`` is refused with, within the time budget."""
    started = time.process_time()  # CPU time: the machine may be shared
    with pytest.raises(ConvcountError) as info:
        model(text, **options)
    took = time.process_time() - started
    message = str(info.value)
    assert took < BUDGET, (took, message)
    assert "\n" not in message and message.isprintable() and len(message) < 600, message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


CONV = '[[layer]]\nkind = "pointwise"\nname = "p"\nout_channels = "= w"\n'


# --- issue 15: numbers checked before any arithmetic -------------------------------------


@pytest.mark.parametrize(
    "value", ["1e999999999", "1e99999999", "-1e999999999", "1e-999999999", "9" * 500]
)
def test_huge_exponents_and_digits_are_refused_before_conversion(value: str) -> None:
    text = HEAD + "[params]\nw = 8\n" + CONV
    refused(text, "--width-multiplier", width_multiplier=value)
    refused(text, "--option w", options={"w": value})
    refused(HEAD + f'[params]\nw = "{value}"\n' + CONV, "[params]", "w")


@pytest.mark.parametrize("value", ["1e999999999", "３", "٠.٥"])
def test_the_width_multiplier_of_a_zoo_model_is_checked_fast(value: str) -> None:
    started = time.monotonic()
    assert_usage_error(run("model", "keras/mobilenet", "-a", value), "width-multiplier")
    assert time.monotonic() - started < BUDGET


@pytest.mark.parametrize(
    ("expression", "needle"),
    [
        ("((((0.1**64)**64)**64)**64)**64", "nearer 0 than 10^-30"),
        ("((((1.5**64)**64)**64)**64)**64", "beyond 10^30"),
        ("((1 + 1/10**29) ** 64) ** 64", "denominator over 10^30"),
        ("0.1 ** 31", "nearer 0 than 10^-30"),
        ("1e-31", "nearer 0 than 10^-30"),
        ("1e999999999", "beyond the bounds of a number"),
        ("10**30 * 10", "beyond 10^30"),
    ],
)
def test_numbers_are_bounded_on_both_ends(expression: str, needle: str) -> None:
    refused(HEAD + f'[params]\nw = "= {expression}"\n' + CONV, "w:", needle)


def test_the_bounds_themselves_are_accepted() -> None:
    text = HEAD + '[params]\nw = 8\nsmall = "= 0.1 ** 30"\nbig = "= 10 ** 30"\n' + CONV
    assert names_of(text) == ["p"]
    assert names_of(text.replace("0.1 ** 30", "1e-30")) == ["p"]


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "+inf", "1e400", "1e-400"])
def test_params_inf_nan_and_out_of_range_floats_are_refused(value: str) -> None:
    refused(HEAD + f"[params]\nw = {value}\n" + CONV, "[params]", "w")


@pytest.mark.parametrize("value", ["３", "٠.٥", "３２", "1٣"])
def test_non_ascii_digits_are_refused_everywhere(value: str) -> None:
    text = HEAD + "[params]\nw = 8\n" + CONV
    refused(text, "ASCII", options={"w": value})
    refused(text, "--width-multiplier", width_multiplier=value)
    refused(HEAD + f'[params]\nw = "{value}"\n' + CONV, "ASCII")


def test_expression_work_is_bounded_in_steps() -> None:
    # 290-node expressions in a block repeated 10,000 times, ten layers each: a file of
    # 100,000 layers of 8 KB that took 231 s.
    term = "+".join(["(1*1)"] * 48)
    assert 280 <= len(list(__import__("ast").walk(__import__("ast").parse(term)))) <= 300
    body = "".join(
        f'[[blocks.b.layer]]\nkind = "activation"\nname = "a{n}"\nwhen = "= {term} > 0"\n'
        for n in range(10)
    )
    text = HEAD + "[blocks.b]\nparams = {}\n" + body + '[[layer]]\nblock = "b"\nrepeat = 10000\n'
    assert len(text) < 9000
    refused(text, "more than 500,000 steps")


def test_layers_skipped_by_when_count_against_the_layer_limit() -> None:
    # Nested false conditions once walked 10^12 layers with nothing to show for it.
    text = HEAD + "[blocks.b0]\nparams = {}\n"
    text += '[[blocks.b0.layer]]\nkind = "activation"\nwhen = false\n'
    for level in range(1, 5):
        text += f"[blocks.b{level}]\nparams = {{}}\n"
        text += f'[[blocks.b{level}.layer]]\nblock = "b{level - 1}"\nrepeat = 1000\n'
    text += '[[layer]]\nblock = "b4"\nrepeat = 1000\n'
    refused(text, "more than 100,000 layers walked")
    # 16 levels reached 10^64; the message keeps the outermost and innermost steps.
    deep = HEAD + "[blocks.b0]\nparams = {}\n"
    deep += '[[blocks.b0.layer]]\nkind = "activation"\nwhen = false\n'
    for level in range(1, 16):
        deep += f"[blocks.b{level}]\nparams = {{}}\n"
        deep += f'[[blocks.b{level}.layer]]\nblock = "b{level - 1}"\nrepeat = 10000\n'
    message = refused(deep + '[[layer]]\nblock = "b15"\nrepeat = 10000\n', "layers walked")
    assert message.startswith("t.toml: layer 1 > b15_1.0 > ... > layer 1 > b15_1.0.b14_1.0.")
    assert "> block b0: more than 100,000 layers walked" in message


@pytest.mark.parametrize(
    ("layer", "needle"),
    [
        ('kind = "upsampling"\nsize = 1000', "size would be a number of"),
        ('kind = "zero_padding"\npadding = 1000000000000000', "size would be a number of"),
        ('kind = "conv"\nkernel_size = 1\nout_channels = 2\ndilation = 1', ""),
    ],
)
def test_sizes_grow_no_further_than_the_bound(layer: str, needle: str) -> None:
    block = f"[blocks.b]\nparams = {{}}\n[[blocks.b.layer]]\n{layer}\n"
    text = HEAD + block + '[[layer]]\nblock = "b"\nrepeat = 10000\n'
    if needle:
        refused(text, "past the limit of 10^18", needle)
    else:
        assert len(names_of(text)) == 10000


def test_the_236_byte_growth_bomb_is_refused_in_bounded_memory() -> None:
    # Upsampling, strided pooling and zero padding: sizes and jumps (fractions) grew
    # until 8 GB were gone.
    text = (
        "[model]\ninput={size=8,channels=1}\n[blocks.g]\nparams={}\n"
        '[[blocks.g.layer]]\nkind="upsampling"\nsize=3\n'
        '[[blocks.g.layer]]\nkind="max_pool"\npool_size=1\nstride=2\n'
        '[[blocks.g.layer]]\nkind="zero_padding"\npadding=1\n'
        '[[layer]]\nblock="g"\nrepeat=9999\n'
    )
    assert len(text) <= 236
    import tracemalloc

    tracemalloc.start()
    try:
        refused(text, "past the limit of 10^18")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, peak


def test_a_4000_digit_units_is_refused_and_quoted_short() -> None:
    message = refused(
        HEAD + '[[layer]]\nkind = "dense"\nunits = ' + "9" * 4000 + "\n", "units", "digits"
    )
    assert "9" * 50 not in message


@pytest.mark.parametrize(
    "text",
    [
        HEAD.replace("channels = 3", "channels = 100000000000000000000000000000")
        + '[[layer]]\nkind = "flatten"\n',
        HEAD + '[[layer]]\nkind = "dense"\nunits = 100000000000000000000000000000\n',
        HEAD + '[[layer]]\nkind = "conv"\nkernel_size = 1\nout_channels = "= 10**29"\n',
    ],
)
def test_channels_of_10_to_the_29_are_refused(text: str) -> None:
    refused(text, "10^18")


def test_a_flattened_tensor_past_the_bound_is_refused() -> None:
    text = HEAD.replace("size = 8", "size = [1000000000, 1000000000]")
    text = text.replace("channels = 3", "channels = 1000000000")
    refused(text + '[[layer]]\nkind = "flatten"\n', "channels would be")


def test_a_huge_transposed_kernel_needs_no_float() -> None:
    # ceil(k / s) in floats: OverflowError for a big k, a rounding error below it.
    text = HEAD.replace("size = 8", "size = 1")
    text += '[[layer]]\nkind = "transpose"\nkernel_size = 999999999999999999\n'
    text += "out_channels = 1\nstride = 3\n"
    report = model(text)
    assert report.layers[0].output.spatial == (999999999999999999, 999999999999999999)


def test_a_fraction_too_large_for_a_float_is_still_a_message() -> None:
    refused(HEAD + '[[layer]]\nkind = "dense"\nunits = "= 10**30 / 7"\n', "not a whole number")


def test_max_pool_with_causal_padding_is_refused() -> None:
    refused(
        HEAD + '[[layer]]\nkind = "max_pool"\npadding = "causal"\n',
        "layer 1: padding: causal is for 1-D convolutions",
    )


def test_automatic_names_step_aside_for_given_ones() -> None:
    conv = '[[layer]]\nkind = "conv"\nkernel_size = 1\nout_channels = 2\n'
    named = conv + 'name = "conv_1"\n'
    assert names_of(HEAD + named + conv + conv) == ["conv_1", "conv", "conv_2"]
    assert names_of(HEAD + conv + conv + named) == ["conv", "conv_2", "conv_1"]
    refused(HEAD + named + named, "'conv_1' is used twice")


# --- issue 16: parameters keep their exact type -----------------------------------------

CLASSES = HEAD + (
    '[params]\nclasses = 1000\n[[layer]]\nkind = "flatten"\n'
    '[[layer]]\nkind = "dense"\nname = "fc"\nunits = "= classes"\n'
)


def test_option_integers_stay_integers_used_bare() -> None:
    assert model(CLASSES, options={"classes": "10"}).layers[-1].output.channels == 10
    whole_float = CLASSES.replace("classes = 1000", "classes = 10.0")
    assert model(whole_float).layers[-1].output.channels == 10
    assert model(CLASSES, options={"classes": "10.0"}).layers[-1].output.channels == 10
    refused(CLASSES, "gives 21/2 = 10.5, not a whole number", options={"classes": "10.5"})


@pytest.mark.parametrize(
    "name", ["in_channels", "in_size", "resolution", "alpha", "i", "repeats", "block_in_size"]
)
def test_a_parameter_named_like_a_built_in_is_refused(name: str) -> None:
    refused(CLASSES.replace("classes = 1000", f"{name} = 4"), f"{name} is a built-in name")
    refused(CLASSES, f"--option {name}: {name} is a built-in name", options={name: "4"})
    block = HEAD + f'[blocks.b]\nparams = {{ {name} = 1 }}\n[[blocks.b.layer]]\nkind = "identity"\n'
    refused(block + '[[layer]]\nblock = "b"\n', f"params.{name}", "built-in name")


MBCONV = (
    HEAD
    + """
[blocks.mb]
params = { expand = 1, se_ratio = 0.25 }
[[blocks.mb.layer]]
kind = "pointwise"
name = "expand"
out_channels = "= int(block_in_channels * expand)"
[[blocks.mb.layer]]
kind = "global_avg_pool"
keepdims = true
[[blocks.mb.layer]]
kind = "pointwise"
name = "se"
out_channels = "= max(1, int(block_in_channels * se_ratio))"
"""
)


@pytest.mark.parametrize(
    ("use", "expanded", "squeezed"),
    [
        ("expand = 4.5", 13, 1),
        ('expand = "= 9/2"\nse_ratio = "= 1/2"', 13, 1),
        ("expand = 6\nse_ratio = 0.5", 18, 1),
        ('expand = "4.5"', 13, 1),
    ],
)
def test_a_block_use_takes_fractions_and_expressions(
    use: str, expanded: int, squeezed: int
) -> None:
    text = MBCONV.replace("channels = 3", "channels = 3") + f'[[layer]]\nblock = "mb"\n{use}\n'
    layers = {layer.name: layer for layer in model(text).layers}
    assert layers["mb_1.0.expand"].output.channels == expanded
    assert layers["mb_1.0.se"].output.channels == squeezed


def test_rescaling_takes_an_exact_fraction() -> None:
    assert names_of(HEAD + '[[layer]]\nkind = "rescaling"\nscale = "= 1/255"\n') == ["rescaling"]


# --- wiring --------------------------------------------------------------------------------

UNET = """
[model]
name = "unet"
input = { size = 16, channels = 1 }
[blocks.down]
params = { out = 8 }
[[blocks.down.layer]]
kind = "conv"
name = "conv"
kernel_size = 3
padding = "same"
out_channels = "= out"
[[blocks.down.layer]]
kind = "max_pool"
[blocks.up]
params = { out = 8, skip = "input" }
[[blocks.up.layer]]
kind = "upsampling"
[[blocks.up.layer]]
kind = "concat"
inputs = ["upsampling", "= skip"]
[[blocks.up.layer]]
kind = "conv"
name = "conv"
kernel_size = 3
padding = "same"
out_channels = "= out"

[[layer]]
block = "down"
name = "down1"
[[layer]]
block = "down"
name = "down2"
out = 16
[[layer]]
block = "up"
name = "up2"
skip = "down2.0.conv"
out = 16
[[layer]]
block = "up"
name = "up1"
skip = "down1.0.conv"
"""


def test_a_unet_up_block_takes_its_skip_connection_from_outside() -> None:
    layers = {layer.name: layer for layer in model(UNET).layers}
    assert layers["up2.0.concat"].inputs == ("up2.0.upsampling", "down2.0.conv")
    assert layers["up2.0.concat"].output.channels == 16 + 16
    assert layers["up1.0.concat"].inputs == ("up1.0.upsampling", "down1.0.conv")
    assert layers["up1.0.concat"].output.spatial == (16, 16)


def test_a_layer_name_passed_to_a_block_wires_the_callers_layer() -> None:
    # Inside the block, "conv" is its own layer; the caller's "conv" passed as skip
    # still means the caller's.
    text = UNET.replace(
        '[[layer]]\nblock = "up"\nname = "up2"\nskip = "down2.0.conv"',
        '[[layer]]\nkind = "identity"\nname = "conv"\ninput = "down2.0.conv"\n'
        '[[layer]]\nblock = "up"\nname = "up2"\ninput = "down2"\nskip = "conv"',
    )
    layers = {layer.name: layer for layer in model(text).layers}
    assert layers["up2.0.concat"].inputs == ("up2.0.upsampling", "conv")
    assert layers["up2.0.conv"].inputs == ("up2.0.concat",)


def test_input_and_inputs_take_expressions() -> None:
    text = HEAD + (
        '[params]\nshortcut = true\n[[layer]]\nkind = "conv"\nname = "a"\nkernel_size = 1\n'
        'out_channels = 3\n[[layer]]\nkind = "identity"\nname = "b"\n'
        "input = \"= 'a' if shortcut else 'input'\"\n"
        "[[layer]]\nkind = \"add\"\ninputs = \"= ['input', 'b'] if shortcut else ['a', 'b']\"\n"
    )
    layers = model(text).layers
    assert layers[1].inputs == ("a",) and layers[2].inputs == ("input", "b")
    layers = model(text, options={"shortcut": "false"}).layers
    assert layers[1].inputs == ("input",) and layers[2].inputs == ("a", "b")


def test_a_skipped_layer_does_not_claim_its_name() -> None:
    block = (
        HEAD
        + """
[blocks.res]
params = { out = 3, stride = 1 }
[[blocks.res.layer]]
kind = "conv"
name = "conv"
kernel_size = 3
padding = "same"
stride = "= stride"
out_channels = "= out"
[[blocks.res.layer]]
kind = "conv"
name = "shortcut"
input = "input"
kernel_size = 1
stride = "= stride"
out_channels = "= out"
when = "= stride != 1 or block_in_channels != out"
[[blocks.res.layer]]
kind = "add"
name = "add"
inputs = ["conv", "shortcut"]
when = "= stride != 1 or block_in_channels != out"
[[blocks.res.layer]]
kind = "add"
name = "add"
inputs = ["conv", "input"]
when = "= stride == 1 and block_in_channels == out"
[[layer]]
block = "res"
name = "s"
repeat = 2
first = { stride = 2, out = 6 }
out = 6
"""
    )
    layers = {layer.name: layer for layer in model(block).layers}
    assert layers["s.0.add"].inputs == ("s.0.conv", "s.0.shortcut")
    assert layers["s.1.add"].inputs == ("s.1.conv", "s.0.add")
    refused(
        block.replace(
            'name = "add"\ninputs = ["conv", "input"]', 'name = "conv"\ninputs = ["conv", "input"]'
        ),
        "'conv' is used twice",
    )


def test_a_blocks_layers_are_addressable_from_outside() -> None:
    text = UNET + '[[layer]]\nkind = "identity"\ninput = "down1.0.conv"\n'
    assert model(text).layers[-1].inputs == ("down1.0.conv",)
    refused(UNET + '[[layer]]\nkind = "identity"\ninput = "down1.0.nope"\n', "no earlier layer")


# --- sizes per dimension -------------------------------------------------------------------


def test_sizes_are_lists_with_indexing() -> None:
    text = HEAD.replace("size = 8", 'size = "32x16"') + (
        '[[layer]]\nkind = "conv"\nname = "c"\nkernel_size = 1\n'
        'out_channels = "= resolution[0] + resolution[1] + in_size[-1]"\n'
        '[[layer]]\nkind = "adaptive_avg_pool"\nname = "pool"\n'
        'output_size = "= [in_size[0] // 2, in_size[1] // 4]"\n'
    )
    layers = {layer.name: layer for layer in model(text).layers}
    assert layers["c"].output.channels == 32 + 16 + 16
    assert layers["pool"].output.spatial == (16, 4)
    square = HEAD + '[[layer]]\nkind = "dense"\nunits = "= resolution * 2 + in_size"\n'
    assert model(square).layers[0].output.channels == 8 * 2 + 8
    refused(
        square.replace("size = 8", 'size = "8x4"'),
        "the sizes 8x4 differ per dimension; pick one by index",
    )
    refused(
        HEAD + '[[layer]]\nkind = "dense"\nunits = "= in_size[2]"\n',
        "index 2 is past the end of a list of 2",
    )


# --- short files -------------------------------------------------------------------------


def test_arrays_of_inline_tables_and_one_line_block_uses() -> None:
    # Top-level keys come before the first [table] in TOML, so the model's own layer
    # list opens the file.
    text = (
        """
layer = [
  { block = "cbr", name = "a", out = 16, repeat = 2 },
  { kind = "global_avg_pool" },
  { kind = "dense", units = 10 },
]
"""
        + HEAD
        + """
[blocks.cbr]
params = { out = 8 }
layer = [
  { kind = "conv", kernel_size = 3, padding = "same", out_channels = "= out" },
  { kind = "batchnorm" },
  { kind = "activation" },
]
"""
    )
    names = names_of(text)
    assert names[:6] == [
        f"a.{i}.{k}" for i in range(2) for k in ("conv", "batchnorm", "activation")
    ]
    assert names[6:] == ["global_avg_pool", "dense"]


STAGES = (
    HEAD.replace("size = 8", "size = 32")
    + """
[params]
depth = 1
stages = [
  # kernel, repeats, out, expand, stride
  [3, 1, 16, 1, 1],
  [3, 2, 24, 6, 2],
  [5, 2, 40, 6, 2],
]
[blocks.mb]
params = { k = 3, out = 16, expand = 1, stride = 1, residual = "= block_in_channels == out" }
layer = [
  { kind = "pointwise", name = "expand", expand = "= expand", when = "= expand != 1" },
  { kind = "depthwise", name = "dw", kernel_size = "= k", stride = "= stride", padding = "same" },
  { kind = "pointwise", name = "project", out_channels = "= out" },
  { kind = "add", inputs = ["input", "project"], when = "= stride == 1 and residual" },
]
[[layer]]
block = "mb"
name = "stage"
table = "= stages"
columns = ["k", "n", "out", "expand", "first.stride"]
repeat = "= ceil(n * depth)"
"""
)


def test_a_stage_table_drives_a_block() -> None:
    layers = {layer.name: layer for layer in model(STAGES).layers}
    assert "stage1.0.expand" not in layers and "stage2.0.expand" in layers
    assert [n for n in layers if n.endswith(".project")] == [
        "stage1.0.project",
        "stage2.0.project",
        "stage2.1.project",
        "stage3.0.project",
        "stage3.1.project",
    ]
    assert layers["stage1.0.dw"].output.spatial == (32, 32)
    assert layers["stage2.0.dw"].output.spatial == (16, 16)  # first.stride = 2
    assert layers["stage2.1.dw"].output.spatial == (16, 16)
    assert layers["stage3.1.dw"].params == 5 * 5 * 240 + 240
    assert "stage2.1.add" in layers and "stage2.0.add" not in layers
    deeper = [layer.name for layer in model(STAGES, options={"depth": "2"}).layers]
    assert sum(n.endswith(".project") for n in deeper) == 10


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (("columns = [", 'columns = ["typo", '), "'typo' is neither a parameter of block mb"),
        (("[3, 1, 16, 1, 1]", "[3, 1, 16]"), "row 1: table: a row has 5 values"),
        (('table = "= stages"', 'table = "= nope"'), "unknown name 'nope'"),
    ],
)
def test_stage_table_mistakes_are_named(change: tuple[str, str], needle: str) -> None:
    text = STAGES.replace(*change)
    if change[0] == "columns = [":
        text = text.replace('"first.stride"]', '"first.stride", "extra"]').replace(
            "[3, 1, 16, 1, 1]", "[0, 3, 1, 16, 1, 1, 0]"
        )
    refused(text, needle)


# --- repeats and names -------------------------------------------------------------------

BLOCK = HEAD + (
    '[params]\nn = 1\n[blocks.b]\nparams = {}\n[[blocks.b.layer]]\nkind = "identity"\nname = "x"\n'
)


def test_a_block_repeated_once_keeps_its_repeat_index() -> None:
    use = '[[layer]]\nblock = "b"\nname = "block1"\nrepeat = "= n"\n'
    assert names_of(BLOCK + use) == ["block1.0.x"]
    assert names_of(BLOCK + use, options={"n": "2"}) == ["block1.0.x", "block1.1.x"]


def test_repeat_zero_is_refused() -> None:
    refused(
        BLOCK + '[[layer]]\nblock = "b"\nrepeat = 0\n', "repeat: must be at least 1", "when = false"
    )


# --- messages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle", "absent"),
    [
        (
            HEAD + '[[layer]]\nkind = "dense"\nunits = "= {1: 2}[1]"\n',
            "a dictionary is not part of the expression language",
            "Dict",
        ),
        (
            HEAD + '[[layer]]\nkind = "dense"\nunits = 2\nwhen = "= in_size > \'a\'"\n',
            "when: > compares two numbers (or two texts), got the number 8 and the text 'a'",
            "cannot evaluate",
        ),
        (
            BLOCK + '[[layer]]\nblock = "b"\nkind = 3\n',
            "a block use takes block = NAME, not kind",
            "known: ;",
        ),
        (
            BLOCK + '[[layer]]\nblock = "b"\nout = 3\n',
            "out: block b takes no parameters",
            "known: ",
        ),
        (
            BLOCK + '[[layer]]\nblock = "b"\nname = "s"\nrepeat = 2\n'
            '[[layer]]\nkind = "identity"\ninput = "s.1.y"\n',
            "no earlier layer is named 's.1.y'",
            "Subscript",
        ),
    ],
)
def test_messages_use_the_languages_words(text: str, needle: str, absent: str) -> None:
    message = refused(text, needle)
    assert absent not in message


def test_errors_name_the_repeat_as_layer_names_spell_it() -> None:
    text = HEAD + (
        "[blocks.b]\nparams = { k = 1 }\n"
        '[[blocks.b.layer]]\nkind = "conv"\nname = "c"\nout_channels = 3\nkernel_size = "= k"\n'
        '[[layer]]\nblock = "b"\nname = "stage1"\nrepeat = 2\nk = "= 1 if i == 0 else 0"\n'
    )
    refused(text, "layer 1 'stage1' > stage1.1 > block b > layer 1 'c': kernel_size:")


def test_toml_errors_carry_the_lines_text(tmp_path: Any) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + '[[layer]]\nkind = "dense"\nunits = = 3\n', encoding="utf-8")
    assert_usage_error(run("model", str(path)), "line 6", "'units = = 3'")


# --- the README's examples of the language ---------------------------------------------


def readme_model(name: str) -> str:
    """The README's model-language example whose [model] is named ``name``."""
    from pathlib import Path

    text = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### The model language") : text.index("#### Format reference")]
    blocks = [block[: block.index("```")] for block in section.split("```toml\n")[1:]]
    (found,) = (block for block in blocks if f'name = "{name}"' in block)
    return found


def test_the_readmes_short_forms_build() -> None:
    resnet = {layer.name: layer for layer in model(readme_model("resnet-ish")).layers}
    assert "layer1.0.down" not in resnet and "layer2.0.down" in resnet
    assert resnet["layer1.0.add"].inputs == ("layer1.0.bn2", "conv")
    assert resnet["layer2.0.add"].inputs == ("layer2.0.bn2", "layer2.0.down")
    assert resnet["dense"].output.channels == 1000
    assert (
        model(readme_model("resnet-ish"), options={"classes": "10"}).layers[-1].output.channels
        == 10
    )
    efficient = [layer.name for layer in model(readme_model("efficientnet-ish")).layers]
    assert efficient[:3] == ["stem", "block1.0.dwconv", "block1.0.project"]
    assert "block2.1.add" in efficient and "block3.1.add" in efficient
    deeper = model(readme_model("efficientnet-ish"), options={"depth": "1.5"}).layers
    deeper = [layer.name for layer in deeper]
    assert "block2.2.add" in deeper


def test_numbers_of_thousands_of_digits_are_quoted_short_from_python_too() -> None:
    # Python refuses to print an integer of over 4,300 digits: a message quoting one
    # crashed. The builder behind the language (and the zoo) quotes it shortened.
    from convcount.model.graph import Net

    cases: list[tuple[str, dict[str, Any]]] = [
        ("dense", {"units": 10**5000}),
        ("transpose", {"kernel_size": 10**400, "out_channels": 1, "stride": 3}),
        ("conv", {"kernel_size": 1, "out_channels": 2, "groups": 10**5000}),
    ]
    for kind, fields in cases:
        with pytest.raises(ConvcountError) as info:
            Net("n", (8, 8), 3).layer(kind, **fields)
        message = str(info.value)
        assert "must be at most 10^18" in message and "a number of about" in message, message
        assert len(message) < 300


def test_expressions_read_any_earlier_layers_sizes_and_channels() -> None:
    text = HEAD.replace("size = 8", 'size = "9x7"') + (
        '[[layer]]\nkind = "conv"\nname = "a"\nkernel_size = 3\nout_channels = 5\n'
        '[[layer]]\nkind = "transpose"\nname = "up"\nkernel_size = 2\nstride = 2\n'
        "out_channels = 5\n"
        '[[layer]]\nkind = "cropping"\nname = "crop"\n'
        "cropping = \"= [[0, in_size[0] - size_of('a')[0]], [0, in_size[1] - size_of('a')[1]]]\"\n"
        '[[layer]]\nkind = "concat"\ninputs = ["crop", "a"]\n'
        '[[layer]]\nkind = "dense"\nname = "d"\n'
        "units = \"= channels_of('up') + channels_of('input')\"\n"
    )
    layers = {layer.name: layer for layer in model(text).layers}
    assert layers["up"].output.spatial == (14, 10)
    assert layers["crop"].output.spatial == (7, 5) == layers["a"].output.spatial
    assert layers["d"].output.channels == 5 + 3
    refused(text.replace("size_of('a')[1]", "size_of('zz')[1]"), "size_of: no earlier layer")


def test_long_lists_read_again_and_again_are_bounded_in_all() -> None:
    # A join of 20,000 inputs in a block repeated 10,000 times: 2*10^8 names to wire.
    inputs = ", ".join(['"input"'] * 20_000)
    text = HEAD + (
        "[blocks.b]\nparams = {}\n"
        f'[[blocks.b.layer]]\nkind = "concat"\ninputs = [{inputs}]\n'
        '[[blocks.b.layer]]\nkind = "conv"\nkernel_size = 1\nout_channels = 3\n'
        '[[layer]]\nblock = "b"\nrepeat = 10000\n'
    )
    refused(text, "more than 250,000 list values")


@pytest.mark.parametrize("depth", [17, 300, 420])
def test_lists_nested_deep_are_refused_not_a_recursion_error(depth: int) -> None:
    nested = "[" * depth + "1" + "]" * depth
    refused(HEAD + f'[params]\nx = {nested}\n[[layer]]\nkind = "dense"\nunits = "= x"\n', "nested")
    refused(HEAD + f'[[layer]]\nkind = "dense"\nunits = {nested}\n', "units: lists nested deeper")
