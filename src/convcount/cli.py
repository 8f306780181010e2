"""The command line: options, output formats, exit codes.

The only module that imports typer. It turns argv into a call to the library
and the library's answer into text; every rule about what is valid lives in
:mod:`convcount.layers`, so the CLI and the Python API refuse the same things
with the same words. Bad input ends with one line on stderr and exit code 2.
"""

import errno
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NoReturn

# Ctrl-C while this module loads (typer is most of the start-up): the console
# script's entry module, _convcount_entry, put a handler in place before
# anything of convcount was imported; main() installs the running command's.
import typer
from typer.core import TyperGroup

from convcount import __version__
from convcount.counting import Report, count
from convcount.errors import (
    EXIT_CLOSED_PIPE,
    EXIT_INTERRUPTED,
    EXIT_IO,
    EXIT_USAGE,
    ConvcountError,
    InputReadError,
    clip,
)
from convcount.layers import CONVENTIONS, DTYPE_BYTES, FIELDS, Kind, make_layer, not_applicable
from convcount.limits import MAX_ANSWER_DIGITS, MAX_JOBS_PER_CORE
from convcount.output import (
    FORMATS,
    diagnostics_lost,
    discard_stdout,
    emit_report,
    end_at_once_on_interrupt,
    handle_interrupts,
    output_failed,
    prepare_streams,
    resolve_format,
    say,
)

PROG = "convcount"
USAGE_ERROR = EXIT_USAGE

#: Exit codes of every command (the README's table and every --help show these).
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (0, "done"),
    (1, "finished, but some batch rows were bad"),
    (2, "bad input or usage"),
    (74, "output could not be written (stdout or stderr closed, disk full)"),
    (130, "interrupted (Ctrl-C)"),
    (141, "stdout is a closed pipe (quietly, as `head` expects)"),
)
# \b keeps the lines as written in click's and typer's help formatting.
EPILOG = "\b\nExit codes:\n" + "".join(f"  {code:<4} {text}\n" for code, text in EXIT_CODES)

#: How each command is called, for usage lines in messages.
USAGE: dict[str, str] = {
    "conv": "convcount conv -k K -i CIN -o COUT [OPTIONS]",
    "depthwise": "convcount depthwise -k K -i CIN [-m MULT] [OPTIONS]",
    "separable": "convcount separable -k K -i CIN -o COUT [OPTIONS]",
    "transpose": "convcount transpose -k K -i CIN -o COUT [OPTIONS]",
    "compare": "convcount compare -k K -i CIN -o COUT [-m MULT] [-g GROUPS] [OPTIONS]",
    "batch": "convcount batch [FILE | -] [OPTIONS]",
    "model": "convcount model FILE|NAME [OPTIONS]",
}
#: Fields each command needs, in the order their flags are usually given.
REQUIRED: dict[str, tuple[str, ...]] = {
    "conv": ("kernel_size", "in_channels", "out_channels"),
    "depthwise": ("kernel_size", "in_channels"),
    "separable": ("kernel_size", "in_channels", "out_channels"),
    "transpose": ("kernel_size", "in_channels", "out_channels"),
    "compare": ("kernel_size", "in_channels", "out_channels"),
}


def _complete(choices: Sequence[str]) -> Callable[[str], list[str]]:
    def complete(incomplete: str) -> list[str]:
        return [c for c in choices if c.startswith(incomplete)]

    return complete


def _complete_tools(incomplete: str) -> list[str]:
    from convcount.model.tools import TOOLS

    return [name for name in (*TOOLS, "all") if name.startswith(incomplete.lower())]


# ---------------------------------------------------------------------------
# Options, declared once. Values stay strings: the library parses them, so
# its words are the ones the user sees.

