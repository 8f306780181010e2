"""Reports as plain data: the JSON object and the flat CSV row.

This is the one place that defines the machine-readable schema (documented
in the README); the JSON, CSV and batch outputs all come from here.
"""

from __future__ import annotations

from typing import Any

from convcount.counting import TERM_NAMES, Report

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
    """A value as CSV text: lists as ``3x5``, None as empty, bools as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return str(value)


def to_csv_row(report: Report) -> list[str]:
    """The CSV row for one layer, in :data:`CSV_COLUMNS` order."""
    record = to_record(report)
    counts = {f"params_{t['name']}": t["count"] for t in record["terms"]}
    return [csv_cell(counts[c] if c in counts else record.get(c)) for c in CSV_COLUMNS]
