"""Reports as plain data: the JSON object and the flat CSV row.

This is the one place that defines the machine-readable schema (documented
in the README); the JSON, CSV and batch outputs all come from here.
"""

from __future__ import annotations

from typing import Any

from convcount.counting import TERM_NAMES, Report

#: Keys of a layer's JSON object, in order (see :func:`to_record`).
JSON_KEYS: tuple[str, ...] = (
    "layer",
    "dims",
    "kernel_size",
    "in_channels",
    "out_channels",
    "depth_multiplier",
    "groups",
    "bias",
    "depthwise_bias",
    "pointwise_bias",
    "convention",
    "input_size",
    "stride",
    "padding",
    "dilation",
    "output_padding",
    "dtype",
    "terms",
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

#: Columns of the CSV output, in order.
CSV_COLUMNS: tuple[str, ...] = (
    "layer",
    "dims",
    "kernel_size",
    "in_channels",
    "out_channels",
    "depth_multiplier",
    "groups",
    "bias",
    "depthwise_bias",
    "pointwise_bias",
    "convention",
    "input_size",
    "stride",
    "padding",
    "dilation",
    "output_padding",
    "dtype",
    *(f"params_{name}" for name in TERM_NAMES),
    "total",
    "output_size",
    "output_shape",
    "macs",
    "flops",
    "bias_adds",
    "param_bytes",
    "output_elements",
    "output_bytes",
    # The rest of each term's JSON object, after the columns above so that
    # their positions (and scripts that cut them) stay where they were.
    *(f"formula_{name}" for name in TERM_NAMES),
    *(f"macs_{name}" for name in TERM_NAMES),
    *(f"bias_adds_{name}" for name in TERM_NAMES),
)


def to_record(report: Report) -> dict[str, Any]:
    """The JSON object for one layer (schema in the README).

    Sequences are tuples, which every JSON encoder writes as arrays.
    """
    layer = report.layer
    return {
        "layer": layer.kind,
        "dims": layer.dims,
        "kernel_size": layer.kernel_size,
        "in_channels": layer.in_channels,
        "out_channels": layer.out_channels,
        "depth_multiplier": layer.depth_multiplier,
        "groups": layer.groups,
        "bias": layer.bias,
        "depthwise_bias": layer.depthwise_bias,
        "pointwise_bias": layer.pointwise_bias,
        "convention": layer.convention,
        "input_size": layer.input_size,
        "stride": layer.stride,
        "padding": layer.padding,
        "dilation": layer.dilation,
        "output_padding": layer.output_padding,
        "dtype": layer.dtype,
        "terms": [
            {
                "name": t.name,
                "formula": t.formula,
                "count": t.count,
                "macs": t.macs,
                "bias_adds": t.bias_adds,
            }
            for t in report.terms
        ],
        "total": report.total,
        "output_size": report.output_size,
        "output_shape": report.output_shape,
        "macs": report.macs,
        "flops": report.flops,
        "bias_adds": report.bias_adds,
        "param_bytes": report.param_bytes,
        "output_elements": report.output_elements,
        "output_bytes": report.output_bytes,
    }


def csv_cell(value: object) -> str:
    """A value as CSV text: lists of numbers as ``3x5``, None as empty, bools as true/false.

    A list of names (a model layer's ``inputs``) is written as a JSON array,
    since a name may hold any character: ``["conv1", "skip"]``; a mapping (a
    model's ``uncounted`` layers) as a JSON object.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        import json

        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, str) for v in value):
            import json

            return json.dumps(list(value), ensure_ascii=False)
        return "x".join(str(v) for v in value)
    return str(value)


def to_csv_row(report: Report) -> list[str]:
    """The CSV row for one layer, in :data:`CSV_COLUMNS` order.

    It carries everything the JSON object does: each term's count, formula,
    MACs and bias additions are the columns ``params_``, ``formula_``,
    ``macs_`` and ``bias_adds_`` + the term's name (empty when the layer has no
    such term); :func:`from_csv_row` reads it back.
    """
    record = to_record(report)
    cells = dict(record)
    for term in record["terms"]:
        name = term["name"]
        cells[f"params_{name}"] = term["count"]
        cells[f"formula_{name}"] = term["formula"]
        cells[f"macs_{name}"] = term["macs"]
        cells[f"bias_adds_{name}"] = term["bias_adds"]
    return [csv_cell(cells.get(c)) for c in CSV_COLUMNS]


# ---------------------------------------------------------------------------
# Reading CSV back: each column's JSON type, so that a row becomes the object
# the JSON output holds (lists as lists, empty cells as null).

_INTS = "ints"
_PADDING = "padding"
#: Column name -> how its text becomes a JSON value; columns not listed are text.
CELL_TYPES: dict[str, str] = {
    **dict.fromkeys(
        (
            "dims",
            "in_channels",
            "out_channels",
            "depth_multiplier",
            "groups",
            "total",
            "macs",
            "flops",
            "bias_adds",
            "param_bytes",
            "output_elements",
            "output_bytes",
            "params",
            "index",
            "trainable_params",
            "non_trainable_params",
            "buffers",
            "batch_size",
            "input_bytes",
            "activation_bytes",
            "forward_backward_bytes",
            "trainable_param_bytes",
            "non_trainable_param_bytes",
            "buffer_bytes",
            "total_bytes",
            "peak_activation_bytes",
            *(f"{kind}_{name}" for kind in ("params", "macs", "bias_adds") for name in TERM_NAMES),
        ),
        "int",
    ),
    **dict.fromkeys(
        ("bias", "depthwise_bias", "pointwise_bias", "macs_exact", "params_exact"),
        "bool",
    ),
    **dict.fromkeys(
        (
            "kernel_size",
            "input_size",
            "stride",
            "dilation",
            "output_padding",
            "output_size",
            "output_shape",
            "input_shape",
            "receptive_field",
        ),
        _INTS,
    ),
    **dict.fromkeys(
        ("params_ratio", "theoretical_ratio", "macs_ratio", "width_multiplier"), "float"
    ),
    "padding": _PADDING,
    "inputs": "json",
    "uncounted": "json",
}


def parse_cell(column: str, text: str) -> Any:
    """The JSON value of a CSV cell written by :func:`csv_cell` (empty text is null)."""
    if text == "":
        return None
    kind = CELL_TYPES.get(column, "str")
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        return text == "true"
    if kind == _INTS:
        return [int(v) for v in text.split("x")]
    if kind == _PADDING:
        return text if text.isalpha() else [int(v) for v in text.split("x")]
    if kind == "json":
        import json

        return json.loads(text)
    return text


def from_csv_row(row: dict[str, str]) -> dict[str, Any]:
    """One layer's JSON object from its CSV row (a :class:`csv.DictReader` row)."""
    record = {
        column: parse_cell(column, row[column])
        for column in CSV_COLUMNS
        if not column.startswith(("params_", "formula_", "macs_", "bias_adds_"))
    }
    record["terms"] = [
        {
            "name": name,
            "formula": row[f"formula_{name}"],
            "count": parse_cell(f"params_{name}", row[f"params_{name}"]),
            "macs": parse_cell(f"macs_{name}", row[f"macs_{name}"]),
            "bias_adds": parse_cell(f"bias_adds_{name}", row[f"bias_adds_{name}"]),
        }
        for name in TERM_NAMES
        if row[f"params_{name}"] != ""
    ]
    # The JSON object's key order, for a record equal in every way.
    return {key: record[key] for key in JSON_KEYS}
