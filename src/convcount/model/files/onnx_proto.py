"""ONNX's messages, decoded from the wire format: the graph, never the weights.

Only the fields convcount reads are decoded (names, op types, attributes,
initializer dims and types, value shapes); an initializer's raw bytes are
stepped over unless the tensor is a small integer or float constant (a shape,
an axis list), the only values shape inference needs. Sub-graphs (the
attributes of If and Loop) are not followed, so nesting is bounded by the
schema: model, graph, node, attribute, tensor.
"""

from __future__ import annotations

from struct import unpack_from
from typing import Any, NamedTuple

from convcount.model.files.protobuf import (
    FIXED32,
    FIXED64,
    LENGTH,
    VARINT,
    ProtobufError,
    fields,
    fixed_float,
    packed_floats,
    packed_ints,
    signed,
    text,
)

#: Most elements of an initializer or constant whose values are decoded (shapes,
#: axes, scales); larger tensors are weights, whose bytes are never read.
MAX_CONSTANT = 1024
#: Most nodes, initializers, values and attributes a graph may list.
MAX_ITEMS = 1_000_000
#: The attribute key under which a node's module path (dynamo metadata) is kept.
SCOPES = " name_scopes"
#: Most bytes of a packed list of numbers in an attribute.
MAX_ATTRIBUTE_BYTES = 8_000_000
#: Most dimensions a tensor may have.
MAX_RANK = 32

#: TensorProto.DataType codes of floating-point elements.
FLOAT_TYPES = frozenset({1, 10, 11, 16, 17, 18, 19, 20, 23})
#: Bytes per element of the integer and float types whose constants are decoded.
_STRUCT = {1: "f", 11: "d", 6: "i", 7: "q", 2: "B", 3: "b", 4: "H", 5: "h", 12: "I", 13: "Q"}
_SIZES = {"f": 4, "d": 8, "i": 4, "q": 8, "B": 1, "b": 1, "H": 2, "h": 2, "I": 4, "Q": 8}
ITEM_BYTES = {
    1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8,
    14: 8, 15: 16, 16: 2, 17: 1, 18: 1, 19: 1, 20: 1, 23: 1,
}  # fmt: skip


class Tensor(NamedTuple):
    """An initializer or constant: dims, element type, and values when small."""

    name: str
    dims: tuple[int, ...]
    data_type: int
    values: tuple[int | float, ...] | None


class Node(NamedTuple):
    """One node: its op, operands (names, "" for an omitted one) and attributes."""

    name: str
    op: str
    domain: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any]


class Value(NamedTuple):
    """A graph input, output or value_info: element type and dims (int, str or None)."""

    name: str
    elem_type: int
    dims: tuple[int | str | None, ...] | None


class Graph(NamedTuple):
    """The decoded graph."""

    name: str
    nodes: list[Node]
    initializers: dict[str, Tensor]
    inputs: list[Value]
    outputs: list[Value]
    values: dict[str, Value]
    producer: str
    opset: int


def _count(items: list[Any] | dict[str, Any], what: str) -> None:
    if len(items) >= MAX_ITEMS:
        raise ProtobufError(f"more than {MAX_ITEMS:,} {what}")


def decode_model(buf: bytes) -> Graph:
    """ModelProto -> the graph, the producer and the default opset."""
    graph: tuple[int, int] | None = None
    producer = ""
    opset = 0
    seen_version = False
    for number, wire, a, b in fields(buf, 0, len(buf)):
        if number == 1 and wire == VARINT:
            seen_version = True
        elif number == 2 and wire == LENGTH:
            producer = text(buf, a, b)
        elif number == 7 and wire == LENGTH:
            graph = (a, b)
        elif number == 8 and wire == LENGTH:
            domain, version = "", 0
            for n, w, x, y in fields(buf, a, b):
                if n == 1 and w == LENGTH:
                    domain = text(buf, x, y)
                elif n == 2 and w == VARINT:
                    version = signed(x)
            if domain in ("", "ai.onnx"):
                opset = version
    if graph is None or not seen_version:
        raise ProtobufError("no ONNX model in it (no ir_version or no graph)")
    return _graph(buf, *graph, producer, opset)


