"""Numbers are never cut, wrapped or elided, at any width, on a terminal or piped.

Every table kind (layer, compare, model, batch) is drawn at 40, 50, 60, 80 and
120 columns, and every figure of the same command's --json answer must appear
whole in it, written as the table writes it (thousands separators, sizes
joined by ×, ratios to three places). Most runs are in-process with COLUMNS
set (stdout is then not a terminal, which honours COLUMNS); a few run the real
executable on a pseudo-terminal and through a pipe.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from .conftest import run

WIDTHS = (40, 50, 60, 80, 120)
#: The narrowest terminal each kind of table must hold at (the issue's promise).
FLOOR = {"layer": 40, "compare": 50, "model": 60, "batch": 60}
BATCH_ROWS = [
    {"layer": "separable", "kernel_size": 3, "in_channels": 10, "out_channels": 32},
    {
        "layer": "conv",
        "kernel_size": 7,
        "in_channels": 512,
        "out_channels": 2048,
        "input_size": 224,
        "stride": 2,
        "padding": "same",
    },
    {
        "layer": "separable",
        "kernel_size": 5,
        "in_channels": 960,
        "out_channels": 1280,
        "input_size": "16x112x112",
        "convention": "torch",
        "padding": 2,
    },
    {
        "layer": "transpose",
        "kernel_size": 4,
        "in_channels": 256,
        "out_channels": 128,
        "input_size": 56,
    },
]


def cli(words: str) -> list[str]:
    return words.split()


CASES: dict[str, tuple[str, list[str]]] = {
    "conv": ("layer", cli("conv -k 3 -i 64 -o 128 -g 4 -s 56 --stride 2 --padding same")),
    "separable-big": (
        "layer",
        cli(
            "separable -k 7 -i 1024 -o 2048 -m 4 -s 224 --convention torch --padding 3 "
            "--dtype float64"
        ),
    ),
    "transpose-3d": ("layer", cli("transpose -k 4 -i 512 -o 256 -s 16x64x64 --stride 2")),
    "depthwise-flagship": ("layer", cli("depthwise -k 3 -i 10")),
    "compare": ("compare", cli("compare -k 3 -i 10 -o 32 -s 112 -g 2")),
    "compare-big": (
        "compare",
        cli("compare -k 5 -i 1024 -o 2048 -s 512 -g 16 -m 3 --padding same"),
    ),
    "resnet50": ("model", ["model", "torchvision/resnet50"]),
    "vgg16-batch": ("model", cli("model torchvision/vgg16 -b 256")),
    "mobilenet": ("model", cli("model keras/mobilenet -a 0.75 -r 192")),
    "mobilenet-v2": ("model", cli("model torchvision/mobilenet_v2 -r 192x256")),
    "batch": ("batch", ["batch"]),
}


@pytest.fixture(scope="module")
def batch_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("width") / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in BATCH_ROWS), encoding="utf-8")
    return path


def _args(case: str, batch_file: Path) -> list[str]:
    args = CASES[case][1]
    return [*args, str(batch_file), "--format", "table"] if case == "batch" else args


def _json(case: str, batch_file: Path) -> Any:
    args = [a for a in _args(case, batch_file) if a not in ("--format", "table")]
    text = run(*args, "--json").stdout
    return [json.loads(line) for line in text.splitlines()] if case == "batch" else json.loads(text)


# --- the figures each table promises, as it writes them -----------------------------


class Plain(int):
    """A count a table writes without separators: channels, an index (``2048``)."""


def _show(value: object) -> str | None:
    """A JSON figure as a table writes it; None for nothing to show (null, zero)."""
    if value is None or value == 0 or isinstance(value, bool):
        return None
    if isinstance(value, list):
        return "×".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, Plain):
        return str(int(value))
    if isinstance(value, int):
        return f"{value:,}"
    return None


LAYER_KEYS = (
    "total",
    "output_size",
    "output_shape",
    "macs",
    "flops",
    "bias_adds",
    "param_bytes",
    "output_elements",
    "output_bytes",
)
MODEL_LAYER_KEYS = (
    "output_shape",
    "params",
    "trainable_params",
    "non_trainable_params",
    "buffers",
    "macs",
)
MODEL_KEYS = (
    "input_shape",
    "total_params",
    "trainable_params",
    "non_trainable_params",
    "buffers",
    "macs",
    "flops",
    "input_bytes",
    "activation_bytes",
    "forward_backward_bytes",
    "param_bytes",
    "trainable_param_bytes",
    "non_trainable_param_bytes",
    "buffer_bytes",
    "total_bytes",
)


def figures(kind: str, data: Any) -> set[str]:
    """Every figure of a --json answer that the table of that kind shows.

    A layer's table shows its results and channels (its options show in the
    title and the framework code); a batch table one line per row with the
    kernel, channels, output size, parameters and MACs.
    """
    values: list[object] = []
    if kind == "layer":
        values += [Plain(data["in_channels"]), Plain(data["out_channels"])]
        values += [data[k] for k in LAYER_KEYS]
        values += [v for t in data["terms"] for v in (t["count"], t["macs"])]
    elif kind == "compare":
        for row in data:
            keys = ("params", "params_ratio", "theoretical_ratio", "macs", "macs_ratio")
            values += [row[k] for k in keys]
            groups = row["groups"] if row["name"] == "grouped" else None
            values += [row["output_size"], None if groups is None else Plain(groups)]
    elif kind == "model":
        values += [data[k] for k in MODEL_KEYS]
        values += [layer[k] for layer in data["layers"] for k in MODEL_LAYER_KEYS]
        values += [Plain(layer["index"]) for layer in data["layers"]]
        values.append((data["receptive_field"] or {}).get("size"))
    else:
        for row in data:
            values += [row[k] for k in ("kernel_size", "output_size", "total", "macs")]
            values += [Plain(row["in_channels"]), Plain(row["out_channels"])]
    shown = {_show(v) for v in values}
    return {s for s in shown if s is not None}


def assert_whole(text: str, wanted: set[str], width: int | None) -> None:
    """Each figure appears whole; no number is cut; no line is wider than the width."""
    missing = [
        f for f in sorted(wanted) if not re.search(rf"(?<![\d,.×]){re.escape(f)}(?![\d,×])", text)
    ]
    assert not missing, (missing, text)
    cut = re.search(r"\d,\d{1,2}(?!\d)|\d,\d{4}", text)
    assert cut is None, (cut, text)
    assert "\x1b" not in text
    if width is not None:
        widest = max(cell_len(line) for line in text.splitlines())
        assert widest <= width, (widest, text)


# --- in-process, every kind at every width ----------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_figure_whole_at_every_width(case: str, batch_file: Path) -> None:
    kind = CASES[case][0]
    wanted = figures(kind, _json(case, batch_file))
    assert wanted
    for width in WIDTHS:
        result = run(*_args(case, batch_file), env={"COLUMNS": str(width)})
        assert (result.exit_code, result.stderr) == (0, ""), result
        # below a kind's floor the figures still hold; only the width may be exceeded
        assert_whole(result.stdout, wanted, width if width >= FLOOR[kind] else None)


def test_what_is_left_out_is_said() -> None:
    narrow = run(*CASES["resnet50"][1], env={"COLUMNS": "80"}).stdout
    assert " ".join(narrow.splitlines()[-2:]) == (
        "(80 columns: names shortened; bars, share, config, kind, explanations left out; "
        "all of it at 150 columns or with --format csv)"
    )
    wide = run(*CASES["resnet50"][1], env={"COLUMNS": "200"}).stdout
    assert "left out" not in wide and "connected to" in wide and "share of MACs" in wide


def test_names_are_shortened_in_the_middle_and_never_below_the_floor() -> None:
    from convcount.render import NAME_FLOOR, _shorten

    assert _shorten("conv2_block1_0_conv", 14) == "conv2_bl…_conv"
    assert _shorten("stem", 14) == "stem"
    layers = len(_json("resnet50", Path()).get("layers"))
    text = run(*CASES["resnet50"][1], env={"COLUMNS": "60"}).stdout
    names = [line.split()[1] for line in text.splitlines() if line[:3].strip().isdigit()]
    assert len(names) == layers
    assert all(len(name) >= NAME_FLOOR for name in names if "…" in name)
    assert "names shortened" in text


# --- the real executable on a terminal and through pipes ---------------------------------


def _env(columns: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    if columns is not None:
        env.update(COLUMNS=str(columns), LINES="24")
    return {**env, "TERM": "xterm-256color"}


def on_a_terminal(args: list[str], columns: int, *, env_columns: bool) -> str:
    """stdout of convcount on a pseudo-terminal of ``columns`` columns, colour removed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "convcount", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=_env(columns if env_columns else None),
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # EIO: the other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert process.wait() == 0
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    assert "\x1b[" in text  # a terminal gets colour: the run was real
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def piped(args: list[str], columns: int | None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "convcount", *args],
        capture_output=True,
        text=True,
        env=_env(columns),
        check=True,
    )
    return done.stdout


