"""Tables for people: the only module that imports rich.

It presents results computed elsewhere and computes nothing of its own
beyond layout (thousands separators, bars, shares). Colour follows rich's
rules: NO_COLOR, or stdout not a terminal, means plain text; plain text not
bound for a terminal is written directly, without loading rich at all.

Every view is laid out here, line by line, for a given width, so that a
number is never cut, wrapped or elided: rich only prints the lines. When the
width runs short, each part of a view (a title, a table, the figures under
it, the framework code) gives way in a fixed order:

1. decoration is left out in the part's own order (``*_DROPS`` below: bars,
   a model's share and config columns, then its kind and connected-to columns,
   formulas, explanations in parentheses; box lines and wider spacing go
   unsaid); names are shortened with an ellipsis in the middle, down to
   :data:`NAME_SOFT_FLOOR` characters, only once the part's pure decoration
   is gone (a model's bars, share and config: names matter more), and down to
   :data:`NAME_FLOOR` once all of it is; a model's connected-to column refers
   to layers by number (``#13, #15``) once its kind column is gone, before it
   goes itself; framework code breaks between its arguments and is left out
   only when one of them does not fit;
2. the part is stacked: one block per row, each figure labelled, lines
   broken only between figures.

A line under the view says what was left out and the width that shows it all
(or ``--format csv``). The width is the terminal's, or COLUMNS when set;
piped without COLUMNS, a view takes its natural width, so a file gets it all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import lru_cache
from math import prod
from typing import TYPE_CHECKING, Any, NamedTuple
from unicodedata import combining, east_asian_width

from convcount.counting import Report
from convcount.errors import printable
from convcount.frameworks import construction
from convcount.layers import DTYPE_BYTES, FRAMEWORK

if TYPE_CHECKING:
    from rich.console import Console, Group

    from convcount.compare import ComparisonRow
    from convcount.summary import ModelLike

TERM_LABELS = {
    "kernel": "kernel",
    "bias": "bias",
    "depthwise": "depthwise",
    "depthwise_bias": "depthwise bias",
    "pointwise": "pointwise",
    "pointwise_bias": "pointwise bias",
}
BAR_WIDTH = 10
#: Names are never shortened below this many characters (the ellipsis included),
NAME_FLOOR = 10
#: nor below this many while some decoration can still be left out instead.
NAME_SOFT_FLOOR = 16
#: What each table leaves out first when it does not fit, in order. A name
#: starting with "_" is a change of spacing that loses nothing and goes unsaid.
TERMS_DROPS = ("formulas", "_box")
INFO_DROPS = ("explanations",)
COMPARE_DROPS = ("bars", "_box")
MODEL_DROPS = ("bars", "share", "config", "kind", "_numbers", "connected to", "_tight")
#: How many of a model's drops go before any name is shortened.
MODEL_DECORATION = ("bars", "share", "config")
BATCH_DROPS = ("_tight",)


# ---------------------------------------------------------------------------
# Figures as text


def _n(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _size(values: Sequence[int]) -> str:
    return "×".join(str(v) for v in values)


#: The non-ASCII characters convcount itself prints (sizes, empty cells, cut names,
#: titles): each takes one cell, so a text of only these and ASCII needs no lookup.
_NARROW = str.maketrans("", "", "×—–…·→−")


def _cells(text: str) -> int:
    """Terminal cells of ``text``: wide East Asian characters take two, combining marks none.

    Written here rather than taken from rich so that piped tables, which print
    without styles, never import rich (about a third of a large table's time).
    """
    if text.isascii() or text.translate(_NARROW).isascii():
        return len(text)
    return sum(
        0 if combining(ch) else 2 if east_asian_width(ch) in ("W", "F") else 1 for ch in text
    )


def _scaled(value: int) -> str:
    """A large count in SI units beside its exact figure, always to three significant
    digits, zeros kept: ``3.50 M``, ``35.4 M``, ``354 M`` (empty below a million).

    Empty too past 999 P: the exact figure says it. In exact integers (rounded half
    up), so that no float rounds or overflows.
    """
    units = (("M", 10**6), ("G", 10**9), ("T", 10**12), ("P", 10**15))
    if not units[0][1] <= value < 1000 * units[-1][1]:
        return ""
    for unit, size in units:
        for decimals in (2, 1, 0):
            scaled = (value * 10**decimals * 2 + size) // (2 * size)  # rounded half up
            if scaled < 1000:  # three digits
                whole, part = divmod(scaled, 10**decimals)
                return f"{whole}.{part:0{decimals}d} {unit}" if decimals else f"{whole} {unit}"
    return ""  # 999.5 P and above: the exact figure alone


def _binary(value: int) -> str:
    """Bytes in binary units: ``392.0 KiB`` (empty below 1 KiB).

    In exact integers: a float overflows past 1e308 bytes, which a huge layer reaches.
    """
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    unit = 0
    while unit < len(units) - 1 and value >= 1024 ** (unit + 1):
        unit += 1
    if unit == 0:
        return ""
    tenths = round(Fraction(10 * value, 1024**unit))
    return f"{tenths // 10:,}.{tenths % 10} {units[unit]}"


def _shorten(name: str, width: int | None) -> str:
    """``name`` in at most ``width`` cells, with an ellipsis in the middle when cut.

    A name holding control characters is shown escaped (:func:`printable`), and
    cut between escapes, never inside one.
    """
    if not name.isprintable():
        return _shorten_escaped(name, width)
    if width is None or _cells(name) <= width:
        return name
    keep = width - 1
    head = keep - keep * 2 // 5
    tail = keep - head
    start = name[:head]
    while _cells(start) > head:
        start = start[:-1]
    end = name[len(name) - tail :] if tail else ""
    while _cells(end) > tail:
        end = end[1:]
    return f"{start}…{end}"


def _shorten_escaped(name: str, width: int | None) -> str:
    shown = printable(name)
    if width is None or _cells(shown) <= width:
        return shown
    units = [printable(c) for c in name]
    keep = width - 1
    head = keep - keep * 2 // 5
    start: list[str] = []
    used = 0
    for unit in units:
        used += _cells(unit)
        if used > head:
            break
        start.append(unit)
    end: list[str] = []
    used = 0
    for unit in reversed(units[len(start) :]):
        used += _cells(unit)
        if used > keep - head:
            break
        end.append(unit)
    return "".join(start) + "…" + "".join(reversed(end))


# ---------------------------------------------------------------------------
# Lines, grids and the fitting of parts


class Line(NamedTuple):
    """One printed line and its style."""

    text: str
    style: str = ""
    """A rich style for the whole line, or ``bold:N`` for its first N cells (a label)."""


def _width(lines: Sequence[Line]) -> int:
    return max((_cells(line.text) for line in lines), default=0)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _cells(text))
    return fill + text if right else text + fill


class Column(NamedTuple):
    """A column of a grid: a header and one cell per row (``\\n`` breaks a cell's lines)."""

    header: str
    cells: Sequence[str]
    right: bool = False

    def width(self) -> int:
        return _widest((self.header, *self.cells))


@lru_cache(maxsize=256)
def _widest(texts: tuple[str, ...]) -> int:
    """The widest line among ``texts`` (cached: fitting a view measures a column often)."""
    return max(_cells(line) for text in texts for line in text.split("\n"))


class Grid(NamedTuple):
    """Rows of cells in columns, in one of three styles.

    ``box`` draws rounded box lines; ``plain`` separates columns by two
    spaces with a rule under the header; ``tight`` by one space.
    """

    columns: Sequence[Column]
    style: str = "box"
    rules: tuple[int, ...] = ()
    """Rows above which a rule is drawn (the total row)."""
    bold: tuple[int, ...] = ()
    """Rows printed in bold."""
    header: bool = True

    @property
    def width(self) -> int:
        widths = [c.width() for c in self.columns]
        if self.style == "box":
            return sum(widths) + 3 * len(widths) + 1
        return sum(widths) + (2 if self.style == "plain" else 1) * (len(widths) - 1)

    def lines(self) -> list[Line]:
        widths = [c.width() for c in self.columns]
        box = self.style == "box"
        gap = "  " if self.style == "plain" else " "

        def row(cells: Sequence[str], style: str = "") -> list[Line]:
            split = [cell.split("\n") for cell in cells]
            height = max(len(parts) for parts in split)
            out = []
            for i in range(height):
                texts = [
                    _pad(parts[i] if i < len(parts) else "", w, c.right)
                    for parts, w, c in zip(split, widths, self.columns, strict=True)
                ]
                text = "│ " + " │ ".join(texts) + " │" if box else gap.join(texts).rstrip()
                out.append(Line(text, style))
            return out

        def rule(left: str, middle: str, right: str) -> Line:
            if box:
                return Line(left + middle.join("─" * (w + 2) for w in widths) + right)
            return Line("─" * self.width)

        out: list[Line] = []
        if box:
            out.append(rule("╭", "┬", "╮"))
        if self.header:
            out += row([c.header for c in self.columns], "bold")
            out.append(rule("├", "┼", "┤"))
        for index in range(len(self.columns[0].cells)):
            if index in self.rules:
                out.append(rule("├", "┼", "┤"))
            style = "bold" if index in self.bold else ""
            out += row([c.cells[index] for c in self.columns], style)
        if box:
            out.append(rule("╰", "┴", "╯"))
        return out


def _pack(items: Sequence[str], width: int | None, sep: str, indent: str = "") -> list[str]:
    """Items joined by ``sep`` into lines of at most ``width`` cells, never splitting an item."""
    if width is None:
        return [indent + sep.join(items)] if items else []
    lines: list[str] = []
    current = ""
    for item in items:
        candidate = f"{current}{sep}{item}" if current else indent + item
        if current and _cells(candidate.rstrip()) > width:
            lines.append(current.rstrip())
            current = indent + item
        else:
            current = candidate
    if current:
        lines.append(current.rstrip())
    return lines


def _prose(items: Sequence[str], width: int | None) -> list[str]:
    """Phrases packed into lines; a phrase wider than the line is broken between its words."""
    words: list[str] = []
    for item in items:
        fits = width is None or _cells(item) <= width
        words += [item] if fits else item.split(" ")
    return _pack(words, width, " ")


def _text(items: Sequence[str], width: int | None, style: str = "dim") -> Part:
    """A paragraph of phrases, wrapped between them where it can be."""
    lines = _prose(items, width)
    return Part([Line(text, style) for text in lines], max(_cells(w) for w in items))


class Part(NamedTuple):
    """One part of a view, fitted: its lines and what it gave up."""

    lines: list[Line]
    needs: int
    """The narrowest width at which the part leaves nothing out and shortens nothing."""
    left_out: tuple[str, ...] = ()
    shortened: bool = False
    stacked: bool = False


#: Builds a part's grid leaving out the given decoration, names cut to a width (or whole).
Builder = Callable[[tuple[str, ...], int | None], Grid]


def _fit(
    width: int | None,
    build: Builder,
    drops: Sequence[str],
    *,
    names: int = 0,
    stack: Callable[[int | None], list[Line]],
    shorten_after: int = 0,
) -> Part:
    """The first layout of ``build`` that fits ``width``, in the module docstring's order.

    ``names`` is the natural width of the part's names (0: nothing to shorten).
    Names go down to :data:`NAME_SOFT_FLOOR` once the first ``shorten_after``
    drops are gone, and to :data:`NAME_FLOOR` once all of them are.
    """
    full = build((), None)
    if width is None or full.width <= width:
        return Part(full.lines(), full.width)
    for count in range(len(drops) + 1):
        dropped = tuple(drops[:count])
        grid = build(dropped, None)
        if grid.width <= width:
            return Part(grid.lines(), full.width, _said(dropped))
        if count < shorten_after:
            continue
        floor = NAME_FLOOR if count == len(drops) else NAME_SOFT_FLOOR
        if names > floor and build(dropped, floor).width <= width:
            # the widest names that fit: the grid narrows as names do
            low, high = floor, names - 1
            while low < high:
                middle = (low + high + 1) // 2
                if build(dropped, middle).width <= width:
                    low = middle
                else:
                    high = middle - 1
            return Part(build(dropped, low).lines(), full.width, _said(dropped), shortened=True)
    lines = stack(width)
    return Part(lines, full.width, _said(tuple(drops)), stacked=True)


def _said(dropped: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(d for d in dropped if not d.startswith("_"))


def _blocks(
    blocks: Sequence[tuple[Sequence[str], Sequence[str]]], width: int | None, indent: str = "  "
) -> list[Line]:
    """The stacked layout: per row a heading and its labelled figures, packed into lines."""
    lines: list[Line] = []
    for heading, details in blocks:
        lines += [Line(text, "bold") for text in _pack(heading, width, " · ")]
        lines += [Line(text) for text in _pack(details, width, " · ", indent)]
    return lines


def _footer(parts: Sequence[Part], width: int | None, csv: bool) -> list[Line]:
    """The line under a view that says what was left out and how to see it."""
    left_out = [what for part in parts for what in part.left_out]
    changes = []
    if any(part.shortened for part in parts):
        changes.append("names shortened")
    if left_out:
        changes.append(f"{', '.join(dict.fromkeys(left_out))} left out")
    if any(part.stacked for part in parts):
        changes.append("rows stacked")
    if not changes or width is None:
        return []
    full = max(part.needs for part in parts)
    how = f"all of it at {full} columns" + (" or with --format csv" if csv else "")
    return _text(f"({width} columns: {'; '.join(changes)}; {how})".split(" "), width).lines


class View(NamedTuple):
    """A whole answer as lines, fitted to a width."""

    lines: list[Line]

    @property
    def width(self) -> int:
        return _width(self.lines)

    def text(self) -> str:
        return "".join(line.text.rstrip() + "\n" for line in self.lines)


def _view(parts: Sequence[Part], width: int | None, *, csv: bool = True) -> View:
    lines = [line for part in parts for line in part.lines]
    return View(lines + _footer(parts, width, csv))


# ---------------------------------------------------------------------------
# Pairs: a label and a figure (the shape and cost section, a model's totals)


class Pair(NamedTuple):
    """A labelled figure, with what stays beside it and what may be left out."""

    label: str
    value: str
    extra: str = ""
    """Kept beside the value while it fits on one line (scaled units, a layer name)."""
    note: str = ""
    """Left out first: a margin note in parentheses."""


def _pairs(pairs: Sequence[Pair], width: int | None, *, right: bool = False) -> Part:
    def build(dropped: tuple[str, ...], _names: int | None) -> Grid:
        def beside(pair: Pair) -> str:
            words = [pair.extra] if pair.extra else []
            if pair.note and "explanations" not in dropped:
                words.append(f"({pair.note})")
            return "  ".join(words)

        columns = [
            Column("", [p.label for p in pairs]),
            Column("", [p.value for p in pairs], right=right),
        ]
        if any(beside(p) for p in pairs):
            columns.append(Column("", [beside(p) for p in pairs]))
        return Grid(columns, style="plain", header=False, bold=())

    def stack(width: int | None) -> list[Line]:
        return _blocks(
            [([p.label], [" ".join(w for w in (p.value, p.extra) if w)]) for p in pairs], width
        )

    drops = INFO_DROPS if any(p.note for p in pairs) else ()
    part = _fit(width, build, drops, stack=stack)
    if not part.stacked:  # labels in bold
        labels = max(_cells(p.label) for p in pairs)
        part = part._replace(lines=[Line(line.text, f"bold:{labels}") for line in part.lines])
    return part


def _code(report: Report, width: int | None) -> Part:
    """The framework code and porting notes, broken between arguments where needed."""
    built = construction(report.layer)
    rows = [
        (FRAMEWORK["keras"], built.keras or "no such layer"),
        (FRAMEWORK["torch"], built.torch or "no such layer"),
        *(("note", note) for note in built.notes),
    ]
    labels = max(_cells(label) for label, _ in rows)
    words = [text.split(" ") if label == "note" else _arguments(text) for label, text in rows]
    needs = labels + 2 + max(_cells(w) for ws in words for w in ws)
    if width is not None and needs > width:
        return Part([], needs, ("framework code",))
    room = None if width is None else width - labels - 2
    lines: list[Line] = []
    for (label, _), ws in zip(rows, words, strict=True):
        for i, chunk in enumerate(_pack(ws, room, " ")):
            head = label if i == 0 else ""
            lines.append(Line(f"{_pad(head, labels, False)}  {chunk}", f"bold:{labels}"))
    return Part(lines, needs)


def _arguments(code: str) -> list[str]:
    """Code cut at the spaces after top-level arguments and before ``+``-joined calls."""
    words: list[str] = []
    depth = 0
    current = ""
    for i, char in enumerate(code):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        after_argument = depth <= 1 and code[i - 1 : i] == ","
        before_plus = depth == 0 and code[i + 1 : i + 2] == "+"
        if char == " " and (after_argument or before_plus):
            words.append(current)
            current = ""
        else:
            current += char
    words.append(current)
    return words


# ---------------------------------------------------------------------------
# One layer


def _title(report: Report) -> list[str]:
    layer = report.layer
    parts = [
        f"{layer.kind} {layer.dims}-D",
        f"kernel {_size(layer.kernel_size)}",
        f"{layer.in_channels} → {layer.out_channels} channels",
    ]
    if layer.groups and layer.groups > 1:
        parts.append(f"groups {layer.groups}")
    if layer.depth_multiplier and layer.depth_multiplier > 1:
        parts.append(f"depth multiplier {layer.depth_multiplier}")
    parts.append(f"{layer.convention} convention")
    return parts


def _heading(parts: Sequence[str], width: int | None) -> Part:
    lines = [Line(text, "bold") for text in _pack(parts, width, " · ")]
    return Part(lines, max(_cells(p) for p in parts))


def _terms(report: Report, width: int | None) -> Part:
    with_macs = report.output_size is not None
    labels = [TERM_LABELS[t.name] for t in report.terms] + ["total"]

    def build(dropped: tuple[str, ...], _names: int | None) -> Grid:
        columns = [Column("term", labels)]
        if "formulas" not in dropped:
            columns.append(Column("formula", [t.formula for t in report.terms] + [""]))
        columns.append(
            Column("count", [_n(t.count) for t in report.terms] + [_n(report.total)], right=True)
        )
        if with_macs:
            macs = ["" if t.is_bias else _n(t.macs) for t in report.terms]
            columns.append(Column("MACs", [*macs, _n(report.macs)], right=True))
        last = len(report.terms)
        style = "plain" if "_box" in dropped else "box"
        return Grid(columns, style=style, rules=(last,), bold=(last,))

    def stack(width: int | None) -> list[Line]:
        blocks = []
        for term, label in zip(report.terms, labels, strict=False):
            figures = [f"params {_n(term.count)}"]
            if with_macs and not term.is_bias:
                figures.append(f"MACs {_n(term.macs)}")
            blocks.append(([f"{label} {term.formula}"], figures))
        total = [f"params {_n(report.total)}"]
        if with_macs:
            total.append(f"MACs {_n(report.macs)}")
        blocks.append((["total"], total))
        return _blocks(blocks, width)

    return _fit(width, build, TERMS_DROPS, stack=stack)


def _shape(report: Report, width: int | None) -> Part:
    layer = report.layer
    assert report.output_size is not None and layer.input_size is not None
    order = "H×W×C" if layer.convention == "keras" else "C×H×W"
    if layer.dims == 1:
        order = order.replace("H×W", "L")
    elif layer.dims == 3:
        order = order.replace("H×W", "D×H×W")
    output_bytes = report.output_bytes or 0
    pairs = [
        Pair("input size", _size(layer.input_size)),
        Pair("output size", _size(report.output_size)),
        Pair("output shape", _size(report.output_shape or ()), note=f"{order}, batch of 1"),
        Pair("MACs", _n(report.macs), note="bias additions not counted"),
        Pair("FLOPs", _n(report.flops), note="2 × MACs"),
        Pair("bias adds", _n(report.bias_adds)),
        _param_memory(report),
        Pair("output elements", _n(report.output_elements)),
        Pair("output bytes", f"{_n(output_bytes)} B", _binary(output_bytes)),
    ]
    return _pairs(pairs, width)


def _param_memory(report: Report) -> Pair:
    dtype = report.layer.dtype
    return Pair(
        "parameters",
        f"{_n(report.param_bytes)} B",
        _binary(report.param_bytes),
        f"{dtype}, {DTYPE_BYTES[dtype]} B each",
    )


def report_view(report: Report, width: int | None = None) -> View:
    """One layer: title, parameter terms, shape and cost, framework code."""

    parts = [_heading(_title(report), width), _terms(report, width)]
    if report.output_size is not None:
        parts.append(_shape(report, width))
    else:
        parts.append(_pairs([_param_memory(report)], width))
    parts.append(_code(report, width))
    return _view(parts, width, csv=False)


# ---------------------------------------------------------------------------
# A comparison


def _ratio(value: Fraction | None) -> str:
    return "—" if value is None else f"{float(value):.3f}"


def _bar(value: Fraction | None) -> str:
    if value is None:
        return ""
    eighths = round(float(min(value, Fraction(1))) * BAR_WIDTH * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[part]


def _way(row: ComparisonRow) -> str:
    layer = row.report.layer
    if row.name == "grouped":
        return f"grouped g={layer.groups}"
    m = layer.depth_multiplier or 1
    return f"separable m={m}" if row.name == "separable" and m > 1 else row.name


def comparison_view(rows: Sequence[ComparisonRow], width: int | None = None) -> View:
    """Parameters and MACs of each way, with ratios to the standard conv as bars."""
    first = rows[0].report
    with_macs = first.macs is not None
    parts_of_title = [
        "the same job three ways",
        f"kernel {_size(first.layer.kernel_size)}",
        f"{first.layer.in_channels} → {first.layer.out_channels} channels",
    ]
    if first.layer.input_size is not None and first.output_size is not None:
        parts_of_title.append(
            f"input {_size(first.layer.input_size)} → output {_size(first.output_size)}"
        )
    parts_of_title.append(f"{first.layer.convention} convention")
    theory: list[str] = []
    for row in rows:
        layer = row.report.layer
        if row.name == "grouped":
            theory.append(f"grouped 1/g = {_ratio(row.theoretical)};")
        if row.name == "separable":
            m = layer.depth_multiplier or 1
            k = prod(layer.kernel_size)
            scale = f"{m}·" if m > 1 else ""
            theory.append(
                f"separable {scale}(1/{layer.out_channels} + 1/{k}) = {_ratio(row.theoretical)};"
            )
    theory[-1] = theory[-1].rstrip(";")

    def build(dropped: tuple[str, ...], _names: int | None) -> Grid:
        bars = "bars" not in dropped
        header = "vs standard" if bars else "vs\nstandard"

        def ratio(value: Fraction | None) -> str:
            return f"{_ratio(value)} {_bar(value)}".rstrip() if bars else _ratio(value)

        columns = [
            Column("layer", [_way(r) for r in rows]),
            Column("params", [_n(r.report.total) for r in rows], right=True),
            Column(header, [ratio(r.params_ratio) for r in rows]),
        ]
        if with_macs:
            columns += [
                Column("MACs", [_n(r.report.macs) for r in rows], right=True),
                Column(header, [ratio(r.macs_ratio) for r in rows]),
            ]
        return Grid(columns, style="plain" if "_box" in dropped else "box")

    def stack(width: int | None) -> list[Line]:
        blocks = []
        for r in rows:
            figures = [f"params {_n(r.report.total)} ({_ratio(r.params_ratio)})"]
            if with_macs:
                figures.append(f"MACs {_n(r.report.macs)} ({_ratio(r.macs_ratio)})")
            blocks.append(([_way(r)], figures))
        return [*_blocks(blocks, width), Line("(ratios to the standard conv)", "dim")]

    parts = [
        _heading(parts_of_title, width),
        _fit(width, build, COMPARE_DROPS, stack=stack),
        _text(["theory (weights only):", *theory], width),
    ]
    return _view(parts, width)


# ---------------------------------------------------------------------------
# A model


#: A layer's MACs that convcount cannot count.
UNKNOWN = "unknown"


def known(layer: object) -> bool:
    """Whether a layer's parameters are known (a file's custom layer without weights: not)."""
    return bool(getattr(layer, "params_known", True))


def unknown_params(layers: Sequence[Any]) -> dict[str, int]:
    """Layers of unknown parameters, by class (or kind)."""
    counts: dict[str, int] = {}
    for layer in layers:
        if not known(layer):
            key = getattr(layer, "op", "") or layer.kind
            counts[key] = counts.get(key, 0) + 1
    return counts


#: The longest file class or op name shown in the kind column (a file may name anything).
_OP_CHARS = 24


def _op_name(op: str) -> str:
    return op if len(op) <= _OP_CHARS else op[: _OP_CHARS - 1] + "…"


def model_view(
    report: ModelLike, width: int | None = None, batch_size: int = 1, selection: Any = None
) -> View:
    """A model summary: one row per layer (or per group, or the layers a
    :class:`convcount.view.Selection` keeps), totals, memory, receptive field, notes."""
    from convcount.model.kinds import compact
    from convcount.summary import (
        buffers,
        connected_to,
        has_batchnorm,
        memory,
        uncounted,
        uncounted_text,
    )
    from convcount.view import Selection, rows

    layers = list(report.layers)
    chosen = selection if selection is not None else Selection()
    shown = rows(report, chosen)
    index = {layer.name: i + 1 for i, layer in enumerate(layers)}
    every_input = connected_to(report)
    inputs = [() if r.group else every_input[r.number - 1] for r in shown]
    if chosen.filtered:  # a row's input is the row above only if that row is shown
        above = [""] + [r.name for r in shown[:-1]]
        inputs = [
            () if r.group or (r.inputs == (prev,) if prev else r.number == 1) else r.inputs
            for r, prev in zip(shown, above, strict=True)
        ]
    total_macs = report.macs or 1
    counted = [r.macs or 0 for r in shown]  # unknown MACs are shown as such
    largest = max(counted, default=0) or 1
    numbers = [f"{r.number}–{r.last}" if r.last != r.number else str(r.number) for r in shown]
    # Names, kinds and configurations come from a file: shown escaped (``\x1b[2J``),
    # never as terminal controls (_shorten escapes names); JSON and CSV keep them.
    kinds = [
        f"{r.layers:,} layer{'s' * (r.layers != 1)}"
        if r.group
        # a layer convcount has no kind for shows what it is in its file (LSTM, MyHead)
        else printable(_op_name(r.op) if r.kind == "opaque" and r.op else r.kind)
        for r in shown
    ]
    configs = [
        "" if r.group or not r.config else printable(compact(r.kind, r.config, report.convention))
        for r in shown
    ]
    # a weight file's rows (and an op a file leaves unshaped) have no known output
    shapes = [_size(report.output_shape(r.output)) if r.output.channels else "—" for r in shown]
    params = [
        (_n(r.params) if r.params else "")
        if known(r)
        else f"at least {_n(r.params)}"
        if r.params  # a group holding a layer of unknown parameters
        else UNKNOWN
        for r in shown
    ]
    fixed = [_n(r.non_trainable) if r.non_trainable else "" for r in shown]
    state = [_n(r.buffers) if r.buffers else "" for r in shown]
    macs = [
        UNKNOWN if r.macs is None else _n(r.macs_at(batch_size)) if r.macs else "" for r in shown
    ]
    shares = [f"{m / total_macs:5.1%}" if m else "" for m in counted]
    bars = [_bar(Fraction(m, largest)) for m in counted]
    natural = max(
        (
            _cells(printable(n))
            for r, given in zip(shown, inputs, strict=True)
            for n in (r.name, *given)
        ),
        default=0,
    )

    def refs(names: tuple[str, ...], cut: int | None, numbered: bool) -> str:
        if numbered:
            return ", ".join(f"#{index[n]}" if n in index else _shorten(n, cut) for n in names)
        return "\n".join(_shorten(n, cut) for n in names)

    drops = [
        d
        for d in MODEL_DROPS
        if (d not in ("bars", "share") or report.macs)
        and (d not in ("connected to", "_numbers") or any(inputs))
        and (d != "config" or any(configs))
    ]
    decoration = sum(d in MODEL_DECORATION for d in drops)

    def build(dropped: tuple[str, ...], cut: int | None) -> Grid:
        tight = "_tight" in dropped
        columns = [
            Column("#", numbers, right=True),
            Column("layer", [_shorten(r.name, cut) for r in shown]),
        ]
        if "kind" not in dropped:
            columns.append(Column("kind", kinds))
        if "config" not in dropped and any(configs):
            columns.append(Column("config", configs))
        columns += [Column("output", shapes), Column("params", params, right=True)]
        if any(fixed):
            header = "non-\ntrainable" if tight else "non-trainable"
            columns.append(Column(header, fixed, right=True))
        if any(state):
            columns.append(Column("buffers", state, right=True))
        columns.append(Column("MACs", macs, right=True))
        if "share" not in dropped and report.macs:
            if "bars" in dropped:
                columns.append(Column("share", shares))
            else:
                cells = [f"{s} {b}".rstrip() for s, b in zip(shares, bars, strict=True)]
                columns.append(Column("share of MACs", cells))
        if "connected to" not in dropped and any(inputs):
            numbered = "_numbers" in dropped
            columns.append(Column("connected to", [refs(i, cut, numbered) for i in inputs]))
        return Grid(columns, style="tight" if tight else "plain")

    def stack(width: int | None) -> list[Line]:
        blocks = []
        for i, r in enumerate(shown):
            heading = [f"{numbers[i]} {printable(r.name)}", kinds[i], shapes[i]]
            figures = [configs[i]] if configs[i] else []
            if r.params:
                figures.append(f"params {params[i]}")
            elif not known(r):
                figures.append(f"params {UNKNOWN}")
            if r.non_trainable:
                figures.append(f"non-trainable {fixed[i]}")
            if state[i]:
                figures.append(f"buffers {state[i]}")
            if r.macs:
                figures.append(f"MACs {macs[i]} ({shares[i].strip()})")
            elif r.macs is None:
                figures.append(f"MACs {UNKNOWN}")
            if inputs[i]:
                figures.append("from " + ", ".join(printable(n) for n in inputs[i]))
            blocks.append((heading, figures))
        return _blocks(blocks, width)

    shape = _size(report.output_shape(report.input))
    title = [printable(report.name), f"input {shape}" if report.input.channels else "no input"]
    if batch_size != 1:
        title.append(f"batch {batch_size}")
    title.append(f"{report.convention} convention")
    alpha = getattr(report, "width_multiplier", None)
    if alpha is not None and alpha != 1:
        title.append(f"width × {alpha:g}")
    if chosen.depth is not None:
        kept = sum(r.layers for r in shown)
        of = f"{kept:,} of {len(layers):,}" if chosen.filtered else f"{len(layers):,}"
        title.append(f"depth {chosen.depth}: {len(shown):,} rows for {of} layers")
    elif chosen.filtered:
        title.append(f"{len(shown):,} of {len(layers):,} layers shown")

    mem = memory(report, batch_size)
    all_macs = report.macs_at(batch_size)
    unknown = uncounted(report)
    at_least = "at least " if unknown else ""
    params_exact = all(known(layer) for layer in layers)
    some = "" if params_exact else "at least "
    element = f"{report.dtype}, batch of {batch_size}"
    pairs = [
        Pair("parameters", some + _n(report.total_params), _scaled(report.total_params)),
        Pair("  trainable", some + _n(report.trainable_params), _scaled(report.trainable_params)),
        Pair("  non-trainable", some + _n(report.non_trainable_params)),
        *(
            [Pair("buffers", _n(sum(buffers(layer) for layer in layers)))]
            if any(buffers(layer) for layer in layers)
            else []
        ),
        Pair(
            "MACs",
            at_least + _n(all_macs),
            _scaled(all_macs),
            "convolution, dense and attention layers, bias additions not counted",
        ),
        Pair("FLOPs", at_least + _n(2 * all_macs), _scaled(2 * all_macs), "2 × MACs"),
        Pair("input", _bytes(mem.input_bytes), _binary(mem.input_bytes), element),
        Pair(
            "activations",
            _bytes(mem.activation_bytes),
            _binary(mem.activation_bytes),
            "every layer's output",
        ),
        Pair(
            "forward/backward",
            _bytes(mem.forward_backward_bytes),
            _binary(mem.forward_backward_bytes),
            "2 × activations",
        ),
        Pair(
            "parameter memory",
            some + _bytes(mem.param_bytes),
            _binary(mem.param_bytes),
            f"{report.dtype}, {DTYPE_BYTES[report.dtype]} B each",
        ),
        Pair(
            "  trainable",
            some + _bytes(mem.trainable_param_bytes),
            _binary(mem.trainable_param_bytes),
        ),
        Pair(
            "  non-trainable",
            some + _bytes(mem.non_trainable_param_bytes),
            _binary(mem.non_trainable_param_bytes),
        ),
    ]
    if mem.buffer_bytes:
        pairs.append(Pair("buffer memory", _bytes(mem.buffer_bytes), _binary(mem.buffer_bytes)))
    pairs.append(
        Pair(
            "peak activations",
            _bytes(mem.peak_activation_bytes),
            _binary(mem.peak_activation_bytes),
            f"outputs alive at once in inference, at {mem.peak_activation_layer}",
        )
    )
    pairs.append(
        Pair(
            "total memory",
            some + _bytes(mem.total_bytes),
            _binary(mem.total_bytes),
            "input + forward/backward + parameters" + (" + buffers" if mem.buffer_bytes else ""),
        )
    )
    if report.receptive_field is not None:
        size, name = report.receptive_field
        pairs.append(
            Pair("receptive field", _size(size), note=f"input pixels at {printable(name)}")
        )
    notes: list[str] = list(getattr(report, "notes", ()))  # a model file's reader notes
    if unknown:
        notes.append(
            f"MACs unknown for {uncounted_text(unknown)} that convcount cannot count; "
            + (
                "their parameters are counted."
                if params_exact
                else "the parameters of "
                + uncounted_text(unknown_params(layers))
                + " are unknown too (the file holds no weights to count them from)."
            )
            + " --strict refuses such a model."
        )
    if has_batchnorm(report):
        if report.convention == "keras":
            notes.append(
                "Keras counts BatchNormalization's moving mean and variance "
                "as non-trainable parameters."
            )
        else:
            notes.append(
                f"{FRAMEWORK['torch']} keeps BatchNorm's running statistics as buffers, "
                "not parameters."
            )

    parts = [
        _heading(title, width),
        _fit(width, build, drops, names=natural, stack=stack, shorten_after=decoration),
        Part([Line("")], 0),
        _pairs(pairs, width, right=True),
        *(_text(note.split(" "), width) for note in notes),
    ]
    return _view(parts, width)


def _bytes(value: int) -> str:
    return f"{_n(value)} B"


# ---------------------------------------------------------------------------
# Other tools' figures (--count-as)


def tool_view(
    report: ModelLike,
    result: Any,
    width: int | None = None,
    batch_size: int = 1,
    *,
    one_layer: Report | None = None,
    counted: str | None = None,
) -> View:
    """What one other tool prints for a model: per layer its figure beside convcount's
    MACs (the layers where either is not 0), then its headline figures as it prints them.
    For one layer (``one_layer``), the network is its PyTorch equivalent, ``counted``."""
    from convcount.model.tools import TOOL_VERSIONS

    macs = {layer.name: layer.macs_at(batch_size) or 0 for layer in report.layers}
    # a tool with rows of its own (onnx-tool: every ONNX node) lists them all, with
    # convcount's MACs of the layer each is (— for a node convcount folds away)
    nodes = any(r.extra for r in result.layers)
    rows = [r for r in result.layers if nodes or r.figure or macs.get(r.name)]

    def ours(r: Any) -> int | None:
        if not r.extra:
            return macs.get(r.name, 0)
        layer = r.extra.get("layer")
        return None if layer is None else macs.get(layer, 0)

    natural = max((_cells(r.name) for r in rows), default=0)
    header = f"{result.tool} {result.unit}"
    # an ONNX node's own figures beside the tool's (onnx-tool prints them per node)
    own = [("Memory", "memory"), ("Params", "params")]

    def build(dropped: tuple[str, ...], cut: int | None) -> Grid:
        columns = [
            Column("node" if nodes else "layer", [_shorten(r.name, cut) for r in rows]),
        ]
        if nodes and "op" not in dropped:
            columns.append(Column("op", [str(r.extra["op"]) for r in rows]))
        columns += [
            Column("MACs", [_n(ours(r)) for r in rows], right=True),
            Column(header, [_n(r.figure) for r in rows], right=True),
        ]
        if nodes:
            columns += [
                Column(title, [_n(r.extra[key]) for r in rows], right=True) for title, key in own
            ]
        if "note" not in dropped and any(r.note for r in rows):
            columns.append(Column("why it differs", [r.note for r in rows]))
        return Grid(columns, style="tight" if "_tight" in dropped else "plain")

    def stack(width: int | None) -> list[Line]:
        blocks = [
            (
                [_shorten(r.name, width)],
                # the tool's name alone: its unit may be too long for a narrow line
                ([str(r.extra["op"])] if nodes else [])
                + [f"MACs {_n(ours(r))}", f"{result.tool} {_n(r.figure)}"]
                + ([f"{t} {_n(r.extra[k])}" for t, k in own] if nodes else [])
                + ([r.note] if r.note else []),
            )
            for r in rows
        ]
        return _blocks(blocks, width)

    title = [
        *(_title(one_layer) if one_layer is not None else [report.name]),
        f"as {result.tool} {TOOL_VERSIONS[result.tool]} counts it",
        f"batch {batch_size}",
    ]
    pairs = [Pair(label, value) for label, value in result.printed.items()]
    if not {_n(result.total), repr(float(result.total))} & set(result.printed.values()):
        # torchinfo prints its total in millions, to two places: the exact figure too
        pairs.append(Pair(f"{result.unit} (exact)", _n(result.total)))
    pairs.append(Pair("FlopCounterMode MACs", _n(report.macs_at(batch_size))))
    parts = [
        _heading(title, width),
        _fit(width, build, ("note", "op", "_tight"), names=natural, stack=stack, shorten_after=1),
        Part([Line("")], 0),
        _pairs(pairs, width, right=True),
        _text(f"{result.tool} counts {result.counts}.".split(" "), width),
    ]
    if counted is not None:
        parts.append(_text(_counted_words(report, counted), width))
    return _view(parts, width)


def _counted_words(report: ModelLike, counted: str) -> list[str]:
    """Which PyTorch modules a layer's --count-as counted, and on what input."""
    shape = _size(report.output_shape(report.input))
    return f"counted: {counted}, the layer's PyTorch equivalent, on input {shape}.".split(" ")


def tools_view(
    report: ModelLike,
    results: Sequence[Any],
    width: int | None = None,
    left_out: Sequence[dict[str, str]] = (),
    *,
    one_layer: Report | None = None,
    counted: str | None = None,
) -> View:
    """Every tool's total for one model side by side, with what each counts, and the
    tools that cannot count it with why. For one layer (``one_layer``), the network is
    its PyTorch equivalent, ``counted``."""
    from convcount.model.tools import TOOL_VERSIONS

    base = results[0].total
    tools = [f"{r.tool} {TOOL_VERSIONS[r.tool]}" for r in results]
    figures = [_n(r.total) for r in results]
    units = [r.unit for r in results]
    ratios = [
        f"{r.total - base:+,}" + (f" ({(r.total - base) / base:+.3%})" if base else "")
        for r in results
    ]
    counts = [r.counts for r in results]

    def build(dropped: tuple[str, ...], _cut: int | None) -> Grid:
        columns = [
            Column("tool", tools),
            Column("figure", figures, right=True),
            Column("as", units),
            Column("− FlopCounterMode", ratios, right=True),
        ]
        if "what it counts" not in dropped:
            columns.append(Column("what it counts", counts))
        return Grid(columns, style="tight" if "_tight" in dropped else "plain")

    def stack(width: int | None) -> list[Line]:
        # what each counts is left out here, as the footer says (--format csv has it)
        blocks = [
            ([tool], [f"{figure} {unit}", ratio])
            for tool, figure, unit, ratio in zip(tools, figures, units, ratios, strict=True)
        ]
        return _blocks(blocks, width)

    title = [
        *(_title(one_layer) if one_layer is not None else [report.name]),
        "as each counter prints it",
        f"input {_size(report.output_shape(report.input))}",
    ]
    parts = [
        _heading(title, width),
        _fit(width, build, ("what it counts", "_tight"), stack=stack),
        *(_text(f"left out: {e['reason']}.".split(" "), width) for e in left_out),
    ]
    if counted is not None:
        parts.append(_text(_counted_words(report, counted), width))
    return _view(parts, width)


def print_tool(
    report: ModelLike,
    result: Any,
    batch_size: int = 1,
    *,
    one_layer: Report | None = None,
    counted: str | None = None,
) -> None:
    """Draw one tool's figures for a model (or a layer's PyTorch equivalent) on stdout."""
    print_view(
        lambda width: tool_view(
            report, result, width, batch_size, one_layer=one_layer, counted=counted
        )
    )


def print_tools(
    report: ModelLike,
    results: Sequence[Any],
    left_out: Sequence[dict[str, str]] = (),
    *,
    one_layer: Report | None = None,
    counted: str | None = None,
) -> None:
    """Draw every tool's total for a model (or a layer's PyTorch equivalent) on stdout
    (and the tools left out, with why)."""
    print_view(
        lambda width: tools_view(
            report, results, width, left_out, one_layer=one_layer, counted=counted
        )
    )


# ---------------------------------------------------------------------------
# A batch


def batch_view(
    rows: Sequence[tuple[int, Report]],
    width: int | None = None,
    labels: Sequence[str] | None = None,
) -> View:
    """One row per layer of a batch: line, its labels, layer, sizes, parameters, MACs."""
    tags = list(labels) if labels is not None and any(labels) else None

    def kind(report: Report) -> str:
        layer = report.layer
        return layer.kind if layer.convention == "keras" else f"{layer.kind} (torch)"

    def build(dropped: tuple[str, ...], _names: int | None) -> Grid:
        reports = [report for _, report in rows]
        columns = [Column("line", [str(number) for number, _ in rows], right=True)]
        if tags is not None:
            columns.append(Column("label", [_shorten(t, _names) for t in tags]))
        columns += [
            Column("layer", [kind(r) for r in reports]),
            Column("kernel", [_size(r.layer.kernel_size) for r in reports]),
            Column(
                "channels", [f"{r.layer.in_channels} → {r.layer.out_channels}" for r in reports]
            ),
            Column("output", [_size(r.output_size) if r.output_size else "" for r in reports]),
            Column("params", [_n(r.total) for r in reports], right=True),
            Column("MACs", ["" if r.macs is None else _n(r.macs) for r in reports], right=True),
        ]
        return Grid(columns, style="tight" if "_tight" in dropped else "plain")

    def stack(width: int | None) -> list[Line]:
        blocks = []
        for i, (number, r) in enumerate(rows):
            layer = r.layer
            heading = [
                f"line {number}",
                *([tags[i]] if tags is not None and tags[i] else []),
                kind(r),
                f"kernel {_size(layer.kernel_size)}",
                f"{layer.in_channels} → {layer.out_channels}",
            ]
            figures = []
            if r.output_size:
                figures.append(f"output {_size(r.output_size)}")
            figures.append(f"params {_n(r.total)}")
            if r.macs is not None:
                figures.append(f"MACs {_n(r.macs)}")
            blocks.append((heading, figures))
        return _blocks(blocks, width)

    natural = max((_cells(t) for t in tags or ()), default=0)
    return _view([_fit(width, build, BATCH_DROPS, names=natural, stack=stack)], width)


# ---------------------------------------------------------------------------
# The shipped models


def zoo_view(rows: Sequence[Sequence[object]], width: int | None = None) -> View:
    """The shipped models: name, input, parameters, non-trainable, MACs.

    ``rows`` are (name, framework, input shape, total, non-trainable, MACs).
    """
    names = [str(row[0]) for row in rows]
    shapes = [_size(row[2]) for row in rows]  # type: ignore[arg-type]  # a list of ints
    figures = [[_n(v) for v in row[3:6]] for row in rows]  # type: ignore[arg-type]  # ints

    def build(dropped: tuple[str, ...], cut: int | None) -> Grid:
        tight = "_tight" in dropped
        columns = [
            Column("model", [_shorten(name, cut) for name in names]),
            Column("input", shapes),
            Column("params", [f[0] for f in figures], right=True),
            Column("non-\ntrainable" if tight else "non-trainable", [f[1] for f in figures], True),
            Column("MACs", [f[2] for f in figures], right=True),
        ]
        return Grid(columns, style="tight" if tight else "plain")

    def stack(width: int | None) -> list[Line]:
        blocks = [
            ([name, shape], [f"params {f[0]}", f"non-trainable {f[1]}", f"MACs {f[2]}"])
            for name, shape, f in zip(names, shapes, figures, strict=True)
        ]
        return _blocks(blocks, width)

    # Names are never shortened here: a name is what the user types next.
    return _view([_fit(width, build, ("_tight",), stack=stack)], width)


# ---------------------------------------------------------------------------
# The layer kinds


def kinds_view(records: Sequence[dict[str, Any]], width: int | None = None) -> View:
    """The model format's reference (``convcount model --kinds``): per kind what it
    counts, its fields with their defaults, and the Keras and PyTorch layers."""
    kinds = [str(k["kind"]) for k in records]
    fields = [
        "\n".join(f"{f['name']} ({f['default']})" for f in k["fields"])
        + ("\ninputs (two or more)" if k["joins"] else "")
        for k in records
    ]
    fields = [f.strip("\n") or "-" for f in fields]
    frameworks = ["\n".join(str(v) for v in (k["keras"], k["torch"]) if v) or "-" for k in records]
    docs = [str(k["doc"]) for k in records]

    def build(dropped: tuple[str, ...], _names: int | None) -> Grid:
        room = 40 if "_narrow" in dropped else 60
        columns = [Column("kind", kinds)]
        if "descriptions" not in dropped:
            columns.append(
                Column("what it counts", ["\n".join(_prose(d.split(" "), room)) for d in docs])
            )
        columns.append(Column("fields (default)", fields))
        if "Keras / PyTorch" not in dropped:
            columns.append(Column("Keras / PyTorch", frameworks))
        return Grid(columns, style="plain")

    def stack(width: int | None) -> list[Line]:
        blocks = [
            (
                [kind],
                [*_prose(doc.split(" "), width), *field.split("\n"), *frame.split("\n")],
            )
            for kind, doc, field, frame in zip(kinds, docs, fields, frameworks, strict=True)
        ]
        return _blocks(blocks, width)

    drops = ("_narrow", "Keras / PyTorch", "descriptions")
    return _view([_fit(width, build, drops, stack=stack)], width, csv=False)


# ---------------------------------------------------------------------------
# Printing


def _columns_set() -> bool:
    return os.environ.get("COLUMNS", "").strip().isdigit()


def _console(width: int | None = None) -> Console:
    from rich.console import Console

    return Console(highlight=False, emoji=False, width=width)


def _texts(view: View) -> Group:
    from rich.console import Group
    from rich.text import Text

    texts = []
    for line in view.lines:
        text = Text(printable(line.text.rstrip()), no_wrap=True, overflow="ignore")
        if line.style.startswith("bold:"):  # a label column in bold
            text.stylize("bold", 0, int(line.style[5:]))
        elif line.style:
            text.stylize(line.style)
        texts.append(text)
    return Group(*texts)


def _styled() -> bool:
    """Whether rich would style stdout: a terminal, or FORCE_COLOR / TTY_COMPATIBLE set."""
    forced = os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1"
    try:
        return bool(forced) or sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):  # no usable stdout: nothing to style
        return False


def print_view(make: Callable[[int | None], View]) -> None:
    """Fit a view to the terminal (or COLUMNS) and print it; piped, at its natural width.

    Unstyled output (a pipe or a file) is written directly, the same text rich
    would write, without importing rich. Either way a line holding a control
    character is printed escaped: each view escapes what it shows from files
    where it lays it out (so that widths are right); this is the safety net.
    """
    if not _styled():
        width = int(os.environ["COLUMNS"]) if _columns_set() else None
        view = make(width)
        sys.stdout.write("".join(f"{printable(line.text.rstrip())}\n" for line in view.lines))
        return
    console = _console()
    view = make(console.width)
    console.print(_texts(view), crop=False)


def print_report(report: Report) -> None:
    """Draw one layer's tables on stdout."""
    print_view(lambda width: report_view(report, width))


def print_comparison(rows: Sequence[ComparisonRow]) -> None:
    """Draw a comparison on stdout."""
    print_view(lambda width: comparison_view(rows, width))


def print_model(report: ModelLike, batch_size: int = 1, selection: Any = None) -> None:
    """Draw a model summary on stdout."""
    print_view(lambda width: model_view(report, width, batch_size, selection))


def print_zoo_list(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """The shipped models as a table on stdout (``columns`` name the fields of ``rows``)."""
    del columns  # the table names its own columns
    print_view(lambda width: zoo_view(rows, width))


def print_kinds(records: Sequence[dict[str, Any]]) -> None:
    """The layer kinds as a table on stdout."""
    print_view(lambda width: kinds_view(records, width))


def print_batch_table(rows: Sequence[tuple[int, object, object]]) -> None:
    """One table of a batch's layers on stdout: (line, report, labels) rows."""
    from convcount.batch import label_cell

    reports = [(number, report) for number, report, _ in rows if isinstance(report, Report)]
    kept = [row for row in rows if isinstance(row[1], Report)]
    tags = [
        " ".join(label_cell(v) for v in labels.values()) if isinstance(labels, dict) else ""
        for _, _, labels in kept
    ]
    print_view(lambda width: batch_view(reports, width, tags))


def progress_bar() -> tuple[Callable[[int], None], Callable[[], None]]:
    """(update with rows done, close) for a transient progress display on stderr."""
    from rich.console import Console
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
