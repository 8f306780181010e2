"""Whole networks: a list of layers with shapes carried from one to the next.

A model file is TOML (read with the standard library's tomllib; nothing in it
is ever executed)::

    [model]
    name = "tiny"
    input = { size = 32, channels = 3 }     # size: 32, "32x32" or [32, 32]; dims = 1 for 1-D
    convention = "keras"                    # optional; --convention overrides
    channel_divisor = 1                     # optional; see width multiplier below

    [[layer]]
    name = "conv1"                          # optional; default kind_N
    kind = "conv"
    kernel_size = 3
    out_channels = 16
    stride = 2
    padding = "same"
    bias = false

    [[layer]]
    kind = "batchnorm"

Each layer takes the previous layer's output, or the layer named by
``input = "name"``; ``add`` and ``concat`` join ``inputs = ["a", "b"]``.
Convolution layers take the CLI's option names (in_channels and the input
size come from the input tensor; ``expand = 6`` sets out_channels to six times
the input channels). The other kinds are listed in :data:`KINDS`.

Counting follows the convention: a Keras BatchNormalization holds 4 values per
channel (2 trainable, 2 not), a PyTorch BatchNorm 2 parameters (its running
statistics are buffers, not parameters). MACs are those of the convolution and
dense layers (bias additions excluded), as in the MobileNet paper.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from fractions import Fraction
from math import ceil, prod
from pathlib import Path
from typing import Any, NamedTuple

from convcount.counting import Report, count
from convcount.errors import ConvcountError
from convcount.layers import (
    CONVENTIONS,
    DTYPE_BYTES,
    Convention,
    layer_from_fields,
    parse_bool,
    parse_choice,
    parse_int,
    parse_ints,
)

CONV_KINDS = ("conv", "depthwise", "separable", "transpose", "pointwise")
#: Layer kinds and the fields each takes besides kind, name, input(s).
KINDS: dict[str, tuple[str, ...]] = {
    "conv": (
        "kernel_size",
        "out_channels",
        "expand",
        "groups",
        "bias",
        "stride",
        "padding",
        "dilation",
        "scale",
    ),
    "pointwise": ("out_channels", "expand", "groups", "bias", "stride", "scale"),
    "depthwise": ("kernel_size", "depth_multiplier", "bias", "stride", "padding", "dilation"),
    "separable": (
        "kernel_size",
        "out_channels",
        "depth_multiplier",
        "depthwise_bias",
        "pointwise_bias",
        "stride",
        "padding",
        "dilation",
        "scale",
    ),
    "transpose": (
        "kernel_size",
        "out_channels",
        "groups",
        "bias",
        "stride",
        "padding",
        "dilation",
        "output_padding",
        "scale",
    ),
    "batchnorm": (),
    "dense": ("units", "bias"),
    "max_pool": ("pool_size", "stride", "padding"),
    "avg_pool": ("pool_size", "stride", "padding"),
    "global_avg_pool": ("keepdims",),
    "global_max_pool": ("keepdims",),
    "flatten": (),
    "zero_padding": ("padding",),
    "activation": ("function",),
    "dropout": ("rate",),
    "add": (),
    "concat": (),
}
MODELS_DIR = Path(__file__).parent.parent / "models"


class Tensor(NamedTuple):
    """A layer's output for a batch of one: spatial size (empty once flat) and channels."""

    spatial: tuple[int, ...]
    channels: int
    rf: tuple[int, ...]
    """Receptive field per spatial dimension, in input pixels."""
    jump: tuple[Fraction, ...]
    """Input pixels between neighbouring outputs, per spatial dimension."""


class ModelLayer(NamedTuple):
    """One row of a model summary."""

    number: int
    """Position in the file, from 1."""
    name: str
    kind: str
    inputs: tuple[str, ...]
    output: Tensor
    trainable: int
    non_trainable: int
    macs: int
    report: Report | None
    """The convolution's full count, for convolution layers."""

    @property
    def params(self) -> int:
        """All parameters, trainable or not."""
        return self.trainable + self.non_trainable


