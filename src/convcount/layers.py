"""Layer descriptions: parsing, defaults and every validity rule.

A :class:`Layer` is a frozen, fully normalised description of one convolution
layer. It is only ever built by :func:`make_layer`, which accepts the loose
values a person types (``"3x5"``, ``"10"``, ``3``, ``[3, 5]``), fills in the
defaults of the chosen framework convention and refuses, with one sentence
naming the option and the rule, whatever the chosen framework refuses.

The same function serves the Python API, the command line, batch files and
model files, so all of them accept and reject exactly the same things.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, NamedTuple

from convcount.errors import SHOWN_CHARS, ConvcountError, did_you_mean, flag
from convcount.limits import MAX_DIGITS

Kind = Literal["conv", "depthwise", "separable", "transpose"]
Convention = Literal["keras", "torch"]
Padding = Literal["valid", "same", "causal"] | tuple[int, ...]

KINDS: tuple[Kind, ...] = ("conv", "depthwise", "separable", "transpose")
CONVENTIONS: tuple[Convention, ...] = ("keras", "torch")
FRAMEWORK: dict[Convention, str] = {"keras": "Keras", "torch": "PyTorch"}

#: Bytes per element of each supported ``dtype``.
DTYPE_BYTES: dict[str, int] = {
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int8": 1,
    "float64": 8,
}

#: Short command-line flags of the required fields, for the messages that ask for them.
SHORT: dict[str, str] = {"kernel_size": "-k", "in_channels": "-i", "out_channels": "-o"}

#: Options every layer kind takes.
COMMON_OPTIONS: tuple[str, ...] = (
    "kernel_size",
    "in_channels",
    "dims",
    "convention",
    "input_size",
    "stride",
    "padding",
    "dilation",
    "dtype",
)

#: Options that belong to one layer kind only, beyond :data:`COMMON_OPTIONS`.
KIND_OPTIONS: dict[Kind, tuple[str, ...]] = {
    "conv": ("out_channels", "groups", "bias"),
    "depthwise": ("depth_multiplier", "bias"),
    "separable": ("out_channels", "depth_multiplier", "depthwise_bias", "pointwise_bias"),
    "transpose": ("out_channels", "groups", "bias", "output_padding"),
}

_SPATIAL = (("input_size", 1), ("stride", 1), ("dilation", 1), ("output_padding", 0))
_ALLOWED: dict[Kind, frozenset[str]] = {
    kind: frozenset((*COMMON_OPTIONS, *options)) for kind, options in KIND_OPTIONS.items()
}

#: Every field name :func:`make_layer` knows, in the order records list them.
FIELDS: tuple[str, ...] = (
    "kind",
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
)


class Layer(NamedTuple):
    """One convolution layer, normalised and valid under its convention.

    Spatial tuples (``kernel_size``, ``stride``, ...) always hold ``dims``
    numbers. Fields that do not apply to the kind are ``None``. Immutable; a
    NamedTuple rather than a frozen dataclass because it is created four times
    faster, which a batch over millions of layers feels. Build it with
    :func:`make_layer`, which validates.
    """

    kind: Kind
    """conv, depthwise, separable or transpose."""
    dims: int
    """Number of spatial dimensions: 1, 2 or 3."""
    kernel_size: tuple[int, ...]
    """Kernel extent per spatial dimension."""
    in_channels: int
    """Channels of the input tensor."""
    out_channels: int
    """Channels of the output tensor (in_channels * depth_multiplier for depthwise)."""
    convention: Convention
    """Whose defaults and rules apply: keras or torch."""
    groups: int | None = None
    """Groups of a conv or transposed conv; None for depthwise and separable."""
    depth_multiplier: int | None = None
    """Outputs per input channel of the depthwise step; None for conv and transpose."""
    bias: bool | None = None
    """Bias of a conv, depthwise or transposed layer; None for separable."""
    depthwise_bias: bool | None = None
    """Bias after the depthwise step of a separable layer."""
    pointwise_bias: bool | None = None
    """Bias after the 1x1 step of a separable layer."""
    input_size: tuple[int, ...] | None = None
    """Spatial input size, when the shape and MACs are wanted."""
    stride: tuple[int, ...] = ()
    """Stride per spatial dimension."""
    padding: Padding = "valid"
    """'valid', 'same' (Keras's rules) or zeros added on each side (PyTorch's)."""
    dilation: tuple[int, ...] = ()
    """Dilation per spatial dimension."""
    output_padding: tuple[int, ...] | None = None
    """Extra output size of a transposed layer; None when not given (Keras tells the two apart)."""
    dtype: str = "float32"
    """Element type for the memory figures."""

    @property
    def effective_kernel(self) -> tuple[int, ...]:
        """Kernel extent once dilated: d*(k-1)+1 per dimension."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation, strict=True))

    @property
    def mid_channels(self) -> int:
        """Channels between the depthwise and pointwise steps (in * depth multiplier)."""
        return self.in_channels * (self.depth_multiplier or 1)


