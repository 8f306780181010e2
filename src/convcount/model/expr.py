"""The model language's small, safe expression language.

A field whose value is a string starting with ``=`` is an expression::

    out_channels = "= make_divisible(32 * alpha, 8)"
    repeat       = "= ceil(depth * 3)"
    when         = "= stride == 1 and in_channels == out"

Grammar (a subset of Python's, parsed with :mod:`ast` and walked here; nothing
is ever executed): integers and decimals (exact: ``0.75`` is 3/4), strings,
``true``/``false``, names of parameters, ``+ - * / // %`` (``/`` is exact
division), ``**`` with a small integer exponent, comparisons, ``and or not``,
``a if c else b``, lists and indexing (``in_size[0]``), and the functions
:data:`FUNCTIONS`. Arithmetic is exact (integers and fractions); a channel
count must come out whole.

Every number is bounded where it is made, before any arithmetic that could
grow it: a number's text is checked for digits and exponent before it is
converted (:func:`parse_number`), every result keeps its absolute value at
most :data:`MAX_MAGNITUDE` and its denominator at most
:data:`MAX_DENOMINATOR` (so no value but 0 lies nearer 0 than 10^-30), and a
:class:`Budget` counts the steps of every expression of one model.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from functools import lru_cache
from typing import Any, cast

from convcount.errors import ConvcountError

MAX_LENGTH = 1_000
"""Longest expression, in characters."""
MAX_NODES = 300
"""Most syntax nodes in one expression."""
MAX_MAGNITUDE = 10**30
"""Largest absolute value of any number in a model's parameters and expressions."""
MAX_DENOMINATOR = 10**30
"""Largest denominator of an exact fraction: no number but 0 lies nearer 0 than 10^-30."""
MAX_STEPS = 500_000
"""Most expression steps (syntax nodes evaluated) in one model, all expressions together."""
MAX_ITEMS = 250_000
"""Most list values a model's layers read in all (inputs of joins, sizes, table rows...),
counted each time a layer or repeat reads them."""
MAX_NUMBER_TEXT = 100
"""Longest number written as text (-a, -O, a [params] string), in characters."""
MAX_NESTING = 16
"""Deepest nesting of lists in a value."""

Value = Any


class Budget:
    """The expression steps one model may still take (see :data:`MAX_STEPS`)."""

    def __init__(self, steps: int = MAX_STEPS, items: int = MAX_ITEMS) -> None:
        self.left = steps
        self.items_left = items

    def read(self, items: int) -> None:
        """Count ``items`` list values read (see :data:`MAX_ITEMS`)."""
        self.items_left -= items
        if self.items_left < 0:
            raise ConvcountError(
                "expression",
                f"the model's layers read more than {MAX_ITEMS:,} list values in all "
                "(a limit against files that would take minutes)",
            )

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise ConvcountError(
                "expression",
                f"the model's expressions take more than {MAX_STEPS:,} steps in all "
                "(a limit against files that would take minutes)",
            )


class Sizes(list[int]):
    """Sizes per spatial dimension (``resolution``, ``in_size``, ``block_in_size``).

    Index it (``in_size[0]``); used as one number it stands for its sizes when
    they are all equal (a square input), and is refused otherwise.
    """

    def single(self, what: str) -> int:
        if not self:
            raise ConvcountError("expression", f"{what}: the input is flat, it has no sizes")
        if all(v == self[0] for v in self):
            return self[0]
        raise ConvcountError(
            "expression",
            f"{what}: the sizes {'x'.join(map(str, self))} differ per dimension; "
            "pick one by index, e.g. in_size[0]",
        )


# ---------------------------------------------------------------------------
# Numbers as text

_NUMBER = re.compile(
    r"(?P<sign>[+-]?)(?:(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?"
    r"|(?P<num>[0-9]+)/(?P<den>[0-9]+))",
    re.ASCII,
)


