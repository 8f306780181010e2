"""The model format's reference, generated from the layer-kind registry.

``convcount model --kinds`` prints it and the README carries the same text (a
test fails when the two drift), so the documentation cannot fall behind
:data:`convcount.model.kinds.KINDS`.
"""

from __future__ import annotations

from typing import Any

from convcount.model.expr import FUNCTIONS
from convcount.model.kinds import KINDS, REQUIRED, Field


def _default(field: Field) -> str:
    if field.default is REQUIRED:
        return "required"
    if callable(field.default):
        keras, torch = field.default("keras"), field.default("torch")
        return f"{_value(keras)} (keras), {_value(torch)} (torch)"
    return "-" if field.default is None else _value(field.default)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _entry(field: Field) -> str:
    """A field in the reference: its name, default and, for a choice, every value."""
    if field.choices:
        return f"`{field.name}` ({_default(field)}; one of {', '.join(field.choices)})"
    return f"`{field.name}` ({_default(field)})"


def kinds_records() -> list[dict[str, Any]]:
    """Every kind with its fields, as JSON."""
    return [
        {
            "kind": kind.name,
            "doc": kind.doc,
            "joins": kind.joins,
            "keras": kind.keras or None,
            "torch": kind.torch or None,
            "fields": [
                {
                    "name": f.name,
                    "type": f.type,
                    "default": _default(f),
                    "doc": f.doc + (f" ({', '.join(f.choices)})" if f.choices else ""),
                }
                for f in kind.fields
            ],
        }
        for kind in KINDS.values()
    ]


def reference_text(names: list[str] | None = None) -> str:
    """The reference as Markdown: one table row per kind (or per kind ``names`` lists),
    its fields listed; the notes on names and expressions follow the whole reference."""
    lines = [
        "| kind | what it counts | fields (default) | Keras / PyTorch |",
        "|---|---|---|---|",
    ]
    for kind in KINDS.values():
        if names is not None and kind.name not in names:
            continue
        fields = "; ".join(_entry(f) for f in kind.fields) or "-"
        if kind.joins:
            fields = "`inputs` (two or more layers)" + ("; " + fields if kind.fields else "")
        frameworks = " / ".join(part for part in (kind.keras, kind.torch) if part) or "-"
        lines.append(f"| `{kind.name}` | {kind.doc} | {fields} | {frameworks} |")
    if names is not None:
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "Every layer also takes `name`, `input` (default: the layer before; joins take "
        "`inputs`), `when` (an expression; false skips the layer) and, in the torch "
        "convention, `call`: how the PyTorch code runs it when not as a module of its "
        "kind's class (`F.relu`, `F.avg_pool2d`, or another class's name such as "
        "`LayerNorm2d`), for `--count-as thop` and `ptflops-pytorch`; for a layer of "
        "several parts (`attention`, `window_attention`, `patch_merging`) the torchvision "
        "module it is, such as `ShiftedWindowAttention` (its fields choose it by default; "
        "see `--count-as`). A block use takes "
        "`block`, `name`, `input`, `when`, `repeat`, `first` and the block's parameters, "
        "or `table` and `columns` to be used once per row of a stage table.",
        "",
        "Expressions (a string starting with `=`): whole numbers and exact decimals, "
        "`+ - * / // % **`, comparisons, `and or not`, `a if c else b`, lists and indexing "
        "(`in_size[0]`), the names of parameters, `alpha`, `resolution`, `in_channels`, "
        "`in_size`, `block_in_channels`, `block_in_size`, `i`, `repeats`, `row`, and the "
        "functions "
        + ", ".join(
            f"`{name}`" for name in sorted({*FUNCTIONS, "correct_pad", "size_of", "channels_of"})
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"
