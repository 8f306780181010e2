"""The registry of layer kinds: one entry per kind, everything else reads it.

Each :class:`Kind` says which fields it takes (with their types, defaults and
meaning), how many inputs it joins, and computes, from its input tensors, its
output tensor, its trainable and non-trainable parameters under the network's
convention, its PyTorch buffers and its MACs. The model language, the zoo,
the summary table, JSON, CSV, the receptive field and the format reference
(``convcount model --kinds``) all read :data:`KINDS`; adding a kind is adding
one entry here.

Conventions, as the frameworks count (Keras 3 and PyTorch 2):

* MACs are those ``torch.utils.flop_counter.FlopCounterMode`` counts, halved:
  convolutions and matrix products (Dense / Linear, also per position on a
  4-D tensor). Normalisation, activations, pooling, adds and multiplies
  count 0; bias additions are not MACs.
* Keras's BatchNormalization holds gamma and beta (trainable, unless
  ``scale``/``center`` is off) and the moving mean and variance
  (non-trainable). PyTorch's BatchNorm holds weight and bias as parameters;
  its running mean, variance and batch counter are buffers, not parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from math import ceil, isqrt, prod
from typing import TYPE_CHECKING, Any, NamedTuple

from convcount.counting import output_length
from convcount.errors import ConvcountError
from convcount.model.graph import Out, Tensor

if TYPE_CHECKING:
    from convcount.model.graph import Net

REQUIRED = object()
"""Default of a field that must be given."""


class Field(NamedTuple):
    """One field a layer kind takes."""

    name: str
    type: str
    """int, ints (one number or one per spatial dimension), bool, number, factors (positive
    numbers per dimension), padding, pads (zeros or crops per side), shape, layer (an
    earlier layer's name) or choice."""
    default: object
    """The value when not given: REQUIRED, a value, or a callable of the convention."""
    doc: str
    choices: tuple[str, ...] = ()
    minimum: int = 1
    short: str = ""
    """How the field reads in a table's compact config column (see :func:`compact`):
    empty for not shown; ``{}`` stands for the value. Shown only when the value is not
    the default, unless :attr:`always`. A bool's text is shown when true, ``no TEXT``
    when false."""
    always: bool = False


class Kind(NamedTuple):
    """One layer kind: its fields, arity and what it computes."""

    name: str
    doc: str
    fields: tuple[Field, ...]
    compute: Callable[[Net, Sequence[Tensor], dict[str, Any]], Out]
    joins: bool = False
    """Whether it takes several inputs (``inputs = [...]``) instead of one."""
    keras: str = ""
    """The Keras layer it counts as."""
    torch: str = ""
    """The PyTorch module it counts as."""
    any_inputs: bool = False
    """Whether it takes one input or several alike (an opaque layer)."""

    def apply(self, net: Net, tensors: Sequence[Tensor], given: Mapping[str, Any]) -> Out:
        """Check the inputs and fields, fill defaults, and compute."""
        if self.any_inputs:
            if not tensors:
                raise ConvcountError("inputs", f"inputs: {self.name} needs an input")
        elif self.joins and len(tensors) < 2:
            raise ConvcountError("inputs", f"inputs: {self.name} needs at least two inputs")
        elif not self.joins and len(tensors) != 1:
            raise ConvcountError(
                "inputs", f"inputs: {self.name} takes one input; only joins take several"
            )
        values: dict[str, Any] = {}
        names = _NAMES[self.name]
        if not names.issuperset(given):
            raise unknown_field(self, next(k for k in given if k not in names))

        dims = len(tensors[0].spatial)
        for spec in self.fields:
            raw = given.get(spec.name)
            if raw is None:
                default = spec.default
                if default is REQUIRED:
                    raise ConvcountError(spec.name, f"{spec.name}: required for {self.name}")
                if callable(default):
                    default = default(net.convention)
                if default is None:
                    values[spec.name] = None
                    continue
                raw = default
            values[spec.name] = parse_field(spec, raw, dims, net.convention)
        out = self.compute(net, tensors, values)
        return out._replace(config=self.config(values))

    def config(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A layer's own field values, resolved (``values`` after :meth:`apply`), for
        the records: only this kind's fields, unset ones (None) left out."""
        return {f.name: values[f.name] for f in self.fields if values.get(f.name) is not None}


def compact(kind: str, config: Mapping[str, Any], convention: str) -> str:
    """A layer's configuration in a few characters (``3×3 /2 same g32``), as each
    field's :attr:`Field.short` says; empty for a kind this registry does not hold."""
    spec = KINDS.get(kind)
    if spec is None:  # a model file's own row: a weight tensor says its shape
        shape = config.get("shape")
        if not isinstance(shape, tuple):
            return ""
        return "×".join(str(v) for v in shape) if shape else "scalar"
    words = []
    for field in spec.fields:
        if not field.short or field.name not in config:
            continue
        value = config[field.name]
        if not field.always and value == _default_of(field, convention, value):
            continue
        if isinstance(value, bool):
            words.append(field.short if value else f"no {field.short}")
        elif isinstance(value, str):
            words.append(value)
        elif "{*}" in field.short:
            words.append(field.short.replace("{*}", _compact_value(value, whole=True)))
        else:
            words.append(field.short.replace("{}", _compact_value(value, whole=False)))
    return " ".join(words)


def _default_of(field: Field, convention: str, value: object) -> object:
    """A field's default in the normal form of ``value`` (one size per dimension)."""
    default = field.default(convention) if callable(field.default) else field.default
    if default is REQUIRED or default is None:
        return default
    dims = len(value) if isinstance(value, tuple) else 1
    try:
        return parse_field(field, default, dims, convention)
    except ConvcountError:  # pragma: no cover - the registry's defaults are valid
        return default


def _compact_value(value: object, *, whole: bool) -> str:
    """A value in the compact column: sizes per dimension joined by ×, or one number
    when they are all equal and not ``whole``; pads per side as ``before:after``."""
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        if all(a == b for a, b in value):
            return _compact_value(tuple(a for a, _ in value), whole=whole)
        return "×".join(f"{a}:{b}" for a, b in value)
    if isinstance(value, tuple):
        if not whole and len(set(value)) == 1:
            return str(value[0])
        return "×".join(str(v) for v in value)
    if isinstance(value, Fraction):
        return f"{float(value):g}"
    return str(value)


def unknown_field(kind: Kind, key: str) -> ConvcountError:
    """The error for a field the kind does not take, with a did-you-mean."""
    names = [f.name for f in kind.fields]
    from difflib import get_close_matches  # only on the way to an error message

    close = get_close_matches(str(key), names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    if key in ("in_channels", "input_size"):
        hint = " (it comes from the layer before)"
    listed = ", ".join(names) if names else "no fields"
    return ConvcountError(
        str(key), f"{key}: not a field of a {kind.name} layer{hint}; it takes {listed}"
    )


# ---------------------------------------------------------------------------
# Field values


#: Largest whole number a field takes (a size, channel count, kernel, stride, ...).
MAX_FIELD = 10**18


def _int(name: str, value: object, minimum: int) -> int:
    if type(value) is int and minimum <= value <= MAX_FIELD:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        what = "a whole number" if minimum < 1 else "a positive whole number"
        raise ConvcountError(name, f"{name}: must be {what}, got {_show(value)}")
    if value > MAX_FIELD:
        raise ConvcountError(name, f"{name}: must be at most 10^18, got {_show(value)}")
    raise ConvcountError(name, f"{name}: must be at least {minimum}, got {value}")


def _show(value: object) -> str:
    from convcount.model.expr import shorten  # never converts a huge integer whole

    return shorten(value)


def _ints(name: str, value: object, dims: int, minimum: int) -> tuple[int, ...]:
    if type(value) is int and minimum <= value <= MAX_FIELD:
        return (value,) * dims
    if (
        type(value) is tuple
        and len(value) == dims
        and all(type(v) is int and minimum <= v <= MAX_FIELD for v in value)
    ):
        return value
    if isinstance(value, (list, tuple)):
        numbers = tuple(_int(name, v, minimum) for v in value)
    elif isinstance(value, str):
        parts = value.lower().replace("×", "x").split("x")
        if not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
            raise ConvcountError(
                name, f"{name}: must be a number or numbers joined by x (3x5), got {_show(value)}"
            )
        numbers = tuple(_int(name, int(p), minimum) for p in parts)
    else:
        numbers = (_int(name, value, minimum),)
    if len(numbers) == 1:
        return numbers * dims
    if len(numbers) != dims:
        raise ConvcountError(
            name,
            f"{name}: {len(numbers)} numbers for an input of {dims} spatial dimensions",
        )
    return numbers


def _pads(
    name: str, value: object, dims: int, convention: str = "keras"
) -> tuple[tuple[int, int], ...]:
    """Values before and after each dimension, as each framework writes them.

    ``1``, ``[1, 2]`` (one per dimension, both sides) or ``[[0, 1], [0, 1]]``
    ((before, after) per dimension, Keras's ``((top, bottom), (left, right))``)
    under both conventions. A flat list of two per dimension is PyTorch's
    ``F.pad`` / ``nn.ZeroPad2d((left, right, top, bottom))`` order under torch
    (the last dimension first), and Keras's ``ZeroPadding1D((left, right))`` in 1-D.
    """
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, (list, tuple)) for v in value)
    ):
        if len(value) != dims or any(len(v) != 2 for v in value):
            raise ConvcountError(
                name, f"{name}: give one [before, after] pair per spatial dimension ({dims})"
            )
        return tuple((_int(name, a, 0), _int(name, b, 0)) for a, b in value)
    if isinstance(value, (list, tuple)) and len(value) == 2 * dims and dims > 1:
        if convention != "torch":
            raise ConvcountError(
                name,
                f"{name}: {len(value)} numbers: under keras give one [before, after] pair per "
                "dimension ([[top, bottom], [left, right]]); a flat list of two per dimension "
                "is PyTorch's F.pad order (--convention torch)",
            )
        numbers = [_int(name, v, 0) for v in value]
        pairs = [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2)]
        return tuple(reversed(pairs))  # F.pad lists the last dimension first
    if isinstance(value, (list, tuple)) and len(value) == 2 and dims == 1:
        return ((_int(name, value[0], 0), _int(name, value[1], 0)),)
    return tuple((p, p) for p in _ints(name, value, dims, 0))