# ---------------------------------------------------------------------------
# Parsing of loose values


def _fail(option: str, rule: str) -> ConvcountError:
    return ConvcountError(option, f"{flag(option)} {rule}")


#: Whitespace around a value that is ignored: ASCII only, like the digits.
_SPACE = " \t\n\r\x0b\x0c"
#: An integer as text: ASCII digits only ("３" and "٣" are not digits here), so
#: the CLI, batch files and model files accept exactly the same numbers.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DIGITS = re.compile(r"[0-9]+")
#: The first integer with more than MAX_DIGITS digits.
_TOO_LARGE = 10**MAX_DIGITS


class _Shower(reprlib.Repr):
    """A short, safe repr for values quoted in messages (nested, long or huge ones)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = self.maxother = SHOWN_CHARS

    def repr_int(self, x: int, level: int) -> str:
        return _show_int(x)


_SHOWER = _Shower()


def _show_int(value: int) -> str:
    if -_TOO_LARGE < value < _TOO_LARGE:
        return str(value)
    return f"an integer of {_digit_count(value):,} digits"


def _digit_count(value: int) -> int:
    """Decimal digits of ``value`` without converting it to text (which has a limit)."""
    value = abs(value)
    guess = max(1, int(value.bit_length() * 0.30102999566398120))  # log10(2)
    while guess > 1 and value < 10 ** (guess - 1):
        guess -= 1
    while value >= 10**guess:
        guess += 1
    return guess


def _show(value: object) -> str:
    """A value as a message quotes it: strings in quotes, sizes as 3x5, all kept short."""
    if isinstance(value, str):
        return _SHOWER.repr(value)
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return "x".join(_show_int(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _show_int(value)
    return _SHOWER.repr(value)


def _blank(value: object) -> bool:
    return value is None or (type(value) is str and not value.strip(_SPACE))


def parse_int(option: str, value: object, *, minimum: int = 1) -> int:
    """An integer from an int or a decimal string (ASCII digits), at least ``minimum``.

    At most :data:`~convcount.limits.MAX_DIGITS` digits: a longer one is refused
    before it is converted, whatever its source.
    """
    if type(value) is int and minimum <= value < _TOO_LARGE:
        return value  # the common case, first: batch files hold millions of these
    what = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
    text = value.strip(_SPACE) if isinstance(value, str) else ""
    if isinstance(value, bool) or not (isinstance(value, int) or _INTEGER.fullmatch(text)):
        raise _fail(option, f"must be {what}, got {_show(value)}")
    # Counted before int() runs: converting a long string costs time quadratic in its length.
    digits = _digit_count(value) if isinstance(value, int) else len(text.lstrip("+-").lstrip("0"))
    if digits > MAX_DIGITS:
        raise _fail(
            option, f"must be {what} of at most {MAX_DIGITS} digits, got one of {digits:,} digits"
        )
    number = value if isinstance(value, int) else int(text)
    if number < minimum:
        raise _fail(option, f"must be {what}, got {number}")
    return number


def parse_ints(option: str, value: object, *, minimum: int = 1) -> tuple[int, ...]:
    """One or more integers: ``3``, ``"3"``, ``"3x5"``, ``"1x2x2"`` or ``[3, 5]``."""
    if type(value) is int and minimum <= value < _TOO_LARGE:
        return (value,)
    parts: Sequence[object]
    if isinstance(value, str):
        text = value.strip(_SPACE).lower().replace("×", "x").replace(",", "x")
        parts = text.split("x")
        if not all(_DIGITS.fullmatch(p.strip(_SPACE)) for p in parts):
            what = "positive integers" if minimum == 1 else "integers"
            raise _fail(
                option,
                f"must be one number or up to three joined by 'x' (e.g. 3 or 3x5), "
                f"all {what}, got {_show(value)}",
            )
    elif isinstance(value, (list, tuple)):
        parts = value
    else:
        parts = [value]
    if not 1 <= len(parts) <= 3:
        raise _fail(option, f"takes one to three numbers, got {len(parts):,}")
    return tuple(parse_int(option, p, minimum=minimum) for p in parts)


def parse_bool(option: str, value: object) -> bool:
    """A flag from a bool or the usual words (true/false, yes/no, 1/0)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip(_SPACE).lower()
        if word in ("true", "yes", "1", "on"):
            return True
        if word in ("false", "no", "0", "off"):
            return False
    raise _fail(option, f"must be true or false, got {_show(value)}")


