"""Tables for people: the only module that imports rich.

It presents results computed elsewhere and computes nothing of its own
beyond layout (thousands separators, bars). Colour follows rich's rules:
NO_COLOR, or stdout not a terminal, means plain text.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from fractions import Fraction
from math import prod
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcount.counting import Report
from convcount.frameworks import construction
from convcount.layers import DTYPE_BYTES, FRAMEWORK

if TYPE_CHECKING:
    from convcount.compare import ComparisonRow
    from convcount.model import ModelReport

TERM_LABELS = {
    "kernel": "kernel",
    "bias": "bias",
    "depthwise": "depthwise",
    "depthwise_bias": "depthwise bias",
    "pointwise": "pointwise",
    "pointwise_bias": "pointwise bias",
}
BAR_WIDTH = 10


def _n(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _size(values: Sequence[int]) -> str:
    return "×".join(str(v) for v in values)


def _bytes(value: int) -> str:
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    unit = 0
    while value >= 1024 ** (unit + 1) and unit < len(units) - 1:
        unit += 1
    exact = f"{value:,} B"
    if unit == 0:
        return exact
    # In exact integers: a float overflows past 1e308 bytes, which a huge layer reaches.
    tenths = round(Fraction(10 * value, 1024**unit))
    return f"{exact} ({tenths // 10:,}.{tenths % 10} {units[unit]})"


def _title(report: Report) -> str:
    layer = report.layer
    channels = f"{layer.in_channels} → {layer.out_channels} channels"
    extras = []
    if layer.groups and layer.groups > 1:
        extras.append(f"groups {layer.groups}")
    if layer.depth_multiplier and layer.depth_multiplier > 1:
        extras.append(f"depth multiplier {layer.depth_multiplier}")
    parts = [
        f"{layer.kind} {layer.dims}-D",
        f"kernel {_size(layer.kernel_size)}",
        channels,
        *extras,
        f"{layer.convention} convention",
    ]
    return " · ".join(parts)


def report_renderable(report: Report) -> RenderableType:
    """The parameter table, the shape and cost section, and the framework code."""
    with_macs = report.output_size is not None
    table = Table(box=box.ROUNDED)
    table.add_column("term")
    # Numbers fold onto more lines rather than lose digits ("…") in a narrow terminal.
    table.add_column("formula", overflow="fold")
    table.add_column("count", justify="right", overflow="fold")
    if with_macs:
        table.add_column("MACs", justify="right", overflow="fold")
    for term in report.terms:
        row = [TERM_LABELS[term.name], term.formula, _n(term.count)]
        if with_macs:
            row.append("" if term.is_bias else _n(term.macs))
        table.add_row(*row)
    total_row: list[str | Text] = [
        Text("total", style="bold"),
        "",
        Text(_n(report.total), style="bold"),
    ]
    if with_macs:
        total_row.append(Text(_n(report.macs), style="bold"))
    table.add_section()
    table.add_row(*total_row)

    parts: list[RenderableType] = [Text(_title(report), style="bold"), table]
    if with_macs:
        parts.append(_shape_table(report))
    parts.append(_code_table(report))
    return Group(*parts)


def _shape_table(report: Report) -> Table:
    layer = report.layer
    assert report.output_size is not None and layer.input_size is not None
    order = "H×W×C" if layer.convention == "keras" else "C×H×W"
    if layer.dims == 1:
        order = order.replace("H×W", "L")
    elif layer.dims == 3:
        order = order.replace("H×W", "D×H×W")
    info = Table(box=None, show_header=False, padding=(0, 1))
    info.add_column(style="bold")
    info.add_column(overflow="fold")
    info.add_row("input size", _size(layer.input_size))
    info.add_row("output size", _size(report.output_size))
    info.add_row("output shape", f"{_size(report.output_shape or ())}  ({order}, batch of 1)")
    info.add_row("MACs", f"{_n(report.macs)}  (bias additions not counted)")
    info.add_row("FLOPs", f"{_n(report.flops)}  (2 × MACs)")
    info.add_row("bias adds", _n(report.bias_adds))
    info.add_row(
        "parameters",
        f"{_bytes(report.param_bytes)}  ({layer.dtype}, {DTYPE_BYTES[layer.dtype]} B each)",
    )
    info.add_row(
        "output",
        f"{_n(report.output_elements)} elements, {_bytes(report.output_bytes or 0)}",
    )
    return info


def _code_table(report: Report) -> Table:
    built = construction(report.layer)
    code = Table(box=None, show_header=False, padding=(0, 1))
    code.add_column(style="bold")
    code.add_column(overflow="fold")
    for framework, text in (("keras", built.keras), ("torch", built.torch)):
        label = FRAMEWORK["keras" if framework == "keras" else "torch"]
        code.add_row(label, text or "no such layer")
    for note in built.notes:
        code.add_row("note", note)
    return code


def _ratio(value: Fraction | None) -> str:
    if value is None:
        return "—"
    thousandths = round(value * 1000)  # exact: a float cannot hold every ratio
    return f"{thousandths // 1000}.{thousandths % 1000:03d}"


def _bar(value: Fraction | None) -> str:
    if value is None:
        return ""
    eighths = round(float(min(value, Fraction(1))) * BAR_WIDTH * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[part]


def comparison_renderable(rows: Sequence[ComparisonRow]) -> RenderableType:
    """Parameters and MACs of each way, with ratios to the standard conv as bars."""
    first = rows[0].report.layer
    title = (
        f"the same job three ways · kernel {_size(first.kernel_size)} · "
        f"{first.in_channels} → {first.out_channels} channels · {first.convention} convention"
    )
    with_macs = rows[0].report.macs is not None
    table = Table(box=box.ROUNDED)
    table.add_column("layer", no_wrap=True)
    table.add_column("params", justify="right", overflow="fold")
    table.add_column("vs standard", no_wrap=True)
    if with_macs:
        table.add_column("MACs", justify="right", overflow="fold")
        table.add_column("vs standard", no_wrap=True)
    theory: list[str] = []
    for row in rows:
        layer = row.report.layer
        name = row.name
        if row.name == "grouped":
            name += f" g={layer.groups}"
            theory.append(f"grouped 1/g = {_ratio(row.theoretical)}")
        if row.name == "separable":
            m = layer.depth_multiplier or 1
            if m > 1:
                name += f" m={m}"
            k = prod(layer.kernel_size)
            scale = f"{m}·" if m > 1 else ""
            theory.append(
                f"separable {scale}(1/{layer.out_channels} + 1/{k}) = {_ratio(row.theoretical)}"
            )
        cells = [name, _n(row.report.total), f"{_ratio(row.params_ratio)} {_bar(row.params_ratio)}"]
        if with_macs:
            cells += [_n(row.report.macs), f"{_ratio(row.macs_ratio)} {_bar(row.macs_ratio)}"]
        table.add_row(*cells)
    note = Text("theory (weights only): " + "; ".join(theory), style="dim")
    return Group(Text(title, style="bold"), table, note)


def _console(width: int | None = None, file: io.StringIO | None = None) -> Console:
    if file is not None:
        return Console(file=file, width=width, color_system=None, highlight=False, emoji=False)
    return Console(highlight=False, emoji=False, width=width)


def print_report(report: Report) -> None:
    """Draw one layer's tables on stdout."""
    _console().print(report_renderable(report))


