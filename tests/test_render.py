"""Rendered tables: golden files at their natural width and narrowed, without colour.

Regenerate with ``pytest tests/test_render.py --overwrite`` after a deliberate
change, and read the diff.
"""

from __future__ import annotations

import re

import pytest

from convcount import make_layer
from convcount.compare import compare_layers
from convcount.counting import Report, Term, count
from convcount.render import comparison_view, model_view, report_view

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
    text = report_view(count(make_layer(kind, **options))).text()
    assert "\x1b[" not in text
    check_golden(name, text, overwrite)


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparison_golden(name: str, overwrite: bool) -> None:
    text = comparison_view(compare_layers(**COMPARISONS[name])).text()
    check_golden(name, text, overwrite)


@pytest.mark.parametrize("width", [40, 60])
def test_narrowed_goldens(width: int, overwrite: bool) -> None:
    """What each kind of table gives up at a narrow width, and the line that says so."""
    kind, options = REPORTS["conv_grouped_sized"]
    layer = report_view(count(make_layer(kind, **options)), width).text()
    compared = comparison_view(compare_layers(**COMPARISONS["compare_sized_grouped"]), width)
    check_golden(f"narrow_{width}", layer + "\n" + compared.text(), overwrite)
    assert max(len(line) for line in (layer + compared.text()).splitlines()) <= width


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
    text = report_view(report).text()
    assert re.search(r"│ kernel\s+│ 1×1×7×5\s+│\s+35 │", text)
    assert re.search(r"│ bias\s+│ 5\s+│\s+6 │", text)
    assert re.search(r"│ total\s+│\s+│\s+99 │", text)
    assert "MACs" not in text


def test_notes_for_layers_keras_lacks() -> None:
    text = report_view(count(make_layer("depthwise", kernel_size=3, in_channels=4, dims=3))).text()
    assert "Keras has no DepthwiseConv3D" in text
    text = report_view(
        count(
            make_layer(
                "separable", kernel_size=3, in_channels=4, out_channels=8, depthwise_bias=True
            )
        )
    ).text()
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


@pytest.mark.parametrize("width", [None, 60])
def test_model_golden_and_its_columns_add_up(width: int | None, overwrite: bool) -> None:
    import tomllib

    from convcount.model import build_model

    report = build_model(tomllib.loads(TINY_MODEL), "tiny.toml")
    text = model_view(report, width).text()
    check_golden(f"model_tiny{'_60' if width else ''}", text, overwrite)
    lines = text.splitlines()
    header = next(line for line in lines if " params " in line)
    end = header.index("params") + len("params")  # the column is right-aligned
    rows = [line[:end] for line in lines if line.strip()[:1].isdigit() and len(line) >= end]
    cells = [re.search(r"(?<= )[\d,]+$", row) for row in rows]
    assert sum(int(cell.group().replace(",", "")) for cell in cells if cell) == report.total_params
    assert re.search(rf"parameters +{report.total_params:,}", text)


#: Views of shipped models: (golden name, model, width, selection options).
ZOO_VIEWS: dict[str, tuple[str, int | None, dict[str, object]]] = {
    # names whole at 120 columns: bars, share and config go first (issue 20)
    "model_resnet18_120": ("torchvision/resnet18", 120, {}),
    "model_resnet18_depth1_80": ("torchvision/resnet18", 80, {"depth": 1}),
    "model_inceptionv3_depth1_80": ("keras/inceptionv3", 80, {"depth": 1}),
    "model_nasnetlarge_depth1_80": ("keras/nasnetlarge", 80, {"depth": 1}),
    "model_efficientnetb0_depth2": ("keras/efficientnetb0", None, {"depth": 2}),
    "model_mobilenetv2_filtered": (
        "keras/mobilenetv2",
        None,
        {"only": ("depthwise",), "range": ("block_3_expand", "block_6_project")},
    ),
}


@pytest.mark.parametrize("name", sorted(ZOO_VIEWS))
def test_zoo_view_goldens(name: str, overwrite: bool) -> None:
    """Rolled-up and filtered views: every group sums its layers; totals stay whole."""
    from convcount.model import load_model
    from convcount.view import Selection, rows

    model, width, options = ZOO_VIEWS[name]
    report = load_model(model)
    selection = Selection(**options)  # type: ignore[arg-type]
    text = model_view(report, width, selection=selection).text()
    check_golden(name, text, overwrite)
    if width is not None:
        assert max(len(line) for line in text.splitlines()) <= width
    assert re.search(rf"parameters +{report.total_params:,}", text)
    shown = rows(report, selection)
    if selection.depth is not None and not selection.filtered:
        assert sum(r.params for r in shown) == report.total_params
        assert sum(r.macs for r in shown) == report.macs
        assert sum(r.layers for r in shown) == len(report.layers)
    for row in shown:
        members = report.layers[row.number - 1 : row.last]
        if not selection.filtered:
            assert row.params == sum(m.params for m in members)
            assert row.macs == sum(m.macs for m in members)
        assert row.output == members[-1].output


def test_names_are_whole_while_decoration_can_go() -> None:
    from convcount.model import load_model

    report = load_model("torchvision/resnet18")
    for width in (120, 140):
        text = model_view(report, width).text()
        assert "layer2.0.downsample.0" in text, width
        assert "#18" not in text, width  # connected-to keeps names until kind is gone


#: Another counter's figures for one layer (--count-as): (golden, layer, tool, width).
LAYER_TOOLS = {
    "count_as_conv_keras_same_thop": ("conv_grouped_sized", "thop", None),
    "count_as_transpose_keras_same_all": ("transpose_keras_same", "all", None),
    "count_as_separable_torch_torchinfo_60": ("separable_torch_sized", "torchinfo", 60),
}


@pytest.mark.parametrize("name", sorted(LAYER_TOOLS))
def test_layer_count_as_goldens(name: str, overwrite: bool) -> None:
    from convcount.model.layer_tools import layer_network
    from convcount.model.tools import count_as, tool_names
    from convcount.render import tool_view, tools_view

    layer, tool, width = LAYER_TOOLS[name]
    kind, options = REPORTS[layer]
    report = count(make_layer(kind, **options))
    network = layer_network(report)
    # a layer's `all`: every counter but onnx-tool, which counts ONNX files
    results = [count_as(network.report, t) for t in tool_names(tool) if t != "onnx-tool"]
    if tool == "all":
        view = tools_view(network.report, results, width, one_layer=report, counted=network.counted)
    else:
        view = tool_view(
            network.report, results[0], width, one_layer=report, counted=network.counted
        )
    text = view.text()
    check_golden(name, text, overwrite)
    # the modules counted are named, and the tool's total is whole
    assert f"counted: {network.counted}" in " ".join(text.split())
    assert all(f"{r.total:,}" in text or repr(float(r.total)) in text for r in results)
    if width is not None:
        assert max(len(line) for line in text.splitlines()) <= width