@pytest.mark.parametrize(
    ("case", "columns", "env_columns"),
    [("resnet50", 60, True), ("conv", 40, False), ("batch", 60, False)],
)
def test_on_a_pseudo_terminal(case: str, columns: int, env_columns: bool, batch_file: Path) -> None:
    """COLUMNS when set, else the terminal's own size."""
    text = on_a_terminal(_args(case, batch_file), columns, env_columns=env_columns)
    assert_whole(text, figures(CASES[case][0], _json(case, batch_file)), columns)


@pytest.mark.parametrize(("case", "columns"), [("compare-big", 50), ("mobilenet-v2", 120)])
def test_piped_honours_columns(case: str, columns: int, batch_file: Path) -> None:
    text = piped(_args(case, batch_file), columns)
    assert_whole(text, figures(CASES[case][0], _json(case, batch_file)), columns)


@pytest.mark.parametrize("case", ["resnet50", "separable-big"])
def test_piped_without_columns_leaves_nothing_out(case: str, batch_file: Path) -> None:
    text = piped(_args(case, batch_file), None)
    assert_whole(text, figures(CASES[case][0], _json(case, batch_file)), None)
    assert "left out" not in text and "…" not in text
    lines = text.splitlines()
    if case == "resnet50":
        layers = len(_json(case, batch_file)["layers"])
        assert len(lines) < layers + 50  # one line per layer (and one more per join)