def _graph(buf: bytes, start: int, end: int, producer: str, opset: int) -> Graph:
    nodes: list[Node] = []
    initializers: dict[str, Tensor] = {}
    inputs: list[Value] = []
    outputs: list[Value] = []
    values: dict[str, Value] = {}
    name = ""
    for number, wire, a, b in fields(buf, start, end):
        if wire != LENGTH:
            continue
        if number == 1:
            _count(nodes, "nodes")
            nodes.append(_node(buf, a, b))
        elif number == 2:
            name = text(buf, a, b)
        elif number == 5:
            _count(initializers, "initializers")
            tensor = tensor_proto(buf, a, b)
            initializers[tensor.name] = tensor
        elif number in (11, 12, 13):
            _count(values, "values")
            value = _value(buf, a, b)
            if number == 11:
                inputs.append(value)
            elif number == 12:
                outputs.append(value)
            else:
                values[value.name] = value
    return Graph(name, nodes, initializers, inputs, outputs, values, producer, opset)


def _node(buf: bytes, start: int, end: int) -> Node:
    inputs: list[str] = []
    outputs: list[str] = []
    attrs: dict[str, Any] = {}
    name = op = domain = ""
    for number, wire, a, b in fields(buf, start, end):
        if wire != LENGTH:
            continue
        if number == 1:
            inputs.append(text(buf, a, b))
        elif number == 2:
            outputs.append(text(buf, a, b))
        elif number == 3:
            name = text(buf, a, b)
        elif number == 4:
            op = text(buf, a, b)
        elif number == 5:
            if len(attrs) >= 1000:
                raise ProtobufError(f"more than 1,000 attributes on node {name!r}")
            key, value = _attribute(buf, a, b)
            attrs[key] = value
        elif number == 7:
            domain = text(buf, a, b)
        elif number == 9:  # metadata_props: the dynamo exporter's module path
            key = value = ""
            for n, w, x, y in fields(buf, a, b):
                if n == 1 and w == LENGTH:
                    key = text(buf, x, y)
                elif n == 2 and w == LENGTH and y - x <= 4096:
                    value = text(buf, x, y)
            if key == "pkg.torch.onnx.name_scopes" and value:
                attrs[SCOPES] = value
        if len(inputs) + len(outputs) > 100_000:
            raise ProtobufError(f"more than 100,000 operands on node {name!r}")
    return Node(name, op, domain, tuple(inputs), tuple(outputs), attrs)


# AttributeProto.AttributeType
_FLOAT, _INT, _STRING, _TENSOR, _GRAPH, _FLOATS, _INTS, _STRINGS = range(1, 9)


def _attribute(buf: bytes, start: int, end: int) -> tuple[str, Any]:
    name = ""
    kind = 0
    scalar: Any = None
    floats: list[float] = []
    ints: list[int] = []
    strings: list[str] = []
    for number, wire, a, b in fields(buf, start, end):
        if number == 1 and wire == LENGTH:
            name = text(buf, a, b)
        elif number == 2 and wire == FIXED32:
            scalar = fixed_float(buf, a, wire)
        elif number == 3 and wire == VARINT:
            scalar = signed(a)
        elif number == 4 and wire == LENGTH:
            scalar = text(buf, a, b)
        elif number == 5 and wire == LENGTH:
            scalar = tensor_proto(buf, a, b)
        elif number in (7, 8) and wire == LENGTH and b - a > MAX_ATTRIBUTE_BYTES:
            raise ProtobufError(f"attribute {name!r} holds more than {MAX_ATTRIBUTE_BYTES:,} bytes")
        elif number == 7:
            if wire == LENGTH:
                floats.extend(packed_floats(buf, a, b))
            elif wire == FIXED32:
                floats.append(fixed_float(buf, a, wire))
        elif number == 8:
            if wire == LENGTH:
                ints.extend(packed_ints(buf, a, b))
            elif wire == VARINT:
                ints.append(signed(a))
        elif number == 9 and wire == LENGTH:
            strings.append(text(buf, a, b))
        elif number == 20 and wire == VARINT:
            kind = a
        if len(floats) + len(ints) + len(strings) > 1_000_000:
            raise ProtobufError(f"attribute {name!r} holds more than 1,000,000 values")
    if kind == _FLOATS or (not kind and floats):
        return name, tuple(floats)
    if kind == _INTS or (not kind and ints):
        return name, tuple(ints)
    if kind == _STRINGS or (not kind and strings):
        return name, tuple(strings)
    if kind == _GRAPH:
        return name, None  # a sub-graph: not followed
    return name, scalar


