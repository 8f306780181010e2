"""The model language's small, safe expression language.

A field whose value is a string starting with ``=`` is an expression::

    out_channels = "= make_divisible(32 * alpha, 8)"
    repeat       = "= ceil(depth * 3)"
    when         = "= stride == 1 and in_channels == out"

Grammar (a subset of Python's, parsed with :mod:`ast` and walked here; nothing
is ever executed): integers and decimals (exact: ``0.75`` is 3/4), strings,
``true``/``false``, names of parameters, ``+ - * / // %`` (``/`` is exact
division), ``**`` with a small integer exponent, comparisons, ``and or not``,
``a if c else b``, lists, and the functions :data:`FUNCTIONS`. Arithmetic is
exact (integers and fractions); a channel count must come out whole.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from convcount.errors import ConvcountError

MAX_LENGTH = 1_000
"""Longest expression, in characters."""
MAX_NODES = 300
"""Most syntax nodes in one expression."""
MAX_MAGNITUDE = 10**30
"""Largest number an expression may produce."""

Value = Any


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


def _number(value: Value, what: str) -> Fraction | int:
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise ConvcountError("expression", f"{what}: needs a number, got {value!r}")
    return value


def _min(*values: Value) -> Value:
    return min(_number(v, "min") for v in values)


def _max(*values: Value) -> Value:
    return max(_number(v, "max") for v in values)


#: Functions an expression may call (``correct_pad`` is added per layer).
FUNCTIONS: dict[str, Callable[..., Value]] = {
    "min": _min,
    "max": _max,
    "ceil": _ceil,
    "floor": _floor,
    "round": _round,
    "int": _int,
    "abs": lambda v: abs(_number(v, "abs")),
    "make_divisible": make_divisible,
}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: Fraction(a) / Fraction(b),
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: bool(a == b),
    ast.NotEq: lambda a, b: bool(a != b),
    ast.Lt: lambda a, b: bool(a < b),
    ast.LtE: lambda a, b: bool(a <= b),
    ast.Gt: lambda a, b: bool(a > b),
    ast.GtE: lambda a, b: bool(a >= b),
}


def is_expression(value: object) -> bool:
    """Whether a field's value is an expression (a string starting with '=')."""
    return isinstance(value, str) and value.lstrip().startswith("=")


def evaluate(
    text: str,
    scope: Mapping[str, Value],
    functions: Mapping[str, Callable[..., Value]] | None = None,
) -> Value:
    """The value of ``text`` (with or without its leading '=') in ``scope``."""
    source = text.lstrip()
    source = source.removeprefix("=").strip()
    if len(source) > MAX_LENGTH:
        raise ConvcountError("expression", f"expression longer than {MAX_LENGTH} characters")
    if not source:
        raise ConvcountError("expression", "empty expression after '='")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ConvcountError("expression", f"not a valid expression: {_short(source)}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ConvcountError("expression", f"expression too long (over {MAX_NODES} terms)")
    calls = {**FUNCTIONS, **(functions or {})}
    try:
        result = _eval(tree.body, scope, calls)
    except ConvcountError:
        raise
    except ZeroDivisionError:
        raise ConvcountError("expression", f"division by zero in {_short(source)}") from None
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise ConvcountError("expression", f"cannot evaluate {_short(source)}") from None
    return result


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _check(value: Value) -> Value:
    if isinstance(value, (int, Fraction)) and not isinstance(value, bool):
        if abs(Fraction(value)) > MAX_MAGNITUDE:
            raise ConvcountError("expression", f"a number beyond {MAX_MAGNITUDE:.0e} in expression")
        if isinstance(value, Fraction) and value.denominator == 1:
            return int(value)
    return value


def _eval(
    node: ast.expr, scope: Mapping[str, Value], calls: Mapping[str, Callable[..., Value]]
) -> Value:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (bool, int, str)):
            return _check(value)
        if isinstance(value, float):
            return _check(Fraction(repr(value)))  # the shortest decimal: what was typed
        raise ConvcountError("expression", f"{value!r} is not allowed in an expression")
    if isinstance(node, ast.Name):
        if node.id in ("true", "false"):
            return node.id == "true"
        if node.id in scope:
            return scope[node.id]
        known = ", ".join(sorted(k for k in scope if not k.startswith("_"))) or "none"
        raise ConvcountError("expression", f"unknown name {node.id!r} (known: {known})")
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, scope, calls), _eval(node.right, scope, calls)
        if isinstance(node.op, ast.Pow):
            if not isinstance(right, int) or isinstance(right, bool) or not 0 <= right <= 64:
                raise ConvcountError("expression", "** takes a whole exponent from 0 to 64")
            return _check(_number(left, "**") ** right)
        operation = _BINARY.get(type(node.op))
        if operation is None:
            raise ConvcountError("expression", "only + - * / // % ** are allowed")
        if isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str):
            if len(left) + len(right) > MAX_LENGTH:
                raise ConvcountError("expression", "string too long")
            return left + right
        return _check(operation(_number(left, "arithmetic"), _number(right, "arithmetic")))
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, scope, calls)
        if isinstance(node.op, ast.Not):
            return not operand
        if isinstance(node.op, ast.USub):
            return _check(-_number(operand, "-"))
        if isinstance(node.op, ast.UAdd):
            return _number(operand, "+")
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            result: Value = True
            for item in node.values:
                result = _eval(item, scope, calls)
                if not result:
                    return result
            return result
        result = False
        for item in node.values:
            result = _eval(item, scope, calls)
            if result:
                return result
        return result
    if isinstance(node, ast.Compare):
        left = _eval(node.left, scope, calls)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, scope, calls)
            compare = _COMPARE.get(type(op))
            if compare is None:
                raise ConvcountError("expression", "only == != < <= > >= compare")
            if not compare(left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        test = _eval(node.test, scope, calls)
        return _eval(node.body if test else node.orelse, scope, calls)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(item, scope, calls) for item in node.elts]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        function = calls.get(node.func.id)
        if function is None:
            raise ConvcountError(
                "expression",
                f"unknown function {node.func.id!r} (known: {', '.join(sorted(calls))})",
            )
        return _check(function(*(_eval(arg, scope, calls) for arg in node.args)))
    raise ConvcountError("expression", f"{type(node).__name__} is not allowed in an expression")
