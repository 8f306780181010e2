"""What other counters print for a network, and why each differs from FlopCounterMode.

convcount's own MACs are those ``torch.utils.flop_counter.FlopCounterMode``
counts (convolutions and matrix products, no bias). Other tools count other
things; each is one entry of :data:`TOOLS`, a function that reads a counted
network (any :class:`convcount.model.graph.ModelReport`) and returns what that
tool prints for the same network, per layer and in total, with the rule it
follows. The rules were read from each tool's source at the pinned version and
are checked against the tools themselves (``tests/tools/``):

* ``torchinfo`` 1.8.0, ``summary()``: per call of a leaf module that owns
  parameters, "mult-adds" = parameters (bias included) × output positions × batch
  for a class named ``*Conv*`` (transposed ones too: output positions), else
  parameters × batch (a Linear on a 3-D input counts once per example, not per
  position; a BatchNorm counts 2 per channel). Its "Forward/backward pass size"
  is 2 × the output bytes of those calls only; "Input size" is the input
  tensor's storage as Python's ``sys.getsizeof`` reports it (its bytes plus the
  storage object's 64 bytes); "Params size" the parameters' bytes; its
  "Estimated Total Size" their sum; MB are 10^6 bytes, printed to 2 decimals.
* ``fvcore`` 0.1.5, ``FlopCountAnalysis``: per traced operator: convolutions and
  linear layers as FlopCounterMode (no bias), BatchNorm in eval mode 1 per
  input element (2 with its affine weight and bias), LayerNorm and GroupNorm 5
  per element (4 without affine), ``adaptive_avg_pool2d`` 1 per input element,
  2-D upsampling 1 (nearest) or 4 (bilinear) per output element. Every other
  operator (adds, multiplies, pooling, most activations, 1-D and 3-D pooling
  and upsampling) counts 0, and fvcore lists the ones it did not know as
  "unsupported".
* ``ptflops`` 0.7.5 with ``backend="aten"``: FlopCounterMode's MACs plus the bias
  additions of convolutions and linear layers (``addmm``, also on the rows of a
  flattened 4-D input) once per output element; everything else 0.

``thop`` and ptflops's ``pytorch`` backend count per module class (a functional
call counts nothing, an unknown module's parameters are dropped), which a
counted network does not record yet; they are not reproduced here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod
from typing import Any, NamedTuple

from convcount.errors import ConvcountError
from convcount.layers import DTYPE_BYTES

#: Extra bytes ``sys.getsizeof`` reports for a torch storage (torch 2.13): torchinfo
#: adds them to the input's bytes in its "Input size".
STORAGE_OVERHEAD_BYTES = 64

_CONVS = frozenset({"conv", "pointwise", "depthwise", "transpose"})


class ToolLayer(NamedTuple):
    """One layer's figure under a tool."""

    name: str
    figure: int
    """The tool's MACs or FLOPs for this layer, at the batch size."""
    note: str = ""
    """Why the count differs from FlopCounterMode's, when it does."""


class ToolCount(NamedTuple):
    """What one tool prints for a network."""

    tool: str
    total: int
    """Its total (MACs, or what the tool calls FLOPs), at the batch size."""
    unit: str
    """What the tool calls the figure ("Total mult-adds", "flops", "MACs")."""
    layers: tuple[ToolLayer, ...]
    params: int | None
    """The parameters it reports, when it reports them."""
    memory: dict[str, int] | None
    """Its memory figures in bytes, when it reports them (torchinfo)."""
    printed: dict[str, str]
    """Its headline figures as it prints them."""
    counts: str
    """One line: what it counts that FlopCounterMode does not, or skips."""


class _Row(NamedTuple):
    """A layer with its input tensors, as the rules read it."""

    name: str
    kind: str
    inputs: tuple[Any, ...]
    output: Any
    params: int
    macs: int
    config: dict[str, Any]
    runs: bool


def _rows(report: Any) -> list[_Row]:
    tensors: dict[str, Any] = {"input": report.input}
    rows = []
    for layer in report.layers:
        config = getattr(layer, "config", None) or {}
        ins = tuple(tensors[name] for name in layer.inputs if name in tensors)
        macs = layer.macs if layer.macs is not None else 0
        runs = bool(getattr(layer, "runs", True))
        rows.append(
            _Row(layer.name, layer.kind, ins, layer.output, layer.params, macs, dict(config), runs)
        )
        tensors[layer.name] = layer.output
    return rows


def _elements(tensor: Any) -> int:
    return int(prod(tensor.spatial)) * int(tensor.channels)


def _positions(tensor: Any) -> int:
    return int(prod(tensor.spatial))