def parse_number(text: str, what: str) -> int | Fraction | None:
    """The exact number ``text`` spells (ASCII digits: ``3``, ``0.75``, ``1e-3``, ``3/4``).

    None when ``text`` is not a number at all; a ConvcountError naming ``what``
    when it is one outside the bounds. Digits and exponent are checked before
    anything is converted, so ``1e999999999`` costs nothing.
    """
    word = text.strip()
    match = _NUMBER.fullmatch(word)
    if match is None or word in ("", "+", "-", ".", "+.", "-."):
        return None
    if match["num"] is not None:
        if len(word) > MAX_NUMBER_TEXT:
            raise _too_long(what, word)
        if int(match["den"]) == 0:
            raise ConvcountError("expression", f"{what}: division by zero in {shorten(word)}")
        ratio = Fraction(int(match["num"]), int(match["den"]))
        return cast("int | Fraction", checked(-ratio if match["sign"] == "-" else ratio, what))
    whole, frac, exp = match["int"] or "", match["frac"], match["exp"]
    if not whole and not frac:
        return None
    if len(word) > MAX_NUMBER_TEXT:
        raise _too_long(what, word)
    digits = (whole + (frac or "")).lstrip("0")
    if not digits:
        return 0
    # The decimal position of the leading digit, before the exponent is applied.
    exponent = int(exp) if exp is not None else 0  # at most ~100 characters: cheap
    lead = (
        len(whole.lstrip("0"))
        if whole.lstrip("0")
        else -(len(frac or "") - len((frac or "").lstrip("0")))
    )
    if not -40 <= lead + exponent <= 40:
        raise ConvcountError(
            "expression",
            f"{what}: {shorten(word)} is beyond the bounds of a number "
            f"(absolute value from 10^-30 to 10^30, or 0)",
        )
    value = Fraction(int(whole + (frac or "")), 10 ** len(frac or "")) * Fraction(10) ** exponent
    return cast("int | Fraction", checked(-value if match["sign"] == "-" else value, what))


def _too_long(what: str, word: str) -> ConvcountError:
    return ConvcountError(
        "expression",
        f"{what}: a number of more than {MAX_NUMBER_TEXT} characters, got {shorten(word)}",
    )


def checked(value: Value, what: str = "") -> Value:
    """``value`` within the bounds (an int when whole), or a ConvcountError."""
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        return value
    if isinstance(value, int):
        if -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
            return value
    elif value.denominator <= MAX_DENOMINATOR and abs(value) <= MAX_MAGNITUDE:
        return value.numerator if value.denominator == 1 else value
    where = f"{what}: " if what else ""
    if abs(Fraction(value)) <= MAX_MAGNITUDE:
        raise ConvcountError(
            "expression",
            f"{where}a number nearer 0 than 10^-30 (or of a denominator over 10^30): "
            f"{shorten(value)}",
        )
    raise ConvcountError("expression", f"{where}a number beyond 10^30: {shorten(value)}")


def shorten(value: object, room: int = 40, depth: int = 0) -> str:
    """``value`` for a message, whatever its size (never converts a huge integer whole,
    never walks deep into nested lists)."""
    if isinstance(value, (list, tuple)) and depth > 4:
        return "[...]"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 400:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if (
        isinstance(value, Fraction)
        and max(value.numerator.bit_length(), value.denominator.bit_length()) > 400
    ):
        return "a fraction of hundreds of digits"
    if isinstance(value, (list, tuple)) and len(value) > 8:
        value = [*value[:8], "..."]
    if isinstance(value, (list, tuple)):
        text = "[" + ", ".join(shorten(v, room, depth + 1) for v in value) + "]"
    elif isinstance(value, Fraction):
        text = str(value)
    else:
        text = repr(value)
    return text if len(text) <= room else text[: room - 3] + "..."


# ---------------------------------------------------------------------------
# Functions


def _number(value: Value, what: str) -> Fraction | int:
    if isinstance(value, Sizes):
        return value.single(what)
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise ConvcountError("expression", f"{what}: needs a number, got {shorten(value)}")
    return value


def _floor(value: Value) -> int:
    return math.floor(_number(value, "floor"))


def _ceil(value: Value) -> int:
    return math.ceil(_number(value, "ceil"))