# --- many layers at many widths, without the CLI ------------------------------------------

SIZES = st.sampled_from([1, 3, 8, 10, 64, 256, 960, 2048, 4096])


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["conv", "depthwise", "separable", "transpose"]),
    k=st.sampled_from([1, 3, 5, 7]),
    cin=SIZES,
    cout=SIZES,
    size=st.sampled_from([None, 7, 56, 224, 1024]),
    width=st.integers(min_value=40, max_value=130),
    convention=st.sampled_from(["keras", "torch"]),
)
def test_any_layer_at_any_width(
    kind: str, k: int, cin: int, cout: int, size: int | None, width: int, convention: str
) -> None:
    from convcount import ConvcountError, make_layer
    from convcount.counting import count
    from convcount.records import to_record
    from convcount.render import report_view

    options: dict[str, object] = {"kernel_size": k, "in_channels": cin, "input_size": size}
    if kind != "depthwise":
        options["out_channels"] = cout
    try:
        report = count(make_layer(kind, convention=convention, **options))
    except ConvcountError:
        return  # an input too small for the kernel
    data = json.loads(json.dumps(to_record(report)))
    assert_whole(report_view(report, width).text(), figures("layer", data), width)


def test_the_zoo_list_fits_too() -> None:
    from convcount.render import zoo_view

    rows = [
        ("torchvision/wide_resnet101_2", "torch", [3, 224, 224], 126_886_696, 0, 22_753_442_816),
        ("keras/mobilenet", "keras", [224, 224, 3], 4_253_864, 21_888, 568_740_352),
    ]
    wanted = {"3×224×224", "126,886,696", "22,753,442,816", "4,253,864", "21,888", "568,740,352"}
    for width in (60, 80, None):
        text = zoo_view(rows, width).text()
        assert_whole(text, wanted, width)
        assert "torchvision/wide_resnet101_2" in text  # a name is never shortened


# --- another counter's figures for one layer (--count-as) ---------------------------------

COUNT_AS_CASES = [
    cli("separable -k 3 -i 10 -o 32 -s 32 --count-as torchinfo"),
    cli("transpose -k 4 -i 512 -o 256 -s 16x64x64 --stride 2 --count-as torchinfo"),
    cli("conv -k 3 -i 64 -o 128 -g 4 -s 56 --stride 2 --padding same --count-as thop"),
    cli("depthwise -k 5 -i 960 -m 2 -s 112 --padding same --count-as fvcore --dtype float64"),
    cli("separable -k 7 -i 1024 -o 2048 -m 4 -s 224 --convention torch --padding 3 --count-as all"),
    cli("conv -k 3 -i 3 -o 8 -s 9 --dims 1 --padding causal --dilation 2 --count-as all"),
]


def count_as_figures(data: Any) -> set[str]:
    """What a --count-as table shows of its --json answer: each tool's total (with
    all), else per layer its figure and MACs, the tool's headline figures as it prints
    them, its exact total and FlopCounterMode's MACs."""
    if "tools" in data:
        values: list[object] = [t["total"] for t in data["tools"]]
        return {s for s in map(_show, values) if s is not None}
    values = [data["macs"], data["total"], *(layer["figure"] for layer in data["layers"])]
    shown = {s for s in map(_show, values) if s is not None}
    return shown | {text for text in data["printed"].values() if text != "0"}


@pytest.mark.parametrize("args", COUNT_AS_CASES, ids=" ".join)
def test_count_as_on_a_layer_whole_at_every_width(args: list[str]) -> None:
    wanted = count_as_figures(json.loads(run(*args, "--json").stdout))
    assert wanted
    for width in range(40, 201, 10):
        result = run(*args, env={"COLUMNS": str(width)})
        assert (result.exit_code, result.stderr) == (0, ""), result
        assert_whole(result.stdout, wanted, width)
        assert "counted: " in result.stdout