def _weights(row: _Row) -> int:
    """Weights of a convolution or dense layer, from its MACs: params minus them is bias."""
    if row.kind == "transpose":
        per = _positions(row.inputs[0])
    elif row.kind == "dense":
        per = _positions(row.output) if row.output.spatial else 1
    else:
        per = _positions(row.output)
    return row.macs // per if per else 0


def _bias(row: _Row) -> int:
    """Bias values of a convolution or dense layer (0 when it has none)."""
    return row.params - _weights(row)


def _torch_only(report: Any, tool: str) -> None:
    if report.convention != "torch":
        raise ConvcountError(
            "count_as",
            f"--count-as: torchinfo, fvcore and ptflops count PyTorch modules, and "
            f"{report.name} follows the keras convention (a model file can be counted with "
            "--convention torch)",
        )


# ---------------------------------------------------------------------------
# torchinfo


def _torchinfo_modules(row: _Row) -> list[tuple[int, int, bool]]:
    """(parameters, output elements per example, conv-like) of each leaf module call."""
    if row.params == 0 or row.kind == "layer_scale" or not row.runs:
        # layer_scale is a parameter of its parent module, not a leaf call
        return []
    out = _elements(row.output)
    if row.kind == "separable":
        config = row.config
        cin = _elements(row.inputs[0]) // max(_positions(row.inputs[0]), 1)
        mult = int(config.get("depth_multiplier", 1))
        kernel = prod(config.get("kernel_size", (1,)))
        dw_out = cin * mult * _positions(row.output)
        dw = kernel * cin * mult + (cin * mult if config.get("depthwise_bias", True) else 0)
        return [(dw, dw_out, True), (row.params - dw, out, True)]
    return [(row.params, out, row.kind in _CONVS or row.kind == "separable")]


def torchinfo(report: Any, batch_size: int = 1) -> ToolCount:
    """torchinfo 1.8.0's ``summary()`` figures (see the module docstring)."""
    _torch_only(report, "torchinfo")
    width = DTYPE_BYTES[report.dtype]
    layers = []
    total = 0
    output_bytes = 0
    for row in _rows(report):
        count = 0
        for params, out, conv in _torchinfo_modules(row):
            positions = out // max(row.output.channels, 1) if conv else 1
            count += params * batch_size * positions
            output_bytes += 2 * batch_size * out * width
        total += count
        layers.append(ToolLayer(row.name, count, _torchinfo_note(row, count, batch_size)))
    input_bytes = batch_size * _elements(report.input) * width + STORAGE_OVERHEAD_BYTES
    # "Params size" sums leaf modules only: a parameter a parent module owns itself
    # (ConvNeXt's layer_scale) is in the total but not in the bytes.
    # A module that never runs (an auxiliary head in eval mode) is not in it either.
    param_bytes = width * sum(
        row.params for row in _rows(report) if row.kind != "layer_scale" and row.runs
    )
    memory = {
        "input_bytes": input_bytes,
        "forward_backward_bytes": output_bytes,
        "param_bytes": param_bytes,
        "total_bytes": input_bytes + output_bytes + param_bytes,
    }
    printed = {
        "Total params": f"{report.total_params:,}",
        "Trainable params": f"{report.trainable_params:,}",
        "Non-trainable params": f"{report.total_params - report.trainable_params:,}",
        _torchinfo_units(total)[0]: _torchinfo_units(total)[1],
        "Input size (MB)": _megabytes(input_bytes),
        "Forward/backward pass size (MB)": _megabytes(output_bytes),
        "Params size (MB)": _megabytes(param_bytes),
        "Estimated Total Size (MB)": _megabytes(memory["total_bytes"]),
    }
    return ToolCount(
        "torchinfo",
        total,
        "Total mult-adds",
        tuple(layers),
        report.total_params,
        memory,
        printed,
        "every parameter of a layer as mult-adds: a convolution's (bias included) at each "
        "output position, any other layer's (Linear, BatchNorm, LayerNorm) once per "
        "example; no attention products; its memory counts only the outputs of layers "
        "that own parameters",
    )


def _torchinfo_note(row: _Row, count: int, batch_size: int) -> str:
    if count == row.macs * batch_size:
        return ""
    if row.kind in _CONVS:
        return "bias × output positions added"
    if row.kind == "dense":
        return "parameters once per example"
    if row.macs == 0:
        return "parameters counted as mult-adds"
    return "parameters × output positions"


def _torchinfo_units(total: int) -> tuple[str, str]:
    # torchinfo's to_readable: T from 1e12, G from 1e9, else M; an integral value
    # prints without decimals, any other with two.
    limit, unit = next(
        ((limit, unit) for limit, unit in ((10**12, "T"), (10**9, "G")) if total >= limit),
        (10**6, "M"),
    )
    value = total / limit
    text = f"{int(value):,d}" if value.is_integer() else f"{value:,.2f}"
    return f"Total mult-adds ({unit})", text