def _round(value: Value) -> int:
    return round(_number(value, "round"))


def _int(value: Value) -> int:
    return int(_number(value, "int"))


def make_divisible(value: Value, divisor: Value = 8, min_value: Value = None) -> int:
    """Keras's ``_make_divisible`` in exact arithmetic.

    The nearest multiple of ``divisor`` (at least ``min_value``, default the
    divisor), one step more when rounding lost over 10%.
    """
    v = _number(value, "make_divisible")
    d = _number(divisor, "make_divisible")
    if d < 1 or d != int(d):
        raise ConvcountError("expression", "make_divisible: the divisor must be a positive integer")
    d = int(d)
    low = d if min_value is None else int(_number(min_value, "make_divisible"))
    new: int = max(low, math.floor(v + Fraction(d, 2)) // d * d)
    if new < Fraction(9, 10) * v:
        new += d
    return new


def _min(*values: Value) -> Value:
    if len(values) == 1 and isinstance(values[0], list):
        values = tuple(values[0])
    if not values:
        raise ConvcountError("expression", "min: needs at least one number")
    return min(_number(v, "min") for v in values)


def _max(*values: Value) -> Value:
    if len(values) == 1 and isinstance(values[0], list):
        values = tuple(values[0])
    if not values:
        raise ConvcountError("expression", "max: needs at least one number")
    return max(_number(v, "max") for v in values)


def _len(value: Value) -> int:
    if not isinstance(value, (list, str)):
        raise ConvcountError("expression", f"len: needs a list, got {shorten(value)}")
    return len(value)


#: Functions an expression may call (``correct_pad`` is added per layer), with
#: the numbers of arguments each takes.
FUNCTIONS: dict[str, Callable[..., Value]] = {
    "min": _min,
    "max": _max,
    "ceil": _ceil,
    "floor": _floor,
    "round": _round,
    "int": _int,
    "abs": lambda v: abs(_number(v, "abs")),
    "len": _len,
    "make_divisible": make_divisible,
}
_ARITY = {
    "ceil": (1, 1),
    "floor": (1, 1),
    "round": (1, 1),
    "int": (1, 1),
    "abs": (1, 1),
    "len": (1, 1),
    "make_divisible": (1, 3),
    "correct_pad": (1, 1),
    "size_of": (1, 1),
    "channels_of": (1, 1),
}

_BINARY: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: Fraction(a) / Fraction(b)),
    ast.FloorDiv: ("//", lambda a, b: a // b),
    ast.Mod: ("%", lambda a, b: a % b),
}
_COMPARE: dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Eq: ("==", lambda a, b: bool(a == b)),
    ast.NotEq: ("!=", lambda a, b: bool(a != b)),
    ast.Lt: ("<", lambda a, b: bool(a < b)),
    ast.LtE: ("<=", lambda a, b: bool(a <= b)),
    ast.Gt: (">", lambda a, b: bool(a > b)),
    ast.GtE: (">=", lambda a, b: bool(a >= b)),
}
#: What a user calls the Python constructs the language leaves out.
_NOT_ALLOWED = {
    "Attribute": "attribute access (a.b)",
    "Lambda": "lambda",
    "Dict": "a dictionary",
    "Set": "a set",
    "ListComp": "a comprehension",
    "SetComp": "a comprehension",
    "DictComp": "a comprehension",
    "GeneratorExp": "a comprehension",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
    "JoinedStr": "an f-string",
    "FormattedValue": "an f-string",
    "Starred": "*unpacking",
    "NamedExpr": ":=",
    "BitAnd": "&",
    "BitOr": "|",
    "BitXor": "^",
    "LShift": "<<",
    "RShift": ">>",
    "MatMult": "@",
    "Invert": "~",
    "Is": "is",
    "IsNot": "is not",
    "In": "in",
    "NotIn": "not in",
}


def is_expression(value: object) -> bool:
    """Whether a field's value is an expression (a string starting with '=')."""
    return isinstance(value, str) and value.lstrip().startswith("=")