KernelSize = Annotated[
    str | None,
    typer.Option(
        "-k", "--kernel-size", metavar="K", help="Kernel size: 3, 3x5 or 3x3x3. (required)"
    ),
]
InChannels = Annotated[
    str | None, typer.Option("-i", "--in-channels", metavar="N", help="Input channels. (required)")
]
OutChannels = Annotated[
    str | None,
    typer.Option("-o", "--out-channels", metavar="N", help="Output channels. (required)"),
]
Groups = Annotated[
    str | None,
    typer.Option(
        "-g", "--groups", metavar="G", help="Groups; must divide both channel counts. [default: 1]"
    ),
]
DepthMultiplier = Annotated[
    str | None,
    typer.Option(
        "-m",
        "--depth-multiplier",
        metavar="M",
        help="Outputs per input channel of the depthwise step. [default: 1]",
    ),
]
Bias = Annotated[bool | None, typer.Option("--bias/--no-bias", help="Add a bias. [default: bias]")]
DepthwiseBias = Annotated[
    bool | None,
    typer.Option(
        "--depthwise-bias/--no-depthwise-bias",
        help="Bias after the depthwise step. [default: off for keras, on for torch]",
    ),
]
PointwiseBias = Annotated[
    bool | None,
    typer.Option(
        "--pointwise-bias/--no-pointwise-bias", help="Bias after the 1x1 step. [default: on]"
    ),
]
Dims = Annotated[
    str | None,
    typer.Option(
        "--dims",
        metavar="1|2|3",
        help="Spatial dimensions. [default: from K, else 2]",
        autocompletion=_complete(("1", "2", "3")),
    ),
]
ConventionOpt = Annotated[
    str | None,
    typer.Option(
        "--convention",
        metavar="keras|torch",
        help="Whose defaults and rules to follow. [default: keras]",
        autocompletion=_complete(CONVENTIONS),
    ),
]
InputSize = Annotated[
    str | None,
    typer.Option(
        "-s",
        "--input-size",
        metavar="SIZE",
        help="Spatial input size: 32, 32x32 or 8x32x32. [default: none: parameters only, "
        "no output size or MACs]",
    ),
]
Stride = Annotated[
    str | None, typer.Option("--stride", metavar="S", help="Stride: 2 or 2x1. [default: 1]")
]
Dilation = Annotated[
    str | None, typer.Option("--dilation", metavar="D", help="Dilation: 2 or 1x2. [default: 1]")
]
PaddingOpt = Annotated[
    str | None,
    typer.Option(
        "--padding",
        metavar="PAD",
        help="valid, same, causal (1-D conv) by Keras's rules, or zeros per side: "
        "1 or 1x2 (PyTorch's). "
        "[default: valid for keras, 0 for torch]",
        autocompletion=_complete(("valid", "same", "causal")),
    ),
]
OutputPadding = Annotated[
    str | None,
    typer.Option(
        "--output-padding",
        metavar="P",
        help="Extra output size per dimension: 1 or 1x0. [default: 0]",
    ),
]
Dtype = Annotated[
    str | None,
    typer.Option(
        "--dtype",
        metavar="TYPE",
        help=f"Element type for memory: {', '.join(DTYPE_BYTES)}. [default: float32]",
        autocompletion=_complete(tuple(DTYPE_BYTES)),
    ),
]

LayerCountAs = Annotated[
    str | None,
    typer.Option(
        "--count-as",
        metavar="TOOL",
        autocompletion=_complete_tools,
        help="Print what another counter prints for this layer's PyTorch equivalent (the "
        "PyTorch line of the table: a separable is a depthwise then a 1x1 nn.Conv, under "
        "either convention; Keras's same with a stride and causal pad the input with F.pad "
        "first), at batch 1: torchinfo (mult-adds and memory), fvcore, ptflops (aten "
        "backend), ptflops-pytorch, thop, flop_counter, or all of them side by side (-q: "
        "the tool's total; with all, one total per line). Needs -s/--input-size. "
        "Example: convcount separable -k 3 -i 10 -o 32 -s 32 --count-as all. "
        "[default: convcount's own count]",
    ),
]


def _format_option(choices: Sequence[str], default: str) -> Any:
    listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
    return typer.Option(
        "--format",
        metavar="FORMAT",
        help=f"{listed}. [default: {default}]",
        autocompletion=_complete(choices),
    )


def _quiet_option(what: str) -> Any:
    return typer.Option("-q", "--quiet", help=f"{what} (--format plain).")