class ModelReport(NamedTuple):
    """A whole network, counted."""

    name: str
    source: str
    convention: Convention
    dtype: str
    width_multiplier: float
    input: Tensor
    layers: tuple[ModelLayer, ...]
    receptive_field: tuple[tuple[int, ...], str] | None
    """Receptive field of the last spatial layer before any global pooling, and its name."""

    @property
    def trainable_params(self) -> int:
        """Parameters a framework trains."""
        return sum(layer.trainable for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        """Parameters a framework keeps but does not train (Keras's BN statistics)."""
        return sum(layer.non_trainable for layer in self.layers)

    @property
    def total_params(self) -> int:
        """All parameters."""
        return self.trainable_params + self.non_trainable_params

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the convolution and dense layers."""
        return sum(layer.macs for layer in self.layers)

    @property
    def param_bytes(self) -> int:
        """Bytes of all parameters at the model's dtype."""
        return self.total_params * DTYPE_BYTES[self.dtype]

    def output_shape(self, tensor: Tensor) -> tuple[int, ...]:
        """A tensor's shape without the batch: channels last (keras) or first (torch)."""
        if not tensor.spatial:
            return (tensor.channels,)
        if self.convention == "keras":
            return (*tensor.spatial, tensor.channels)
        return (tensor.channels, *tensor.spatial)


# ---------------------------------------------------------------------------
# Loading


def shipped_models() -> list[str]:
    """Names of the reference models shipped with convcount."""
    return sorted(path.stem for path in MODELS_DIR.glob("*.toml"))


def read_model(source: str) -> tuple[dict[str, Any], str]:
    """The parsed TOML of a model file or a shipped model's name, and its label."""
    path = Path(source)
    if not path.exists() and (MODELS_DIR / f"{source}.toml").exists():
        path = MODELS_DIR / f"{source}.toml"
    elif not path.exists():
        names = ", ".join(shipped_models())
        raise ConvcountError(
            "model", f"{source!r} is neither a model file nor a shipped model ({names})"
        )
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle), str(source)
    except tomllib.TOMLDecodeError as error:
        raise ConvcountError("model", f"{source}: not valid TOML ({error})") from None
    except OSError as error:
        raise ConvcountError("model", f"{source}: cannot be read ({error.strerror})") from None


def load_model(source: str, **options: Any) -> ModelReport:
    """Read and count a model file or shipped model in one call.

    ``options`` are :func:`build_model`'s: width_multiplier, resolution,
    convention, dtype.
    """
    spec, label = read_model(source)
    return build_model(spec, label, **options)


# ---------------------------------------------------------------------------
# Building


class _Context(NamedTuple):
    source: str
    convention: Convention
    alpha: float
    divisor: int