def _megabytes(count: int) -> str:
    return f"{count / 1e6:0.2f}"


# ---------------------------------------------------------------------------
# fvcore


def _fvcore_layer(row: _Row, batch_size: int) -> tuple[int, str]:
    kind, config = row.kind, row.config
    dims = len(row.inputs[0].spatial) if row.inputs else 0
    if not row.runs:
        return 0, "never runs"
    if kind in _CONVS or kind in ("dense", "separable"):
        return row.macs * batch_size, ""
    if kind == "batchnorm":
        affine = row.params > 0
        return _elements(row.inputs[0]) * batch_size * (2 if affine else 1), (
            "batch_norm: 2 per element" if affine else "batch_norm: 1 per element"
        )
    if kind == "layer_norm":
        affine = row.params > 0
        return _elements(row.inputs[0]) * batch_size * (5 if affine else 4), (
            "layer_norm: 5 per element" if affine else "layer_norm: 4 per element"
        )
    if kind in ("adaptive_avg_pool", "global_avg_pool") and dims == 2:
        if config.get("method") == "mean":
            return 0, "mean: unsupported"
        return _elements(row.inputs[0]) * batch_size, "adaptive_avg_pool2d: 1 per input element"
    if kind == "upsampling" and dims == 2:
        bilinear = config.get("interpolation") == "bilinear"
        per = 4 if bilinear else 1
        return _elements(row.output) * batch_size * per, (
            f"upsample_{'bilinear' if bilinear else 'nearest'}2d: {per} per output element"
        )
    return row.macs * batch_size, ""


def fvcore(report: Any, batch_size: int = 1) -> ToolCount:
    """fvcore 0.1.5's ``FlopCountAnalysis(...).total()`` (see the module docstring)."""
    _torch_only(report, "fvcore")
    layers = []
    for row in _rows(report):
        count, note = _fvcore_layer(row, batch_size)
        layers.append(ToolLayer(row.name, count, note))
    total = sum(layer.figure for layer in layers)
    return ToolCount(
        "fvcore",
        total,
        "flops",
        tuple(layers),
        None,
        None,
        {"total": f"{total:,}"},
        "BatchNorm (2 per element), LayerNorm (5), 2-D adaptive average pooling (1 per "
        "input element) and 2-D upsampling (nearest 1, bilinear 4 per output element) "
        "beside convolutions and matrix products; no bias; adds, multiplies, pooling, "
        "activations and means are unsupported and count 0",
    )


# ---------------------------------------------------------------------------
# ptflops, aten backend


def _ptflops_aten_layer(row: _Row, batch_size: int) -> tuple[int, str]:
    if not row.runs:
        return 0, "never runs"
    macs = row.macs * batch_size
    if row.kind in _CONVS and _bias(row):
        return macs + _elements(row.output) * batch_size, "bias added per output element"
    if row.kind == "separable":
        config = row.config
        adds = 0
        if config.get("pointwise_bias", True):
            adds += _elements(row.output)
        if config.get("depthwise_bias", True):
            cin = row.inputs[0].channels
            adds += cin * int(config.get("depth_multiplier", 1)) * _positions(row.output)
        return macs + adds * batch_size, "bias added per output element" if adds else ""
    if row.kind == "dense" and _bias(row):
        # linear runs as addmm over the positions flattened into rows: one bias add
        # per output element, at every position
        return macs + _elements(row.output) * batch_size, "addmm: bias added per output"
    return macs, ""


def ptflops_aten(report: Any, batch_size: int = 1) -> ToolCount:
    """ptflops 0.7.5's ``get_model_complexity_info(..., backend="aten")`` MACs."""
    _torch_only(report, "ptflops")
    layers = []
    for row in _rows(report):
        count, note = _ptflops_aten_layer(row, batch_size)
        layers.append(ToolLayer(row.name, count, note))
    total = sum(layer.figure for layer in layers)
    return ToolCount(
        "ptflops",
        total,
        "MACs",
        tuple(layers),
        report.total_params,
        None,
        {"MACs": f"{total:,}", "params": f"{report.total_params:,}"},
        "the bias additions of convolutions and linear layers, one per output element; "
        "everything else as FlopCounterMode",
    )


# ---------------------------------------------------------------------------
# FlopCounterMode (convcount's own figure)


def flop_counter(report: Any, batch_size: int = 1) -> ToolCount:
    """``torch.utils.flop_counter.FlopCounterMode``'s total FLOPs // 2: convcount's MACs."""
    layers = tuple(ToolLayer(row.name, row.macs * batch_size) for row in _rows(report))
    total = sum(layer.figure for layer in layers)
    return ToolCount(
        "flop_counter",
        total,
        "MACs",
        layers,
        report.total_params,
        None,
        {"MACs": f"{total:,}", "FLOPs": f"{2 * total:,}"},
        "convolutions and matrix products only, without bias (convcount's own MACs)",
    )