def print_comparison(rows: Sequence[ComparisonRow]) -> None:
    """Draw a comparison on stdout."""
    _console().print(comparison_renderable(rows))


def render_text(renderable: RenderableType, width: int = 100) -> str:
    """Plain text of a renderable at a fixed width (for golden files)."""
    buffer = io.StringIO()
    _console(width, buffer).print(renderable)
    return buffer.getvalue()


def print_batch_table(rows: Sequence[tuple[int, object]]) -> None:
    """One table row per layer of a batch: line, layer, sizes, parameters, MACs."""
    table = Table(box=box.ROUNDED)
    for name, justify in (("line", "right"), ("layer", "left")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]  # literals above
    for name, justify in (
        ("kernel", "left"),
        ("channels", "left"),
        ("output", "left"),
        ("params", "right"),
        ("MACs", "right"),
    ):
        # Folded, never cut ("…"): a number is shown whole even when it is wider than the terminal.
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]  # literals above
    for number, report in rows:
        assert isinstance(report, Report)
        layer = report.layer
        table.add_row(
            str(number),
            layer.kind if layer.convention == "keras" else f"{layer.kind} (torch)",
            _size(layer.kernel_size),
            f"{layer.in_channels} → {layer.out_channels}",
            _size(report.output_size) if report.output_size else "",
            _n(report.total),
            "" if report.macs is None else _n(report.macs),
        )
    _console().print(table)


