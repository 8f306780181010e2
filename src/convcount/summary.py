"""A counted model as figures: memory at a batch size, and the JSON and CSV records.

Only the attributes of a model report named in the protocols below are read,
so any model front end that provides them is summarised the same way.

Memory, for a batch of ``N`` at the model's dtype (``b`` bytes per element):

* ``input_bytes``: the input tensor, ``N × elements × b``.
* ``activation_bytes``: every layer's output, summed: ``N × Σ elements × b``
  (what a forward pass writes; a framework frees some of it early, so this is
  an upper bound for inference).
* ``forward_backward_bytes``: ``2 × activation_bytes``, the outputs and their
  gradients (every layer's; torchinfo's "Forward/backward pass size" counts only
  the layers that own parameters).
* ``trainable_param_bytes``, ``non_trainable_param_bytes`` and their sum
  ``param_bytes``: parameters at ``b`` bytes each (Keras's BatchNormalization
  statistics are non-trainable parameters).
* ``buffer_bytes``: state that is not a parameter (PyTorch's BatchNorm running
  statistics, when the model front end reports them as ``buffers``).
* ``total_bytes``: input + forward/backward + parameters + buffers. torchinfo's
  "Estimated Total Size" is another figure (it doubles only the outputs of
  layers that own parameters, counts no buffers and prints MB of 10^6 bytes):
  ``convcount model --count-as torchinfo`` gives it exactly.
* ``peak_activation_bytes``: the most bytes of layer outputs alive at once in
  inference, when the layers run in order and each output is freed after its
  last reader (the input too), and ``peak_activation_layer``, the layer that
  runs at that moment: the figure that decides whether a network fits a device's
  working memory (:func:`convcount.model.tools.peak_activation`).

MACs scale with the batch (but for what runs once per forward: Swin V2's bias
MLP on a buffer, :attr:`convcount.model.graph.ModelLayer.macs_once`); parameters
do not. A layer whose MACs convcount
cannot count (a model file's custom layer) has ``macs`` null; the model's
``macs`` then counts the other layers only (a lower bound), ``macs_exact`` is
false and ``uncounted`` says how many layers of each class went uncounted.
When such a layer's parameters are unknown too (a file without weights), its
parameter figures are null and ``params_exact`` is false.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any, NamedTuple, Protocol

from convcount.layers import DTYPE_BYTES


class TensorLike(Protocol):
    """A layer's output for one example: spatial size (empty once flat) and channels."""

    @property
    def spatial(self) -> tuple[int, ...]: ...
    @property
    def channels(self) -> int: ...


class LayerLike(Protocol):
    """One counted layer of a model."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def inputs(self) -> tuple[str, ...]: ...
    @property
    def output(self) -> Any: ...  # a TensorLike; Any so that a NamedTuple field fits
    @property
    def trainable(self) -> int: ...
    @property
    def non_trainable(self) -> int: ...
    @property
    def macs(self) -> int | None: ...
    @property
    def params(self) -> int: ...


class ModelLike(Protocol):
    """A counted model: what the summary, the table and the records read."""

    @property
    def name(self) -> str: ...
    @property
    def input(self) -> Any: ...  # a TensorLike
    @property
    def dtype(self) -> str: ...
    @property
    def convention(self) -> str: ...
    @property
    def layers(self) -> Sequence[Any]: ...  # LayerLike rows
    @property
    def total_params(self) -> int: ...
    @property
    def trainable_params(self) -> int: ...
    @property
    def non_trainable_params(self) -> int: ...
    @property
    def macs(self) -> int: ...
    def macs_at(self, batch_size: int) -> int: ...
    @property
    def receptive_field(self) -> tuple[tuple[int, ...], str] | None: ...
    def output_shape(self, tensor: Any) -> tuple[int, ...]: ...


def elements(tensor: TensorLike) -> int:
    """Elements of one example's tensor."""
    return prod(tensor.spatial) * tensor.channels


def buffers(layer: Any) -> int:
    """A layer's values that are state, not parameters (0 when the front end has none)."""
    return int(getattr(layer, "buffers", 0) or 0)


class Memory(NamedTuple):
    """Memory of a model at a batch size, in bytes (definitions in the module docstring)."""

    batch_size: int
    input_bytes: int
    activation_bytes: int
    forward_backward_bytes: int
    trainable_param_bytes: int
    non_trainable_param_bytes: int
    param_bytes: int
    buffer_bytes: int
    total_bytes: int
    peak_activation_bytes: int
    peak_activation_layer: str