Format = Annotated[str | None, _format_option(FORMATS, "table")]
BATCH_FORMAT_NAMES = ("table", "json", "jsonl", "csv", "plain")
ModelFormat = Annotated[
    str | None,
    _format_option(("table", "json", "csv", "plain", "markdown (--kinds)"), "table"),
]
BatchFormat = Annotated[
    str | None,
    _format_option(BATCH_FORMAT_NAMES, "table on a terminal, else json; jsonl is the same as json"),
]
Json = Annotated[bool, typer.Option("--json", help="Same as --format json. [default: off]")]
BatchJson = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Same as --format json: JSON Lines, each row's --json object on one line, "
        "in input order (a stream, not one array).",
    ),
]
Quiet = Annotated[bool, _quiet_option("Print the total parameters alone")]
CompareQuiet = Annotated[
    bool,
    _quiet_option(
        "Print one number: the separable block's parameters as a fraction of the standard "
        "conv's, the params_ratio of the separable row (e.g. 0.151786)"
    ),
]
BatchQuiet = Annotated[
    bool,
    _quiet_option(
        "Print each row's total parameters alone, one per line (an empty line for a bad row)"
    ),
]
BATCH_FORMATS = BATCH_FORMAT_NAMES
MODEL_FORMATS = (*FORMATS, "markdown")


def _check_required(command: str, given: dict[str, Any]) -> None:
    """Every missing required option in one message, with the usage line."""
    from convcount.layers import SHORT

    missing = [f for f in REQUIRED[command] if given.get(f) is None or given[f] == ""]
    if missing:
        names = [f"{SHORT[f]}/--{f.replace('_', '-')}" for f in missing]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
        raise ConvcountError(missing[0], f"{command} needs {listed}; {_usage_line(command)}")


def _usage_line(command: str) -> str:
    return f"usage: {USAGE[command]} ({PROG} {command} -h for help)"


def _layer_command(kind: Kind, params: dict[str, Any]) -> None:
    fmt = resolve_format(params.pop("format_"), params.pop("json_"), params.pop("quiet"))
    count_as = params.pop("count_as")
    fields = {name: value for name, value in params.items() if name in FIELDS}
    _check_required(kind, fields)
    if count_as is not None:
        from convcount.model.tools import tool_names

        tool_names(count_as)  # an unknown name is refused before the layer is read
    report: Report = count(make_layer(kind, **fields))
    if count_as is not None:
        from convcount.output import emit_layer_tools

        emit_layer_tools(report, count_as, fmt or "table")
        return
    emit_report(report, fmt or "table")


def conv(
    kernel_size: KernelSize = None,
    in_channels: InChannels = None,
    out_channels: OutChannels = None,
    groups: Groups = None,
    bias: Bias = None,
    dims: Dims = None,
    convention: ConventionOpt = None,
    input_size: InputSize = None,
    stride: Stride = None,
    padding: PaddingOpt = None,
    dilation: Dilation = None,
    dtype: Dtype = None,
    count_as: LayerCountAs = None,
    format_: Format = None,
    json_: Json = False,
    quiet: Quiet = False,
) -> None:
    """A standard or grouped convolution: K·(Cin/g)·Cout weights + Cout bias."""
    _layer_command("conv", locals())


def depthwise(
    kernel_size: KernelSize = None,
    in_channels: InChannels = None,
    depth_multiplier: DepthMultiplier = None,
    bias: Bias = None,
    dims: Dims = None,
    convention: ConventionOpt = None,
    input_size: InputSize = None,
    stride: Stride = None,
    padding: PaddingOpt = None,
    dilation: Dilation = None,
    dtype: Dtype = None,
    count_as: LayerCountAs = None,
    format_: Format = None,
    json_: Json = False,
    quiet: Quiet = False,
) -> None:
    """A depthwise convolution: K·Cin·m weights + Cin·m bias (Cin·m outputs)."""
    _layer_command("depthwise", locals())


def separable(
    kernel_size: KernelSize = None,
    in_channels: InChannels = None,
    out_channels: OutChannels = None,
    depth_multiplier: DepthMultiplier = None,
    depthwise_bias: DepthwiseBias = None,
    pointwise_bias: PointwiseBias = None,
    dims: Dims = None,
    convention: ConventionOpt = None,
    input_size: InputSize = None,
    stride: Stride = None,
    padding: PaddingOpt = None,
    dilation: Dilation = None,
    dtype: Dtype = None,
    count_as: LayerCountAs = None,
    format_: Format = None,
    json_: Json = False,
    quiet: Quiet = False,
) -> None:
    """A depthwise step then a 1x1 conv: K·Cin·m + Cin·m·Cout weights, biases by convention."""
    _layer_command("separable", locals())


