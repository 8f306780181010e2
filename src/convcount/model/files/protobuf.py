"""The protobuf wire format, read by hand: just what an ONNX file needs.

A message is a run of fields, each a key (field number and wire type, a
varint) and a value: a varint (wire type 0), 8 bytes (1), a length and that
many bytes (2) or 4 bytes (5). This module walks the fields of a byte range
without copying it: a length-delimited value comes back as its start and end
offsets, so a 100 MB initializer is stepped over, never read. Every varint is
at most 10 bytes and every length is checked against the bytes that remain of
the enclosing message; anything else (groups, wire types 3, 4, 6, 7, field 0)
is refused. Nesting is bounded by the caller, which decodes a fixed schema
(:mod:`convcount.model.files.onnx` never follows a sub-graph).

Why not the ``protobuf`` runtime: it would need the ONNX message classes
(generated code, or ``onnx`` itself), it parses every field it meets,
including raw weight bytes it copies into Python ``bytes``, and it costs an
import; the walk here takes the few fields convcount reads (README, "Model
files").
"""

from __future__ import annotations

from collections.abc import Iterator
from struct import unpack_from
from typing import Protocol


class ProtobufError(ValueError):
    """The bytes are not a well-formed protobuf message."""


class Buffer(Protocol):
    """Bytes, a memoryview or an mmap: indexable by int and by slice."""

    def __getitem__(self, index: int, /) -> int: ...

    def __len__(self) -> int: ...


VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


def varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it."""
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise ProtobufError(f"a number runs past the end of its message at byte {pos:,}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError(f"a number longer than 10 bytes at byte {pos:,}")


def fields(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Each field of the message in ``buf[start:end]``: (number, wire type, a, b).

    For a varint, ``a`` is its value; for the other wire types ``a:b`` is the
    value's byte range.
    """
    pos = start
    while pos < end:
        key, pos = varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError(f"field number 0 at byte {pos:,}")
        if wire == VARINT:
            value, pos = varint(buf, pos, end)
            yield number, wire, value, pos
            continue
        if wire == LENGTH:
            size, pos = varint(buf, pos, end)
        elif wire == FIXED64:
            size = 8
        elif wire == FIXED32:
            size = 4
        else:
            raise ProtobufError(f"wire type {wire} (not used by ONNX) at byte {pos:,}")
        if size > end - pos:
            raise ProtobufError(
                f"field {number} claims {size:,} bytes at byte {pos:,}, "
                f"past the end of its message ({end - pos:,} remain)"
            )
        yield number, wire, pos, pos + size
        pos += size


def signed(value: int) -> int:
    """A varint read as a two's-complement int64 (ONNX's int64 fields)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def text(buf: bytes, a: int, b: int) -> str:
    """A string field (names are UTF-8; anything else is replaced, never fatal)."""
    return bytes(buf[a:b]).decode("utf-8", errors="replace")


def packed_ints(buf: bytes, a: int, b: int) -> list[int]:
    """A packed repeated int64 field."""
    values = []
    pos = a
    while pos < b:
        value, pos = varint(buf, pos, b)
        values.append(signed(value))
    return values


def fixed_float(buf: bytes, a: int, wire: int) -> float:
    """A float (wire type 5) or double (wire type 1) field."""
    value: float = unpack_from("<f" if wire == FIXED32 else "<d", buf, a)[0]
    return value


def packed_floats(buf: bytes, a: int, b: int) -> list[float]:
    """A packed repeated float field."""
    if (b - a) % 4:
        raise ProtobufError(f"packed floats of {b - a} bytes at byte {a:,}")
    return list(unpack_from(f"<{(b - a) // 4}f", buf, a))