def make_divisible(value: float, divisor: int) -> int:
    """Keras's rounding of scaled channels to a multiple of ``divisor``."""
    if divisor <= 1:
        return int(value)
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def build_model(
    spec: Mapping[str, Any],
    source: str,
    *,
    width_multiplier: object = None,
    resolution: object = None,
    convention: str | None = None,
    dtype: str | None = None,
) -> ModelReport:
    """Count every layer of a parsed model file (see the module docstring)."""
    head = spec.get("model")
    if not isinstance(head, dict):
        raise ConvcountError("model", f"{source}: needs a [model] table with an input")
    where = f"{source}: [model]"
    conv = parse_choice("convention", convention or head.get("convention", "keras"), CONVENTIONS)
    element = parse_choice("dtype", dtype or head.get("dtype", "float32"), DTYPE_BYTES)
    alpha = _width_multiplier(width_multiplier)
    divisor = _field(
        where,
        "channel_divisor",
        lambda: parse_int("channel_divisor", head.get("channel_divisor", 1)),
    )
    given_input = head.get("input")
    if not isinstance(given_input, dict):
        raise ConvcountError(
            "input", f"{where}: input must be a table {{ size = ..., channels = ... }}"
        )
    file_size = _field(
        where, "input.size", lambda: parse_ints("input_size", given_input.get("size"))
    )
    channels = _field(
        where, "input.channels", lambda: parse_int("in_channels", given_input.get("channels"))
    )
    # One number is a square (or cube): 2-D unless input.dims says otherwise.
    dims = _field(
        where,
        "input.dims",
        lambda: parse_int(
            "dims", given_input.get("dims", len(file_size) if len(file_size) > 1 else 2)
        ),
    )
    size = file_size if resolution is None else parse_ints("input_size", resolution)
    if len(size) == 1:
        size = size * dims
    if len(size) != dims or dims > 3:
        raise ConvcountError(
            "input_size", f"{where}: input: a size of {_show(size)} for {dims} spatial dimensions"
        )
    first = Tensor(size, channels, (1,) * len(size), (Fraction(1),) * len(size))

    layers_spec = spec.get("layer", [])
    if not isinstance(layers_spec, list) or not layers_spec:
        raise ConvcountError("layer", f"{source}: needs at least one [[layer]]")
    context = _Context(source, conv, alpha, divisor)  # type: ignore[arg-type]  # checked by parse_choice
    outputs: dict[str, Tensor] = {}
    rows: list[ModelLayer] = []
    previous = "input"
    outputs["input"] = first
    last_spatial: tuple[tuple[int, ...], str] | None = None
    pooled = False
    for index, raw in enumerate(layers_spec, start=1):
        if not isinstance(raw, dict):
            raise ConvcountError("layer", f"{source}: layer {index} is not a table")
        row = _layer(context, index, raw, previous, outputs)
        if row.name in outputs:
            raise ConvcountError(
                "name", f"{source}: layer {index} '{row.name}': name is used twice"
            )
        outputs[row.name] = row.output
        rows.append(row)
        previous = row.name
        if row.kind.startswith("global_"):
            pooled = True  # past global pooling every output sees the whole input
        if row.output.spatial and not pooled:
            last_spatial = (row.output.rf, row.name)
    return ModelReport(
        name=str(head.get("name", Path(source).stem)),
        source=source,
        convention=conv,  # type: ignore[arg-type]  # checked by parse_choice
        dtype=element,
        width_multiplier=alpha,
        input=first,
        layers=tuple(rows),
        receptive_field=last_spatial,
    )


def _width_multiplier(value: object) -> float:
    """A positive, finite number (1 when not given)."""
    if value is None:
        return 1.0
    try:
        alpha = float(value)  # type: ignore[arg-type]  # anything float() takes; errors below
    except (TypeError, ValueError):
        alpha = -1.0
    if not 0 < alpha < float("inf"):
        raise ConvcountError(
            "width_multiplier", f"--width-multiplier must be a positive number, got {value!r}"
        )
    return alpha


def _field(where: str, name: str, parse: Any) -> Any:
    try:
        return parse()
    except ConvcountError as error:
        raise ConvcountError(error.option, f"{where}: {name}: {error}") from None


def _layer(
    context: _Context,
    index: int,
    raw: Mapping[str, Any],
    previous: str,
    outputs: Mapping[str, Tensor],
) -> ModelLayer:
    kind = raw.get("kind")
    name = str(raw.get("name", f"{kind}_{index}"))
    where = f"{context.source}: layer {index} '{name}'"
    if kind not in KINDS:
        raise ConvcountError(
            "kind", f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}"
        )
    allowed = {"kind", "name", "input", "inputs", *KINDS[kind]}
    for key in raw:
        if key not in allowed:
            hint = (
                " (it comes from the layer before)" if key in ("in_channels", "input_size") else ""
            )
            raise ConvcountError(key, f"{where}: {key}: not a field of a {kind} layer{hint}")
    inputs = _inputs(where, kind, raw, previous, outputs)
    tensors = [outputs[i] for i in inputs]
    try:
        return _count(context, index, name, kind, raw, inputs, tensors)
    except ConvcountError as error:
        raise ConvcountError(error.option, f"{where}: {error}") from None


def _inputs(
    where: str, kind: str, raw: Mapping[str, Any], previous: str, outputs: Mapping[str, Tensor]
) -> tuple[str, ...]:
    if kind in ("add", "concat"):
        names = raw.get("inputs")
        if not isinstance(names, list) or len(names) < 2:
            raise ConvcountError(
                "inputs", f"{where}: inputs: {kind} needs a list of at least two layer names"
            )
    else:
        if "inputs" in raw:
            raise ConvcountError(
                "inputs", f"{where}: inputs: only add and concat join several; use input"
            )
        names = [raw.get("input", previous)]
    for name in names:
        if name not in outputs:
            raise ConvcountError("input", f"{where}: input: no earlier layer is named {name!r}")
    return tuple(str(n) for n in names)