def transpose(
    kernel_size: KernelSize = None,
    in_channels: InChannels = None,
    out_channels: OutChannels = None,
    groups: Groups = None,
    bias: Bias = None,
    dims: Dims = None,
    convention: ConventionOpt = None,
    input_size: InputSize = None,
    stride: Stride = None,
    padding: PaddingOpt = None,
    output_padding: OutputPadding = None,
    dilation: Dilation = None,
    dtype: Dtype = None,
    count_as: LayerCountAs = None,
    format_: Format = None,
    json_: Json = False,
    quiet: Quiet = False,
) -> None:
    """A transposed convolution: K·Cin·(Cout/g) weights + Cout bias."""
    _layer_command("transpose", locals())


def compare(
    kernel_size: KernelSize = None,
    in_channels: InChannels = None,
    out_channels: OutChannels = None,
    depth_multiplier: DepthMultiplier = None,
    groups: Groups = None,
    dims: Dims = None,
    convention: ConventionOpt = None,
    input_size: InputSize = None,
    stride: Stride = None,
    padding: PaddingOpt = None,
    dilation: Dilation = None,
    dtype: Dtype = None,
    format_: Format = None,
    json_: Json = False,
    quiet: CompareQuiet = False,
) -> None:
    """The same job as a standard conv, a depthwise-separable block and (with -g) a grouped conv."""
    from convcount.compare import compare_layers
    from convcount.output import emit_comparison

    fmt = resolve_format(format_, json_, quiet)
    params = {k: v for k, v in locals().items() if k in FIELDS}
    _check_required("compare", params)
    emit_comparison(compare_layers(**params), fmt or "table")


def batch(
    ctx: typer.Context,
    file: Annotated[
        str | None,
        typer.Argument(
            metavar="FILE",
            help="JSON Lines or CSV file, or - for standard input. [default: standard "
            "input; at a terminal with nothing piped, this help]",
            show_default=False,
        ),
    ] = None,
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format",
            metavar="jsonl|csv",
            help="Input format. [default: from the suffix, else sniffed]",
            autocompletion=_complete(("jsonl", "csv")),
        ),
    ] = None,
    format_: BatchFormat = None,
    json_: BatchJson = False,
    quiet: BatchQuiet = False,
    fail_fast: Annotated[
        bool,
        typer.Option(
            "--fail-fast", help="Stop at the first bad row. [default: report it and go on]"
        ),
    ] = False,
    jobs: Annotated[
        str | None,
        typer.Option(
            "-j",
            "--jobs",
            metavar="N",
            help=f"Worker processes for large files, at most {MAX_JOBS_PER_CORE} per core. "
            "[default: one per core]",
        ),
    ] = None,
) -> None:
    """Count many layers: one per JSON Lines object or CSV row, written in order.

    Fields are the --json output's input names (layer, kernel_size, in_channels, ...);
    missing ones take the single-layer defaults. A field named id or name, or starting
    with x_ (x_note, x_source), is a label: it is written back with the row's answer,
    untouched. Input may also be one JSON array of objects. A bad row is reported on
    stderr with its line number and the others go on; the exit code is then 1.

    \b
    Examples:
      convcount batch layers.jsonl
      convcount batch layers.csv --format csv > counted.csv
      convcount batch - --input-format csv < layers.txt
      convcount batch big.jsonl -j 4 --fail-fast --json
    """
    from convcount.batch_cli import run_batch_command

    fmt = resolve_format(format_, json_, quiet, choices=BATCH_FORMATS, default=None)
    if file is None:
        if _stdin_is_a_terminal():
            sys.stdout.write(ctx.get_help() + "\n")  # nothing piped: the usage, not a wait
            return
        file = "-"
    # For a batch, json is JSON Lines: one object per row, streamed in order.
    code = run_batch_command(file, input_format, "jsonl" if fmt == "json" else fmt, fail_fast, jobs)
    if code:
        raise typer.Exit(code)


def _complete_kinds(incomplete: str) -> list[str]:
    from convcount.model.kinds import KINDS

    done, _, last = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    return [prefix + kind for kind in KINDS if kind.startswith(last)]


def _stdin_is_a_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):  # closed or replaced: not a terminal
        return False