#: Every tool convcount reproduces, by the name ``--count-as`` takes.
TOOLS: dict[str, Callable[[Any, int], ToolCount]] = {
    "flop_counter": flop_counter,
    "torchinfo": torchinfo,
    "fvcore": fvcore,
    "ptflops": ptflops_aten,
}

#: The version of each tool whose rules are reproduced (the figures depend on it).
TOOL_VERSIONS = {
    "flop_counter": "(torch 2.13)",
    "torchinfo": "1.8.0",
    "fvcore": "0.1.5",
    "ptflops": "0.7.5 aten",
}

#: Names people type for the same tools.
TOOL_ALIASES = {"flopcounter": "flop_counter", "ptflops-aten": "ptflops", "default": "flop_counter"}


def tool_names(given: str) -> list[str]:
    """The tools ``--count-as`` names: one, or every one for ``all`` (FlopCounterMode first)."""
    name = TOOL_ALIASES.get(given.strip().lower(), given.strip().lower())
    if name == "all":
        return list(TOOLS)
    if name not in TOOLS:
        from convcount.errors import did_you_mean

        known = ", ".join([*TOOLS, "all"])
        raise ConvcountError(
            "count_as",
            f"--count-as: no counter {given!r}"
            + did_you_mean(given, (*TOOLS, "all"), as_field=False)
            + f"; one of {known} (thop and ptflops's pytorch backend are not reproduced yet)",
        )
    return [name]


def count_as(report: Any, tool: str, batch_size: int = 1) -> ToolCount:
    """What ``tool`` prints for ``report`` at ``batch_size`` (see :data:`TOOLS`)."""
    (name,) = tool_names(tool)
    return TOOLS[name](report, batch_size)


def peak_activation(report: Any, batch_size: int = 1) -> tuple[int, str]:
    """Most bytes of layer outputs alive at once in inference, and the layer where it peaks.

    Layers run in the network's order; the input and each output stay alive from
    the moment they are written until their last reader has run (the network's
    output until the end); a layer that does not run in inference holds nothing. A
    layer's inputs and its output are alive together
    while it runs. Bytes at the model's dtype, for ``batch_size`` examples.
    """
    width = DTYPE_BYTES[report.dtype] * batch_size
    # a head that does not run in inference (an auxiliary classifier) holds nothing
    layers: Sequence[Any] = [layer for layer in report.layers if getattr(layer, "runs", True)]
    last_use: dict[str, int] = {}
    for index, layer in enumerate(layers):
        for name in layer.inputs:
            last_use[name] = index
    if layers:
        last_use[layers[-1].name] = len(layers)
    alive = _elements(report.input) * width
    live: dict[str, int] = {"input": alive}
    peak, where = alive, "input"
    for index, layer in enumerate(layers):
        size = _elements(layer.output) * width
        live[layer.name] = size
        alive += size
        if alive > peak:
            peak, where = alive, layer.name
        for name in {*layer.inputs, layer.name}:
            if last_use.get(name, -1) <= index and name in live:
                alive -= live.pop(name)
    return peak, where


def tool_record(result: ToolCount, *, layers: bool = True) -> dict[str, Any]:
    """One tool's figures as JSON (its per-layer figures too, unless ``layers`` is False)."""
    record: dict[str, Any] = {
        "tool": result.tool,
        "version": TOOL_VERSIONS[result.tool],
        "unit": result.unit,
        "total": result.total,
        "params": result.params,
        "memory": result.memory,
        "printed": result.printed,
        "counts": result.counts,
    }
    if layers:
        record["layers"] = [
            {"name": r.name, "figure": r.figure, "note": r.note} for r in result.layers
        ]
    return record


def tools_csv(records: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[object]]]:
    """Tool records (without layers) as CSV: one row per tool; ``memory.*`` and
    ``printed.*`` columns for every key any tool has."""
    memory = list(dict.fromkeys(k for r in records for k in (r["memory"] or {})))
    printed = list(dict.fromkeys(k for r in records for k in r["printed"]))
    header = ["tool", "version", "unit", "total", "params", "counts"]
    header += [f"memory.{k}" for k in memory] + [f"printed.{k}" for k in printed]
    rows = [
        [r[k] for k in ("tool", "version", "unit", "total", "params", "counts")]
        + [(r["memory"] or {}).get(k) for k in memory]
        + [r["printed"].get(k) for k in printed]
        for r in records
    ]
    return header, rows