def parse_choice(option: str, value: object, choices: Iterable[str]) -> str:
    """One of a fixed set of words (any case, surrounding spaces ignored)."""
    if isinstance(value, str) and value in choices:
        return value
    options = tuple(choices)
    word = value.strip(_SPACE).lower() if isinstance(value, str) else None
    if word not in options:
        hint = did_you_mean(value, options, as_field=False)
        raise _fail(option, f"must be one of {', '.join(options)}, got {_show(value)}{hint}")
    assert word is not None
    return word


_PADDING_WORDS: dict[str, Padding] = {"valid": "valid", "same": "same", "causal": "causal"}


def parse_padding(value: object) -> Padding:
    """'valid', 'same', 'causal' (1-D), or zeros per side (``1``, ``"1x2"``, ``[1, 2]``)."""
    if isinstance(value, str):
        word = _PADDING_WORDS.get(value) or _PADDING_WORDS.get(value.strip(_SPACE).lower())
        if word is not None:
            return word
    try:
        return parse_ints("padding", value, minimum=0)
    except ConvcountError:
        raise _fail(
            "padding",
            f"must be valid, same, causal, or zeros per side (P, PxQ or PxQxR), got {_show(value)}",
        ) from None


# ---------------------------------------------------------------------------
# Building a layer


def make_layer(kind: str, **options: object) -> Layer:
    """Parse, default and validate one layer description.

    ``options`` are the field names of :class:`Layer` (plus ``dims``); a value
    of ``None`` or an empty string means "not given". Raises
    :class:`ConvcountError` for anything the chosen convention's framework
    would refuse when building the layer, and for options that do not belong
    to the layer kind. An input size too small for the layer is refused by
    :func:`convcount.count`, where the output size is computed.
    """
    return layer_from_fields(kind, options)