def _count(
    context: _Context,
    index: int,
    name: str,
    kind: str,
    raw: Mapping[str, Any],
    inputs: tuple[str, ...],
    tensors: Sequence[Tensor],
) -> ModelLayer:
    x = tensors[0]

    def row(
        output: Tensor,
        trainable: int = 0,
        non_trainable: int = 0,
        macs: int = 0,
        report: Report | None = None,
    ) -> ModelLayer:
        return ModelLayer(index, name, kind, inputs, output, trainable, non_trainable, macs, report)

    if kind in CONV_KINDS:
        report = _conv(context, kind, raw, x)
        layer = report.layer
        assert report.output_size is not None and report.macs is not None
        rf, jump = _receptive(
            x, layer.effective_kernel, layer.stride, transposed=layer.kind == "transpose"
        )
        output = Tensor(report.output_size, layer.out_channels, rf, jump)
        return row(output, report.total, 0, report.macs, report)
    if kind == "batchnorm":
        per_channel = 2 * x.channels
        return row(x, per_channel, per_channel if context.convention == "keras" else 0)
    if kind == "dense":
        units = parse_int("units", raw.get("units"))
        bias = parse_bool("bias", raw.get("bias", True))
        weights = x.channels * units
        positions = prod(x.spatial) if x.spatial else 1
        return row(
            x._replace(channels=units), weights + (units if bias else 0), 0, positions * weights
        )
    if kind in ("max_pool", "avg_pool"):
        _need_spatial(kind, x)
        pool = _spread(
            parse_ints("pool_size", raw.get("pool_size", 2)), len(x.spatial), "pool_size"
        )
        stride = _spread(
            parse_ints("stride", raw.get("stride", list(pool))), len(x.spatial), "stride"
        )
        padding = parse_choice("padding", raw.get("padding", "valid"), ("valid", "same"))
        sizes = tuple(
            (length - 1) // s + 1 if padding == "same" else (length - k) // s + 1
            for length, k, s in zip(x.spatial, pool, stride, strict=True)
        )
        if min(sizes) < 1:
            raise ConvcountError(
                "pool_size",
                f"pool_size: the output would be {_show(sizes)} (every size must be at least 1)",
            )
        rf, jump = _receptive(x, pool, stride, transposed=False)
        return row(Tensor(sizes, x.channels, rf, jump))
    if kind in ("global_avg_pool", "global_max_pool"):
        _need_spatial(kind, x)
        if parse_bool("keepdims", raw.get("keepdims", False)):
            full = tuple(
                r + (length - 1) * int(j)
                for r, length, j in zip(x.rf, x.spatial, x.jump, strict=True)
            )
            return row(Tensor((1,) * len(x.spatial), x.channels, full, x.jump))
        return row(Tensor((), x.channels, (), ()))
    if kind == "flatten":
        return row(Tensor((), prod(x.spatial) * x.channels if x.spatial else x.channels, (), ()))
    if kind == "zero_padding":
        _need_spatial(kind, x)
        pads = _zero_padding(raw.get("padding", 1), len(x.spatial))
        sizes = tuple(
            length + before + after for length, (before, after) in zip(x.spatial, pads, strict=True)
        )
        return row(x._replace(spatial=sizes))
    if kind in ("activation", "dropout"):
        return row(x)
    # add / concat
    shapes = [t.spatial for t in tensors]
    if kind == "add":
        if any(t.spatial != x.spatial or t.channels != x.channels for t in tensors):
            described = ", ".join(
                f"{n} {_show((*t.spatial, t.channels))}"
                for n, t in zip(inputs, tensors, strict=True)
            )
            raise ConvcountError("inputs", f"inputs: add needs equal shapes, got {described}")
        channels = x.channels
    else:
        if any(s != shapes[0] for s in shapes):
            described = ", ".join(f"{n} {_show(s)}" for n, s in zip(inputs, shapes, strict=True))
            raise ConvcountError(
                "inputs", f"inputs: concat needs equal spatial sizes, got {described}"
            )
        channels = sum(t.channels for t in tensors)
    rf = tuple(max(values) for values in zip(*(t.rf for t in tensors), strict=True))
    jump = tuple(max(values) for values in zip(*(t.jump for t in tensors), strict=True))
    return row(Tensor(x.spatial, channels, rf, jump))


