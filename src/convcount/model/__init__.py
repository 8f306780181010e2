"""Whole networks: the model language, the layer-kind registry and the shipped zoo."""

from __future__ import annotations

from convcount.model.language import (
    MODEL_CSV_COLUMNS,
    build_model,
    layer_record,
    load_model,
    model_csv_rows,
    model_record,
    read_model,
    shipped_models,
)

__all__ = [
    "MODEL_CSV_COLUMNS",
    "build_model",
    "layer_record",
    "load_model",
    "model_csv_rows",
    "model_record",
    "read_model",
    "shipped_models",
]