def layer_from_fields(kind: object, options: Mapping[str, object]) -> Layer:
    """:func:`make_layer` for options already in a mapping (a batch row, a model file)."""
    layer_kind: Kind = parse_choice("layer", kind, KINDS)  # type: ignore[assignment]  # checked against KINDS
    given = {
        name: value
        for name, value in options.items()
        if value is not None and (type(value) is not str or not _blank(value))
    }
    if not given.keys() <= _ALLOWED[layer_kind]:
        _check_options_belong(layer_kind, given)

    convention: Convention = parse_choice(  # type: ignore[assignment]  # checked against CONVENTIONS
        "convention", given.get("convention", "keras"), CONVENTIONS
    )
    in_channels = parse_int("in_channels", _required(layer_kind, given, "in_channels"))
    kernel = parse_ints("kernel_size", _required(layer_kind, given, "kernel_size"))

    spatial: dict[str, tuple[int, ...]] = {"kernel_size": kernel}
    for name, minimum in _SPATIAL:
        if name in given:
            spatial[name] = parse_ints(name, given[name], minimum=minimum)
    padding = parse_padding(given["padding"]) if "padding" in given else None
    if isinstance(padding, tuple):
        spatial["padding"] = padding
    dims = _resolve_dims(given.get("dims"), spatial)

    def spread(name: str, default: int | None) -> tuple[int, ...] | None:
        value = spatial.get(name)
        if value is None:
            return None if default is None else (default,) * dims
        return value if len(value) == dims else value * dims

    out_channels: int
    groups = depth_multiplier = None
    bias = depthwise_bias = pointwise_bias = None
    if layer_kind in ("depthwise", "separable"):
        depth_multiplier = parse_int("depth_multiplier", given.get("depth_multiplier", 1))
    if layer_kind == "depthwise":
        out_channels = in_channels * depth_multiplier  # type: ignore[operator]  # set just above
        if (
            "out_channels" in given
            and parse_int("out_channels", given["out_channels"]) != out_channels
        ):
            raise _fail(
                "out_channels",
                f"does not apply to depthwise: its outputs are {flag('in_channels')} x "
                f"{flag('depth_multiplier')} ({out_channels}); "
                f"use {flag('depth_multiplier', '-m')}",
            )
    else:
        out_channels = parse_int("out_channels", _required(layer_kind, given, "out_channels"))
    if layer_kind in ("conv", "transpose"):
        groups = parse_int("groups", given.get("groups", 1))
    if layer_kind == "separable":
        depthwise_bias = parse_bool(
            "depthwise_bias", given.get("depthwise_bias", convention == "torch")
        )
        pointwise_bias = parse_bool("pointwise_bias", given.get("pointwise_bias", True))
    else:
        bias = parse_bool("bias", given.get("bias", True))

    dtype = parse_choice("dtype", given.get("dtype", "float32"), DTYPE_BYTES)
    default_padding: Padding = "valid" if convention == "keras" else (0,) * dims
    layer = Layer(
        kind=layer_kind,
        dims=dims,
        kernel_size=spread("kernel_size", None) or (),
        in_channels=in_channels,
        out_channels=out_channels,
        convention=convention,
        groups=groups,
        depth_multiplier=depth_multiplier,
        bias=bias,
        depthwise_bias=depthwise_bias,
        pointwise_bias=pointwise_bias,
        input_size=spread("input_size", None),
        stride=spread("stride", 1) or (),
        padding=spread("padding", None)
        or (padding if isinstance(padding, str) else default_padding),
        dilation=spread("dilation", 1) or (),
        output_padding=spread("output_padding", None),
        dtype=dtype,
    )
    _check_channels(layer)
    _check_framework_rules(layer)
    return layer


def _required(kind: Kind, given: Mapping[str, object], option: str) -> object:
    if option not in given:
        # Name every missing one at once, not one per try.
        needed = [name for name in SHORT if name != "out_channels" or kind != "depthwise"]
        missing = [flag(name, SHORT[name]) for name in needed if name not in given]
        if len(missing) == 1:
            raise ConvcountError(option, f"{missing[0]} is required for {kind}")
        listed = f"{', '.join(missing[:-1])} and {missing[-1]}"
        raise ConvcountError(option, f"{listed} are required for {kind}")
    return given[option]


def _check_options_belong(kind: Kind, given: Mapping[str, object]) -> None:
    for option in given:
        if option in _ALLOWED[kind]:
            continue
        if option == "out_channels" and kind == "depthwise":
            continue  # accepted when it agrees with in_channels x depth_multiplier
        raise not_applicable(kind, option)


def not_applicable(kind: Kind, option: str, *, spelled: str | None = None) -> ConvcountError:
    """The error for an option that the layer kind does not take, with a hint."""
    owners = [k for k in KINDS if option in KIND_OPTIONS[k]]
    name = spelled or flag(option)
    if not owners:
        hint = did_you_mean(option, [*FIELDS[1:], "layer"], as_field=True)
        return ConvcountError(option, f"{name} is not a field convcount knows{hint}")
    hint = ""
    if option == "out_channels":
        hint = (
            f": its outputs are {flag('in_channels')} x {flag('depth_multiplier')}; "
            f"use {flag('depth_multiplier', '-m')}"
        )
    elif option == "groups":
        hint = f": its depthwise step always has groups = {flag('in_channels')}"
    elif option == "bias" and kind == "separable":
        hint = f": use {flag('depthwise_bias')} and {flag('pointwise_bias')}"
    elif option == "depth_multiplier":
        hint = ": use depthwise or separable for a depth multiplier"
    return ConvcountError(
        option, f"{name} does not apply to {kind} (only to {', '.join(owners)}){hint}"
    )