def memory(report: ModelLike, batch_size: int = 1) -> Memory:
    """The memory figures of ``report`` for ``batch_size`` examples at its dtype."""
    width = DTYPE_BYTES[report.dtype]
    input_bytes = batch_size * elements(report.input) * width
    activations = batch_size * sum(elements(layer.output) for layer in report.layers) * width
    trainable = report.trainable_params * width
    non_trainable = report.non_trainable_params * width
    state = sum(buffers(layer) for layer in report.layers) * width
    from convcount.model.tools import peak_activation

    peak, where = peak_activation(report, batch_size)
    return Memory(
        batch_size=batch_size,
        input_bytes=input_bytes,
        activation_bytes=activations,
        forward_backward_bytes=2 * activations,
        trainable_param_bytes=trainable,
        non_trainable_param_bytes=non_trainable,
        param_bytes=trainable + non_trainable,
        buffer_bytes=state,
        total_bytes=input_bytes + 2 * activations + trainable + non_trainable + state,
        peak_activation_bytes=peak,
        peak_activation_layer=where,
    )


def connected_to(report: ModelLike) -> list[tuple[str, ...]]:
    """Per layer, its inputs when they are not simply the layer before (else ``()``).

    The first layer's single input is the model's input, which needs no saying.
    """
    out: list[tuple[str, ...]] = []
    previous: str | None = None
    for layer in report.layers:
        inputs = tuple(layer.inputs)
        simple = len(inputs) == 1 and (previous is None or inputs[0] == previous)
        out.append(() if simple else inputs)
        previous = layer.name
    return out


def uncounted(report: Any) -> dict[str, int]:
    """Layers whose MACs the front end could not count, by class (none when it has no such)."""
    return dict(getattr(report, "uncounted", None) or {})


def uncounted_text(uncounted: dict[str, int]) -> str:
    """Layers of unknown MACs in words: ``37 layers (LayerScale ×36, Custom ×1)``."""
    total = sum(uncounted.values())
    listed = ", ".join(f"{what} ×{count:,}" for what, count in uncounted.items())
    return f"{total:,} layer{'' if total == 1 else 's'} ({listed})"


def has_batchnorm(report: ModelLike) -> bool:
    """Whether any layer is a batch normalisation (the notes about it apply)."""
    return any("batchnorm" in layer.kind.replace("_", "") for layer in report.layers)


# ---------------------------------------------------------------------------
# Records: JSON and CSV

#: Columns of a layer row of the model CSV (the keys of a layer's JSON object).
MODEL_LAYER_COLUMNS: tuple[str, ...] = (
    "index",
    "name",
    "kind",
    "op",
    "inputs",
    "output_shape",
    "params",
    "trainable_params",
    "non_trainable_params",
    "buffers",
    "macs",
)
#: Columns filled on the last row only: the model's own figures.
MODEL_TOTAL_COLUMNS: tuple[str, ...] = (
    "model",
    "convention",
    "width_multiplier",
    "batch_size",
    "input_shape",
    "dtype",
    "flops",
    "macs_exact",
    "params_exact",
    "uncounted",
    *Memory._fields[1:],
    "receptive_field",
    "receptive_field_layer",
)
MODEL_CSV_COLUMNS: tuple[str, ...] = (*MODEL_LAYER_COLUMNS, *MODEL_TOTAL_COLUMNS)


def layer_record(report: ModelLike, index: int, batch_size: int = 1) -> dict[str, Any]:
    """The JSON object of ``report.layers[index]`` (its ``index`` counts from 1)."""
    return row_record(report, report.layers[index], index + 1, batch_size)


def row_record(report: ModelLike, layer: Any, number: int, batch_size: int = 1) -> dict[str, Any]:
    """The JSON object of one row: a layer, or a group of a rolled-up view
    (:class:`convcount.view.Row`, whose ``kind`` is ``group``). Unknown figures (a
    model file's custom layer) are null."""
    known = getattr(layer, "params_known", True)
    record = {
        "index": number,
        "name": layer.name,
        "kind": layer.kind,
        "op": getattr(layer, "op", "") or None,
        "inputs": list(layer.inputs),
        "output_shape": (
            list(report.output_shape(layer.output)) if layer.output.channels else None
        ),
        "params": layer.params if known else None,
        "trainable_params": layer.trainable if known else None,
        "non_trainable_params": layer.non_trainable if known else None,
        "buffers": buffers(layer) if known else None,
        "macs": layer.macs_at(batch_size),
        "config": config_record(getattr(layer, "config", None)),
    }
    if layer.kind == "group":
        record["last_index"] = layer.last
        record["layers"] = layer.layers
    return record


