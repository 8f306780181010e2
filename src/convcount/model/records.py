"""A counted model as JSON and CSV records (the schema is in the README)."""

from __future__ import annotations

from typing import Any

from convcount.model.graph import ModelLayer, ModelReport

MODEL_CSV_COLUMNS = (
    "index",
    "name",
    "kind",
    "inputs",
    "output_shape",
    "params",
    "trainable_params",
    "non_trainable_params",
    "buffers",
    "macs",
)


def layer_record(report: ModelReport, layer: ModelLayer) -> dict[str, Any]:
    """One layer of a model as JSON."""
    return {
        "index": layer.number,
        "name": layer.name,
        "kind": layer.kind,
        "inputs": list(layer.inputs),
        "output_shape": list(report.output_shape(layer.output)),
        "params": layer.params,
        "trainable_params": layer.trainable,
        "non_trainable_params": layer.non_trainable,
        "buffers": layer.buffers,
        "macs": layer.macs,
    }


def model_record(report: ModelReport) -> dict[str, Any]:
    """A whole model as JSON: per-layer rows and totals."""
    rf = report.receptive_field
    return {
        "model": report.name,
        "convention": report.convention,
        "width_multiplier": report.width_multiplier,
        "input_shape": list(report.output_shape(report.input)),
        "dtype": report.dtype,
        "layers": [layer_record(report, layer) for layer in report.layers],
        "total_params": report.total_params,
        "trainable_params": report.trainable_params,
        "non_trainable_params": report.non_trainable_params,
        "buffers": report.buffers,
        "macs": report.macs,
        "flops": 2 * report.macs,
        "param_bytes": report.param_bytes,
        "receptive_field": None if rf is None else {"size": list(rf[0]), "layer": rf[1]},
    }


def model_csv_rows(report: ModelReport) -> list[list[str]]:
    """One CSV row per layer and a last row of totals."""
    from convcount.records import csv_cell

    rows = [
        [csv_cell(layer_record(report, layer)[c]) for c in MODEL_CSV_COLUMNS]
        for layer in report.layers
    ]
    totals = {
        "name": "total",
        "params": report.total_params,
        "trainable_params": report.trainable_params,
        "non_trainable_params": report.non_trainable_params,
        "buffers": report.buffers,
        "macs": report.macs,
    }
    rows.append([csv_cell(totals.get(c)) for c in MODEL_CSV_COLUMNS])
    return rows