def _complete_models(incomplete: str) -> list[str]:
    from convcount.model.zoo import ALIASES, ZOO

    return [name for name in (*ZOO, *ALIASES) if name.startswith(incomplete.lower())]


def model(
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="FILE|NAME",
            help="A model file (the TOML model language, or a framework's own file such as "
            "a .keras, read by its content), or a shipped model such as keras/efficientnetb0 "
            "or torchvision/resnet50 (--list shows them all).",
            autocompletion=_complete_models,
        ),
    ] = None,
    width_multiplier: Annotated[
        str | None,
        typer.Option(
            "-a",
            "--width-multiplier",
            metavar="ALPHA",
            help="Width multiplier: the constructor's alpha / width_mult for shipped models "
            "that have one (rounded as the framework rounds); `alpha` in a model file. "
            "[default: the model's own, 1 for most]",
        ),
    ] = None,
    resolution: Annotated[
        str | None,
        typer.Option(
            "-r",
            "--resolution",
            metavar="SIZE",
            help="Input size instead of the model's default: 192 or 192x256. "
            "[default: the model's own]",
        ),
    ] = None,
    batch_size: Annotated[
        str | None,
        typer.Option(
            "-b",
            "--batch-size",
            metavar="N",
            help="Examples per batch: scales MACs and activation memory. [default: 1]",
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "-O",
            "--option",
            metavar="NAME=VALUE",
            help="A constructor option of a shipped model (include_top=false, pooling=avg, "
            "classes=10, num_classes=10, aux_logits=false, minimalistic=true, ...) or a "
            "[params] value of a model file. Repeatable. [default: the constructor's]",
        ),
    ] = None,
    list_: Annotated[
        bool,
        typer.Option(
            "--list",
            help="List the shipped models with their parameters and MACs; FILE|NAME, when "
            "given, is a pattern: convcount model --list 'keras/efficientnet*' (or a part "
            "of the name: --list resnet).",
        ),
    ] = False,
    kinds: Annotated[
        bool,
        typer.Option(
            "--kinds",
            help="The model format's reference: every layer kind and field (a table; "
            "--format markdown, json, csv); FILE|NAME, when given, names the kinds: "
            "convcount model --kinds conv,dense.",
        ),
    ] = False,
    depth: Annotated[
        str | None,
        typer.Option(
            "-d",
            "--depth",
            metavar="N",
            help="Roll the layers up to the Nth level of the network's blocks (0: the whole "
            "network in one row; 1: stages): one row per group, its parameters and MACs "
            "summed. [default: every layer]",
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="KIND,...",
            autocompletion=_complete_kinds,
            help="Only layers of these kinds (conv,dense; --kinds lists them). Repeatable. "
            "[default: every kind]",
        ),
    ] = None,
    match: Annotated[
        list[str] | None,
        typer.Option(
            "--match",
            metavar="GLOB,...",
            help="Only layers whose name matches a pattern (layer2.*, *_bn). Repeatable. "
            "[default: every name]",
        ),
    ] = None,
    range_: Annotated[
        str | None,
        typer.Option(
            "--range",
            metavar="FROM:TO",
            help="Only layers FROM to TO, both included: numbers or names (5:20, "
            "block2a_expand_conv:block3b_add, :30). [default: first:last]",
        ),
    ] = None,
    count_as: Annotated[
        str | None,
        typer.Option(
            "--count-as",
            metavar="TOOL",
            autocompletion=_complete_tools,
            help="Print what another counter prints for this network, per layer and in "
            "total, and why it differs: torchinfo (mult-adds and memory), fvcore, ptflops "
            "(aten backend), ptflops-pytorch (its pytorch backend), thop, flop_counter, "
            "onnx-tool (per ONNX node: Forward_MACs, Memory, Params; an ONNX file only), or "
            "all of them side by side (-q: one total per line, in that order; a tool that "
            "cannot count the network is left out, saying why). PyTorch networks only. "
            "[default: convcount's summary]",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 2 when some layers' MACs are unknown (custom layers of a model file), "
            "instead of reporting the MACs as at least.",
        ),
    ] = False,
    convention: ConventionOpt = None,
    dtype: Dtype = None,
    format_: ModelFormat = None,
    json_: Json = False,
    quiet: Quiet = False,
) -> None:
    """A whole network, layer by layer, like Keras's summary: shapes, parameters, MACs, memory.

    The rows can be rolled up (--depth) or filtered (--only, --match, --range); the
    totals are always the whole network's.

    \b
    Examples:
      convcount model keras/mobilenetv2
      convcount model torchvision/resnet50 --depth 1
      convcount model keras/efficientnetb0 -r 300 -O include_top=false --json
      convcount model torchvision/resnet18 --only conv --match 'layer2.*'
      convcount model my_net.toml --range 5:20 --format csv
      convcount model torchvision/resnet18 --count-as all
    """
    from convcount.output import emit_kinds, emit_model, emit_zoo_list

    fmt = resolve_format(format_, json_, quiet, choices=MODEL_FORMATS) or "table"
    if fmt == "markdown" and not kinds:
        raise ConvcountError("format", "--format markdown is for --kinds")
    if list_ or kinds:
        if list_ and kinds:
            raise ConvcountError("model", "--list and --kinds ask for different answers; give one")
        given = {
            "-a/--width-multiplier": width_multiplier,
            "-r/--resolution": resolution,
            "-b/--batch-size": batch_size,
            "-O/--option": option or None,
            "-d/--depth": depth,
            "--only": only or None,
            "--match": match or None,
            "--range": range_,
            "--convention": convention,
            "--dtype": dtype,
            "--count-as": count_as,
        }
        _check_listing("--list" if list_ else "--kinds", given)
        if list_:
            emit_zoo_list(fmt, source)
        else:
            emit_kinds(fmt, source)
        return
    if source is None:
        raise ConvcountError(
            "model", "model: give a model file or a shipped model's name (--list shows them)"
        )
    options = _parse_options(option or [])
    view = {"depth": depth, "only": only, "match": match, "range": range_}
    emit_model(
        source,
        width_multiplier,
        resolution,
        convention,
        dtype,
        fmt,
        options,
        batch_size,
        view,
        count_as,
        strict=strict,
    )