def _conv(context: _Context, kind: str, raw: Mapping[str, Any], x: Tensor) -> Report:
    _need_spatial(kind, x)
    fields = {k: v for k, v in raw.items() if k in KINDS[kind] and k not in ("expand", "scale")}
    if kind == "pointwise":
        fields["kernel_size"] = 1
    if "expand" in raw:
        if "out_channels" in raw:
            raise ConvcountError("expand", "expand: give out_channels or expand, not both")
        fields["out_channels"] = x.channels * parse_int("expand", raw["expand"])
    elif "out_channels" in fields:
        scale = raw.get("scale", True)
        up_only = scale == "up"
        if up_only or parse_bool("scale", scale):
            channels = parse_int("out_channels", fields["out_channels"])
            # int() first, as Keras's MobileNets do before rounding to the divisor.
            scaled = make_divisible(int(channels * context.alpha), context.divisor)
            if scaled < 1:
                raise ConvcountError(
                    "out_channels", f"out_channels: {channels} x the width multiplier is below 1"
                )
            fields["out_channels"] = max(scaled, channels) if up_only else scaled
    return count(
        layer_from_fields(
            "conv" if kind == "pointwise" else kind,
            {
                **fields,
                "in_channels": x.channels,
                "input_size": list(x.spatial),
                "dims": len(x.spatial),
                "convention": context.convention,
            },
        )
    )


def _receptive(
    x: Tensor, kernel: Sequence[int], stride: Sequence[int], *, transposed: bool
) -> tuple[tuple[int, ...], tuple[Fraction, ...]]:
    """Receptive field and jump after a window of ``kernel`` at ``stride``.

    r_out = r_in + (k - 1) * j_in and j_out = j_in * s; a transposed layer
    reaches ceil(k / s) inputs per output and divides the jump by s.
    """
    if transposed:
        rf = tuple(
            r + (ceil(k / s) - 1) * j
            for r, k, s, j in zip(x.rf, kernel, stride, x.jump, strict=True)
        )
        jump = tuple(j / s for j, s in zip(x.jump, stride, strict=True))
    else:
        rf = tuple(r + (k - 1) * j for r, k, j in zip(x.rf, kernel, x.jump, strict=True))
        jump = tuple(j * s for j, s in zip(x.jump, stride, strict=True))
    return tuple(ceil(r) for r in rf), jump


def _need_spatial(kind: str, x: Tensor) -> None:
    if not x.spatial:
        raise ConvcountError(
            "input", f"input: a {kind} layer needs a spatial input, got a flat one of {x.channels}"
        )


def _spread(values: tuple[int, ...], dims: int, option: str) -> tuple[int, ...]:
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise ConvcountError(
            option,
            f"{option}: {_show(values)} has {len(values)} numbers "
            f"but the input has {dims} spatial dimensions",
        )
    return values


def _zero_padding(value: object, dims: int) -> tuple[tuple[int, int], ...]:
    """Zeros before and after each dimension: ``1``, ``[1, 2]`` or ``[[0, 1], [0, 1]]``."""
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        if len(value) != dims or any(len(v) != 2 for v in value):
            raise ConvcountError(
                "padding", f"padding: give one [before, after] pair per spatial dimension ({dims})"
            )
        return tuple(
            (parse_int("padding", a, minimum=0), parse_int("padding", b, minimum=0))
            for a, b in value
        )
    each = _spread(parse_ints("padding", value, minimum=0), dims, "padding")
    return tuple((p, p) for p in each)


def _show(values: Sequence[int]) -> str:
    return "x".join(str(v) for v in values)


# ---------------------------------------------------------------------------
# Records (JSON, CSV)

MODEL_CSV_COLUMNS = (
    "index",
    "name",
    "kind",
    "inputs",
    "output_shape",
    "params",
    "trainable_params",
    "non_trainable_params",
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
        "macs": layer.macs,
    }


def model_record(report: ModelReport) -> dict[str, Any]:
    """A whole model as JSON: per-layer rows and totals (schema in the README)."""
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
        "macs": report.macs,
    }
    rows.append([csv_cell(totals.get(c)) for c in MODEL_CSV_COLUMNS])
    return rows
