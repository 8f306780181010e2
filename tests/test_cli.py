"""The command line: wiring, formats and exit codes (the math is tested elsewhere)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import convcount
from convcount.records import CSV_COLUMNS

from .conftest import assert_usage_error, run

FLAGSHIP = ("separable", "-k", "3", "-i", "10", "-o", "32")


def test_flagship_table_shows_the_terms_and_total() -> None:
    result = run(*FLAGSHIP)
    assert result.exit_code == 0 and result.stderr == ""
    for text in ("depthwise", "3×3×10×1", "pointwise", "1×1×10×32", "pointwise bias", "442"):
        assert text in result.stdout
    assert "keras.layers.SeparableConv2D(32, (3, 3))" in result.stdout
    assert "nn.Conv2d(10, 10, 3, groups=10, bias=False) + nn.Conv2d(10, 32, 1)" in result.stdout


def test_quiet_prints_the_total_alone() -> None:
    assert run(*FLAGSHIP, "-q").stdout == "442\n"
    assert run(*FLAGSHIP, "--quiet").stdout == "442\n"
    assert run(*FLAGSHIP, "--format", "plain").stdout == "442\n"


def test_json_is_one_object_matching_the_api() -> None:
    result = run(*FLAGSHIP, "--json")
    data = json.loads(result.stdout)
    api = convcount.separable(kernel_size=3, in_channels=10, out_channels=32)
    assert data["total"] == api.total
    assert data["layer"] == "separable" and data["dims"] == 2 and data["kernel_size"] == [3, 3]
    assert (
        data["in_channels"],
        data["out_channels"],
        data["depth_multiplier"],
        data["groups"],
    ) == (10, 32, 1, None)
    assert data["convention"] == "keras"
    assert [(t["name"], t["formula"], t["count"]) for t in data["terms"]] == [
        (t.name, t.formula, t.count) for t in api.terms
    ]
    assert data["macs"] is None and data["output_size"] is None
    assert run(*FLAGSHIP, "--format", "json").stdout == result.stdout


def test_json_with_input_size_has_the_shape_keys() -> None:
    data = json.loads(
        run(
            "transpose", "-k", "3", "-i", "8", "-o", "4", "-s", "5", "--stride", "2", "--json"
        ).stdout
    )
    api = convcount.transpose(kernel_size=3, in_channels=8, out_channels=4, input_size=5, stride=2)
    assert data["input_size"] == [5, 5] and data["output_size"] == list(api.output_size or ())
    assert data["output_shape"] == list(api.output_shape or ())
    for key in ("macs", "flops", "bias_adds", "param_bytes", "output_elements", "output_bytes"):
        assert data[key] == getattr(api, key), key


def test_csv_has_a_header_and_one_row() -> None:
    rows = list(csv.DictReader(io.StringIO(run(*FLAGSHIP, "--format", "csv").stdout)))
    assert len(rows) == 1
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert (
        rows[0]["total"] == "442"
        and rows[0]["kernel_size"] == "3x3"
        and rows[0]["params_pointwise"] == "320"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("conv", "-k", "3", "-i", "10", "-o", "32"),
        ("depthwise", "-k", "3", "-i", "10", "-m", "2"),
        (
            "separable",
            "--kernel-size",
            "3x5",
            "--in-channels",
            "10",
            "--out-channels",
            "32",
            "--depth-multiplier",
            "2",
        ),
        ("transpose", "-k", "4", "-i", "16", "-o", "8", "-g", "2", "--convention", "torch"),
    ],
)
def test_every_subcommand_agrees_with_the_api(args: tuple[str, ...]) -> None:
    result = run(*args, "-q")
    assert result.exit_code == 0
    data = json.loads(run(*args, "--json").stdout)
    assert int(result.stdout) == data["total"]
    fields = {k: data[k] for k in ("kernel_size", "in_channels", "convention")}
    if data["layer"] != "depthwise":
        fields["out_channels"] = data["out_channels"]
    for key in ("groups", "depth_multiplier"):
        if data[key] is not None:
            fields[key] = data[key]
    assert getattr(convcount, data["layer"])(**fields).total == data["total"]


def test_bias_flags() -> None:
    assert (
        run("conv", "-k", "3", "-i", "10", "-o", "32", "--no-bias", "-q").stdout
        == f"{3 * 3 * 10 * 32}\n"
    )
    assert run(*FLAGSHIP, "--depthwise-bias", "-q").stdout == "452\n"
    assert run(*FLAGSHIP, "--convention", "torch", "-q").stdout == "452\n"
    assert (
        run(
            *FLAGSHIP, "--convention", "torch", "--no-depthwise-bias", "--no-pointwise-bias", "-q"
        ).stdout
        == "410\n"
    )


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("conv", "--kernel-size"),
        ("depthwise", "--depth-multiplier"),
        ("separable", "--pointwise-bias"),
        ("transpose", "--output-padding"),
        ("compare", "--groups"),
        ("batch", "--fail-fast"),
        ("model", "--width-multiplier"),
    ],
)
def test_help_on_every_command(command: str, option: str) -> None:
    for flag in ("-h", "--help"):
        result = run(command, flag)
        assert result.exit_code == 0
        assert option in result.stdout
    if command in ("conv", "depthwise", "separable", "transpose"):
        assert "--count-as TOOL" in result.stdout and "--count-as all" in result.stdout


def test_no_arguments_prints_the_help() -> None:
    result = run()
    assert result.exit_code == 0 and "Commands" in result.stdout and result.stderr == ""


def test_top_level_help_and_version() -> None:
    result = run("-h")
    assert result.exit_code == 0
    for command in ("conv", "depthwise", "separable", "transpose", "compare", "batch", "model"):
        assert command in result.stdout
    assert run("--version").stdout == f"convcount {convcount.__version__}\n"


def test_table_has_no_colour_when_not_a_terminal() -> None:
    assert "\x1b[" not in run(*FLAGSHIP).stdout


def test_compare_shows_standard_and_separable_with_ratio() -> None:
    result = run("compare", "-k", "3", "-i", "10", "-o", "32")
    assert result.exit_code == 0
    assert "2,912" in result.stdout and "442" in result.stdout
    assert f"{442 / 2912:.3f}" in result.stdout
    rows = json.loads(
        run("compare", "-k", "3", "-i", "10", "-o", "32", "-g", "2", "-s", "8", "--json").stdout
    )
    assert [r["name"] for r in rows] == ["standard", "separable", "grouped"]
    assert [r["params"] for r in rows] == [2912, 442, (9 * 5 + 1) * 32]
    assert rows[1]["params_ratio"] == round(442 / 2912, 6)
    assert rows[1]["theoretical_ratio"] == round(1 / 32 + 1 / 9, 6)
    assert rows[2]["macs_ratio"] == 0.5


# --- bad input: one line on stderr, exit 2, nothing on stdout ----------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        ("conv -k 3 -i 0 -o 32", ["--in-channels must be a positive integer, got 0"]),
        ("conv -k 3 -i -4 -o 32", ["--in-channels must be a positive integer, got -4"]),
        ("conv -k 3x -i 4 -o 32", ["--kernel-size", "'3x'"]),
        ("conv -k abc -i 4 -o 32", ["--kernel-size"]),
        ("conv -k 3x3 --dims 3 -i 4 -o 4", ["--kernel-size 3x3 has 2 numbers but --dims is 3"]),
        ("conv -k 3 -i 10 -o 32 -g 3", ["--groups 3 must divide --in-channels 10"]),
        ("conv -k 3 -i 10 -o 32 -m 2", ["-m does not apply to conv", "depthwise"]),
        (
            "conv -k 3 -i 10 -o 32 --depth-multiplier 2",
            ["--depth-multiplier does not apply to conv"],
        ),
        (
            "depthwise -k 3 -i 10 -o 20",
            ["-o does not apply to depthwise", "use -m/--depth-multiplier"],
        ),
        ("depthwise -k 3 -i 10 -g 2", ["-g does not apply to depthwise"]),
        (
            "separable -k 3 -i 10 -o 3 --bias",
            ["--bias does not apply to separable", "--depthwise-bias"],
        ),
        ("conv -k 3 -i 10 -o 3 --output-padding 1", ["--output-padding does not apply to conv"]),
        ("conv -k", ["-k", "requires an argument"]),
        ("conv -k 3 -i 4 -o 4 --kernal 3", ["No such option: --kernal"]),
        ("conv -k 3 -i 4 -o 4 --json -q", ["--json, -q/--quiet and --format"]),
        ("conv -k 3 -i 4 -o 4 --format xml", ["--format must be one of table, json, csv, plain"]),
        ("conv -k 3 -i 4 -o 4 --convention tf", ["--convention must be one of keras, torch"]),
        ("conv -k 3 -i 4 -o 4 --padding 1", ["Keras refuses it", "--convention torch"]),
        ("conv -k 3 -i 4 -o 4 -s 2", ["--input-size 2x2 is too small"]),
        ("transpose -k 3 -i 4 -o 4 --stride 2 --output-padding 2", ["--output-padding"]),
        ("transpose -k 3 -i 4 -o 4 --padding same --convention torch", ["PyTorch refuses it"]),
        (
            "conv -k 3 -i 4 -o 4 --padding same --stride 2 --convention torch",
            ["--convention keras"],
        ),
        ("compare -k 3 -i 10 -o 32 -g 3", ["--groups 3 must divide --in-channels 10"]),
        ("frobnicate", ["No such command"]),
    ],
)
def test_bad_input(args: str, needles: list[str]) -> None:
    assert_usage_error(run(*args.split()), *needles)


@pytest.mark.parametrize(
    ("args", "message", "usage"),
    [
        (
            "conv",
            "conv needs -k/--kernel-size, -i/--in-channels and -o/--out-channels",
            "usage: convcount conv -k K -i CIN -o COUT [OPTIONS] (convcount conv -h for help)",
        ),
        ("conv -k 3 -i 10", "conv needs -o/--out-channels", "convcount conv -k K"),
        ("depthwise -i 10", "depthwise needs -k/--kernel-size", "convcount depthwise -k K"),
        ("separable -k 3 -o 10", "separable needs -i/--in-channels", "convcount separable"),
        ("transpose -k 3", "transpose needs -i/--in-channels and -o/--out-channels", "transpose"),
        ("compare -i 10", "compare needs -k/--kernel-size and -o/--out-channels", "compare"),
        (
            "conv 3 10 32",
            "conv takes its numbers as options: convcount conv -k 3 -i 10 -o 32",
            "convcount conv -k K -i CIN -o COUT",
        ),
        (
            "depthwise 3x3 10",
            "depthwise takes its numbers as options: convcount depthwise -k 3x3 -i 10",
            "convcount depthwise",
        ),
        ("separable 3", "separable takes its numbers as options: convcount separable -k 3", ""),
        ("conv -k 3 10", "conv takes its numbers as options: convcount conv -k 3 -i 10", ""),
        ("conv -o 8 3 4", "conv takes its numbers as options: convcount conv -k 3 -i 4 -o 8", ""),
        ("conv 1 2 3 4", "conv takes its numbers as options (-k -i -o)", ""),
        ("conv three", "conv takes no argument 'three'", "convcount conv"),
    ],
)
def test_usage_errors_name_everything_missing_and_show_the_usage(
    args: str, message: str, usage: str
) -> None:
    result = run(*args.split())
    assert (result.exit_code, result.stdout) == (2, ""), result
    (line,) = result.stderr.splitlines()  # one line: the message, then the usage
    first, _, second = line.partition("; usage: ")
    assert first == f"convcount: {message}"
    assert second.startswith("convcount ") and usage in f"usage: {second}"


def test_the_library_and_the_cli_use_the_same_words() -> None:
    with pytest.raises(convcount.ConvcountError) as info:
        convcount.conv(kernel_size=3, in_channels=10, out_channels=32, groups=3)
    assert (
        run("conv", "-k", "3", "-i", "10", "-o", "32", "-g", "3").stderr
        == f"convcount: {info.value}\n"
    )


# --- the real executable, once --------------------------------------------------------


def test_real_subprocess_and_python_m() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    script = str(Path(sys.executable).with_name("convcount"))
    for command in ([sys.executable, "-m", "convcount"], [script]):
        ok = subprocess.run(
            [*command, *FLAGSHIP, "-q"], capture_output=True, text=True, env=env, check=False
        )
        assert (ok.returncode, ok.stdout, ok.stderr) == (0, "442\n", "")
    bad = subprocess.run(
        [sys.executable, "-m", "convcount", "conv", "-k", "3", "-i", "10", "-o", "32", "-g", "3"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == "convcount: --groups 3 must divide --in-channels 10\n"


def test_scripting_paths_do_not_import_rich_or_a_framework(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"layer": "conv", "kernel_size": 3, "in_channels": 4, "out_channels": 4}\n')
    for args in (
        [*FLAGSHIP, "--json"],
        [*FLAGSHIP, "-q"],
        [*FLAGSHIP, "--format=csv"],
        ["compare", "-k", "3", "-i", "4", "-o", "8", "--json"],
        [*FLAGSHIP, "-s", "32", "--count-as", "all", "-q"],
        ["batch", str(rows)],
        ["model", "mobilenet-v1", "--json"],
        ["model", "keras/efficientnetb0"],  # a piped table is written without rich
        FLAGSHIP,
    ):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "convcount", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
        assert "convcount.layers" in imported  # the listing is real
        heavy = {m for m in imported if m.split(".")[0] in ("rich", "torch", "keras", "numpy")}
        assert heavy == set(), args
