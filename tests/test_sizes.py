"""Sizes per dimension: resize, padding per side, dense under torch, shape messages.

The figures themselves are compared with PyTorch and Keras in
tests/frameworks/test_sizes.py; these tests check what needs no framework:
the refusals and their wording.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from convcount.errors import ConvcountError
from convcount.model import build_model
from convcount.model.graph import ModelReport
from convcount.model.kinds import ACTIVATIONS
from convcount.model.reference import reference_text


def build(
    layers: list[dict[str, Any]],
    convention: str = "torch",
    size: list[int] | None = None,
    blocks: dict[str, Any] | None = None,
) -> ModelReport:
    size = size or [13, 9]
    spec: dict[str, Any] = {
        "model": {
            "input": {"size": size, "channels": 4, "dims": len(size)},
            "convention": convention,
        },
        "layer": layers,
    }
    if blocks:
        spec["blocks"] = blocks
    return build_model(spec, "t.toml")


@pytest.mark.parametrize(
    "fields",
    [{}, {"size": 4, "scale_factor": 2}, {"like": "input", "size": [3, 3]}],
)
def test_resize_takes_exactly_one_way_to_its_size(fields: dict[str, Any]) -> None:
    with pytest.raises(ConvcountError, match="give exactly one of size, scale_factor and like"):
        build([{"kind": "resize", **fields}])


def test_keras_refuses_a_fractional_factor_and_names_resizing() -> None:
    with pytest.raises(ConvcountError, match=r"Keras upsamples by whole factors.*Resizing"):
        build([{"kind": "resize", "scale_factor": 1.5}], "keras")
    assert build([{"kind": "resize", "scale_factor": 2}], "keras").output.spatial == (26, 18)


def test_keras_resizing_is_two_dimensional() -> None:
    with pytest.raises(ConvcountError, match="Resizing is 2-D"):
        build([{"kind": "resize", "size": 5}], "keras", size=[9])


@pytest.mark.parametrize(
    ("mode", "size"), [("bilinear", [4, 5, 6]), ("trilinear", [4, 5]), ("linear", [4, 5])]
)
def test_torch_interpolation_modes_need_their_dimensions(mode: str, size: list[int]) -> None:
    with pytest.raises(ConvcountError, match=f"interpolation: {mode} needs a"):
        build([{"kind": "resize", "scale_factor": 2, "interpolation": mode}], size=size)


def test_align_corners_only_with_an_interpolating_mode() -> None:
    with pytest.raises(ConvcountError, match="align_corners: only for interpolating modes"):
        build([{"kind": "resize", "scale_factor": 2, "align_corners": True}])


@pytest.mark.parametrize("factor", [0, -1, "2", True, [1, 2, 3]])
def test_bad_factors_are_refused(factor: object) -> None:
    with pytest.raises(ConvcountError, match="scale_factor"):
        build([{"kind": "resize", "scale_factor": factor}])


def test_like_names_an_earlier_layer_with_a_suggestion() -> None:
    with pytest.raises(
        ConvcountError, match=r"like: no earlier layer is named 'stme' \(did you mean stem\?\)"
    ):
        build(
            [
                {"kind": "conv", "name": "stem", "out_channels": 2, "kernel_size": 3},
                {"kind": "resize", "like": "stme"},
            ]
        )


def test_like_inside_a_block_means_the_blocks_layer() -> None:
    blocks = {
        "down_up": {
            "params": {},
            "layer": [
                {"kind": "conv", "name": "down", "out_channels": 4, "kernel_size": 3, "stride": 2},
                {"kind": "resize", "name": "up", "like": "input"},
                {"kind": "conv", "name": "tail", "out_channels": 4, "kernel_size": 1},
                {"kind": "resize", "like": "down"},
            ],
        }
    }
    report = build([{"block": "down_up", "name": "b", "repeat": 2}], blocks=blocks)
    shapes = {layer.name: layer.output.spatial for layer in report.layers}
    assert shapes["b.0.up"] == (13, 9)  # the block's input, not the model's conv
    assert shapes["b.0.resize"] == shapes["b.0.down"] == (6, 4)
    assert shapes["b.1.up"] == (6, 4)  # the second repeat's input is the first's output
    assert shapes["b.1.resize"] == shapes["b.1.down"] == (2, 1)


def test_flat_padding_of_two_per_dimension_is_torch_order_only() -> None:
    with pytest.raises(ConvcountError, match=r"under keras give one \[before, after\] pair"):
        build([{"kind": "zero_padding", "padding": [1, 2, 3, 4]}], "keras")
    padded = build([{"kind": "zero_padding", "padding": [1, 2, 3, 4]}], "torch")
    assert padded.output.spatial == (13 + 3 + 4, 9 + 1 + 2)  # (left, right, top, bottom)
    keras = build([{"kind": "zero_padding", "padding": [[3, 4], [1, 2]]}], "keras")
    assert keras.output.spatial == padded.output.spatial


def test_padding_per_side_from_an_expression() -> None:
    report = build(
        [
            {"kind": "conv", "out_channels": 4, "kernel_size": 3, "padding": "= [1, 0]"},
            {"kind": "zero_padding", "padding": "= [[0, in_channels // 4], [2 * 1, 0]]"},
        ]
    )
    assert report.output.spatial == (13 + 1, 7 + 2)


def test_torch_shape_errors_print_channels_first() -> None:
    layers = [
        {"kind": "conv", "name": "a", "out_channels": 8, "kernel_size": 1},
        {"kind": "conv", "name": "b", "input": "input", "out_channels": 6, "kernel_size": 1},
        {"kind": "add", "inputs": ["a", "b"]},
    ]
    with pytest.raises(ConvcountError, match="got 8x13x9, 6x13x9"):
        build(layers, "torch")
    with pytest.raises(ConvcountError, match="got 13x9x8, 13x9x6"):
        build(layers, "keras")


def test_every_activation_is_named_in_the_format_reference() -> None:
    text = reference_text()
    assert all(name in text for name in ACTIVATIONS)
    assert "one of relu, relu6" in text


def test_the_readmes_resize_and_padding_examples() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = " ".join(readme[readme.index("#### Examples, sizes per dimension") :].split())
    for n, factor in ((7, 1.5), (50, 2.3)):
        out = build([{"kind": "resize", "scale_factor": [factor, 1]}], size=[n, 3]).output
        assert f"{n} × {factor} gives {out.spatial[0]}" in section
    expression = re.search(r'`"(= \[\[0, in_size\[0\] % 2\], \[0, 0\]\])"`', section)
    assert expression is not None
    padded = build([{"kind": "zero_padding", "padding": expression.group(1)}], size=[13, 9])
    assert padded.output.spatial == (14, 9)


def test_padding_or_cropping_to_a_layer_refuses_what_cannot_be_reached() -> None:
    down = {"kind": "conv", "name": "down", "out_channels": 4, "kernel_size": 3, "stride": 2}
    with pytest.raises(ConvcountError, match=r"like: 'down' \(6x4\) is smaller than the input"):
        build([down, {"kind": "zero_padding", "input": "input", "like": "down"}])
    with pytest.raises(ConvcountError, match=r"like: 'input' \(13x9\) is larger than the input"):
        build([down, {"kind": "cropping", "like": "input"}])
    with pytest.raises(ConvcountError, match="padding: give padding or like, not both"):
        build([down, {"kind": "zero_padding", "padding": 1, "like": "input"}])
    with pytest.raises(ConvcountError, match=r"cropping: required \(or like\)"):
        build([{"kind": "cropping"}])
    assert build([{"kind": "zero_padding"}]).output.spatial == (15, 11)  # 1 on every side


def test_a_factor_may_be_an_exact_fraction() -> None:
    report = build([{"kind": "resize", "scale_factor": "= [3/2, 1/3]"}], size=[7, 10])
    assert report.output.spatial == (10, 3)  # int(7 * 1.5), int(10 * 0.333...)
