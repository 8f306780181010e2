"""The attention kinds' rules and the transformer builders' size rules, through the CLI.

The counts themselves are checked against torchvision's captured figures
(tests/test_zoo.py) and against PyTorch built live (tests/frameworks/
test_attention.py); here, what each refuses, as torchvision refuses it.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest

from convcount.errors import ConvcountError
from convcount.model import build_model
from tests.conftest import assert_usage_error, run

HEAD = '[model]\nname = "t"\ninput = { size = SIZE, channels = 8 }\n'


def model(size: str, *layers: str) -> str:
    return HEAD.replace("SIZE", size) + "".join(f"[[layer]]\n{layer}\n" for layer in layers)


@pytest.mark.parametrize(
    ("size", "layers", "message"),
    [
        ("[4, 4]", ['kind = "attention"\nheads = 3'], "heads: 3 must divide the input channels 8"),
        (
            "5, dims = 1",
            ['kind = "attention"\nheads = 2\nposition_bias = "table"'],
            "a table needs a square number of tokens, got 5",
        ),
        ("4, dims = 1", ['kind = "window_attention"\nheads = 2\nwindow = 2'], "needs a 2-D map"),
        ("[6, 6]", ['kind = "window_partition"\nsize = 4'], "size: 4 must divide"),
        ("[6, 6]", ['kind = "class_token"'], "needs a token sequence"),
        ("6, dims = 1", ['kind = "select_token"\nindex = 6'], "must be below the 6 tokens"),
        (
            "[6, 6]",
            [
                'kind = "window_partition"\nsize = 2',
                'kind = "window_departition"\nsize = 3\npartitions = [2, 2]',
            ],
            "2x2 partitions of 3x3 need 4x9 tokens, got 9x4",
        ),
        (
            "[4, 4]",
            ['kind = "attention"\nheads = 2\nprojections = false'],
            "without projections the input must hold q, k and v for 2 heads",
        ),
        (
            "[4, 4]",
            ['kind = "attention"\nheads = 2\nprojections = false\nout_channels = 4'],
            "out_channels: sized by an output projection",
        ),
        (
            "[4, 4]",
            ['kind = "patch_merging"\nreduction = false\nnorm = "before"'],
            "reduction: false leaves only the 2x2 concatenation",
        ),
    ],
)
def test_the_attention_kinds_refuse_what_cannot_run(
    size: str, layers: list[str], message: str
) -> None:
    with pytest.raises(ConvcountError, match=message.replace("(", r"\(")):
        build_model(tomllib.loads(model(size, *layers)), "t.toml", convention="torch")


def test_token_shapes_print_as_the_framework_prints_them() -> None:
    text = model(
        "[8, 8]",
        'kind = "window_partition"\nsize = 4',
        'kind = "attention"\nheads = 2\nposition_bias = "table"',
        'kind = "window_departition"\nsize = 4\npartitions = [2, 2]',
    )
    for convention, shapes in (
        ("torch", [[4, 16, 8], [4, 16, 8], [8, 8, 8]]),
        ("keras", [[4, 16, 8], [4, 16, 8], [8, 8, 8]]),
    ):
        report = build_model(tomllib.loads(text), "t.toml", convention=convention)
        assert [list(report.output_shape(layer.output)) for layer in report.layers] == shapes


def test_vit_resolution_is_its_image_size() -> None:
    assert_usage_error(run("model", "torchvision/vit_b_16", "-r", "200"), "multiple of its patch")
    assert_usage_error(run("model", "torchvision/vit_b_16", "-r", "224x256"), "square image_size")
    assert_usage_error(
        run("model", "torchvision/vit_b_16", "-r", "256", "-O", "image_size=384"),
        "image_size=384 disagrees with --resolution 256x256",
    )
    by_option = json.loads(
        run("model", "torchvision/vit_b_16", "-O", "image_size=384", "--json").stdout
    )
    by_size = json.loads(run("model", "torchvision/vit_b_16", "-r", "384", "--json").stdout)
    assert by_option == by_size
    assert by_size["input_shape"] == [3, 384, 384]


def test_maxvit_needs_partitionable_square_sizes() -> None:
    assert_usage_error(
        run("model", "torchvision/maxvit_t", "-r", "256"), "multiples of its partition size 7"
    )
    assert_usage_error(run("model", "torchvision/maxvit_t", "-r", "224x448"), "square input")
    assert run("model", "torchvision/maxvit_t", "-r", "448", "-q").exit_code == 0


def test_swin_takes_any_size_from_four() -> None:
    assert_usage_error(run("model", "torchvision/swin_t", "-r", "3"), "at least 4x4")
    assert run("model", "torchvision/swin_v2_t", "-r", "4", "-q").exit_code == 0
    assert_usage_error(run("model", "torchvision/swin_t", "-O", "mlp_ratio=-1"), "mlp_ratio")


def _transformer_cases() -> list[dict[str, Any]]:
    from tests.test_zoo import ZOO_DIR

    data = json.loads((ZOO_DIR / "torchvision.json").read_text())
    cases: list[dict[str, Any]] = data["transformer_cases"]
    return cases


@pytest.mark.parametrize("case", _transformer_cases(), ids=lambda case: case["name"])
def test_every_module_that_runs_is_a_layer_with_its_shape(case: dict[str, Any]) -> None:
    """Parameter-free modules too (dropouts, permutes, partitions, swaps, pools)."""
    from tests.test_zoo import build

    report = build(case)
    ours = {layer.name: layer for layer in report.layers}
    for name, cls, shape, *_ in case["layers"]:
        if shape is None or name == "":  # never run; the root's output is the model's
            continue
        assert name in ours, f"{cls} {name!r} is missing"
        assert list(report.output_shape(ours[name].output)) == shape, name


@pytest.mark.parametrize(
    ("name", "option"),
    [
        ("vit_b_16", "patch_size=8"),
        ("swin_t", "window_size=8"),
        ("maxvit_t", "partition_size=8"),
    ],
)
def test_what_the_builder_fixes_is_refused_as_torchvision_refuses_it(
    name: str, option: str
) -> None:
    # _vision_transformer(patch_size=16, ..., **kwargs) with patch_size in kwargs: a TypeError
    assert_usage_error(
        run("model", f"torchvision/{name}", "-O", option), "torchvision refuses it as an option"
    )