def tensor_proto(buf: bytes, start: int, end: int) -> Tensor:
    """TensorProto: dims and type; values only of a small int or float tensor."""
    dims: list[int] = []
    data_type = 0
    name = ""
    raw: tuple[int, int] | None = None
    listed: list[int | float] = []
    external = False
    for number, wire, a, b in fields(buf, start, end):
        if number == 1:
            if wire == LENGTH:
                dims.extend(packed_ints(buf, a, b))
            elif wire == VARINT:
                dims.append(signed(a))
            if len(dims) > MAX_RANK:
                raise ProtobufError(f"a tensor of more than {MAX_RANK} dimensions")
        elif number == 2 and wire == VARINT:
            data_type = a
        elif number == 8 and wire == LENGTH:
            name = text(buf, a, b)
        elif number == 9 and wire == LENGTH:
            raw = (a, b)
        elif number == 14 and wire == VARINT:
            external = a == 1
        elif number in (4, 5, 7, 10, 11) and len(listed) <= MAX_CONSTANT:
            if wire == LENGTH and b - a > 10 * MAX_CONSTANT:
                listed = [0] * (MAX_CONSTANT + 1)  # weights stored as a list: not read
            else:
                listed.extend(_listed(buf, number, wire, a, b))
    if any(d < 0 for d in dims):
        raise ProtobufError(f"tensor {name!r} has a negative dimension {tuple(dims)}")
    count = 1
    for d in dims:
        count *= d
    values: tuple[int | float, ...] | None = None
    code = _STRUCT.get(data_type)
    if count <= MAX_CONSTANT and code is not None and not external:
        if raw is not None:
            size = _SIZES[code] * count
            if raw[1] - raw[0] != size:
                raise ProtobufError(
                    f"tensor {name!r}: {raw[1] - raw[0]} bytes of data for {count} values"
                )
            values = tuple(unpack_from(f"<{count}{code}", buf, raw[0]))
        elif len(listed) == count:
            values = tuple(listed)
    return Tensor(name, tuple(dims), data_type, values)


def _listed(buf: bytes, number: int, wire: int, a: int, b: int) -> list[int | float]:
    """float_data (4), int32_data (5), int64_data (7), double_data (10), uint64_data (11)."""
    if number == 4:
        if wire == LENGTH:
            return list(packed_floats(buf, a, b))
        return [fixed_float(buf, a, wire)] if wire == FIXED32 else []
    if number == 10:
        if wire == LENGTH:
            if (b - a) % 8:
                raise ProtobufError(f"packed doubles of {b - a} bytes at byte {a:,}")
            return list(unpack_from(f"<{(b - a) // 8}d", buf, a))
        return [fixed_float(buf, a, wire)] if wire == FIXED64 else []
    if wire == LENGTH:
        return list(packed_ints(buf, a, b))
    return [signed(a)] if wire == VARINT else []


def _value(buf: bytes, start: int, end: int) -> Value:
    """ValueInfoProto: name, and a tensor type's element type and shape."""
    name = ""
    elem_type = 0
    dims: list[int | str | None] | None = None
    for number, wire, a, b in fields(buf, start, end):
        if number == 1 and wire == LENGTH:
            name = text(buf, a, b)
        elif number == 2 and wire == LENGTH:
            for n, w, x, y in fields(buf, a, b):
                if n != 1 or w != LENGTH:
                    continue  # sequences, maps, optionals: no shape
                for n2, w2, x2, y2 in fields(buf, x, y):
                    if n2 == 1 and w2 == VARINT:
                        elem_type = x2
                    elif n2 == 2 and w2 == LENGTH:
                        dims = []
                        for n3, w3, x3, y3 in fields(buf, x2, y2):
                            if n3 == 1 and w3 == LENGTH:
                                dims.append(_dim(buf, x3, y3))
                                if len(dims) > MAX_RANK:
                                    raise ProtobufError(
                                        f"value {name!r} has more than {MAX_RANK} dimensions"
                                    )
    return Value(name, elem_type, None if dims is None else tuple(dims))


def _dim(buf: bytes, start: int, end: int) -> int | str | None:
    """TensorShapeProto.Dimension: a size, a symbol, or None when open."""
    found: int | str | None = None
    for number, wire, a, b in fields(buf, start, end):
        if number == 1 and wire == VARINT:
            found = signed(a)
        elif number == 2 and wire == LENGTH:
            found = text(buf, a, b)
    if isinstance(found, int) and found < 0:
        return None
    return found


def item_bytes(data_type: int) -> int:
    """Bytes per element of a TensorProto data type (0 when unknown)."""
    return ITEM_BYTES.get(data_type, 0)