def config_record(config: Any) -> dict[str, Any]:
    """A layer's configuration as JSON values: sizes as lists, exact decimals as floats."""
    if not config:
        return {}
    return {name: _plain(value) for name, value in config.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return float(value)  # an exact decimal (Fraction) from a model file's expression


def model_record(report: ModelLike, batch_size: int = 1, selection: Any = None) -> dict[str, Any]:
    """A whole model as JSON: per-layer rows, totals and memory (schema in the README).

    With a :class:`convcount.view.Selection`, ``layers`` holds the rows it shows
    (filtered layers, or groups) and ``view`` says what was asked; every total is
    still the whole network's.
    """
    rf = report.receptive_field
    macs = report.macs_at(batch_size)
    unknown = uncounted(report)
    if selection is None:
        layers = [layer_record(report, i, batch_size) for i in range(len(report.layers))]
    else:
        from convcount.view import rows

        layers = [row_record(report, r, r.number, batch_size) for r in rows(report, selection)]
    record = {
        "model": report.name,
        "convention": report.convention,
        "width_multiplier": getattr(report, "width_multiplier", None),
        "batch_size": batch_size,
        "input_shape": (list(report.output_shape(report.input)) if report.input.channels else None),
        "dtype": report.dtype,
        "layers": layers,
        "total_params": report.total_params,
        "trainable_params": report.trainable_params,
        "non_trainable_params": report.non_trainable_params,
        "buffers": sum(buffers(layer) for layer in report.layers),
        "macs": macs,
        "flops": 2 * macs,
        "macs_exact": not unknown,
        "params_exact": bool(getattr(report, "params_exact", True)),
        "uncounted": unknown,
        **memory(report, batch_size)._asdict(),
        "receptive_field": None if rf is None else {"size": list(rf[0]), "layer": rf[1]},
    }
    if selection is not None:
        record["view"] = {**selection.record(), "layer_count": len(report.layers)}
    return record


#: Columns of a rolled-up view's group rows, after the totals.
GROUP_COLUMNS: tuple[str, ...] = ("last_index", "layers")
#: Prefix of the configuration columns: ``config.kernel_size``, one per field that occurs.
CONFIG_PREFIX = "config."
#: Columns of the ``view`` object, filled on the last row like the totals.
VIEW_COLUMNS: tuple[str, ...] = (
    "view.depth",
    "view.only",
    "view.match",
    "view.range",
    "view.layer_count",
)


def model_csv(record: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a :func:`model_record` as CSV: one row per layer, then
    the totals.

    The columns are :data:`MODEL_CSV_COLUMNS`, then a rolled-up view's
    :data:`GROUP_COLUMNS` and :data:`VIEW_COLUMNS` when it has them, then one
    ``config.FIELD`` column per configuration field that occurs, in order of
    first use. The last row has no index; its ``name`` is ``total`` and it
    carries the model's own figures in :data:`MODEL_TOTAL_COLUMNS`.
    """
    from convcount.records import csv_cell

    layers = record["layers"]
    fields = list(dict.fromkeys(f for layer in layers for f in layer.get("config") or {}))
    groups = any("layers" in layer for layer in layers)
    view = record.get("view")
    header = [
        *MODEL_CSV_COLUMNS,
        *(GROUP_COLUMNS if groups else ()),
        *(VIEW_COLUMNS if view is not None else ()),
        *(CONFIG_PREFIX + f for f in fields),
    ]
    rows = []
    for layer in layers:
        row = [csv_cell(layer[c]) for c in MODEL_LAYER_COLUMNS]
        row.extend([""] * len(MODEL_TOTAL_COLUMNS))
        if groups:
            row.extend(csv_cell(layer.get(c)) for c in GROUP_COLUMNS)
        if view is not None:
            row.extend([""] * len(VIEW_COLUMNS))
        config = layer.get("config") or {}
        row.extend(_config_cell(config.get(f)) for f in fields)
        rows.append(row)
    rf = record["receptive_field"]
    totals = {
        **record,
        "name": "total",
        "params": record["total_params"],
        "receptive_field": None if rf is None else rf["size"],
        "receptive_field_layer": None if rf is None else rf["layer"],
    }
    last = [
        "" if c in ("index", "kind", "inputs", "output_shape") else csv_cell(totals.get(c))
        for c in MODEL_CSV_COLUMNS
    ]
    if groups:
        last.extend([""] * len(GROUP_COLUMNS))
    if view is not None:
        last.extend(_view_cell(c, view[c.removeprefix("view.")]) for c in VIEW_COLUMNS)
    last.extend([""] * len(fields))
    rows.append(last)
    return header, rows


def _view_cell(column: str, value: Any) -> str:
    """``view.range`` as ``FROM:TO``, the lists of kinds and patterns joined by commas."""
    from convcount.records import csv_cell

    if isinstance(value, list):
        return (":" if column == "view.range" else ",").join(value)
    return csv_cell(value)


def _config_cell(value: Any) -> str:
    """A configuration value as CSV text: sizes as ``3x3``, pads per side as JSON."""
    from convcount.records import csv_cell

    if value == []:  # a scalar tensor's shape: written so that it reads back
        return "[]"
    if isinstance(value, list) and any(isinstance(v, list) for v in value):
        import json

        return json.dumps(value)
    return csv_cell(value)


def model_csv_rows(record: dict[str, Any]) -> list[list[str]]:
    """The CSV rows of a :func:`model_record` (:func:`model_csv` without the header)."""
    return model_csv(record)[1]


def model_from_csv(rows: Sequence[dict[str, str]]) -> dict[str, Any]:
    """The :func:`model_record` a model CSV was written from (rows of a csv.DictReader)."""
    from convcount.records import parse_cell

    *layer_rows, last = rows
    totals = {c: parse_cell(c, last[c]) for c in MODEL_CSV_COLUMNS}
    size, where = totals.pop("receptive_field"), totals.pop("receptive_field_layer")
    record: dict[str, Any] = {c: totals[c] for c in MODEL_TOTAL_COLUMNS[:6]}
    fields = [c for c in last if c.startswith(CONFIG_PREFIX)]
    layers = []
    for row in layer_rows:
        layer = {c: parse_cell(c, row[c]) for c in MODEL_LAYER_COLUMNS}
        layer["config"] = {
            f.removeprefix(CONFIG_PREFIX): parse_config_cell(
                row["kind"], f.removeprefix(CONFIG_PREFIX), row[f]
            )
            for f in fields
            if row[f] != ""
        }
        layer["inputs"] = layer["inputs"] or []  # none (a group's, a weight's): written empty
        if row.get("layers"):
            layer["last_index"] = int(row["last_index"])
            layer["layers"] = int(row["layers"])
        layers.append(layer)
    record["layers"] = layers
    record.update(
        total_params=totals["params"],
        trainable_params=totals["trainable_params"],
        non_trainable_params=totals["non_trainable_params"],
        buffers=totals["buffers"],
        macs=totals["macs"],
        flops=totals["flops"],
        macs_exact=totals["macs_exact"],
        params_exact=totals["params_exact"],
        uncounted=totals["uncounted"] or {},
    )
    record.update({name: totals[name] for name in Memory._fields[1:]})
    record["receptive_field"] = None if size is None else {"size": size, "layer": where}
    if "view.depth" in last:
        depth = last["view.depth"]
        span = last["view.range"]
        record["view"] = {
            "depth": int(depth) if depth else None,
            "only": [k for k in last["view.only"].split(",") if k],
            "match": [k for k in last["view.match"].split(",") if k],
            "range": span.split(":", 1) if span else None,
            "layer_count": int(last["view.layer_count"]),
        }
    return record


def parse_config_cell(kind: str, field: str, text: str) -> Any:
    """A configuration cell's JSON value, by the field's type in the layer-kind registry."""
    import json

    from convcount.model.kinds import KINDS

    spec = KINDS.get(kind)
    # a model file's own rows (a weight tensor) carry only their shape
    types = {f.name: f.type for f in spec.fields} if spec is not None else {"shape": "shape"}
    kind_of = types.get(field)
    if kind_of == "int":
        return int(text)
    if kind_of in ("ints", "shape"):
        return [] if text == "[]" else [int(v) for v in text.split("x")]
    if kind_of == "bool":
        return text == "true"
    if kind_of == "number":
        number = float(text)
        return int(text) if text.lstrip("-").isdigit() else number
    if kind_of == "padding":
        return text if text.isalpha() else [int(v) for v in text.split("x")]
    if kind_of in ("choice", None) and not text.startswith("["):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
