"""Rendered tables: golden files at a fixed width without colour.

Regenerate with ``pytest tests/test_render.py --overwrite`` after a deliberate
change, and read the diff.
"""

from __future__ import annotations

import re

import pytest

from convcount import make_layer
from convcount.compare import compare_layers
from convcount.counting import Report, Term, count
from convcount.render import comparison_renderable, render_text, report_renderable

from .conftest import GOLDEN

REPORTS: dict[str, tuple[str, dict[str, object]]] = {
    "separable_flagship": ("separable", {"kernel_size": 3, "in_channels": 10, "out_channels": 32}),
    "separable_torch_sized": (
        "separable",
        {
            "kernel_size": 3,
            "in_channels": 32,
            "out_channels": 64,
            "convention": "torch",
            "input_size": 112,
            "padding": 1,
        },
    ),
    "conv_grouped_sized": (
        "conv",
        {
            "kernel_size": "3x5",
            "in_channels": 12,
            "out_channels": 24,
            "groups": 3,
            "input_size": "32x48",
            "stride": 2,
            "padding": "same",
        },
    ),
    "depthwise_3d": (
        "depthwise",
        {
            "kernel_size": 3,
            "in_channels": 8,
            "depth_multiplier": 2,
            "dims": 3,
            "input_size": "8x16x16",
        },
    ),
    "transpose_keras_same": (
        "transpose",
        {
            "kernel_size": 3,
            "in_channels": 64,
            "out_channels": 32,
            "input_size": 14,
            "stride": 2,
            "padding": "same",
            "dtype": "float16",
        },
    ),
    "transpose_torch_grouped_1d": (
        "transpose",
        {
            "kernel_size": 4,
            "in_channels": 8,
            "out_channels": 8,
            "groups": 8,
            "dims": 1,
            "input_size": 50,
            "stride": 2,
            "padding": 1,
            "convention": "torch",
        },
    ),
}

COMPARISONS: dict[str, dict[str, object]] = {
    "compare_flagship": {"kernel_size": 3, "in_channels": 10, "out_channels": 32},
    "compare_sized_grouped": {
        "kernel_size": 3,
        "in_channels": 32,
        "out_channels": 64,
        "groups": 4,
        "depth_multiplier": 2,
        "input_size": 56,
        "padding": "same",
    },
}


def check_golden(name: str, text: str, overwrite: bool) -> None:
    path = GOLDEN / f"{name}.txt"
    if overwrite or not path.exists():
        if not overwrite:
            pytest.fail(f"{path} is missing; run pytest --overwrite to create it")
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_report_golden(name: str, overwrite: bool) -> None:
    kind, options = REPORTS[name]
    text = render_text(report_renderable(count(make_layer(kind, **options))), width=100)
    assert "\x1b[" not in text
    check_golden(name, text, overwrite)


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparison_golden(name: str, overwrite: bool) -> None:
    text = render_text(comparison_renderable(compare_layers(**COMPARISONS[name])), width=100)
    check_golden(name, text, overwrite)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("│").split("│")]


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_golden_rows_sum_to_the_printed_total(name: str) -> None:
    """Like torchinfo's check: every stored table must add up."""
    lines = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    rows = [_cells(line) for line in lines if line.startswith("│")]
    header, body = rows[0], rows[1:]
    column = header.index("count")
    total = next(r for r in body if r[0] == "total")
    terms = [r for r in body if r[0] != "total"]
    assert sum(int(r[column].replace(",", "")) for r in terms) == int(
        total[column].replace(",", "")
    )
    if "MACs" in header:
        macs = header.index("MACs")
        values = [int(r[macs].replace(",", "")) for r in terms if r[macs]]
        assert sum(values) == int(total[macs].replace(",", ""))


def test_render_shows_what_it_is_given_and_computes_nothing() -> None:
    layer = make_layer("conv", kernel_size=1, in_channels=7, out_channels=5)
    # A deliberately inconsistent result: the table must show it as given.
    terms = (Term("kernel", (1, 1, 7, 5), 35), Term("bias", (5,), 6))
    report = Report(layer, terms, output_size=None, total=99, macs=None, bias_adds=None)
    text = render_text(report_renderable(report))
    assert re.search(r"│ kernel\s+│ 1×1×7×5\s+│\s+35 │", text)
    assert re.search(r"│ bias\s+│ 5\s+│\s+6 │", text)
    assert re.search(r"│ total\s+│\s+│\s+99 │", text)
    assert "MACs" not in text


def test_notes_for_layers_keras_lacks() -> None:
    text = render_text(
        report_renderable(count(make_layer("depthwise", kernel_size=3, in_channels=4, dims=3)))
    )
    assert "Keras has no DepthwiseConv3D" in text
    text = render_text(
        report_renderable(
            count(
                make_layer(
                    "separable", kernel_size=3, in_channels=4, out_channels=8, depthwise_bias=True
                )
            )
        )
    )
    assert "Keras's SeparableConv has no depthwise bias" in text
    assert "keras.layers.DepthwiseConv2D((3, 3)) + keras.layers.Conv2D(8, (1, 1))" in text


TINY_MODEL = """
[model]
name = "tiny"
input = { size = 32, channels = 3 }

[[layer]]
name = "stem"
kind = "conv"
kernel_size = 3
out_channels = 16
stride = 2
padding = "same"
bias = false

[[layer]]
name = "stem_bn"
kind = "batchnorm"

[[layer]]
name = "block"
kind = "separable"
kernel_size = 3
out_channels = 16
padding = "same"

[[layer]]
name = "sum"
kind = "add"
inputs = ["stem_bn", "block"]

[[layer]]
name = "pool"
kind = "global_avg_pool"

[[layer]]
name = "head"
kind = "dense"
units = 10
"""


@pytest.mark.parametrize("compact", [False, True])
def test_model_golden_and_its_columns_add_up(compact: bool, overwrite: bool) -> None:
    import tomllib

    from convcount.model import build_model
    from convcount.render import model_renderable

    report = build_model(tomllib.loads(TINY_MODEL), "tiny.toml")
    text = render_text(model_renderable(report, compact=compact), width=80 if compact else 110)
    check_golden(f"model_tiny{'_compact' if compact else ''}", text, overwrite)
    lines = text.splitlines()
    header = next(line for line in lines if " params " in line)
    end = header.index("params") + len("params")  # the column is right-aligned
    cells = [line[end - 9 : end].strip() for line in lines if line.strip()[:1].isdigit()]
    assert sum(int(cell.replace(",", "")) for cell in cells if cell) == report.total_params
    assert f"parameters        {report.total_params:,}" in text