def _resolve_dims(dims_value: object, spatial: Mapping[str, tuple[int, ...]]) -> int:
    """--dims if given, else the length of any option with several numbers, else 2."""
    if dims_value is None and all(len(value) <= 2 for value in spatial.values()):
        return 2  # the common case: nothing says otherwise, or 2-D values agree
    dims = parse_int("dims", dims_value) if dims_value is not None else None
    if dims is not None and dims > 3:
        raise _fail("dims", f"must be 1, 2 or 3, got {dims}")
    fixer: tuple[str, tuple[int, ...]] | None = None
    for name, value in spatial.items():
        if len(value) == 1:
            continue
        if dims is not None and len(value) != dims:
            raise _fail(
                name, f"{_show(value)} has {len(value)} numbers but {flag('dims')} is {dims}"
            )
        if fixer is not None and len(value) != len(fixer[1]):
            raise _fail(
                name,
                f"{_show(value)} has {len(value)} numbers but "
                f"{flag(fixer[0])} {_show(fixer[1])} has {len(fixer[1])}",
            )
        fixer = (name, value)
    if dims is not None:
        return dims
    return len(fixer[1]) if fixer else 2


def _check_channels(layer: Layer) -> None:
    groups = layer.groups or 1
    for option, channels in (
        ("in_channels", layer.in_channels),
        ("out_channels", layer.out_channels),
    ):
        if channels % groups:
            raise _fail("groups", f"{groups} must divide {flag(option)} {channels}")


def _other(convention: Convention) -> Convention:
    return "torch" if convention == "keras" else "keras"


def _refused(layer: Layer, option: str, what: str, why: str) -> ConvcountError:
    """An error for a combination one framework refuses and the other accepts."""
    this = FRAMEWORK[layer.convention]
    other = _other(layer.convention)
    return ConvcountError(
        option,
        f"{what}: {this} refuses it ({why}); {FRAMEWORK[other]} accepts it, "
        f"use {flag('convention')} {other}",
    )


def _check_framework_rules(layer: Layer) -> None:
    """What the convention's framework refuses, as its layers do at construction."""
    kind, padding = layer.kind, layer.padding
    if layer.convention == "keras":
        if isinstance(padding, tuple):
            raise _refused(
                layer,
                "padding",
                f"{flag('padding')} {_show(padding)} (zeros on each side)",
                "its layers take only 'valid' or 'same'; add a ZeroPadding layer before",
            )
        if kind in ("conv", "transpose") and max(layer.stride) > 1 and max(layer.dilation) > 1:
            raise _refused(
                layer,
                "dilation",
                f"{flag('stride')} {_show(layer.stride)} "
                f"with {flag('dilation')} {_show(layer.dilation)}",
                "a strided Conv or ConvTranspose cannot also be dilated",
            )
        if padding == "causal" and (kind != "conv" or layer.dims != 1):
            raise _fail(
                "padding",
                f"causal is for 1-D conv only (Keras's Conv1D), not a {layer.dims}-D {kind}",
            )
        if kind == "transpose" and layer.groups != 1:
            raise _refused(
                layer,
                "groups",
                f"{flag('groups')} {layer.groups} on a transposed layer",
                "Conv*DTranspose has no groups argument",
            )
        if layer.output_padding is not None:
            for op, s in zip(layer.output_padding, layer.stride, strict=True):
                if op >= s:
                    raise _fail(
                        "output_padding",
                        f"{_show(layer.output_padding)} must be smaller than {flag('stride')} "
                        f"{_show(layer.stride)} in every dimension (Keras's rule)",
                    )
    else:
        if padding == "causal":
            raise _refused(
                layer,
                "padding",
                f"{flag('padding')} causal",
                "its convolutions pad symmetrically; pad d*(k-1) zeros on the left by hand",
            )
        if padding == "same" and kind != "transpose" and max(layer.stride) > 1:
            raise _refused(
                layer,
                "padding",
                f"{flag('padding')} same with {flag('stride')} {_show(layer.stride)}",
                "padding='same' needs stride 1",
            )
        if isinstance(padding, str) and kind == "transpose":
            raise _refused(
                layer,
                "padding",
                f"{flag('padding')} {padding} on a transposed layer",
                "ConvTranspose takes integer padding only",
            )
        if layer.output_padding is not None:
            for op, s, d in zip(layer.output_padding, layer.stride, layer.dilation, strict=True):
                if op >= s and op >= d:
                    raise _fail(
                        "output_padding",
                        f"{_show(layer.output_padding)} must be smaller than {flag('stride')} "
                        f"{_show(layer.stride)} or {flag('dilation')} {_show(layer.dilation)} "
                        f"in every dimension (PyTorch's rule)",
                    )
