"""Issue 20's summaries: each layer's configuration, the roll-up by depth, filters,
help texts and messages, and batch rows with labels."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest

from convcount.model import load_model
from convcount.model.kinds import KINDS, compact
from convcount.view import Selection, hierarchy, rows

from .conftest import assert_usage_error, run

# --- configuration ---------------------------------------------------------------------


def test_each_layer_carries_its_resolved_fields() -> None:
    report = load_model("torchvision/resnet18")
    conv1 = report.layers[0]
    assert conv1.config == {
        "kernel_size": (7, 7),
        "out_channels": 64,
        "stride": (2, 2),
        "padding": (3, 3),
        "dilation": (1, 1),
        "groups": 1,
        "bias": False,
    }
    assert compact(conv1.kind, conv1.config, report.convention) == "7×7 /2 p3 no bias"
    pool = next(layer for layer in report.layers if layer.kind == "max_pool")
    assert compact(pool.kind, pool.config, "torch") == "3×3 /2 p1"
    for layer in report.layers:  # only the kind's own fields, never unset ones
        assert set(layer.config) <= {f.name for f in KINDS[layer.kind].fields}
        assert None not in layer.config.values()


def test_the_compact_column_says_what_differs_from_the_default() -> None:
    report = load_model("keras/mobilenetv2")
    seen = {
        layer.name: compact(layer.kind, layer.config, report.convention) for layer in report.layers
    }
    assert seen["Conv1"] == "3×3 /2 same no bias"
    assert seen["block_1_depthwise"] == "3×3 /2 no bias"  # valid is keras's default
    assert seen["block_1_pad"] == "p0:1×0:1"
    assert seen["Conv1_relu"] == "relu6"
    assert seen["predictions"] == "1000 units"
    shuffle = load_model("torchvision/shufflenet_v2_x0_5")
    texts = {compact(x.kind, x.config, "torch") for x in shuffle.layers}
    assert "3×3 /2 p1 g24 no bias" in texts and "g2" in texts


def test_config_in_json_and_csv() -> None:
    data = json.loads(run("model", "keras/efficientnetb0", "--json").stdout)
    layers = {layer["name"]: layer for layer in data["layers"]}
    assert layers["stem_conv"]["config"]["kernel_size"] == [3, 3]
    assert layers["stem_conv"]["config"]["stride"] == [2, 2]
    assert layers["block2a_dwconv_pad"]["config"]["padding"] == [[0, 1], [0, 1]]
    assert layers["block1a_activation"]["config"] == {"function": "swish"}
    assert layers["block2b_add"]["config"] == {}
    text = run("model", "keras/efficientnetb0", "--format", "csv").stdout
    table = list(csv.DictReader(io.StringIO(text)))
    row = next(r for r in table if r["name"] == "stem_conv")
    assert (row["config.kernel_size"], row["config.stride"], row["config.padding"]) == (
        "3x3",
        "2x2",
        "valid",
    )


# --- depth, filters, ranges ------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "depth", "expected"),
    [
        ("torchvision/resnet18", 1, ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2"]),
        ("keras/resnet50", 1, ["conv1", "pool1", "conv2", "conv3", "conv4", "conv5"]),
        ("keras/resnet50", 2, ["conv1_pad", "conv1_conv"]),
        ("keras/efficientnetb0", 1, ["stem", "block1", "block2", "block3"]),
        ("keras/mobilenetv2", 1, ["Conv1", "expanded_conv", "block_1", "block_2"]),
        ("keras/inceptionv3", 1, ["stem", "mixed0", "mixed1", "mixed2", "mixed3"]),
        ("keras/xception", 1, ["block1", "block2", "block3"]),
        ("keras/nasnetmobile", 1, ["stem", "stem_1", "stem_2", "cell_0"]),
        ("keras/convnexttiny", 1, ["convnext_tiny_prestem", "convnext_tiny_stem"]),
        ("keras/mobilenet", 1, ["conv1", "conv_*_1", "conv_*_2"]),
    ],
)
def test_depth_follows_each_familys_hierarchy(model: str, depth: int, expected: list[str]) -> None:
    report = load_model(model)
    shown = rows(report, Selection(depth=depth))
    assert [r.name for r in shown[: len(expected)]] == expected
    assert sum(r.params for r in shown) == report.total_params
    assert sum(r.macs for r in shown) == report.macs
    assert sum(r.layers for r in shown) == len(report.layers)
    if depth == 1:
        assert len(shown) <= 40  # one screen


def test_depth_0_is_the_whole_network_and_every_zoo_model_fits_a_screen_at_depth_1() -> None:
    from convcount.model.zoo import ZOO

    for name in sorted(ZOO):
        report = load_model(name)
        (whole,) = rows(report, Selection(depth=0))
        assert (whole.params, whole.macs, whole.layers) == (
            report.total_params,
            report.macs,
            len(report.layers),
        )
        assert len(rows(report, Selection(depth=1))) <= 45, name


def test_a_model_files_blocks_are_its_hierarchy() -> None:
    names = ["stem", "stage1.0.conv", "stage1.0.bn", "stage1.1.conv", "head"]
    assert hierarchy(names, [()] * 5) == [
        (),
        ("stage1", "stage1.0"),
        ("stage1", "stage1.0"),
        ("stage1", "stage1.1"),
        (),
    ]


def test_filters_keep_the_totals_of_the_whole_network() -> None:
    whole = json.loads(run("model", "torchvision/resnet18", "--json").stdout)
    data = json.loads(
        run(
            "model", "torchvision/resnet18", "--only", "conv", "--match", "layer2.*", "--json"
        ).stdout
    )
    assert [layer["name"] for layer in data["layers"]] == [
        "layer2.0.conv1",
        "layer2.0.conv2",
        "layer2.0.downsample.0",
        "layer2.1.conv1",
        "layer2.1.conv2",
    ]
    assert data["total_params"] == whole["total_params"] and data["macs"] == whole["macs"]
    assert data["view"] == {
        "depth": None,
        "only": ["conv"],
        "match": ["layer2.*"],
        "range": None,
        "layer_count": len(whole["layers"]),
    }
    assert "view" not in whole
    ranged = json.loads(run("model", "keras/vgg16", "--range", "block2_conv1:4", "--json").stdout)
    assert [layer["index"] for layer in ranged["layers"]] == [4]
    ranged = json.loads(run("model", "keras/vgg16", "--range", "20:", "--json").stdout)
    assert [layer["name"] for layer in ranged["layers"]] == ["fc1", "fc2", "predictions"]


def test_a_group_row_in_json() -> None:
    data = json.loads(run("model", "torchvision/resnet18", "-d", "1", "--json").stdout)
    layer1 = next(row for row in data["layers"] if row["name"] == "layer1")
    assert (layer1["kind"], layer1["index"], layer1["last_index"], layer1["layers"]) == (
        "group",
        5,
        18,
        14,
    )
    whole = json.loads(run("model", "torchvision/resnet18", "--json").stdout)
    members = whole["layers"][4:18]
    assert layer1["params"] == sum(m["params"] for m in members)
    assert layer1["macs"] == sum(m["macs"] for m in members)
    assert layer1["output_shape"] == members[-1]["output_shape"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--only", "convolution"), "no layer kind 'convolution'"),
        (("--only", "dens"), "did you mean dense?"),
        (("--range", "5"), "--range takes FROM:TO"),
        (("--range", "20:5"), "comes after"),
        (("--range", "block9_conv1:"), "no layer is named 'block9_conv1'"),
        (("--range", "99:"), "layer 99 is not in the network (1 to 22)"),
        (("--depth", "-1"), "--depth must be a whole number"),
    ],
)
def test_bad_views_are_refused(args: tuple[str, ...], needle: str) -> None:
    assert_usage_error(run("model", "keras/vgg16", *args), needle)


# --- help and messages -----------------------------------------------------------------


COMMANDS = ("conv", "depthwise", "separable", "transpose", "compare", "batch", "model")


@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_every_flag_whole_and_the_defaults(command: str, columns: int) -> None:
    from typer.main import get_command

    from convcount.cli import make_app

    text = run(command, "-h", env={"COLUMNS": str(columns)}).stdout
    assert "…" not in text
    group = get_command(make_app([command]))
    for param in group.commands[command].params:  # type: ignore[attr-defined]
        for spelled in (*param.opts, *getattr(param, "secondary_opts", ())):
            if spelled.startswith("-"):
                assert re.search(rf"(?<![\w-]){re.escape(spelled)}(?![\w-])", text), spelled
    for word in ("--convention", "--dtype", "--dims", "--bias"):
        if word in text:
            line = text[text.index(word) :].split("\n  -")[0]
            assert "[default:" in line, (word, line)


def test_model_and_batch_help_have_examples() -> None:
    model = run("model", "-h").stdout
    assert "Examples:" in model and "convcount model torchvision/resnet50 --depth 1" in model
    batch = run("batch", "-h").stdout
    assert "Examples:" in batch and "jsonl" in batch.split("--format", 1)[1].split("\n  -")[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--dtype", "fp16"), "(did you mean float16?)"),
        (("--dtype", "half"), "(did you mean float16?)"),
        (("--dtype", "fp32"), "(did you mean float32?)"),
        (("--dtype", "bf16"), "(did you mean bfloat16?)"),
        (("--dtype", "float"), "(did you mean float32?)"),
        (("--convention", "tf"), "(did you mean keras?)"),
        (("--convention", "tensorflow"), "(did you mean keras?)"),
        (("--convention", "pytorch"), "(did you mean torch?)"),
        (("--bias", "false"), "--bias takes no value: give --bias or --no-bias"),
        (("--bias=false",), "--bias takes no value: give --bias or --no-bias"),
    ],
)
def test_the_spellings_people_type(args: tuple[str, ...], needle: str) -> None:
    assert_usage_error(run("conv", "-k", "3", "-i", "4", "-o", "8", *args), needle)


def test_zoo_suggestions_rank_the_family_first() -> None:
    result = run("model", "keras/mobilenetv3")
    assert_usage_error(result, "did you mean keras/mobilenetv3large or keras/mobilenetv3small?")
    assert_usage_error(run("model", "torchvision/resnet"), "torchvision/resnet101")


def test_si_figures_keep_three_digits() -> None:
    from convcount.render import _scaled

    cases = {
        1_000_000: "1.00 M",
        3_500_000: "3.50 M",
        3_538_984: "3.54 M",
        9_994_999: "9.99 M",
        9_995_000: "10.0 M",
        99_950_000: "100 M",
        999_500_000: "1.00 G",
        11_689_512: "11.7 M",
        999_499_999_999_999_999: "999 P",
    }
    for value, text in cases.items():
        assert _scaled(value) == text, value
    assert _scaled(999_999) == "" and _scaled(10**18) == ""
    text = run("model", "keras/mobilenetv2").stdout
    assert re.search(r"trainable +3,504,872 +3\.50 M", text)


# --- batch rows with labels ------------------------------------------------------------

LABELLED = [
    {"id": 7, "layer": "conv", "kernel_size": 3, "in_channels": 16, "out_channels": 32},
    {"name": "dw", "layer": "depthwise", "kernel_size": 3, "in_channels": 16, "groups": 2},
    {
        "x_note": ["a", 1],
        "layer": "separable",
        "kernel_size": 3,
        "in_channels": 4,
        "out_channels": 8,
    },
]


def test_labels_pass_through_json_lines_untouched(tmp_path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in LABELLED))
    result = run("batch", str(path), "--json")
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert list(out[0])[:2] == ["id", "layer"] and out[0]["id"] == 7
    assert out[1] == {"line": 2, "name": "dw", "error": out[1]["error"]}
    assert out[2]["x_note"] == ["a", 1] and out[2]["total"] > 0
    assert result.stderr.count("\n") == 1  # the one bad row


def test_labels_in_csv_and_table(tmp_path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "id,layer,kernel_size,in_channels,out_channels,x_note\n"
        "A1,conv,3,16,32,first\n"
        "B2,conv,3,16,32,\n"
    )
    text = run("batch", str(path), "--format", "csv").stdout
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(r["id"], r["x_note"], r["total"]) for r in table] == [
        ("A1", "first", "4640"),
        ("B2", "", "4640"),
    ]
    shown = run("batch", str(path), "--format", "table").stdout
    assert re.search(r"^ +2 +A1 first +conv", shown, re.M)


def test_unknown_csv_columns_are_reported_once_at_the_header(tmp_path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("layer,kernal_size,in_channels,out_channels\n" + "conv,3,16,32\n" * 50)
    result = run("batch", str(path))
    assert_usage_error(result, "the CSV header has a column convcount does not know: 'kernal_size'")
    assert "did you mean kernel_size?" in result.stderr


def test_a_json_array_gets_its_own_message(tmp_path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(LABELLED[:1]))
    assert_usage_error(run("batch", str(path)), "the input is a JSON array", "jq -c")


def test_batch_at_a_terminal_with_nothing_piped_prints_its_usage() -> None:
    import pty

    code = "import sys; from convcount.cli import main; sys.argv = ['convcount', 'batch']; main()"
    leader, follower = pty.openpty()
    result = subprocess.run(
        [sys.executable, "-c", code],
        stdin=follower,
        capture_output=True,
        timeout=60,
        check=False,
    )
    import os

    os.close(follower)
    os.close(leader)
    assert result.returncode == 0
    assert result.stdout.decode().startswith("Usage: convcount batch")


def test_only_completes_kind_names() -> None:
    from .test_completions import _complete

    assert _complete("convcount model keras/vgg16 --only de", 4) == ["depthwise", "dense"]
    assert "conv,dense" in _complete("convcount model keras/vgg16 --only conv,de", 4)


def test_labelled_rows_are_the_same_bytes_serial_and_parallel(tmp_path) -> None:
    from .test_fuzz_batch import both_ways

    jsonl = "".join(
        json.dumps({**row, "x_i": i}) + "\n" for i in range(60) for row in LABELLED
    ).encode()
    for fmt in ("jsonl", "csv", "plain"):
        text, errors = both_ways(jsonl, tmp_path, input_format="jsonl", output_format=fmt)
        assert len(errors) == 60  # the depthwise row with groups, each time
    header = "id,layer,kernel_size,in_channels,out_channels,x_note\n"
    body = "".join(f"r{i},conv,3,{4 + i % 3},8,n{i}\n" for i in range(300))
    text, errors = both_ways(
        (header + body).encode(), tmp_path, input_format="csv", output_format="csv"
    )
    assert not errors and text.decode().splitlines()[1].endswith(",r0,n0")


def test_kinds_table_golden(overwrite: bool) -> None:
    from convcount.model.reference import kinds_records
    from convcount.render import kinds_view

    from .test_render import check_golden

    records = [k for k in kinds_records() if k["kind"] in ("conv", "dense", "add")]
    text = kinds_view(records, 100).text() + "\n" + kinds_view(records, 60).text()
    check_golden("kinds_100_60", text, overwrite)
    assert all(len(line) <= 100 for line in text.splitlines())