def _factors(name: str, value: object, dims: int) -> tuple[float, ...]:
    """Positive scale factors, one per dimension (one number stands for all)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * dims
    if len(values) != dims:
        raise ConvcountError(
            name, f"{name}: {len(values)} factors for an input of {dims} spatial dimensions"
        )
    factors = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, Fraction)) or not 0 < v < 1e9:
            raise ConvcountError(
                name, f"{name}: must be a positive number (or one per dimension), got {_show(v)}"
            )
        factors.append(float(v))  # PyTorch multiplies in double precision
    return tuple(factors)


def parse_field(spec: Field, value: object, dims: int, convention: str = "keras") -> object:
    """A field's value in its normal form, or a ConvcountError naming the field."""
    kind = spec.type
    if kind == "int":
        return _int(spec.name, value, spec.minimum)
    if kind == "ints":
        return _ints(spec.name, value, dims, spec.minimum)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ConvcountError(spec.name, f"{spec.name}: must be true or false, got {_show(value)}")
    if kind == "choice":
        if isinstance(value, str) and value in spec.choices:
            return value
        from difflib import get_close_matches  # only on the way to an error message

        close = get_close_matches(str(value), spec.choices, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConvcountError(
            spec.name,
            f"{spec.name}: must be one of {', '.join(spec.choices)}, got {_show(value)}{hint}",
        )
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
            raise ConvcountError(spec.name, f"{spec.name}: must be a number, got {_show(value)}")
        return value
    if kind == "padding":
        if value in ("valid", "same", "causal"):
            return value
        try:
            return _ints(spec.name, value, dims, 0)
        except ConvcountError:
            raise ConvcountError(
                spec.name,
                f"{spec.name}: must be valid, same, causal or zeros per side, got {_show(value)}",
            ) from None
    if kind == "pads":
        return _pads(spec.name, value, dims, convention)
    if kind == "factors":
        return _factors(spec.name, value, dims)
    if kind == "layer":
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise ConvcountError(spec.name, f"{spec.name}: must be a layer's name, got {_show(value)}")
    if kind == "shape":
        if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 4:
            raise ConvcountError(
                spec.name, f"{spec.name}: must be a list of one to four sizes, got {_show(value)}"
            )
        return tuple(v if v == -1 else _int(spec.name, v, 1) for v in value)
    raise AssertionError(f"field type {kind}")  # pragma: no cover - a registry typo


# ---------------------------------------------------------------------------
# Shapes and receptive fields


def _need_spatial(kind: str, x: Tensor) -> None:
    if not x.spatial:
        raise ConvcountError(
            "input", f"input: a {kind} layer needs a spatial input, got a flat one of {x.channels}"
        )


def _sizes(values: Sequence[int]) -> str:
    return "x".join(map(str, values))


def _check_sizes(option: str, sizes: Sequence[int], x: Tensor) -> None:
    if min(sizes) < 1:
        raise ConvcountError(
            option,
            f"the input {_sizes(x.spatial)} is too small: the output would be {_sizes(sizes)} "
            "(every size must be at least 1)",
        )


def _window(
    x: Tensor, kernel: Sequence[int], stride: Sequence[int], *, transposed: bool = False
) -> tuple[tuple[int, ...], tuple[Fraction | int, ...]]:
    """Receptive field and jump after a window of ``kernel`` at ``stride``.

    r_out = r_in + (k - 1) * j_in and j_out = j_in * s; a transposed layer
    reaches ceil(k / s) inputs per output and divides the jump by s.
    """
    if transposed:
        rf = tuple(
            r + (-(-k // s) - 1) * j  # ceil(k / s) in integers: no float on the way
            for r, k, s, j in zip(x.rf, kernel, stride, x.jump, strict=True)
        )
        jump = tuple(_divide(j, s) for j, s in zip(x.jump, stride, strict=True))
        return tuple(ceil(r) for r in rf), jump
    rf = tuple(r + (k - 1) * j for r, k, j in zip(x.rf, kernel, x.jump, strict=True))
    jump = tuple(j * s for j, s in zip(x.jump, stride, strict=True))
    if all(type(r) is int for r in rf):
        return rf, jump  # type: ignore[return-value]  # ints, checked just above
    return tuple(ceil(r) for r in rf), jump


def _divide(j: Fraction | int, s: int) -> Fraction | int:
    """A jump divided by an upsampling factor: exact, and an int when it divides."""
    return j // s if type(j) is int and j % s == 0 else Fraction(j, s)


def _whole(x: Tensor) -> tuple[int, ...]:
    """The receptive field of an output that sees the whole input."""
    return tuple(r + (n - 1) * int(j) for r, n, j in zip(x.rf, x.spatial, x.jump, strict=True))


# ---------------------------------------------------------------------------
# Convolutions


def _conv_sizes(
    x: Tensor, v: Mapping[str, Any], *, transposed: bool = False
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Output sizes and dilated kernels of a convolution over ``x``."""
    kernel = v["kernel_size"]
    dilated = tuple(d * (k - 1) + 1 for k, d in zip(kernel, v["dilation"], strict=True))
    padding = v["padding"]
    pads = (padding,) * len(kernel) if isinstance(padding, str) else padding
    extra = v.get("output_padding") or (None,) * len(kernel)
    sizes = tuple(
        output_length(transposed, length, k, s, p, op)
        for length, k, s, p, op in zip(x.spatial, dilated, v["stride"], pads, extra, strict=True)
    )
    _check_sizes("kernel_size", sizes, x)
    return sizes, dilated


def _strict(net: Net, kind: str, x: Tensor, v: Mapping[str, Any]) -> None:
    """In a user's model file, every rule the single-layer commands apply."""
    if not net.strict:
        return
    from convcount.layers import layer_from_fields

    fields = {
        k: (list(w) if isinstance(w, tuple) else w)
        for k, w in v.items()
        if w is not None and k != "activation"  # no count of the single-layer commands
    }
    if kind != "depthwise" and "out_channels" not in fields:
        fields["out_channels"] = x.channels
    layer_from_fields(
        kind,
        {
            **fields,
            "in_channels": x.channels,
            "input_size": list(x.spatial),
            "dims": len(x.spatial),
            "convention": net.convention,
        },
    )


def _groups(v: Mapping[str, Any], cin: int, cout: int) -> int:
    g: int = v["groups"]
    if cin % g or cout % g:
        raise ConvcountError(
            "groups", f"groups: {g} must divide the input channels {cin} and out_channels {cout}"
        )
    return g


def _out_channels(v: Mapping[str, Any], x: Tensor) -> int:
    if v.get("expand") is not None:
        if v.get("out_channels") is not None:
            raise ConvcountError("expand", "expand: give out_channels or expand, not both")
        return x.channels * int(v["expand"])
    if v.get("out_channels") is None:
        raise ConvcountError("out_channels", "out_channels: required (or expand)")
    return int(v["out_channels"])


def _conv(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("conv", x)
    cin, cout = x.channels, _out_channels(v, x)
    v["out_channels"], v["expand"] = cout, None
    _strict(net, "conv", x, v)
    g = _groups(v, cin, cout)
    sizes, dilated = _conv_sizes(x, v)
    weights = prod(v["kernel_size"]) * (cin // g) * cout
    rf, jump = _window(x, dilated, v["stride"])
    return Out(
        Tensor(sizes, cout, rf, jump),
        weights + (cout if v["bias"] else 0),
        macs=prod(sizes) * weights,
    )


def _pointwise(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    _need_spatial("pointwise", xs[0])
    dims = len(xs[0].spatial)
    full = {**v, "kernel_size": (1,) * dims, "padding": "valid", "dilation": (1,) * dims}
    out = _conv(net, xs, full)
    v["out_channels"], v["expand"] = full["out_channels"], None
    return out


def _depthwise(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("depthwise", x)
    _strict(net, "depthwise", x, v)
    cout = x.channels * v["depth_multiplier"]
    sizes, dilated = _conv_sizes(x, v)
    weights = prod(v["kernel_size"]) * cout
    rf, jump = _window(x, dilated, v["stride"])
    return Out(
        Tensor(sizes, cout, rf, jump),
        weights + (cout if v["bias"] else 0),
        macs=prod(sizes) * weights,
    )


def _separable(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("separable", x)
    _strict(net, "separable", x, v)
    mid = x.channels * v["depth_multiplier"]
    cout = v["out_channels"]
    sizes, dilated = _conv_sizes(x, v)
    depthwise = prod(v["kernel_size"]) * mid
    pointwise = mid * cout
    rf, jump = _window(x, dilated, v["stride"])
    bias = (mid if v["depthwise_bias"] else 0) + (cout if v["pointwise_bias"] else 0)
    return Out(
        Tensor(sizes, cout, rf, jump),
        depthwise + pointwise + bias,
        macs=prod(sizes) * (depthwise + pointwise),
    )


def _transpose(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("transpose", x)
    _strict(net, "transpose", x, v)
    cin, cout = x.channels, v["out_channels"]
    g = _groups(v, cin, cout)
    sizes, dilated = _conv_sizes(x, v, transposed=True)
    weights = prod(v["kernel_size"]) * cin * (cout // g)
    rf, jump = _window(x, dilated, v["stride"], transposed=True)
    # The kernel is applied once per INPUT position.
    return Out(
        Tensor(sizes, cout, rf, jump),
        weights + (cout if v["bias"] else 0),
        macs=prod(x.spatial) * weights,
    )


# ---------------------------------------------------------------------------
# Dense, normalisation, scaling


def _dense(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """Keras's Dense and PyTorch's nn.Linear act on the last axis of their input.

    That is the channels under keras (and under torch after a permute to
    channels last), but the width of a torch C×H×W tensor: nn.Linear(W, units)
    there gives C×H×units, with W*units weights applied C*H times.
    """
    x = xs[0]
    units = v["units"]
    if net.convention == "torch" and x.spatial and not x.permuted:
        width = x.spatial[-1]
        weights = width * units
        rf = (*x.rf[:-1], _whole(x)[-1])
        return Out(
            Tensor((*x.spatial[:-1], units), x.channels, rf, x.jump),
            weights + (units if v["bias"] else 0),
            macs=x.elements // width * weights,
        )
    weights = x.channels * units
    return Out(
        x._replace(channels=units),
        weights + (units if v["bias"] else 0),
        macs=prod(x.spatial) * weights,
    )


def _batchnorm(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    c = x.channels
    affine = c * (int(v["center"]) + int(v["scale"]))
    if net.convention == "keras":
        return Out(x, affine, 2 * c)
    return Out(x, affine, buffers=2 * c + 1)


def _layer_norm(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    return Out(x, x.channels * (int(v["center"]) + int(v["scale"])))


def _layer_scale(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    return Out(xs[0], xs[0].channels)


def _normalization(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    if v["constant"]:
        return Out(x)
    return Out(x, 0, 2 * x.channels + 1)  # mean, variance, count


def _opaque(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """A layer convcount cannot count: its parameters and shape as given, MACs unknown."""
    x = xs[0]
    out = x
    if v["shape"] is not None:
        shape: tuple[int, ...] = v["shape"]
        if -1 in shape:
            raise ConvcountError("shape", "shape: every size must be given (no -1)")
        if len(shape) == 1:
            out = Tensor((), shape[0], (), ())
        else:
            keras = net.convention == "keras"
            spatial, channels = (shape[:-1], shape[-1]) if keras else (shape[1:], shape[0])
            if len(spatial) == len(x.spatial):
                out = Tensor(spatial, channels, x.rf, x.jump)
            else:
                whole = max(_whole(x), default=1) if x.spatial else 1
                out = Tensor(spatial, channels, (whole,) * len(spatial), (1,) * len(spatial))
    if not v["params_known"]:
        return Out(out, macs=v["macs"], params_known=False)
    return Out(out, v["trainable"], v["non_trainable"], macs=v["macs"], buffers=v["buffers"])


def _input(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """Another input of the network: its shape as given, whatever feeds it nominally."""
    shape: tuple[int, ...] = v["shape"]
    if -1 in shape:
        raise ConvcountError("shape", "shape: every size must be given (no -1)")
    keras = net.convention == "keras"
    if len(shape) == 1:
        return Out(Tensor((), shape[0], (), ()))
    spatial, channels = (shape[:-1], shape[-1]) if keras else (shape[1:], shape[0])
    dims = len(spatial)
    return Out(Tensor(spatial, channels, (1,) * dims, (1,) * dims))


def _same(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    return Out(xs[0])


def _permute(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("permute", x)
    last = v["to"] == "channels_last"
    # Flag the layout opposite to the convention's; counts are unchanged.
    return Out(x._replace(permuted=last != (net.convention == "keras")))


# ---------------------------------------------------------------------------
# Pooling and shape changes


def _pool(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("pool", x)
    kernel = v["pool_size"]
    stride = v["stride"] or kernel
    padding = v["padding"]
    if padding == "causal":
        raise ConvcountError(
            "padding", "padding: causal is for 1-D convolutions; pooling takes valid, same or zeros"
        )
    sizes: list[int] = []
    for i, (length, k, s) in enumerate(zip(x.spatial, kernel, stride, strict=True)):
        if padding == "same":
            sizes.append((length - 1) // s + 1)
        elif padding == "valid" or not v["ceil_mode"]:
            p = 0 if padding == "valid" else padding[i]
            sizes.append((length + 2 * p - k) // s + 1)
        else:  # PyTorch's ceil_mode: the last window may start in the right padding only
            p = padding[i]
            out = -((length + 2 * p - k) // -s) + 1
            if (out - 1) * s >= length + p:
                out -= 1
            sizes.append(out)
    _check_sizes("pool_size", sizes, x)
    rf, jump = _window(x, kernel, stride)
    return Out(Tensor(tuple(sizes), x.channels, rf, jump))


def _adaptive_pool(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("adaptive pool", x)
    sizes = v["output_size"]
    if sizes == x.spatial:
        return Out(x)  # VGG's 7x7 pool of a 7x7 map changes nothing
    return Out(Tensor(sizes, x.channels, _whole(x), x.jump))


def _global_pool(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("global pool", x)
    if v["keepdims"]:
        return Out(Tensor((1,) * len(x.spatial), x.channels, _whole(x), x.jump))
    return Out(Tensor((), x.channels, (), ()))


def _flatten(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    return Out(Tensor((), x.elements, (), ()))


def _reshape(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    shape: tuple[int, ...] = v["shape"]
    known = prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or (-1 in shape and x.elements % known):
        raise ConvcountError("shape", f"shape: {list(shape)} does not fit {x.elements} values")
    if -1 in shape:
        shape = tuple(x.elements // known if s == -1 else s for s in shape)
    if prod(shape) != x.elements:
        raise ConvcountError(
            "shape", f"shape: {list(shape)} holds {prod(shape)} values, the input {x.elements}"
        )
    if len(shape) == 1:
        return Out(Tensor((), shape[0], (), ()))
    spatial, channels = (
        (shape[:-1], shape[-1]) if net.convention == "keras" else (shape[1:], shape[0])
    )
    if len(spatial) == len(x.spatial):
        return Out(Tensor(spatial, channels, x.rf, x.jump))
    whole = _whole(x) if x.spatial else ()
    rf = tuple(max(whole, default=1) for _ in spatial)
    return Out(Tensor(spatial, channels, rf, (1,) * len(spatial)))


def _like(net: Net, v: Mapping[str, Any], x: Tensor) -> tuple[int, ...] | None:
    """The spatial size of the layer ``like`` names, if it names one."""
    name = v.get("like")
    if name is None:
        return None
    other = net.tensors.get(name)
    if other is None:
        raise ConvcountError("like", f"like: no earlier layer is named {name!r}")
    if len(other.spatial) != len(x.spatial):
        raise ConvcountError(
            "like",
            f"like: {name!r} has {len(other.spatial)} spatial dimensions, the input "
            f"{len(x.spatial)}",
        )
    return other.spatial


def _to_like(
    net: Net, v: Mapping[str, Any], x: Tensor, field: str, default: object, grow: bool
) -> tuple[tuple[int, int], ...]:
    """Per-side values, given or reaching the size of ``like`` (half before, the odd
    one after: U-Net's ``F.pad(x, [d // 2, d - d // 2, ...])``)."""
    target = _like(net, v, x)
    if target is None:
        given = v[field]
        if given is None:
            return tuple(_pads(field, default, len(x.spatial)))
        return tuple(given)
    if v[field] is not None:
        raise ConvcountError(field, f"{field}: give {field} or like, not both")
    diffs = [(t - n) if grow else (n - t) for n, t in zip(x.spatial, target, strict=True)]
    if min(diffs) < 0:
        what = "smaller" if grow else "larger"
        raise ConvcountError(
            "like",
            f"like: {v['like']!r} ({_sizes(target)}) is {what} than the input "
            f"({_sizes(x.spatial)})",
        )
    return tuple((d // 2, d - d // 2) for d in diffs)


def _zero_padding(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("zero_padding", x)
    pads = _to_like(net, v, x, "padding", 1, grow=True)
    v["padding"] = pads  # the records show the zeros added, given or reached
    sizes = tuple(n + a + b for n, (a, b) in zip(x.spatial, pads, strict=True))
    return Out(x._replace(spatial=sizes))


def _cropping(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("cropping", x)
    if v["cropping"] is None and v.get("like") is None:
        raise ConvcountError("cropping", "cropping: required (or like)")
    crops = _to_like(net, v, x, "cropping", 0, grow=False)
    v["cropping"] = crops
    sizes = tuple(n - a - b for n, (a, b) in zip(x.spatial, crops, strict=True))
    _check_sizes("cropping", sizes, x)
    return Out(x._replace(spatial=sizes))


def _upsampling(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("upsampling", x)
    sizes = tuple(n * f for n, f in zip(x.spatial, v["size"], strict=True))
    jump = tuple(_divide(j, f) for j, f in zip(x.jump, v["size"], strict=True))
    return Out(Tensor(sizes, x.channels, x.rf, jump))


def _resize(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """To an explicit size, a named layer's size, or by factors (PyTorch's rule:
    int(size * factor) in double precision, so 7 x 1.5 gives 10)."""
    x = xs[0]
    _need_spatial("resize", x)
    given = [k for k in ("size", "scale_factor", "like") if v[k] is not None]
    if len(given) != 1:
        raise ConvcountError(
            "size",
            "size: give exactly one of size, scale_factor and like"
            + (f" (got {' and '.join(given)})" if given else ""),
        )
    dims = len(x.spatial)
    mode = v["interpolation"]
    if net.convention == "torch":
        wanted = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode)
        if wanted is not None and wanted != dims:
            raise ConvcountError(
                "interpolation",
                f"interpolation: {mode} needs a {wanted}-D input (F.interpolate), got {dims}-D",
            )
    if v["align_corners"] and mode in ("nearest", "nearest-exact", "area"):
        raise ConvcountError(
            "align_corners", f"align_corners: only for interpolating modes, not {mode}"
        )
    target = _like(net, v, x)
    if target is not None:
        sizes = target
    elif v["size"] is not None:
        sizes = v["size"]
    else:
        factors = v["scale_factor"]
        if net.convention == "keras" and any(f != int(f) for f in factors):
            raise ConvcountError(
                "scale_factor",
                "scale_factor: Keras upsamples by whole factors (UpSampling2D); "
                "give size (Resizing(height, width)) for any other size",
            )
        sizes = tuple(int(n * f) for n, f in zip(x.spatial, factors, strict=True))
        _check_sizes("scale_factor", sizes, x)
    if net.convention == "keras" and dims != 2 and v["scale_factor"] is None:
        raise ConvcountError(
            "size", f"size: Keras's Resizing is 2-D; a {dims}-D input upsamples by whole factors"
        )
    jump = tuple(_ratio(j, n, m) for j, n, m in zip(x.jump, x.spatial, sizes, strict=True))
    return Out(Tensor(tuple(sizes), x.channels, x.rf, jump))


def _ratio(j: Fraction | int, before: int, after: int) -> Fraction | int:
    """A jump scaled by before/after: exact, and an int when it divides."""
    scaled = Fraction(j) * before / after
    return scaled.numerator if scaled.denominator == 1 else scaled


def _channel_shuffle(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    if x.channels % v["groups"]:
        raise ConvcountError(
            "groups", f"groups: {v['groups']} must divide the input channels {x.channels}"
        )
    return Out(x)


def _split(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    parts, index = v["parts"], v["index"]
    if x.channels % parts:
        raise ConvcountError("parts", f"parts: {parts} must divide the input channels {x.channels}")
    if index >= parts:
        raise ConvcountError("index", f"index: must be below parts ({parts}), got {index}")
    return Out(x._replace(channels=x.channels // parts))


# ---------------------------------------------------------------------------
# Joins


def _describe(net: Net, tensors: Sequence[Tensor]) -> str:
    """Shapes as the convention prints them: channels last (keras) or first (torch)."""
    return ", ".join(_sizes(_shape(net, t)) for t in tensors)


def _shape(net: Net, t: Tensor) -> tuple[int, ...]:
    if not t.spatial:
        return (t.channels,)
    if (net.convention == "keras") != t.permuted:
        return (*t.spatial, t.channels)
    return (t.channels, *t.spatial)


def _merge_rf(tensors: Sequence[Tensor]) -> tuple[tuple[int, ...], tuple[Fraction | int, ...]]:
    spatial = [t for t in tensors if len(t.rf) == len(tensors[0].rf)]
    rf = tuple(max(values) for values in zip(*(t.rf for t in spatial), strict=True))
    jump = tuple(max(values) for values in zip(*(t.jump for t in spatial), strict=True))
    return rf, jump


def _add(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    if any(t.spatial != x.spatial or t.channels != x.channels for t in xs):
        raise ConvcountError("inputs", f"inputs: add needs equal shapes, got {_describe(net, xs)}")
    rf, jump = _merge_rf(xs)
    return Out(Tensor(x.spatial, x.channels, rf, jump, x.permuted))


def _multiply(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """Broadcasting product: each size equal, or 1 on all but one input."""
    dims = {len(t.spatial) for t in xs}
    if len(dims) != 1:
        raise ConvcountError(
            "inputs", f"inputs: multiply needs the same dimensions, got {_describe(net, xs)}"
        )
    shapes = [(*t.spatial, t.channels) for t in xs]
    result = []
    for sizes in zip(*shapes, strict=True):
        wide = {s for s in sizes if s != 1}
        if len(wide) > 1:
            raise ConvcountError(
                "inputs", f"inputs: multiply cannot broadcast {_describe(net, xs)} together"
            )
        result.append(wide.pop() if wide else 1)
    big = max(xs, key=lambda t: t.elements)
    return Out(Tensor(tuple(result[:-1]), result[-1], big.rf, big.jump, big.permuted))


def _concat(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    if any(t.spatial != x.spatial for t in xs):
        raise ConvcountError(
            "inputs", f"inputs: concat needs equal spatial sizes, got {_describe(net, xs)}"
        )
    rf, jump = _merge_rf(xs)
    return Out(Tensor(x.spatial, sum(t.channels for t in xs), rf, jump, x.permuted))


# ---------------------------------------------------------------------------
# Transformers: token sequences are tensors whose last spatial dimension holds
# the tokens and whose channels are the features, laid out channels last (the
# printed shape is the framework's, [L, C] or [G, P, C], in either convention).


def _channels_last(net: Net) -> bool:
    """The ``permuted`` flag of a channels-last tensor under the network's convention."""
    return net.convention != "keras"


def _heads(v: Mapping[str, Any], channels: int, field: str = "heads") -> int:
    heads: int = v[field]
    if channels % heads:
        raise ConvcountError(field, f"{field}: {heads} must divide the input channels {channels}")
    return heads


def _attention(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """Multi-head self-attention over the tokens of the last spatial dimension.

    The other spatial dimensions are independent groups (MaxViT's windows).
    With C in, H heads of query/key size d and value size e, T tokens per
    group, G groups and P = G*T positions: weights C*H*(2d+e) (q, k, v,
    packed or separate) and H*e*out (output projection); MACs
    P*C*H*(2d+e) + G*H*T*T*d (q.k) + G*H*T*T*e (attention.v) + P*H*e*out.
    Without projections the input is the packed q, k, v (H*(2d+e) channels),
    the output the heads' H*e values, and only the two products count.
    """
    x = xs[0]
    _need_spatial("attention", x)
    c = x.channels
    heads = v["heads"]
    projections = v["projections"]
    if not projections and v["out_channels"] is not None:
        raise ConvcountError(
            "out_channels",
            "out_channels: sized by an output projection; with projections = false the "
            "output is heads x value_dim",
        )
    if v["head_dim"] is not None:
        d = v["head_dim"]
    elif projections:
        d = c // _heads(v, c)
    else:
        d = c // (3 * heads) if v["value_dim"] is None else (c // heads - v["value_dim"]) // 2
    e = v["value_dim"] or d
    inner = heads * (2 * d + e)
    if not projections and (d < 1 or c != inner):
        raise ConvcountError(
            "heads",
            f"heads: without projections the input must hold q, k and v for {heads} heads "
            f"(heads x (2 x head_dim + value_dim)), got {c} channels",
        )
    out = (v["out_channels"] or c) if projections else heads * e
    tokens, positions = x.spatial[-1], prod(x.spatial)
    groups = positions // tokens
    params = buffers = 0
    macs = groups * heads * tokens * tokens * (d + e)
    if projections:
        params = c * inner + (inner if v["qkv_bias"] else 0)
        params += heads * e * out + (out if v["proj_bias"] else 0)
        macs += positions * c * inner + positions * heads * e * out
    if v["position_bias"] == "table":
        side = isqrt(tokens)
        if side * side != tokens:
            raise ConvcountError(
                "position_bias",
                f"position_bias: a table needs a square number of tokens, got {tokens}",
            )
        params += (2 * side - 1) ** 2 * heads
        buffers = tokens * tokens
    return Out(x._replace(channels=out), params, macs=macs, buffers=buffers)


def _window_attention(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """Swin's (shifted) window attention on a channels-last map of H x W x C.

    The map is padded to multiples of the window (M x N); each window's M*N
    tokens attend to each other. Weights: q, k, v (3C*C) and projection (C*C);
    the relative position bias is a (2M-1)(2N-1) x heads table (its index,
    (MN)^2 values, a buffer), or Swin V2's continuous bias: a 2 -> hidden ->
    heads MLP over the (2M-1)(2N-1) relative coordinates (buffers, 2 each)
    plus a logit scale per head. MACs: P'*4C*C over the P' padded positions,
    2*P'*M*N*C for q.k and attention.v, and the bias MLP's.
    """
    x = xs[0]
    _need_spatial("window_attention", x)
    if len(x.spatial) != 2:
        raise ConvcountError(
            "input", f"input: window_attention needs a 2-D map, got {_sizes(x.spatial)}"
        )
    c = x.channels
    heads = _heads(v, c)
    wh, ww = v["window"]
    padded = tuple(-(-n // w) * w for n, w in zip(x.spatial, (wh, ww), strict=True))
    positions, tokens = prod(padded), wh * ww
    params = 4 * c * c + (3 * c if v["qkv_bias"] else 0) + (c if v["proj_bias"] else 0)
    macs = positions * 4 * c * c + 2 * positions * tokens * c
    table = (2 * wh - 1) * (2 * ww - 1)
    buffers = tokens * tokens
    once = 0
    if v["position_bias"] == "table":
        params += table * heads
    elif v["position_bias"] == "continuous":
        params += heads
        buffers += 2 * table
        if v["bias_mlp"]:
            hidden = v["bias_hidden"]
            params += 3 * hidden + hidden * heads
            once = table * hidden * (2 + heads)  # on a buffer: once per forward
            macs += once
    else:
        buffers = 0
    rf, jump = _window(x, (wh, ww), (1, 1))
    out = x._replace(rf=rf, jump=jump)
    return Out(out, params, macs=macs, buffers=buffers, macs_once=once)


def _relative_coords(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """Swin V2's relative coordinates of a window: (2M-1) x (2N-1) x 2, channels last.

    A constant the window attention holds (as a buffer, counted there); this
    layer only gives the bias MLP's dense layers their input.
    """
    x = xs[0]
    if len(x.spatial) != 2:
        raise ConvcountError(
            "input", f"input: relative_coords needs a 2-D map, got {_sizes(x.spatial) or 'flat'}"
        )
    sizes = tuple(2 * w - 1 for w in v["window"])
    return Out(Tensor(sizes, 2, (1, 1), (1, 1), _channels_last(net)))


def _patch_merging(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """Swin's patch merging: each 2x2 neighbourhood concatenated (odd sizes padded).

    (H, W, C) -> (ceil(H/2), ceil(W/2), 4C), then a LayerNorm of 4C ("before",
    Swin V1) or of the output ("after", V2) and Linear(4C -> out, no bias).
    """
    x = xs[0]
    _need_spatial("patch_merging", x)
    sizes = tuple(-(-n // 2) for n in x.spatial)
    cin = 4 * x.channels
    rf, jump = _window(x, (2,) * len(sizes), (2,) * len(sizes))
    if not v["reduction"]:
        if v["norm"] not in (None, "none") or v["out_channels"] is not None or v["bias"]:
            raise ConvcountError(
                "reduction",
                "reduction: false leaves only the 2x2 concatenation: it takes no norm, "
                "out_channels or bias",
            )
        return Out(Tensor(sizes, cin, rf, jump, x.permuted))
    out = v["out_channels"] or 2 * x.channels
    norm = {"before": 2 * cin, "after": 2 * out, "none": 0}[v["norm"] or "before"]
    weights = cin * out
    return Out(
        Tensor(sizes, out, rf, jump, x.permuted),
        weights + (out if v["bias"] else 0) + norm,
        macs=prod(sizes) * weights,
    )


def _need_tokens(kind: str, x: Tensor) -> None:
    if len(x.spatial) != 1:
        raise ConvcountError(
            "input",
            f"input: a {kind} layer needs a token sequence (one spatial dimension), "
            f"got {_sizes(x.spatial) or 'a flat input'}",
        )


def _class_token(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_tokens("class_token", x)
    n = v["tokens"]
    return Out(x._replace(spatial=(x.spatial[0] + n,)), n * x.channels)


def _position_embedding(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_spatial("position_embedding", x)
    return Out(x, x.elements)


def _select_token(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    x = xs[0]
    _need_tokens("select_token", x)
    if v["index"] >= x.spatial[0]:
        raise ConvcountError(
            "index", f"index: must be below the {x.spatial[0]} tokens, got {v['index']}"
        )
    return Out(Tensor((), x.channels, (), ()))


def _mlp(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """Linear(C -> hidden), activation, Linear(hidden -> out), at every position."""
    x = xs[0]
    hidden, out = v["hidden"], v["out_channels"] or x.channels
    weights = x.channels * hidden + hidden * out
    bias = hidden + out if v["bias"] else 0
    return Out(x._replace(channels=out), weights + bias, macs=prod(x.spatial) * weights)


def _window_partition(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """MaxViT's WindowPartition: (H, W) -> (H/p * W/p windows, p*p tokens), channels last."""
    x = xs[0]
    if len(x.spatial) != 2:
        raise ConvcountError(
            "input", f"input: window_partition needs a 2-D map, got {_sizes(x.spatial) or 'flat'}"
        )
    p = v["size"]
    if any(n % p for n in x.spatial):
        raise ConvcountError("size", f"size: {p} must divide the input sizes {_sizes(x.spatial)}")
    h, w = x.spatial
    whole = _whole(x)
    return Out(Tensor((h // p * (w // p), p * p), x.channels, whole, (1, 1), _channels_last(net)))


def _swap_axes(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """MaxViT's SwapAxes(-2, -3): the two spatial dimensions trade places (grid attention)."""
    x = xs[0]
    if len(x.spatial) != 2:
        raise ConvcountError(
            "input", f"input: swap_axes needs two spatial dimensions, got {_sizes(x.spatial)}"
        )
    return Out(x._replace(spatial=x.spatial[::-1], rf=x.rf[::-1], jump=x.jump[::-1]))


def _window_departition(net: Net, xs: Sequence[Tensor], v: dict[str, Any]) -> Out:
    """MaxViT's WindowDepartition: (hp*wp windows, p*p tokens) -> (hp*p, wp*p), channels first."""
    x = xs[0]
    p = v["size"]
    if len(x.spatial) != 2:
        raise ConvcountError(
            "input",
            f"input: window_departition needs windows x tokens, got {_sizes(x.spatial) or 'flat'}",
        )
    hp, wp = v["partitions"]
    if x.spatial != (hp * wp, p * p):
        raise ConvcountError(
            "input",
            f"input: {hp}x{wp} partitions of {p}x{p} need {hp * wp}x{p * p} tokens, "
            f"got {_sizes(x.spatial) or 'a flat input'}",
        )
    return Out(Tensor((hp * p, wp * p), x.channels, x.rf, x.jump))


# ---------------------------------------------------------------------------
# The registry

ACTIVATIONS = (
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "swish",
    "silu",
    "sigmoid",
    "hard_sigmoid",
    "hard_swish",
    "tanh",
    "softmax",
    "mish",
    "linear",
)


def _by_convention(keras: object, torch: object) -> Callable[[str], object]:
    return lambda convention: keras if convention == "keras" else torch


KERNEL = Field("kernel_size", "ints", REQUIRED, "kernel size: 3, 3x5 or [3, 5]", short="{*}")
STRIDE = Field("stride", "ints", 1, "stride per dimension", short="/{}")
PADDING = Field(
    "padding",
    "padding",
    _by_convention("valid", 0),
    "valid, same, causal (1-D), or zeros per side (P or [P, Q]); "
    "default valid (keras) or 0 (torch)",
    minimum=0,
    short="p{}",
)
DILATION = Field("dilation", "ints", 1, "dilation per dimension", short="d{}")
OUT = Field("out_channels", "int", None, "output channels (required unless expand is given)")
EXPAND = Field(
    "expand", "int", None, "out_channels as a multiple of the input channels", short="x{}"
)
GROUPS = Field("groups", "int", 1, "groups; must divide both channel counts", short="g{}")
BIAS = Field("bias", "bool", True, "whether the layer has a bias", short="bias")
CENTER = Field("center", "bool", True, "a learned offset (beta)", short="center")
SCALE = Field("scale", "bool", True, "a learned scale (gamma)", short="scale")
RATE = Field("rate", "number", 0, "drop rate (no parameters, no effect on counts)", short="{}")
KEEPDIMS = Field(
    "keepdims", "bool", False, "keep the spatial dimensions as size 1", short="keepdims"
)
POOL = Field("pool_size", "ints", 2, "window size", short="{*}", always=True)
POOL_STRIDE = Field("stride", "ints", None, "stride; default: the window size", short="/{}")
POOL_PADDING = Field(
    "padding",
    "padding",
    _by_convention("valid", 0),
    "valid, same, or zeros per side",
    minimum=0,
    short="p{}",
)
CEIL = Field("ceil_mode", "bool", False, "PyTorch's ceil_mode: round output sizes up", short="ceil")
ACTIVATION = Field(
    "activation",
    "choice",
    None,
    "the layer's own activation, if any (Keras's activation=; no parameters)",
    choices=ACTIVATIONS,
    short="{}",
)


def _kinds(*kinds: Kind) -> dict[str, Kind]:
    return {k.name: k for k in kinds}


#: Every layer kind, by name.
KINDS: dict[str, Kind] = _kinds(
    Kind(
        "conv",
        "convolution, optionally grouped: K*(Cin/g)*Cout weights, Cout biases",
        (KERNEL, OUT, EXPAND, STRIDE, PADDING, DILATION, GROUPS, BIAS, ACTIVATION),
        _conv,
        keras="Conv1D/2D/3D",
        torch="nn.Conv1d/2d/3d",
    ),
    Kind(
        "pointwise",
        "1x1 convolution",
        (OUT, EXPAND, STRIDE, GROUPS, BIAS),
        _pointwise,
        keras="Conv2D(filters, 1)",
        torch="nn.Conv2d(cin, cout, 1)",
    ),
    Kind(
        "depthwise",
        "depthwise convolution: K*Cin*m weights, Cin*m biases",
        (
            KERNEL,
            Field("depth_multiplier", "int", 1, "outputs per input channel", short="×{}"),
            STRIDE,
            PADDING,
            DILATION,
            BIAS,
        ),
        _depthwise,
        keras="DepthwiseConv2D",
        torch="nn.Conv2d(cin, cin*m, k, groups=cin)",
    ),
    Kind(
        "separable",
        "depthwise then 1x1 convolution",
        (
            KERNEL,
            Field("out_channels", "int", REQUIRED, "output channels"),
            Field(
                "depth_multiplier",
                "int",
                1,
                "outputs per input channel of the depthwise step",
                short="×{}",
            ),
            STRIDE,
            PADDING,
            DILATION,
            Field(
                "depthwise_bias",
                "bool",
                _by_convention(False, True),
                "a bias on the depthwise step; default false (keras), true (torch)",
                short="dw bias",
            ),
            Field("pointwise_bias", "bool", True, "a bias on the pointwise step", short="pw bias"),
        ),
        _separable,
        keras="SeparableConv2D",
        torch="two nn.Conv2d",
    ),
    Kind(
        "transpose",
        "transposed convolution: K*Cin*(Cout/g) weights; MACs scale with the input size",
        (
            KERNEL,
            Field("out_channels", "int", REQUIRED, "output channels"),
            STRIDE,
            PADDING,
            DILATION,
            GROUPS,
            BIAS,
            Field(
                "output_padding", "ints", None, "extra size on one side", minimum=0, short="op{}"
            ),
        ),
        _transpose,
        keras="Conv2DTranspose",
        torch="nn.ConvTranspose2d",
    ),
    Kind(
        "dense",
        "dense / linear on the last axis (torch C×H×W: W): Cin*units weights",
        (Field("units", "int", REQUIRED, "output features", short="{} units"), BIAS),
        _dense,
        keras="Dense",
        torch="nn.Linear",
    ),
    Kind(
        "batchnorm",
        "batch normalisation: keras 4 values per channel (2 non-trainable); "
        "torch 2 parameters per channel and 2C+1 buffers",
        (CENTER, SCALE),
        _batchnorm,
        keras="BatchNormalization",
        torch="nn.BatchNorm2d",
    ),
    Kind(
        "layer_norm",
        "layer normalisation over the channels: 2 parameters per channel",
        (CENTER, SCALE),
        _layer_norm,
        keras="LayerNormalization",
        torch="nn.LayerNorm / LayerNorm2d",
    ),
    Kind(
        "layer_scale",
        "a learned scale per channel (ConvNeXt)",
        (),
        _layer_scale,
        keras="LayerScale",
        torch="nn.Parameter(C, 1, 1)",
    ),
    Kind(
        "normalization",
        "input normalisation; adapted statistics hold mean, variance and count (2C+1 "
        "non-trainable), constant ones nothing",
        (
            Field(
                "constant", "bool", False, "mean and variance given as constants", short="constant"
            ),
        ),
        _normalization,
        keras="Normalization",
    ),
    Kind(
        "rescaling",
        "multiply and offset the input (no parameters)",
        (
            Field("scale", "number", 1, "the factor", short="×{}"),
            Field("offset", "number", 0, "the offset", short="+{}"),
        ),
        _same,
        keras="Rescaling",
    ),
    Kind(
        "activation",
        "an activation function (no parameters)",
        (
            Field(
                "function",
                "choice",
                "relu",
                "the function",
                choices=ACTIVATIONS,
                short="{}",
                always=True,
            ),
        ),
        _same,
        keras="Activation / ReLU",
        torch="nn.ReLU, nn.Hardswish, ...",
    ),
    Kind("dropout", "dropout (no parameters)", (RATE,), _same, keras="Dropout", torch="nn.Dropout"),
    Kind(
        "stochastic_depth",
        "stochastic depth (no parameters)",
        (RATE,),
        _same,
        keras="StochasticDepth",
        torch="StochasticDepth",
    ),
    Kind("identity", "passes its input on", (), _same, torch="nn.Identity"),
    Kind(
        "permute",
        "moves the channel axis (no parameters): only the printed shape changes",
        (
            Field(
                "to",
                "choice",
                REQUIRED,
                "where the channels go",
                choices=("channels_last", "channels_first"),
                short="{}",
                always=True,
            ),
        ),
        _permute,
        keras="Permute",
        torch="torch.permute",
    ),
    Kind(
        "max_pool",
        "max pooling",
        (POOL, POOL_STRIDE, POOL_PADDING, CEIL),
        _pool,
        keras="MaxPooling2D",
        torch="nn.MaxPool2d",
    ),
    Kind(
        "avg_pool",
        "average pooling",
        (POOL, POOL_STRIDE, POOL_PADDING, CEIL),
        _pool,
        keras="AveragePooling2D",
        torch="nn.AvgPool2d",
    ),
    Kind(
        "adaptive_avg_pool",
        "average pooling to a fixed output size",
        (Field("output_size", "ints", 1, "the output size", short="→{*}", always=True),),
        _adaptive_pool,
        torch="nn.AdaptiveAvgPool2d",
    ),
    Kind(
        "adaptive_max_pool",
        "max pooling to a fixed output size",
        (Field("output_size", "ints", 1, "the output size", short="→{*}", always=True),),
        _adaptive_pool,
        torch="nn.AdaptiveMaxPool2d",
    ),
    Kind(
        "global_avg_pool",
        "average over all positions",
        (
            KEEPDIMS,
            Field(
                "method",
                "choice",
                "adaptive",
                "how PyTorch code averages: adaptive_avg_pool (nn.AdaptiveAvgPool2d, "
                "F.adaptive_avg_pool2d) or mean (x.mean(dims)); the counts are the same, "
                "but fvcore counts only the first",
                choices=("adaptive", "mean"),
                short="{}",
            ),
        ),
        _global_pool,
        keras="GlobalAveragePooling2D",
        torch="adaptive_avg_pool2d(1) + flatten",
    ),
    Kind(
        "global_max_pool",
        "maximum over all positions",
        (KEEPDIMS,),
        _global_pool,
        keras="GlobalMaxPooling2D",
        torch="adaptive_max_pool2d(1) + flatten",
    ),
    Kind("flatten", "flatten to one vector", (), _flatten, keras="Flatten", torch="nn.Flatten"),
    Kind(
        "reshape",
        "reshape, in the convention's layout (channels last for keras, first for torch)",
        (
            Field(
                "shape",
                "shape",
                REQUIRED,
                "the new shape without the batch; one size may be -1",
                short="{*}",
            ),
        ),
        _reshape,
        keras="Reshape",
        torch="view",
    ),
    Kind(
        "zero_padding",
        "zeros around the input: padding per side (1 if not given), or up to like's size",
        (
            Field(
                "padding",
                "pads",
                None,
                "zeros per side (default 1): 1, [1, 2] (per dimension), "
                "[[top, bottom], [left, right]], or under torch F.pad's [left, right, top, bottom]",
                short="p{}",
                always=True,
            ),
            Field(
                "like",
                "layer",
                None,
                "instead: pad to that earlier layer's size, half before and the odd one after",
                short="to {}",
            ),
        ),
        _zero_padding,
        keras="ZeroPadding2D",
        torch="nn.ZeroPad2d",
    ),
    Kind(
        "cropping",
        "crop the input's borders: cropping per side, or down to like's size",
        (
            Field(
                "cropping",
                "pads",
                None,
                "values cut per side: 1, [1, 2] or [[top, bottom], [left, right]] (or like)",
                short="c{}",
            ),
            Field(
                "like",
                "layer",
                None,
                "instead: crop to that earlier layer's size, half before and the odd one after",
                short="to {}",
            ),
        ),
        _cropping,
        keras="Cropping2D",
    ),
    Kind(
        "upsampling",
        "nearest or bilinear upsampling by whole factors (no parameters, no MACs); "
        "resize takes any factor or size",
        (
            Field("size", "ints", 2, "factor per dimension", short="×{}", always=True),
            Field(
                "interpolation",
                "choice",
                "nearest",
                "the method",
                choices=("nearest", "bilinear"),
                short="{}",
            ),
        ),
        _upsampling,
        keras="UpSampling2D",
        torch="nn.Upsample",
    ),
    Kind(
        "resize",
        "resize to a size, to a layer's size or by any factor (no parameters, no MACs)",
        (
            Field("size", "ints", None, "the output size: 64, 64x48 or [h, w]", short="to {*}"),
            Field(
                "scale_factor",
                "factors",
                None,
                "a factor (per dimension), may be fractional: int(size x factor), as PyTorch",
                short="×{}",
            ),
            Field(
                "like", "layer", None, "an earlier layer whose spatial size to take", short="to {}"
            ),
            Field(
                "interpolation",
                "choice",
                "nearest",
                "the method; torch takes linear in 1-D, bilinear and bicubic in 2-D, "
                "trilinear in 3-D",
                choices=(
                    "nearest",
                    "nearest-exact",
                    "linear",
                    "bilinear",
                    "bicubic",
                    "trilinear",
                    "area",
                ),
                short="{}",
            ),
            Field("align_corners", "bool", False, "no effect on counts; not with nearest"),
        ),
        _resize,
        keras="Resizing(h, w) / UpSampling2D",
        torch="F.interpolate / nn.Upsample",
    ),
    Kind(
        "channel_shuffle",
        "ShuffleNet's channel shuffle (no parameters)",
        (Field("groups", "int", 2, "groups; must divide the channels", short="g{}", always=True),),
        _channel_shuffle,
        torch="nn.ChannelShuffle",
    ),
    Kind(
        "split",
        "one of `parts` equal slices of the channels",
        (
            Field("parts", "int", 2, "how many equal slices", short="÷{}", always=True),
            Field("index", "int", 0, "which slice, from 0", minimum=0, short="#{}", always=True),
        ),
        _split,
        torch="chunk",
    ),
    Kind(
        "input",
        "another input of the network (a model with several inputs): its shape as given, "
        "no parameters; its values count as activations in the memory figures",
        (Field("shape", "shape", REQUIRED, "its shape without the batch"),),
        _input,
        keras="Input / InputLayer",
        any_inputs=True,
    ),
    Kind(
        "opaque",
        "a layer convcount cannot count (a model file's custom layer): its parameters and "
        "output shape as given; its MACs unknown unless given, the model's total then a "
        "lower bound",
        (
            Field("trainable", "int", 0, "trainable parameters", minimum=0),
            Field("non_trainable", "int", 0, "non-trainable parameters", minimum=0),
            Field("buffers", "int", 0, "buffers (state that is not a parameter)", minimum=0),
            Field(
                "params_known",
                "bool",
                True,
                "false: the parameters are unknown too (the totals are then lower bounds)",
            ),
            Field("shape", "shape", None, "output shape without the batch; default: the input's"),
            Field("macs", "int", None, "its MACs, when known; default unknown", minimum=0),
        ),
        _opaque,
        any_inputs=True,
    ),
    Kind(
        "attention",
        "multi-head self-attention over the tokens of the last spatial dimension (the "
        "others are independent windows): q, k, v and output projections, q.k and "
        "attention.v products",
        (
            Field("heads", "int", REQUIRED, "attention heads", short="{} heads"),
            Field("head_dim", "int", None, "query/key size per head; default channels / heads"),
            Field("value_dim", "int", None, "value size per head; default head_dim"),
            Field("out_channels", "int", None, "output projection size; default the input's"),
            Field("qkv_bias", "bool", True, "biases on the q, k, v projections"),
            Field("proj_bias", "bool", True, "a bias on the output projection"),
            Field(
                "projections",
                "bool",
                True,
                "false: the input is the packed q, k, v and only q.k and attention.v count "
                "(projections as dense layers of their own, as MaxViT's to_qkv and merge)",
            ),
            Field(
                "position_bias",
                "choice",
                "none",
                "table: a learned (2S-1)^2 x heads relative position table over S x S tokens "
                "(MaxViT), its index a buffer",
                choices=("none", "table"),
            ),
        ),
        _attention,
        keras="MultiHeadAttention",
        torch="nn.MultiheadAttention (with out_proj)",
    ),
    Kind(
        "window_attention",
        "Swin's (shifted) window attention on an H x W x C map padded to whole windows, "
        "with its relative position bias",
        (
            Field(
                "heads",
                "int",
                REQUIRED,
                "attention heads; must divide the channels",
                short="{} heads",
            ),
            Field("window", "ints", REQUIRED, "window size (M or MxN)", short="w{*}"),
            Field("shift", "ints", 0, "cyclic shift (no effect on counts)", minimum=0, short="s{}"),
            Field("qkv_bias", "bool", True, "biases on the q, k, v projection"),
            Field("proj_bias", "bool", True, "a bias on the output projection"),
            Field(
                "position_bias",
                "choice",
                "table",
                "table: (2M-1)(2N-1) x heads parameters (Swin); continuous: Swin V2's "
                "2 -> bias_hidden -> heads MLP and a logit scale per head; none",
                choices=("table", "continuous", "none"),
            ),
            Field("bias_hidden", "int", 512, "hidden size of the continuous bias MLP"),
            Field(
                "bias_mlp",
                "bool",
                True,
                "false: the continuous bias's MLP is layers of its own (dense layers on a "
                "relative_coords layer), as torchvision runs its cpb_mlp",
            ),
        ),
        _window_attention,
        torch="ShiftedWindowAttention(V2)",
    ),
    Kind(
        "relative_coords",
        "Swin V2's relative coordinates of a window, (2M-1) x (2N-1) x 2, for a bias MLP "
        "written as layers (no parameters; the attention holds them as a buffer)",
        (Field("window", "ints", REQUIRED, "window size (M or MxN)"),),
        _relative_coords,
        torch="relative_coords_table",
    ),
    Kind(
        "patch_merging",
        "Swin's patch merging: 2x2 neighbours concatenated (4C, odd sizes padded), "
        "LayerNorm, Linear 4C -> 2C",
        (
            Field("out_channels", "int", None, "output channels; default 2C"),
            Field(
                "norm",
                "choice",
                None,
                "LayerNorm of the 4C input (before: Swin, the default with a reduction), "
                "of the output (after: Swin V2), or none",
                choices=("before", "after", "none"),
            ),
            Field("bias", "bool", False, "a bias on the linear reduction"),
            Field(
                "reduction",
                "bool",
                True,
                "false: only the concatenation (torchvision's _patch_merging_pad); the "
                "norm and Linear then are layers of their own",
            ),
        ),
        _patch_merging,
        torch="PatchMerging(V2)",
    ),
    Kind(
        "class_token",
        "learned tokens prepended to a token sequence: C parameters each",
        (Field("tokens", "int", 1, "tokens prepended"),),
        _class_token,
        torch="nn.Parameter(1, 1, C) + torch.cat",
    ),
    Kind(
        "position_embedding",
        "a learned embedding added at every position: one parameter per value",
        (),
        _position_embedding,
        torch="nn.Parameter(1, L, C) + add",
    ),
    Kind(
        "select_token",
        "one token of a sequence, flat (ViT's class token x[:, 0])",
        (Field("index", "int", 0, "which token, from 0", minimum=0),),
        _select_token,
        torch="x[:, i]",
    ),
    Kind(
        "mlp",
        "transformer MLP block: Linear C -> hidden, activation, Linear hidden -> out, "
        "at every position",
        (
            Field("hidden", "int", REQUIRED, "hidden features"),
            Field("out_channels", "int", None, "output features; default the input's"),
            BIAS,
            Field("activation", "choice", "gelu", "the activation", choices=ACTIVATIONS),
        ),
        _mlp,
        torch="torchvision.ops.MLP",
    ),
    Kind(
        "window_partition",
        "MaxViT's partition of an H x W map into (H/p)(W/p) windows of p x p tokens, "
        "channels last (grid attention: p = H / partition size, then swap_axes)",
        (Field("size", "int", REQUIRED, "p; must divide both sizes"),),
        _window_partition,
        torch="WindowPartition",
    ),
    Kind(
        "swap_axes",
        "the two spatial dimensions trade places (MaxViT's grid attention)",
        (),
        _swap_axes,
        torch="SwapAxes(-2, -3)",
    ),
    Kind(
        "window_departition",
        "MaxViT's inverse partition: hp*wp windows of p x p tokens back to an "
        "(hp*p) x (wp*p) map, channels first",
        (
            Field("size", "int", REQUIRED, "p"),
            Field("partitions", "ints", REQUIRED, "windows per dimension: hp x wp"),
        ),
        _window_departition,
        torch="WindowDepartition",
    ),
    Kind("add", "elementwise sum of equal shapes", (), _add, joins=True, keras="Add", torch="+"),
    Kind(
        "multiply",
        "elementwise product, broadcasting sizes of 1 (squeeze-and-excite)",
        (),
        _multiply,
        joins=True,
        keras="Multiply",
        torch="*",
    ),
    Kind(
        "concat",
        "concatenation along the channels",
        (),
        _concat,
        joins=True,
        keras="Concatenate",
        torch="torch.cat",
    ),
)

#: Each kind's field names, for the check that a layer gives only those.
_NAMES: dict[str, frozenset[str]] = {
    kind.name: frozenset(f.name for f in kind.fields) for kind in KINDS.values()
}