def progress_bar() -> tuple[Callable[[int], None], Callable[[], None]]:
    """(update with rows done, close) for a transient progress display on stderr."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.completed:,} layers"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("batch", total=None)
    progress.start()

    def update(rows: int) -> None:
        progress.update(task, completed=rows)

    return update, progress.stop


def model_renderable(report: ModelReport, *, compact: bool = False) -> RenderableType:
    """A model summary: one row per layer, totals, receptive field.

    ``compact`` (for terminals under 110 columns) leaves out the kind, the
    non-trainable column and the bars.
    """
    shape = _size(report.output_shape(report.input))
    title = f"{report.name} · input {shape} · {report.convention} convention"
    if report.width_multiplier != 1:
        title += f" · width × {report.width_multiplier:g}"
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("layer", overflow="fold", min_width=14)
    if not compact:
        table.add_column("kind", no_wrap=True)
    table.add_column("output", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    if not compact:
        table.add_column("fixed", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_column("share" if compact else "share of MACs", no_wrap=True)
    total_macs = report.macs or 1
    largest = max((layer.macs for layer in report.layers), default=0) or 1
    for layer in report.layers:
        share = Fraction(layer.macs, total_macs)
        cells = [str(layer.number), layer.name]
        if not compact:
            cells.append(layer.kind)
        cells += [
            _size(report.output_shape(layer.output)),
            _n(layer.params) if layer.params else "",
        ]
        if not compact:
            cells.append(_n(layer.non_trainable) if layer.non_trainable else "")
        cells.append(_n(layer.macs) if layer.macs else "")
        if not layer.macs:
            cells.append("")
        elif compact:
            cells.append(f"{float(share):5.1%}")
        else:
            cells.append(f"{float(share):5.1%} {_bar(Fraction(layer.macs, largest))}")
        table.add_row(*cells)
    info = Table(box=None, show_header=False, padding=(0, 1))
    info.add_column(style="bold")
    info.add_column()
    info.add_row("parameters", _n(report.total_params))
    info.add_row("  trainable", _n(report.trainable_params))
    info.add_row("  non-trainable", _n(report.non_trainable_params))
    info.add_row(
        "MACs", f"{_n(report.macs)}  (convolution and dense layers, bias additions not counted)"
    )
    info.add_row("FLOPs", f"{_n(2 * report.macs)}  (2 × MACs)")
    info.add_row("parameter memory", f"{_bytes(report.param_bytes)}  ({report.dtype})")
    if report.receptive_field is not None:
        size, name = report.receptive_field
        info.add_row("receptive field", f"{_size(size)} input pixels at {name}")
    if report.convention == "keras":
        note = (
            "Keras counts BatchNormalization's moving mean and variance as non-trainable parameters"
        )
    else:
        note = (
            f"{FRAMEWORK['torch']} keeps BatchNorm's running statistics as buffers, not parameters"
        )
    info.add_row("note", note)
    return Group(Text(title, style="bold"), table, info)


def print_model(report: ModelReport) -> None:
    """Draw a model summary on stdout (at least 110 columns wide when not a terminal)."""
    console = _console()
    if not console.is_terminal:
        console.width = max(console.width, 110)
    console.print(model_renderable(report, compact=console.width < 110))
