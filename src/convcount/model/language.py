"""The model language: networks written as TOML, read with tomllib, never executed.

A model file::

    [model]
    name = "tiny"
    input = { size = 32, channels = 3 }   # size: 32, "32x32" or [32, 32]; dims = 1 or 3
    convention = "keras"                  # optional; --convention overrides

    [params]                              # optional; --option NAME=VALUE overrides
    width = 16                            # alpha (--width-multiplier) is always defined

    [blocks.residual]                     # a block: defined once, used many times
    params = { out = 16, stride = 1 }
    [[blocks.residual.layer]]
    kind = "conv"
    name = "conv"
    kernel_size = 3
    out_channels = "= out"                # '=' starts an expression
    stride = "= stride"
    padding = "same"
    [[blocks.residual.layer]]
    kind = "add"
    inputs = ["input", "conv"]            # 'input' is the block's input
    when = "= stride == 1 and in_channels == out"

    [[layer]]
    kind = "conv"
    kernel_size = 3
    out_channels = "= make_divisible(width * alpha, 8)"

    [[layer]]
    block = "residual"
    name = "stage1"
    repeat = 3                            # stage1.0, stage1.1, stage1.2
    first = { stride = 2 }                # parameters of the first repeat only
    out = 32

Each layer takes the previous layer's output, or ``input = "name"``; joins
(add, multiply, concat) take ``inputs = [...]``. The layer kinds and their
fields are those of :data:`convcount.model.kinds.KINDS`; ``when`` skips a
layer whose condition is false (it passes its input on, and its name stands
for that input until a layer that exists claims the name).
Expressions see the parameters and the :data:`BUILTINS`: ``alpha``,
``resolution`` (the input's sizes), ``in_channels`` and ``in_size`` (the
layer's incoming tensor; in a block also ``block_in_channels`` and
``block_in_size``), ``i`` and ``repeats`` in a repeated block, ``row`` in a
stage table (``table`` and ``columns`` on a block use), and the functions of
:mod:`convcount.model.expr` plus ``correct_pad(k)`` (Keras's padding before a
stride-2 'valid' convolution, from the incoming size). Sizes are lists, one
per spatial dimension (``in_size[0]``).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

from convcount.errors import ConvcountError
from convcount.layers import CONVENTIONS, DTYPE_BYTES
from convcount.limits import MAX_MODEL_FILE_BYTES
from convcount.model import expr
from convcount.model.graph import MAX_LAYERS, ModelReport, Net
from convcount.model.kinds import KINDS, unknown_field

MAX_SIZE = 10**18
"""Largest input size or channel count."""
MAX_REPEAT = 10_000
"""Most repeats of one block."""
MAX_BLOCK_DEPTH = 16
"""Deepest nesting of blocks in blocks."""

#: Framework class names and common spellings -> the kind they mean (for did-you-mean).
KIND_ALIASES: dict[str, str] = {
    "conv2d": "conv",
    "conv1d": "conv",
    "conv3d": "conv",
    "convolution": "conv",
    "depthwiseconv2d": "depthwise",
    "depthwise_conv": "depthwise",
    "separableconv2d": "separable",
    "separable_conv": "separable",
    "conv2dtranspose": "transpose",
    "convtranspose2d": "transpose",
    "deconv": "transpose",
    "linear": "dense",
    "fc": "dense",
    "batchnormalization": "batchnorm",
    "batch_normalization": "batchnorm",
    "batchnorm2d": "batchnorm",
    "bn": "batchnorm",
    "layernormalization": "layer_norm",
    "layernorm": "layer_norm",
    "maxpool": "max_pool",
    "maxpooling2d": "max_pool",
    "maxpool2d": "max_pool",
    "avgpool": "avg_pool",
    "averagepooling2d": "avg_pool",
    "avgpool2d": "avg_pool",
    "globalaveragepooling2d": "global_avg_pool",
    "gap": "global_avg_pool",
    "globalmaxpooling2d": "global_max_pool",
    "zeropadding2d": "zero_padding",
    "cropping2d": "cropping",
    "upsampling2d": "upsampling",
    "upsample": "upsampling",
    "concatenate": "concat",
    "cat": "concat",
    "mul": "multiply",
    "relu": "activation",
    "relu6": "activation",
    "swish": "activation",
    "gelu": "activation",
    "sigmoid": "activation",
    "hard_swish": "activation",
    "hard_sigmoid": "activation",
}

LAYER_KEYS = ("kind", "name", "input", "inputs", "when", "call")
#: A layer's ``call`` (how PyTorch code runs it): a dotted name or an operator.
CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,3}|[+*]")
BLOCK_USE_KEYS = ("block", "name", "input", "when", "repeat", "first", "table", "columns")

#: Names the language defines itself: a [params] entry, -O or block parameter of the
#: same name would be hidden by them, so it is refused.
BUILTINS: dict[str, str] = {
    "alpha": "the width multiplier, -a",
    "resolution": "the input's sizes, -r",
    "in_channels": "the layer's incoming channels",
    "in_size": "the layer's incoming sizes",
    "block_in_channels": "the block's incoming channels",
    "block_in_size": "the block's incoming sizes",
    "i": "the repeat's index",
    "repeats": "the block's repeat count",
    "row": "the stage table's row index",
    "true": "the value true",
    "false": "the value false",
}


class Where(NamedTuple):
    """Where a layer stands in the file, for messages."""

    source: str
    path: str
    """The top-level layer and blocks leading to it, e.g. "layer 4 'stage1' > stage1.1"."""

    def at(self, more: str) -> Where:
        return Where(self.source, f"{self.path} > {more}" if self.path else more)

    def __str__(self) -> str:
        parts = self.path.split(" > ")
        if len(parts) > 9:  # blocks nested deep: the outermost and the innermost steps
            parts = [*parts[:2], "...", *parts[-6:]]
        return f"{self.source}: {' > '.join(parts)}" if self.path else self.source


def _error(where: Where | str, field: str, rule: str) -> ConvcountError:
    prefix = f"{where}: {field}: " if field else f"{where}: "
    return ConvcountError(field or "model", prefix + rule)


class LayerRef(str):
    """A layer name passed into a block: reads as written, wires to ``full``."""

    full: str

    def __new__(cls, text: str, full: str) -> LayerRef:
        made = super().__new__(cls, text)
        made.full = full
        return made


class _Names(dict[str, str]):
    """Local layer names -> the net's names; ``soft`` ones (a skipped layer's) may be
    claimed again by a layer that exists."""

    def __init__(self, start: Mapping[str, str]) -> None:
        super().__init__(start)
        self.soft: set[str] = set()


# ---------------------------------------------------------------------------
# Reading


def read_text(path: Path, label: str) -> str:
    """A model file's text, read with a size cap."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_MODEL_FILE_BYTES + 1)
    except IsADirectoryError:
        raise ConvcountError("model", f"{label}: is a directory, not a model file") from None
    except OSError as error:
        raise ConvcountError("model", f"{label}: cannot be read ({error.strerror})") from None
    if len(data) > MAX_MODEL_FILE_BYTES:
        raise ConvcountError(
            "model",
            f"{label}: larger than {MAX_MODEL_FILE_BYTES:,} bytes, the limit for a model file",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConvcountError("model", f"{label}: not UTF-8 text (byte {error.start + 1})") from None


def parse_toml(text: str, label: str) -> dict[str, Any]:
    """The TOML of a model file; any failure is one message, with the line's text."""
    try:
        return tomllib.loads(text, parse_float=_toml_float)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        if found is not None:
            lines = text.splitlines()
            number = int(found[1])
            if 1 <= number <= len(lines):
                line = lines[number - 1].strip()
                shown = line if len(line) <= 60 else line[:57] + "..."
                message = f"{message}: {shown!r}"
        raise ConvcountError("model", f"{label}: not valid TOML ({message})") from None
    except RecursionError:
        raise ConvcountError("model", f"{label}: not valid TOML (nested too deeply)") from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise ConvcountError("model", f"{label}: not valid TOML ({error})") from None


class OutOfBounds(str):
    """A TOML float outside the language's numbers (inf, nan, 1e400, 1e-400), kept as
    its text until a field reads it and refuses it."""

    def __repr__(self) -> str:
        return str(self)


def _toml_float(text: str) -> object:
    """A TOML float, checked on its text first (1e-400 is not silently 0.0, inf and
    nan are not numbers of the language); the language reads it exactly later."""
    try:
        number = expr.parse_number(text.replace("_", ""), "")
    except ConvcountError:
        number = None
    return OutOfBounds(text) if number is None else float(text)


_HEADER = re.compile(r"\s*\[\[\s*(?:blocks\s*\.\s*([\w-]+|\"[^\"]*\")\s*\.\s*)?layer\s*\]\]")


def header_lines(text: str) -> dict[tuple[str, int], int]:
    """Lines of the ``[[layer]]`` and ``[[blocks.NAME.layer]]`` headers: (block name or
    "", index from 1) -> line number, for messages (tomllib gives no positions)."""
    lines: dict[tuple[str, int], int] = {}
    counts: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        found = _HEADER.match(line)
        if found is not None:
            block = (found[1] or "").strip('"')
            counts[block] = counts.get(block, 0) + 1
            lines[(block, counts[block])] = number
    return lines


def load_file(path: str | Path, **options: Any) -> ModelReport:
    """Read and count a model file. ``options`` are :func:`build_model`'s."""
    label = str(path)
    text = read_text(Path(path), label)
    spec = parse_toml(text, label)
    return build_model(spec, label, lines=header_lines(text), **options)


# ---------------------------------------------------------------------------
# Building


def build_model(
    spec: Mapping[str, Any],
    source: str,
    *,
    width_multiplier: object = None,
    resolution: object = None,
    convention: str | None = None,
    dtype: str | None = None,
    options: Mapping[str, object] | None = None,
    lines: Mapping[tuple[str, int], int] | None = None,
) -> ModelReport:
    """Count every layer of a parsed model file (see the module docstring).

    ``lines`` (from :func:`header_lines`) lets messages give each layer's line.
    """
    top = Where(source, "")
    for key in spec:
        if key not in ("model", "params", "blocks", "layer"):
            raise _error(
                top,
                str(key),
                _not_one_of("a top-level table", key, ("model", "params", "blocks", "layer")),
            )
    head = spec.get("model")
    if not isinstance(head, dict):
        raise _error(top, "model", "needs a [model] table with an input")
    where = Where(source, "[model]")
    for key in head:
        if key not in ("name", "input", "convention", "dtype"):
            raise _error(
                where,
                str(key),
                _not_one_of("a field of [model]", key, ("name", "input", "convention", "dtype")),
            )
    conv = _choice(where, "convention", convention or head.get("convention", "keras"), CONVENTIONS)
    element = _choice(where, "dtype", dtype or head.get("dtype", "float32"), tuple(DTYPE_BYTES))
    size, channels = _input(where, head.get("input"), resolution)
    alpha = _alpha(width_multiplier)
    name = head.get("name", Path(source).stem)
    if not isinstance(name, str):
        raise _error(where, "name", "must be a string")
    net = Net(
        name,
        size,
        channels,
        convention=conv,  # type: ignore[arg-type]  # checked against CONVENTIONS
        dtype=element,
        source=source,
        width_multiplier=float(alpha),
        strict=True,  # a user's file gets every rule the single-layer commands apply
    )
    budget = expr.Budget()
    # resolution: the input's sizes (after --resolution), one per dimension; used as
    # one number it is the size of a square input. in_size is a layer's incoming sizes.
    builtins: dict[str, Any] = {"alpha": alpha, "resolution": expr.Sizes(size)}
    params = _params(Where(source, "[params]"), spec.get("params", {}), options, builtins, budget)
    scope: dict[str, Any] = {**params, **builtins}
    used: set[str] = set()
    blocks = spec.get("blocks", {})
    if not isinstance(blocks, dict):
        raise _error(top, "blocks", "must be a table of [blocks.NAME]")
    layers = spec.get("layer")
    if not isinstance(layers, list) or not layers:
        raise _error(top, "layer", "needs at least one [[layer]]")
    builder = _Builder(net, blocks, used, budget, lines or {})
    builder.run(layers, top, scope, _Names({"input": "input"}), prefix="", depth=0, block="")
    if alpha != 1 and "alpha" not in used:
        raise ConvcountError(
            "width_multiplier",
            f"--width-multiplier: {source} never uses alpha, so a width multiplier would change "
            'nothing; write alpha into its channel counts (e.g. "= int(64 * alpha)")',
        )
    return net.report()


def _not_one_of(what: str, key: object, known: Sequence[str]) -> str:
    close = get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"not {what}{hint}; known: {', '.join(known)}"


def _choice(where: Where, field: str, value: object, choices: Sequence[str]) -> str:
    if isinstance(value, str) and value.strip().lower() in choices:
        return value.strip().lower()
    raise _error(where, field, f"must be one of {', '.join(choices)}, got {_show(value)}")


def _show(value: object) -> str:
    return expr.shorten(value)


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _whole(where: Where, field: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, Fraction) and value.denominator == 1:
        value = int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        if len(value.strip()) > 19:
            raise _error(where, field, f"must be at most 10^18, got {_show(value)}")
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _error(where, field, f"must be a whole number, got {_show(value)}")
    if value < minimum:
        raise _error(where, field, f"must be at least {minimum}, got {value}")
    if value > MAX_SIZE:
        raise _error(where, field, f"must be at most 10^18, got {_show(value)}")
    return value


def _input(where: Where, given: object, resolution: object) -> tuple[tuple[int, ...], int]:
    if not isinstance(given, dict):
        raise _error(where, "input", "must be a table { size = ..., channels = ... }")
    for key in given:
        if key not in ("size", "channels", "dims"):
            raise _error(
                where,
                f"input.{key}",
                _not_one_of("a field of input", key, ("size", "channels", "dims")),
            )
    channels = _whole(where, "input.channels", given.get("channels"))
    dims_given = given.get("dims")
    dims = None if dims_given is None else _whole(where, "input.dims", dims_given)
    if dims is not None and dims > 3:
        raise _error(where, "input.dims", f"must be 1, 2 or 3, got {dims}")
    size = _sizes(where, "input.size", given.get("size"))
    if dims is None:
        dims = len(size) if len(size) > 1 else 2
    if resolution is not None:
        size = _sizes(Where("--resolution", ""), "", resolution)
    if len(size) == 1:
        size = size * dims
    if len(size) != dims:
        raise _error(
            where, "input", f"a size of {'x'.join(map(str, size))} for {dims} spatial dimensions"
        )
    return size, channels


def _sizes(where: Where, field: str, value: object) -> tuple[int, ...]:
    label = field or "--resolution"
    if isinstance(value, str):
        parts = value.lower().replace("×", "x").split("x")
        if len(parts) > 3:
            raise _error(where, field, "one to three sizes")
        return tuple(_whole(where, field, p.strip()) for p in parts)
    if isinstance(value, (list, tuple)):
        if not 1 <= len(value) <= 3:
            raise _error(where, field, f"{label}: one to three sizes, got {len(value)}")
        return tuple(_whole(where, field, v) for v in value)
    return (_whole(where, field, value),)


def _alpha(value: object) -> Fraction:
    """The width multiplier, exactly as written (1 when not given)."""
    if value is None:
        return Fraction(1)
    try:
        number = expr.parse_number(str(value), "--width-multiplier")
    except ConvcountError:
        number = None
    if number is None or not 0 < number < 1000:
        raise ConvcountError(
            "width_multiplier",
            "--width-multiplier must be a positive number below 1000 written with ASCII "
            f"digits (e.g. 0.75 or 3/4), got {_show(value)}",
        )
    return Fraction(number)


def _literal(value: object, what: str, depth: int = 0) -> object:
    """A TOML or command-line value as the expression language holds it.

    Numbers come out exact and bounded (a whole number as an int, 10.0 too);
    a string that spells a number (ASCII digits) is that number; expressions
    stay text, to be evaluated.
    """
    if isinstance(value, bool):
        return value
    if depth > expr.MAX_NESTING:
        raise ConvcountError("expression", f"{what}: lists nested deeper than {expr.MAX_NESTING}")
    if isinstance(value, OutOfBounds):
        raise ConvcountError(
            "expression",
            f"{what}: {value} is not a number the language holds "
            "(absolute value from 10^-30 to 10^30, or 0)",
        )
    if isinstance(value, int):
        return expr.checked(value, what)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConvcountError(
                "expression", f"{what}: {value} is not a number the language holds"
            )
        return expr.parse_number(repr(value), what)
    if isinstance(value, str) and not expr.is_expression(value):
        word = value.strip()
        if word.lower() in ("true", "false"):
            return word.lower() == "true"
        number = expr.parse_number(word, what)
        if number is not None:
            return number
        if any(not ch.isascii() and ch.isnumeric() for ch in word):
            raise ConvcountError(
                "expression",
                f"{what}: {_show(value)}: numbers are written with the ASCII digits 0-9",
            )
        return value
    if isinstance(value, list):
        return [_literal(v, what, depth + 1) for v in value]
    return value


def _params(
    where: Where,
    given: object,
    options: Mapping[str, object] | None,
    builtins: Mapping[str, Any],
    budget: expr.Budget,
) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise _error(where, "params", "must be a table of NAME = value")
    params: dict[str, Any] = {}
    for key, value in given.items():
        if key in BUILTINS:
            raise _error(
                where,
                key,
                f"{key} is a built-in name ({BUILTINS[key]}); give the parameter another name",
            )
        if not key.isidentifier():
            raise _error(where, key, "a parameter name must be a plain identifier")
        try:
            params[key] = _literal(value, key)
        except ConvcountError as error:
            raise _error(where, "", error.spelled("field")) from None
    for key, value in (options or {}).items():
        if key in BUILTINS:
            raise ConvcountError(
                "option",
                f"--option {key}: {key} is a built-in name ({BUILTINS[key]}), "
                "not a parameter of this model",
            )
        if key not in params:
            raise ConvcountError(
                "option",
                f"--option {key}: {_not_one_of('a parameter of this model', key, list(params))}",
            )
        try:
            params[key] = _literal(value, f"--option {key}")
        except ConvcountError as error:
            raise ConvcountError("option", error.spelled("field")) from None
    for key, value in list(params.items()):
        if expr.is_expression(value):
            try:
                params[key] = expr.evaluate(str(value), {**params, **builtins}, budget=budget)
            except ConvcountError as error:
                raise _error(where, key, error.spelled("field")) from None
    return params


def _integral(value: object) -> object:
    """Whole fractions as ints, in lists too (what the layer kinds take)."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _fraction_in(value: object) -> Fraction | None:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, list):
        for item in value:
            found = _fraction_in(item)
            if found is not None:
                return found
    return None


class _Builder:
    """Walks [[layer]] lists (the file's and the blocks'), adding to one Net."""

    def __init__(
        self,
        net: Net,
        blocks: Mapping[str, Any],
        used: set[str],
        budget: expr.Budget,
        lines: Mapping[tuple[str, int], int],
    ) -> None:
        self.lines = lines
        #: The local names of the layer list being walked (for size_of, channels_of).
        self.names = _Names({"input": "input"})
        self.net = net
        self.blocks = blocks
        self.used = used
        self.budget = budget
        self.walked = 0

    def run(
        self,
        layers: Sequence[object],
        where: Where,
        scope: Mapping[str, Any],
        names: _Names,
        *,
        prefix: str,
        depth: int,
        block: str,
    ) -> str:
        """Add ``layers`` (the file's, or block ``block``'s); ``names`` maps local names to
        the net's. Returns the last name."""
        last = names["input"]
        # Explicit names win: an automatic name steps aside for one given in this list.
        self.net.reserved.update(
            prefix + raw["name"]
            for raw in layers
            if isinstance(raw, dict) and isinstance(raw.get("name"), str) and "block" not in raw
        )
        for index, raw in enumerate(layers, start=1):
            self.names = names
            self.walked += 1
            if self.walked > MAX_LAYERS:
                raise _error(
                    where,
                    "",
                    f"more than {MAX_LAYERS:,} layers walked, counting those `when` skips "
                    "and every repeat of every block",
                )
            if not isinstance(raw, dict):
                raise _error(where, "layer", f"layer {index} is not a table")
            label = raw.get("name")
            shown = f"layer {index}"
            if isinstance(label, str):
                shown += f" {label!r}" if len(label) <= 40 else f" {_show(label)}"
            line = self.lines.get((block, index))
            if line is not None:
                shown += f" (line {line})"
            here = where.at(shown)
            if "block" in raw:
                last = self.use_block(raw, here, scope, names, last, prefix=prefix, depth=depth)
            else:
                if "kind" not in raw and ("table" in raw or "columns" in raw or "repeat" in raw):
                    raise _error(here, "block", "a block use needs block = NAME")
                last = self.add_layer(raw, here, scope, names, last, prefix=prefix)
        return last

    def _scope(self, scope: Mapping[str, Any], incoming: str) -> dict[str, Any]:
        tensor = self.net.shape(incoming)
        return {
            **scope,
            "in_channels": tensor.channels,
            "in_size": expr.Sizes(tensor.spatial),
        }

    def _value(
        self,
        where: Where,
        field: str,
        value: object,
        scope: Mapping[str, Any],
        incoming: str,
        *,
        fractions: bool = False,
        depth: int = 0,
    ) -> object:
        """A field's value: literals as given, expressions evaluated. Only ``fractions``
        fields (a block's parameters, a number field) may come out not whole."""
        if isinstance(value, list):
            if depth >= expr.MAX_NESTING:
                raise _error(where, field, f"lists nested deeper than {expr.MAX_NESTING}")
            try:
                self.budget.read(len(value))
            except ConvcountError as error:
                raise _error(where, field, error.spelled("field")) from None
            if not any(type(v) is list or expr.is_expression(v) for v in value):
                return [v.strip() if isinstance(v, str) else v for v in value]
            return [
                self._value(where, field, v, scope, incoming, fractions=fractions, depth=depth + 1)
                for v in value
            ]
        if not expr.is_expression(value):
            return value.strip() if isinstance(value, str) else value
        tracked = _Tracking(self._scope(scope, incoming), self.used)
        try:
            result = expr.evaluate(
                str(value),
                tracked,
                {
                    "correct_pad": lambda k: self._correct_pad(incoming, k),
                    "size_of": lambda name: expr.Sizes(self._tensor(name, "size_of").spatial),
                    "channels_of": lambda name: self._tensor(name, "channels_of").channels,
                },
                self.budget,
            )
        except ConvcountError as error:
            raise _error(where, field, error.spelled("field")) from None
        fraction = None if fractions else _fraction_in(result)
        if fraction is not None:
            raise _error(
                where,
                field,
                f"{_clip(str(value).strip())} gives {fraction} = {float(fraction):g}, not a whole "
                "number (use int(), round(), ceil() or make_divisible())",
            )
        return result if fractions else _integral(result)

    def _tensor(self, name: object, function: str) -> Any:
        """The output of the layer ``name`` (local, full or passed in), for a function."""
        if not isinstance(name, str):
            raise ConvcountError("expression", f"{function}: needs a layer name, got {_show(name)}")
        full = self._resolve(name, self.names)
        if full is None:
            raise ConvcountError(
                "expression", f"{function}: no earlier layer is named {_show(name)}"
            )
        return self.net.shape(full)

    def _resolve(self, name: str, names: Mapping[str, str]) -> str | None:
        """The net's name for a layer named ``name`` here, or None."""
        if isinstance(name, LayerRef):
            return name.full
        if name in names:
            return names[name]
        if name in self.net.tensors:  # a layer's full name, e.g. stage1.0.conv
            return name
        return None

    def _correct_pad(self, incoming: str, kernel: object) -> list[list[int]]:
        tensor = self.net.shape(incoming)
        if len(tensor.spatial) != 2 or not isinstance(kernel, int):
            raise ConvcountError("expression", "correct_pad(k) needs a 2-D input and a whole k")
        h, w = tensor.spatial
        c = kernel // 2
        return [[c - (1 - h % 2), c], [c - (1 - w % 2), c]]

    def _inputs(
        self,
        raw: Mapping[str, Any],
        where: Where,
        scope: Mapping[str, Any],
        names: _Names,
        last: str,
        joins: bool,
    ) -> list[str]:
        field = "inputs" if joins else "input"
        if joins:
            if "input" in raw:
                raise _error(where, "input", "a join takes inputs = [...], not input")
            given = self._value(where, "inputs", raw.get("inputs"), scope, last)
            if not isinstance(given, list) or len(given) < 2:
                raise _error(where, "inputs", "must be a list of at least two layer names")
            wanted = given
        else:
            if "inputs" in raw:
                raise _error(
                    where, "inputs", "only add, multiply and concat join several; use input"
                )
            if raw.get("input") is None:
                return [last]
            wanted = [self._value(where, "input", raw["input"], scope, last)]
        return [self._named(where, field, name, names, joins) for name in wanted]

    def _named(
        self, where: Where, field: str, name: object, names: Mapping[str, str], joins: bool = False
    ) -> str:
        """The net's name of a layer a field names (``input``, ``inputs``, ``like``)."""
        if not isinstance(name, str):
            rule = "a list of at least two layer names" if joins else "a layer name"
            raise _error(where, field, f"must be {rule}, got {_show(name)}")
        full = self._resolve(name, names)
        if full is None:
            close = get_close_matches(name, list(names), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise _error(where, field, f"no earlier layer is named {_show(name)}{hint}")
        return full

    def _kind(self, raw: Mapping[str, Any], where: Where) -> str:
        kind = raw.get("kind")
        if not isinstance(kind, str):
            raise _error(where, "kind", f"must be a layer kind (a string), got {_show(kind)}")
        if kind in KINDS:
            return kind
        word = kind.strip().lower()
        guess = KIND_ALIASES.get(word) or KIND_ALIASES.get(word.replace("_", ""))
        if guess is None:
            close = get_close_matches(word, list(KINDS), n=1, cutoff=0.6)
            guess = close[0] if close else None
        hint = f" (did you mean {guess}?)" if guess else ""
        raise _error(
            where, "kind", f"no layer kind {_show(kind)}{hint}; see convcount model --kinds"
        )

    def _claim(self, where: Where, names: _Names, local: object) -> None:
        """Check a layer's own name before it is used (not twice, not 'input')."""
        if local is None:
            return
        if not isinstance(local, str) or not local.strip():
            raise _error(where, "name", f"must be a non-empty string, got {_show(local)}")
        if local == "input":
            raise _error(where, "name", "'input' names the model's (or block's) input")
        if local in names and local not in names.soft:
            raise _error(where, "name", f"{_show(local)} is used twice")

    def add_layer(
        self,
        raw: Mapping[str, Any],
        where: Where,
        scope: Mapping[str, Any],
        names: _Names,
        last: str,
        *,
        prefix: str,
    ) -> str:
        kind = self._kind(raw, where)
        spec = KINDS[kind]
        local = raw.get("name")
        inputs = self._inputs(raw, where, scope, names, last, spec.joins)
        if "when" in raw and not self._when(raw["when"], where, scope, inputs[0]):
            # A skipped layer passes its input on (a join, the layer before it) and
            # claims no name: its name stands for what it passes on until a layer
            # that exists claims it.
            passed = last if spec.joins else inputs[0]
            if isinstance(local, str) and (local not in names or local in names.soft):
                names[local] = passed
                names.soft.add(local)
            return passed
        self._claim(where, names, local)
        fields: dict[str, Any] = {}
        types = {f.name: f.type for f in spec.fields}
        for key, value in raw.items():
            if key in LAYER_KEYS:
                continue
            if key not in types:
                raise _error(where, "", str(unknown_field(spec, key)))
            fields[key] = self._value(
                where, key, value, scope, inputs[0], fractions=types[key] in ("number", "factors")
            )
            if types[key] == "layer":  # a layer named inside a block means that block's layer
                fields[key] = self._named(where, key, fields[key], names)
        full = prefix + local if isinstance(local, str) else None
        if full is None and prefix:
            full = f"{prefix}{kind}"
            number = 1
            while full in self.net.tensors or full in self.net.reserved:
                full = f"{prefix}{kind}_{number}"
                number += 1
        call = raw.get("call", "")
        if not isinstance(call, str) or (call and not CALL.fullmatch(call)) or len(call) > 100:
            raise _error(
                where,
                "call",
                f"must be a function or module class PyTorch runs (F.relu, LayerNorm2d), "
                f"got {_show(call)}",
            )
        made = self.net.layer(kind, inputs, name=full, where=str(where), call=call, **fields)
        if isinstance(local, str):
            names[local] = made
            names.soft.discard(local)
        elif prefix and made.startswith(prefix):  # an automatic name, e.g. "upsampling"
            names.setdefault(made[len(prefix) :], made)
        names.setdefault(made, made)
        return made

    def _when(self, value: object, where: Where, scope: Mapping[str, Any], incoming: str) -> bool:
        if isinstance(value, bool):
            return value
        if not isinstance(value, str):
            raise _error(where, "when", f"must be true, false or an expression, got {_show(value)}")
        text = value if expr.is_expression(value) else "=" + value
        result = self._value(where, "when", text, scope, incoming, fractions=True)
        if not isinstance(result, bool):
            raise _error(where, "when", f"must come out true or false, got {_show(result)}")
        return result

    def _block(self, raw: Mapping[str, Any], where: Where, depth: int) -> tuple[str, Any, Any]:
        """The block a use names, checked: (name, its parameters' defaults, its layers)."""
        block_name = raw.get("block")
        if not isinstance(block_name, str) or block_name not in self.blocks:
            known = [str(k) for k in self.blocks]
            if not known:
                raise _error(where, "block", "the file defines no [blocks.NAME]")
            raise _error(where, "block", _not_one_of("a block of this file", block_name, known))
        if depth >= MAX_BLOCK_DEPTH:
            raise _error(
                where,
                "block",
                f"blocks nest deeper than {MAX_BLOCK_DEPTH} (a block that uses itself?)",
            )
        block = self.blocks[block_name]
        bwhere = Where(where.source, f"[blocks.{block_name}]")
        if not isinstance(block, dict):
            raise _error(bwhere, "", "must be a table with params and [[blocks.NAME.layer]]")
        for key in block:
            if key not in ("params", "layer"):
                raise _error(
                    bwhere, str(key), _not_one_of("a field of a block", key, ("params", "layer"))
                )
        defaults = block.get("params", {})
        body = block.get("layer")
        if not isinstance(defaults, dict):
            raise _error(bwhere, "params", "must be a table of NAME = default")
        for key in defaults:
            if key in BUILTINS:
                raise _error(
                    bwhere,
                    f"params.{key}",
                    f"{key} is a built-in name ({BUILTINS[key]}); give the parameter another name",
                )
        if not isinstance(body, list) or not body:
            raise _error(bwhere, "layer", "needs at least one [[blocks.NAME.layer]]")
        return block_name, defaults, body

    def _not_param(self, block_name: str, key: object, defaults: Mapping[str, Any]) -> str:
        if not defaults:
            return f"block {block_name} takes no parameters (it declares no params)"
        return _not_one_of(f"a parameter of block {block_name}", key, list(defaults))

    def use_block(
        self,
        raw: Mapping[str, Any],
        where: Where,
        scope: Mapping[str, Any],
        names: _Names,
        last: str,
        *,
        prefix: str,
        depth: int,
    ) -> str:
        block_name, defaults, body = self._block(raw, where, depth)
        if "kind" in raw:
            raise _error(where, "kind", "a block use takes block = NAME, not kind")
        if "table" in raw or "columns" in raw:
            return self.use_table(raw, where, scope, names, last, prefix=prefix, depth=depth)
        local = raw.get("name")
        if local is not None and (
            not isinstance(local, str) or not local.strip() or local == "input"
        ):
            raise _error(
                where, "name", f"must be a non-empty string other than 'input', got {_show(local)}"
            )
        inputs = self._inputs(raw, where, scope, names, last, joins=False)
        if "when" in raw and not self._when(raw["when"], where, scope, inputs[0]):
            if isinstance(local, str) and (local not in names or local in names.soft):
                names[local] = inputs[0]
                names.soft.add(local)
            return inputs[0]
        self._claim(where, names, local)
        if local is None:
            local = f"{block_name}_{len(self.net.layers) + 1}"
            while local in names:
                local += "_"
        repeat = self._value(where, "repeat", raw.get("repeat", 1), scope, inputs[0])
        if repeat == 0:
            raise _error(
                where,
                "repeat",
                "must be at least 1 (to leave a block out, write when = false)",
            )
        repeat = _whole(where, "repeat", repeat)
        if repeat > MAX_REPEAT:
            raise _error(where, "repeat", f"must be at most {MAX_REPEAT:,}, got {repeat}")
        first = raw.get("first", {})
        if not isinstance(first, dict):
            raise _error(where, "first", "must be a table of parameters for the first repeat")
        given = {k: v for k, v in raw.items() if k not in BLOCK_USE_KEYS}
        for key in given:
            if key not in defaults:
                raise _error(where, str(key), self._not_param(block_name, key, defaults))
        for key in first:
            if key not in defaults:
                raise _error(where, f"first.{key}", self._not_param(block_name, key, defaults))
        current = inputs[0]
        for i in range(repeat):
            base = f"{prefix}{local}.{i}"
            rwhere = where.at(base)
            # The use's arguments see the repeat's index: stride = "= 2 if i == 0 else 1".
            outer = {**scope, "i": i, "repeats": repeat}
            values = {
                k: self._argument(rwhere, str(k), v, outer, names, current)
                for k, v in (given | first if i == 0 else given).items()
            }
            tensor = self.net.shape(current)
            inner: dict[str, Any] = {
                **scope,
                "i": i,
                "repeats": repeat,
                "block_in_channels": tensor.channels,
                "block_in_size": expr.Sizes(tensor.spatial),
            }
            for key, default in defaults.items():
                if key in values:
                    inner[key] = values[key]
                else:
                    try:
                        literal = _literal(default, f"params.{key}")
                    except ConvcountError as error:
                        raise _error(
                            Where(where.source, f"[blocks.{block_name}]"),
                            "",
                            error.spelled("field"),
                        ) from None
                    inner[key] = self._value(
                        rwhere.at(f"[blocks.{block_name}]"),
                        f"params.{key}",
                        literal,
                        inner,
                        current,
                        fractions=True,
                    )
            current = self.run(
                body,
                rwhere.at(f"block {block_name}"),
                inner,
                _Names({"input": current}),
                prefix=base + ".",
                depth=depth + 1,
                block=block_name,
            )
            self.names = names
        names[local] = current
        names.soft.discard(local)
        return current

    def _argument(
        self,
        where: Where,
        field: str,
        value: object,
        scope: Mapping[str, Any],
        names: _Names,
        incoming: str,
    ) -> object:
        """A block parameter's value at the use: exact (fractions too), and a layer name
        of the caller passed as that layer."""
        try:
            literal = _literal(value, field)
        except ConvcountError as error:
            raise _error(where, "", error.spelled("field")) from None
        result = self._value(where, field, literal, scope, incoming, fractions=True)
        return _refs(result, names)

    def use_table(
        self,
        raw: Mapping[str, Any],
        where: Where,
        scope: Mapping[str, Any],
        names: _Names,
        last: str,
        *,
        prefix: str,
        depth: int,
    ) -> str:
        """A block used once per row of a stage table (``table`` and ``columns``)."""
        block_name, defaults, _ = self._block(raw, where, depth)
        columns = raw.get("columns")
        if (
            not isinstance(columns, list)
            or not columns
            or not all(isinstance(c, str) and c for c in columns)
        ):
            raise _error(where, "columns", "must be a list of column names, one per table column")
        if "table" not in raw:
            raise _error(where, "table", "columns need a table = [[...], ...] (or = NAME)")
        rows = self._value(
            where, "table", _literal(raw["table"], "table"), scope, last, fractions=True
        )
        if not isinstance(rows, list) or not rows:
            raise _error(where, "table", "must be a list of rows, each a list of values")
        spelled = " ".join(
            str(v)
            for v in (*raw.values(), *(raw.get("first") or {}).values())
            if expr.is_expression(v)
        )
        for column in columns:
            target = column.removeprefix("first.")
            if column in raw or (column != target and target in (raw.get("first") or {})):
                raise _error(where, "columns", f"{column!r} is given both as a column and a field")
            if column in BUILTINS:
                raise _error(
                    where, "columns", f"{column!r} is a built-in name ({BUILTINS[column]})"
                )
            if column == "repeat" or target in defaults:
                continue
            if column.startswith("first.") or not re.search(rf"\b{re.escape(column)}\b", spelled):
                raise _error(
                    where,
                    "columns",
                    f"{column!r} is neither a parameter of block {block_name}, repeat, "
                    "first.PARAMETER, nor a name the use's expressions read",
                )
        local = raw.get("name", block_name)
        if not isinstance(local, str) or not local.strip() or local == "input":
            raise _error(where, "name", f"must be a non-empty string, got {_show(local)}")
        current = last
        for number, row in enumerate(rows, start=1):
            here = where.at(f"row {number}")
            if not isinstance(row, list) or len(row) != len(columns):
                raise _error(
                    here,
                    "table",
                    f"a row has {len(columns)} values, one per column, got {_show(row)}",
                )
            use: dict[str, Any] = {
                k: v for k, v in raw.items() if k not in ("table", "columns", "name")
            }
            if number > 1:
                use.pop("input", None)
            use["name"] = f"{local}{number}"
            first = dict(use.get("first") or {})
            inner = {**scope, "row": number - 1}
            for column, cell in zip(columns, row, strict=True):
                if column.startswith("first."):
                    first[column.removeprefix("first.")] = cell
                elif column == "repeat" or column in defaults:
                    use[column] = cell
                else:
                    inner[column] = cell
            if first:
                use["first"] = first
            self.walked += 1
            current = self.use_block(use, here, inner, names, current, prefix=prefix, depth=depth)
        return current


def _refs(value: object, names: Mapping[str, str]) -> object:
    """Strings that name a layer of the caller, as references to that layer."""
    if isinstance(value, LayerRef):
        return value
    if isinstance(value, str) and value in names:
        return LayerRef(value, names[value])
    if isinstance(value, list):
        return [_refs(v, names) for v in value]
    return value


class _Tracking(dict[str, Any]):
    """A scope that remembers which names were read (to tell whether alpha is used)."""

    def __init__(self, scope: Mapping[str, Any], used: set[str]) -> None:
        super().__init__(scope)
        self._used = used

    def __getitem__(self, key: str) -> Any:
        self._used.add(key)
        return super().__getitem__(key)