@lru_cache(maxsize=4096)
def _parse(source: str) -> tuple[ast.expr, dict[int, Value]]:
    """The syntax tree of an expression, parsed once however often it is used.

    Numbers are read from their text here (exactly, within the bounds), once.
    """
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ConvcountError("expression", f"not a valid expression: {_short(source)}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ConvcountError("expression", f"expression too long (over {MAX_NODES} terms)")
    lines = source.splitlines() or [source]
    numbers: dict[int, Value] = {}  # id of a Constant node -> its exact number
    for node in nodes:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            text = repr(node.value)
            if node.lineno == node.end_lineno and node.end_col_offset is not None:
                line = lines[node.lineno - 1].encode()
                text = line[node.col_offset : node.end_col_offset].decode()
            number = parse_number(text.replace("_", ""), "")
            if number is None and type(node.value) is int:  # hexadecimal, octal, binary
                number = checked(node.value)
            if number is None:
                raise ConvcountError("expression", f"{text!r} is not a number of the language")
            numbers[id(node)] = number
    return tree.body, numbers


def evaluate(
    text: str,
    scope: Mapping[str, Value],
    functions: Mapping[str, Callable[..., Value]] | None = None,
    budget: Budget | None = None,
) -> Value:
    """The value of ``text`` (with or without its leading '=') in ``scope``."""
    source = text.lstrip()
    source = source.removeprefix("=").strip()
    if len(source) > MAX_LENGTH:
        raise ConvcountError("expression", f"expression longer than {MAX_LENGTH} characters")
    if not source:
        raise ConvcountError("expression", "empty expression after '='")
    body, numbers = _parse(source)
    calls = {**FUNCTIONS, **(functions or {})}
    try:
        return _Evaluator(numbers, scope, calls, budget or Budget()).eval(body)
    except ConvcountError:
        raise
    except ZeroDivisionError:
        raise ConvcountError("expression", f"division by zero in {_short(source)}") from None
    except (TypeError, ValueError, OverflowError, RecursionError, MemoryError) as error:
        raise ConvcountError(
            "expression", f"cannot evaluate {_short(source)} ({type(error).__name__})"
        ) from None


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _kind_of(value: Value) -> str:
    if isinstance(value, bool):
        return f"true/false ({'true' if value else 'false'})"
    if isinstance(value, (int, Fraction)):
        return f"the number {shorten(value)}"
    if isinstance(value, str):
        return f"the text {shorten(value)}"
    if isinstance(value, list):
        return f"the list {shorten(value)}"
    return shorten(value)


class _Evaluator:
    """Walks one expression's tree, spending one step of the budget per node."""

    def __init__(
        self,
        numbers: Mapping[int, Value],
        scope: Mapping[str, Value],
        calls: Mapping[str, Callable[..., Value]],
        budget: Budget,
    ) -> None:
        self.numbers = numbers
        self.scope = scope
        self.calls = calls
        self.budget = budget

    def eval(self, node: ast.expr) -> Value:  # one case per node type
        self.budget.spend(1)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            if node.id in ("true", "false"):
                return node.id == "true"
            if node.id in self.scope:
                return self.scope[node.id]
            from difflib import get_close_matches  # only on the way to an error message

            known = sorted(k for k in self.scope if not k.startswith("_"))
            close = get_close_matches(node.id, known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConvcountError(
                "expression",
                f"unknown name {node.id!r}{hint} (known: {', '.join(known) or 'none'})",
            )
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.UnaryOp):
            operand = self.eval(node.operand)
            if isinstance(node.op, ast.Not):
                return not operand
            if isinstance(node.op, ast.USub):
                return checked(-_number(operand, "-"))
            if isinstance(node.op, ast.UAdd):
                return _number(operand, "+")
        if isinstance(node, ast.BoolOp):
            result: Value = isinstance(node.op, ast.And)
            for item in node.values:
                result = self.eval(item)
                if bool(result) != isinstance(node.op, ast.And):
                    return result
            return result
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            return self.eval(node.body if self.eval(node.test) else node.orelse)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.eval(item) for item in node.elts]
        if isinstance(node, ast.Subscript):
            return self.index(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        name = type(getattr(node, "op", node)).__name__
        what = _NOT_ALLOWED.get(name, name)
        raise ConvcountError("expression", f"{what} is not part of the expression language")

    def constant(self, node: ast.Constant) -> Value:
        value = self.numbers.get(id(node), node.value)  # numbers made exact by _parse
        if isinstance(value, (bool, int, Fraction, str)):
            return value
        raise ConvcountError("expression", f"{value!r} is not allowed in an expression")

    def binary(self, node: ast.BinOp) -> Value:
        left, right = self.eval(node.left), self.eval(node.right)
        if isinstance(node.op, ast.Pow):
            if isinstance(right, (Fraction, bool)) or not isinstance(right, int):
                raise ConvcountError("expression", "** takes a whole exponent from 0 to 64")
            if not 0 <= right <= 64:
                raise ConvcountError("expression", "** takes a whole exponent from 0 to 64")
            return checked(_number(left, "**") ** right)
        entry = _BINARY.get(type(node.op))
        if entry is None:
            what = _NOT_ALLOWED.get(type(node.op).__name__, type(node.op).__name__)
            raise ConvcountError("expression", f"{what} is not part of the expression language")
        symbol, operation = entry
        if isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str):
            if len(left) + len(right) > MAX_LENGTH:
                raise ConvcountError("expression", "string too long")
            return left + right
        if isinstance(node.op, ast.Add) and type(left) is list and type(right) is list:
            if len(left) + len(right) > MAX_NODES:
                raise ConvcountError("expression", "list too long")
            return left + right
        return checked(operation(_number(left, symbol), _number(right, symbol)))

    def compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.eval(right_node)
            entry = _COMPARE.get(type(op))
            if entry is None:
                what = _NOT_ALLOWED.get(type(op).__name__, type(op).__name__)
                raise ConvcountError("expression", f"{what} is not part of the expression language")
            symbol, compare = entry
            a, b = left, right
            if isinstance(a, Sizes) and not isinstance(b, list):
                a = a.single(symbol)
            if isinstance(b, Sizes) and not isinstance(a, list):
                b = b.single(symbol)
            if symbol not in ("==", "!="):
                numbers = all(
                    isinstance(v, (int, Fraction)) and not isinstance(v, bool) for v in (a, b)
                )
                texts = all(isinstance(v, str) for v in (a, b))
                if not numbers and not texts:
                    raise ConvcountError(
                        "expression",
                        f"{symbol} compares two numbers (or two texts), got {_kind_of(a)} "
                        f"and {_kind_of(b)}",
                    )
            if not compare(a, b):
                return False
            left = right
        return True

    def index(self, node: ast.Subscript) -> Value:
        if isinstance(node.slice, ast.Slice):
            raise ConvcountError(
                "expression", _NOT_ALLOWED["Slice"] + " is not part of the language"
            )
        items = self.eval(node.value)
        position = self.eval(node.slice)
        if not isinstance(items, list):
            raise ConvcountError(
                "expression", f"[...] picks an item of a list, got {_kind_of(items)}"
            )
        if isinstance(position, bool) or not isinstance(position, int):
            raise ConvcountError(
                "expression", f"a list's index must be a whole number, got {_kind_of(position)}"
            )
        if not -len(items) <= position < len(items):
            raise ConvcountError(
                "expression",
                f"index {position} is past the end of a list of {len(items)} "
                f"(from 0 to {len(items) - 1}, or from -1 back)",
            )
        return items[position]

    def call(self, node: ast.Call) -> Value:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ConvcountError(
                "expression", "a call names a function and passes its arguments in order: f(a, b)"
            )
        name = node.func.id
        function = self.calls.get(name)
        if function is None:
            raise ConvcountError(
                "expression",
                f"unknown function {name!r} (known: {', '.join(sorted(self.calls))})",
            )
        args = [self.eval(arg) for arg in node.args]
        low, high = _ARITY.get(name, (1, 64))
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise ConvcountError(
                "expression", f"{name} takes {wanted} argument(s), got {len(args)}"
            )
        return checked(function(*args))