def _check_listing(what: str, given: dict[str, Any]) -> None:
    """--list and --kinds describe convcount, not one model: refuse what applies to one."""
    named = [name for name, value in given.items() if value is not None]
    if named:
        listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + f" and {named[-1]}"
        raise ConvcountError(
            "model",
            f"{listed} {'does' if len(named) == 1 else 'do'} not apply to {what}, "
            "only to one model (FILE|NAME)",
        )


def _parse_options(given: Sequence[str]) -> dict[str, str]:
    """``NAME=VALUE`` pairs from repeated --option flags."""
    options: dict[str, str] = {}
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise ConvcountError("option", f"--option takes NAME=VALUE, got {item!r}")
        options[name.strip()] = value.strip()
    return options


#: Command name -> function; registered lazily so that a run builds only what it uses.
COMMANDS: dict[str, Callable[..., None]] = {
    "conv": conv,
    "depthwise": depthwise,
    "separable": separable,
    "transpose": transpose,
    "compare": compare,
    "batch": batch,
    "model": model,
}


# ---------------------------------------------------------------------------
# The application


def _version(value: bool) -> None:
    if value:
        print(f"{PROG} {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Parameters, output sizes and MACs of convolution layers, exactly as Keras and
    PyTorch count them (without importing either).

    Example: convcount separable -k 3 -i 10 -o 32
    """


class _WriteFailed(Exception):
    """An OSError from a command, carried past the option parser's own handling
    (which would turn a closed pipe into exit code 1)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Group(TyperGroup):
    """Runs the app with convcount's error handling: every ending is an exit code
    from the table in the README, with at most one line on stderr."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as error:  # reading is guarded where it happens: this is stdout
            raise _WriteFailed(error) from None

    def main(  # type: ignore[override]  # same call, narrower types
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        code: Any
        try:
            code = super().main(
                args=args,
                prog_name=prog_name or PROG,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            if code == EXIT_INTERRUPTED:  # typer's answer to a KeyboardInterrupt
                code = interrupted()
        except SystemExit as done:
            # rich ends a table whose reader went away with SystemExit(1), raised
            # while it handles the BrokenPipeError: that is a closed pipe too.
            if not isinstance(done.__context__, BrokenPipeError):
                raise
            code = output_failed(done.__context__)
        except ConvcountError as error:
            code = _fail(str(error))
        except typer.TyperException as error:
            if type(error).__name__ == "NoArgsIsHelpError":
                # `convcount` alone: the help (rich prints it while it is built).
                sys.stdout.write(getattr(error, "message", "") or "")
                code = 0
            else:
                code = _fail(_usage_message(error))
        except (typer.Abort, KeyboardInterrupt):
            code = interrupted()
        except InputReadError as error:
            say(error.message)
            code = EXIT_IO
        except _WriteFailed as failed:
            code = output_failed(failed.error)
        except OSError as error:  # the help or the version, written by the option parser
            code = output_failed(error)
        except Exception as error:  # the promise: one line, never a traceback
            code = _fail(f"internal error, please report it: {_describe(error)}")
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str) -> int:
    say(message)
    return USAGE_ERROR


def _describe(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:  # a message that cannot even be built (an integer too long to print)
        text = ""
    return clip(f"{type(error).__name__}: {text}", 300)


def interrupted() -> int:
    """Ctrl-C: drop whatever answer is half built and end with 130."""
    discard_stdout()
    return EXIT_INTERRUPTED


def _usage_message(error: Exception) -> str:
    """The message for a parse error from the option parser (a usage line where it helps)."""
    option_name = getattr(error, "option_name", None)
    ctx = getattr(error, "ctx", None)
    command = getattr(getattr(ctx, "command", None), "name", None)
    if option_name and command in ("conv", "depthwise", "separable", "transpose"):
        field = _field_of_flag(option_name)
        if field is not None:
            return str(not_applicable(command, field, spelled=option_name))
    format_message = getattr(error, "format_message", None)
    text = format_message() if callable(format_message) else str(error)
    text = clip(" ".join(text.split()), 300)  # an option name can be any length
    valued = re.fullmatch(r"Option '(--[\w-]+)' does not take a value\.", text)
    if valued:
        return _switch_hint(command, [valued.group(1)])
    extra = re.fullmatch(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)", text)
    if extra and command in USAGE:
        given = dict(getattr(ctx, "params", None) or {})
        words = extra.group(1).split()
        if all(w.lower() in _TRUTH_WORDS for w in words):
            switches = [name for name, value in given.items() if type(value) is bool]
            on = [n for n in switches if given[n] and n in FIELDS] or switches
            return _switch_hint(command, [f"--{n.replace('_', '-')}" for n in on])
        hint = _positional_hint(command, words, given)
        return f"{hint}; {_usage_line(command)}"
    if text.startswith("Missing argument") and command in USAGE:
        return f"{text}; {_usage_line(command)}"
    return text


_TRUTH_WORDS = frozenset(("true", "false", "yes", "no", "on", "off", "0", "1"))


def _switch_hint(command: str | None, spelled: Sequence[str]) -> str:
    """For ``--bias false``: switches take no value; say the two spellings."""
    usage = f"; {_usage_line(command)}" if command in USAGE else ""
    for flag_ in spelled:
        name = flag_.removeprefix("--").removeprefix("no-")
        if name in ("bias", "depthwise-bias", "pointwise-bias"):
            return f"--{name} takes no value: give --{name} or --no-{name}{usage}"
    if len(spelled) == 1:
        return f"{spelled[0]} takes no value: give it or leave it out{usage}"
    return f"a switch takes no value (true/false): give it or leave it out{usage}"


def _positional_hint(command: str, words: list[str], given: dict[str, Any]) -> str:
    """For ``convcount conv 3 10 32``: the same numbers as the options they must be.

    The numbers fill the required options not already given, in -k, -i, -o
    order (-k, -i, -m for depthwise).
    """
    if command not in REQUIRED or not all(re.fullmatch(r"\d+([x×]\d+)*", w) for w in words):
        return f"{command} takes no argument {' '.join(words)!r}"
    order = (*REQUIRED[command], *(("depth_multiplier",) if command == "depthwise" else ()))
    short = {"kernel_size": "-k", "in_channels": "-i", "out_channels": "-o"}
    short["depth_multiplier"] = "-m"
    have = [(f, str(given[f])) for f in order if given.get(f) not in (None, "")]
    free = [f for f in order if given.get(f) in (None, "")]
    if len(words) > len(free):
        return f"{command} takes its numbers as options ({' '.join(short[f] for f in order)})"
    mapped = dict(have) | dict(zip(free, words, strict=False))
    example = " ".join(f"{short[f]} {mapped[f]}" for f in order if f in mapped)
    return f"{command} takes its numbers as options: {PROG} {command} {example}"


def _field_of_flag(spelled: str) -> str | None:
    """The field an option flag sets in any command (``-o`` -> ``out_channels``)."""
    app = make_app()
    group = typer.main.get_command(app)
    for command in getattr(group, "commands", {}).values():
        for param in command.params:
            names = [*param.opts, *getattr(param, "secondary_opts", [])]
            if spelled in names and param.name in FIELDS:
                return str(param.name)
    return None


def make_app(names: Sequence[str] | None = None) -> typer.Typer:
    """The Typer app with the named commands (all of them by default)."""
    app = typer.Typer(
        name=PROG,
        cls=_Group,
        add_completion=False,
        rich_markup_mode=None,
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        help=_root.__doc__,
        epilog=EPILOG,
    )
    app.callback()(_root)
    for name in names or COMMANDS:
        app.command(name, epilog=EPILOG)(COMMANDS[name])
    return app


def _command_named(argv: Sequence[str]) -> str | None:
    """The subcommand argv asks for, if it can be told without building the app."""
    for arg in argv:
        if arg.startswith("-"):
            return None  # a top-level option: --help, --version
        return arg if arg in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the ``convcount`` console script."""
    code: object = EXIT_INTERRUPTED
    try:
        handle_interrupts()
        prepare_streams()
        # Whatever the environment says (PYTHONINTMAXSTRDIGITS), every answer
        # convcount accepts prints whole: see convcount.limits.
        sys.set_int_max_str_digits(MAX_ANSWER_DIGITS)
        args = list(sys.argv[1:] if argv is None else argv)
        completing = f"_{PROG.upper()}_COMPLETE" in os.environ
        if completing:
            # Typer registers its shell classes only with add_completion=True, which would
            # also add --install-completion (and a slow shell detection) to every run.
            # typer is pinned to 0.28.x, so this private import is stable.
            from typer._completion_classes import completion_init

            completion_init()
            _keep_apostrophes_in_zsh()
        name = None if completing else _command_named(args)
        app = make_app([name] if name else None)
        try:
            typer.main.get_command(app).main(args=args, prog_name=PROG)
            code = 0
        except SystemExit as done:
            code = done.code
    except KeyboardInterrupt:
        code = interrupted()
    _leave(code)


def _keep_apostrophes_in_zsh() -> None:
    """Register a zsh completer whose help texts keep their apostrophes.

    The zsh script evals ``_arguments '...'`` with the help inside single
    quotes; typer doubles an apostrophe (``Keras''s``), which zsh reads as two
    adjacent strings unless RC_QUOTES is set, so "Keras's rules" showed as
    "Kerass rules". Closing the quote, adding an escaped one and reopening
    (``'\\''``) reads the same in every zsh.
    """
    from typer._click.shell_completion import CompletionItem, add_completion_class
    from typer._completion_classes import ZshComplete

    class Zsh(ZshComplete):
        def format_completion(self, item: CompletionItem) -> str:
            return super().format_completion(item).replace("''", "'\\''")

    add_completion_class(Zsh, "zsh")


def _leave(code: object) -> NoReturn:
    """Flush and end the process without tearing the interpreter down.

    Freeing every module typer loaded takes about 8 ms, as long as all of
    convcount's own work; a finished command has nothing left to clean up.
    A Ctrl-C while stdout is flushed ends the run at once (a reader that
    stopped reading would hold it forever); once flushed, the answer is
    complete and a Ctrl-C changes nothing.
    """
    end_at_once_on_interrupt()
    status = code if isinstance(code, int) else (0 if code is None else 1)
    if isinstance(code, str):
        say(code)
    try:
        sys.stdout.flush()
    except OSError as error:
        status = output_failed(error)
    except (AttributeError, ValueError):  # no stdout at all
        status = output_failed(OSError(errno.EBADF, "closed"))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if diagnostics_lost() and status not in (EXIT_INTERRUPTED, EXIT_CLOSED_PIPE):
        status = EXIT_IO
    if sys.stderr is not None:
        sys.stderr.flush()
    os._exit(status)
