"""The little of HDF5 that Keras files need, read without h5py.

A legacy Keras ``.h5`` keeps its architecture in string attributes of the
root group (``model_config``, ``keras_version``, ``backend``); a ``.keras``
archive's ``model.weights.h5`` holds one group per layer whose datasets'
shapes give a custom layer's parameter count. So this reads: the superblock
(versions 0 to 3), object headers (versions 1 and 2, with their
continuations), attribute messages holding strings (fixed length, or variable
length in the global heap), groups stored the old way (a symbol table: a
version 1 B-tree of symbol nodes and a local heap, as h5py writes by default)
or the new way (link messages in the header), and a dataset's dataspace.
Nothing else: no data of a dataset is ever read.

Every offset and length is checked against the file's size before it is read,
and every walk is bounded, so a corrupt or hostile file is one
:class:`~convcount.errors.ConvcountError` naming the file and what is wrong.
"""

from __future__ import annotations

from typing import Protocol

from convcount.errors import ConvcountError

SIGNATURE = b"\x89HDF\r\n\x1a\n"

#: Most bytes one read may take (an attribute's value, a heap collection).
MAX_READ = 64 * 1024 * 1024
#: Most header messages, continuation blocks, B-tree nodes and group members walked.
MAX_STEPS = 1_000_000
#: Deepest B-tree.
MAX_DEPTH = 64
#: Most bytes read from one file in all (its structure only: a few MB at most in a
#: real file, whatever the size of its weights).
MAX_TOTAL = 256 * 1024 * 1024

_UNDEFINED = 0xFFFFFFFFFFFFFFFF

# Header message types.
_DATASPACE = 0x0001
_LINK = 0x0006
_ATTRIBUTE = 0x000C
_CONTINUATION = 0x0010
_SYMBOL_TABLE = 0x0011
_ATTRIBUTE_INFO = 0x0015


class Readable(Protocol):
    """A file open for reading (or a window on one)."""

    def seek(self, offset: int, /) -> object: ...
    def read(self, size: int, /) -> bytes: ...


class HDF5Error(Exception):
    """What is wrong with the file (turned into a ConvcountError naming it)."""


class HDF5:
    """An HDF5 file open for bounded reads of its structure."""

    def __init__(self, handle: Readable, size: int, label: str) -> None:
        self.handle = handle
        self.size = size
        self.label = label
        self.steps = 0
        self.total = 0
        self.dense = False
        """Whether the object last asked for its attributes keeps some densely."""
        try:
            self._superblock()
        except HDF5Error as error:
            raise self.error(str(error)) from None

    def error(self, what: str) -> ConvcountError:
        """The one-line error for this file."""
        return ConvcountError("model", f"{self.label}: not a readable HDF5 file ({what})")

    # -- bounded reads --------------------------------------------------------

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset`` (relative to the base address), all of them."""
        start = self.base + offset
        if offset < 0 or length < 0 or length > MAX_READ or start + length > self.size:
            raise HDF5Error(f"{length:,} bytes at offset {offset:,} lie past the end")
        self.total += length
        if self.total > MAX_TOTAL:
            raise HDF5Error(f"more than {MAX_TOTAL:,} bytes of structure")
        self.handle.seek(start)
        data = self.handle.read(length)
        if len(data) != length:
            raise HDF5Error(f"the file ends before offset {offset + length:,}")
        return data

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise HDF5Error(f"more than {MAX_STEPS:,} structures to walk")

    def _int(self, data: bytes, at: int, width: int) -> int:
        if at + width > len(data):
            raise HDF5Error("a structure is cut short")
        return int.from_bytes(data[at : at + width], "little")

    # -- the superblock -------------------------------------------------------

    def _superblock(self) -> None:
        self.base = 0
        head = self.read(0, 12)
        if not head.startswith(SIGNATURE):
            raise HDF5Error("no HDF5 signature")
        version = head[8]
        if version in (0, 1):
            block = self.read(0, 24)
            self.offsets, self.lengths = block[13], block[14]
            self._check_widths()
            at = 24 + (4 if version == 1 else 0)
            fields = self.read(0, at + 6 * self.offsets + 24)
            self.base = self._int(fields, at, self.offsets)
            entry = at + 4 * self.offsets
            self.root = self._int(fields, entry + self.offsets, self.offsets)
        elif version in (2, 3):
            block = self.read(0, 12)
            self.offsets, self.lengths = block[9], block[10]
            self._check_widths()
            fields = self.read(0, 12 + 4 * self.offsets)
            self.base = self._int(fields, 12, self.offsets)
            self.root = self._int(fields, 12 + 3 * self.offsets, self.offsets)
        else:
            raise HDF5Error(f"superblock version {version}")
        if self.base > self.size:
            raise HDF5Error("the base address lies past the end")

    def _check_widths(self) -> None:
        if self.offsets not in (2, 4, 8) or self.lengths not in (2, 4, 8):
            raise HDF5Error(f"offsets of {self.offsets} and lengths of {self.lengths} bytes")

    # -- object headers ---------------------------------------------------------

    def messages(self, address: int) -> list[tuple[int, bytes]]:
        """(type, body) of every message in the object header at ``address``."""
        try:
            return self._messages(address)
        except HDF5Error as error:
            raise self.error(str(error)) from None

    def _messages(self, address: int) -> list[tuple[int, bytes]]:
        self.continued: set[int] = set()
        first = self.read(address, 16)
        found: list[tuple[int, bytes]] = []
        blocks: list[tuple[int, int]] = []
        if first[:4] == b"OHDR":
            version, flags = first[4], first[5]
            if version != 2:
                raise HDF5Error(f"object header version {version}")
            at = 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
            width = 1 << (flags & 0x03)
            size = self._int(self.read(address + at, width), 0, width)
            blocks.append((address + at + width, size))
            creation = bool(flags & 0x04)
            while blocks:
                self.step()
                start, length = blocks.pop(0)
                self._v2_block(self.read(start, length), creation, found, blocks)
            return found
        version = first[0]
        if version != 1:
            raise HDF5Error(f"object header version {version}")
        size = self._int(first, 8, 4)
        blocks.append((address + 16, size))
        while blocks:
            self.step()
            start, length = blocks.pop(0)
            data = self.read(start, length)
            at = 0
            while at + 8 <= len(data):
                self.step()
                kind = self._int(data, at, 2)
                length = self._int(data, at + 2, 2)
                body = data[at + 8 : at + 8 + length]
                if len(body) != length:
                    raise HDF5Error("a header message runs past its block")
                self._take(kind, body, found, blocks)
                at += 8 + length
        return found

    def _v2_block(
        self,
        data: bytes,
        creation: bool,
        found: list[tuple[int, bytes]],
        blocks: list[tuple[int, int]],
    ) -> None:
        at = 4 if data[:4] == b"OCHK" else 0
        end = len(data) - (4 if at else 0)  # a continuation block ends with its checksum
        head = 4 + (2 if creation else 0)
        while at + head <= end:
            self.step()
            kind = data[at]
            length = self._int(data, at + 1, 2)
            body = data[at + head : at + head + length]
            if len(body) != length:
                raise HDF5Error("a header message runs past its block")
            self._take(kind, body, found, blocks)
            at += head + length

    def _take(
        self, kind: int, body: bytes, found: list[tuple[int, bytes]], blocks: list[tuple[int, int]]
    ) -> None:
        if kind == _CONTINUATION:
            offset = self._int(body, 0, self.offsets)
            length = self._int(body, self.offsets, self.lengths)
            if offset in self.continued:
                raise HDF5Error("object header continuations run in a loop")
            self.continued.add(offset)
            blocks.append((offset, length))
        else:
            found.append((kind, body))

    # -- attributes ---------------------------------------------------------------

    def attributes(self, address: int) -> dict[str, str | None]:
        """The attributes of an object: strings as text, anything else as None.

        Attributes stored densely (a fractal heap: libver="latest" with more than
        eight of them) are not read; ``dense`` then says there are some.
        """
        out: dict[str, str | None] = {}
        self.dense = False
        for kind, body in self.messages(address):
            if kind == _ATTRIBUTE_INFO and len(body) >= 2 + self.offsets:
                at = 2 + (2 if body[1] & 0x01 else 0)
                heap = self._int(body, at, self.offsets) if len(body) >= at + self.offsets else 0
                self.dense = heap != (1 << (8 * self.offsets)) - 1
            if kind == _ATTRIBUTE:
                try:
                    name, value = self._attribute(body)
                except HDF5Error as error:
                    raise self.error(f"an attribute: {error}") from None
                out[name] = value
        return out

    def _attribute(self, body: bytes) -> tuple[str, str | None]:
        version = body[0] if body else 0
        if version not in (1, 2, 3):
            raise HDF5Error(f"attribute message version {version}")
        if version > 1 and body[1] & 0x03:
            raise HDF5Error("a shared datatype or dataspace")
        name_size = self._int(body, 2, 2)
        type_size = self._int(body, 4, 2)
        space_size = self._int(body, 6, 2)
        at = 8 + (1 if version == 3 else 0)

        def field(size: int) -> bytes:
            nonlocal at
            part = body[at : at + size]
            if len(part) != size:
                raise HDF5Error("a field runs past the message")
            at += _pad8(size) if version == 1 else size
            return part

        name = field(name_size).split(b"\x00", 1)[0].decode("utf-8", "replace")
        datatype = field(type_size)
        dataspace = field(space_size)
        count = self._elements(dataspace)
        value = body[at:]
        if count != 1 or len(datatype) < 8:
            return name, None
        cls = datatype[0] & 0x0F
        size = self._int(datatype, 4, 4)
        if cls == 3:  # fixed-length string
            if size > len(value):
                raise HDF5Error("a string runs past the message")
            return name, _text(value[:size])
        if cls == 9 and (datatype[1] & 0x0F) == 1:  # variable-length string
            need = 4 + self.offsets + 4
            if len(value) < need:
                raise HDF5Error("a string reference is cut short")
            length = self._int(value, 0, 4)
            collection = self._int(value, 4, self.offsets)
            index = self._int(value, 4 + self.offsets, 4)
            return name, _text(self._global(collection, index, length))
        return name, None

    def _elements(self, dataspace: bytes) -> int:
        dims = self.dims(dataspace)
        count = 1
        for d in dims:
            count *= d
        return count

    def dims(self, dataspace: bytes) -> tuple[int, ...]:
        """The dimensions a dataspace message gives (empty for a scalar)."""
        if len(dataspace) < 4:
            raise HDF5Error("a dataspace is cut short")
        version, rank = dataspace[0], dataspace[1]
        if version == 1:
            at = 8
        elif version == 2:
            at = 4
            if dataspace[3] == 2:  # null dataspace: no elements
                return (0,)
        else:
            raise HDF5Error(f"dataspace version {version}")
        if rank > 32:
            raise HDF5Error(f"a dataspace of rank {rank}")
        return tuple(self._int(dataspace, at + i * self.lengths, self.lengths) for i in range(rank))

    def _global(self, collection: int, index: int, length: int) -> bytes:
        """Object ``index`` of the global heap collection at ``collection``."""
        head = self.read(collection, 8 + self.lengths)
        if head[:4] != b"GCOL":
            raise HDF5Error("a string points at no global heap")
        size = self._int(head, 8, self.lengths)
        data = self.read(collection, size)
        at = 8 + self.lengths
        while at + 8 + self.lengths <= len(data):
            self.step()
            number = self._int(data, at, 2)
            object_size = self._int(data, at + 8, self.lengths)
            start = at + 8 + self.lengths
            if number == 0:
                break  # free space: the rest of the collection
            if number == index:
                if object_size < length or start + length > len(data):
                    raise HDF5Error("a string runs past its heap")
                return data[start : start + length]
            at = start + _pad8(object_size)
        raise HDF5Error(f"no object {index} in a global heap")

    # -- groups and datasets ----------------------------------------------------

    def members(self, address: int) -> dict[str, int]:
        """A group's members: name -> object header address."""
        try:
            return self._members(address)
        except HDF5Error as error:
            raise self.error(str(error)) from None

    def _members(self, address: int) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind, body in self._messages(address):
            if kind == _SYMBOL_TABLE:
                tree = self._int(body, 0, self.offsets)
                heap = self._int(body, self.offsets, self.offsets)
                names = self._local_heap(heap)
                self._tree(tree, names, out, 0, set())
            elif kind == _LINK:
                self._link(body, out)
        return out

    def _local_heap(self, address: int) -> bytes:
        head = self.read(address, 8 + 2 * self.lengths + self.offsets)
        if head[:4] != b"HEAP":
            raise HDF5Error("a group's names are in no local heap")
        size = self._int(head, 8, self.lengths)
        data = self._int(head, 8 + 2 * self.lengths, self.offsets)
        return self.read(data, size)

    def _tree(
        self, address: int, names: bytes, out: dict[str, int], depth: int, seen: set[int]
    ) -> None:
        if depth > MAX_DEPTH:
            raise HDF5Error("a group's B-tree is too deep")
        if address in seen:
            raise HDF5Error("a group's B-tree runs in a loop")
        seen.add(address)
        self.step()
        head = self.read(address, 8)
        if head[:4] == b"SNOD":
            count = self._int(head, 6, 2)
            entry = 2 * self.offsets + 24
            data = self.read(address + 8, count * entry)
            for i in range(count):
                self.step()
                at = i * entry
                where = self._int(data, at, self.offsets)
                header = self._int(data, at + self.offsets, self.offsets)
                end = names.find(b"\x00", where)
                if where >= len(names) or end < 0:
                    raise HDF5Error("a member's name lies outside its heap")
                out[names[where:end].decode("utf-8", "replace")] = header
            return
        if head[:4] != b"TREE" or head[4] != 0:
            raise HDF5Error("a group's B-tree node is not one")
        count = self._int(head, 6, 2)
        key = self.lengths
        body = self.read(address + 8 + 2 * self.offsets, (count + 1) * key + count * self.offsets)
        for i in range(count):
            child = self._int(body, key + i * (key + self.offsets), self.offsets)
            self._tree(child, names, out, depth + 1, seen)

    def _link(self, body: bytes, out: dict[str, int]) -> None:
        if len(body) < 2 or body[0] != 1:
            raise HDF5Error("a link message of an unknown version")
        flags = body[1]
        at = 2
        kind = 0
        if flags & 0x08:
            kind = body[at] if at < len(body) else -1
            at += 1
        if flags & 0x04:
            at += 8
        if flags & 0x10:
            at += 1
        width = 1 << (flags & 0x03)
        length = self._int(body, at, width)
        at += width
        name = body[at : at + length]
        if len(name) != length:
            raise HDF5Error("a link's name runs past its message")
        at += length
        if kind == 0:  # a hard link; soft and external links lead nowhere here
            out[name.decode("utf-8", "replace")] = self._int(body, at, self.offsets)

    def shape(self, address: int) -> tuple[int, ...] | None:
        """A dataset's shape, or None for an object that is no dataset."""
        try:
            for kind, body in self._messages(address):
                if kind == _DATASPACE:
                    return self.dims(body)
        except HDF5Error as error:
            raise self.error(str(error)) from None
        return None


def _pad8(size: int) -> int:
    return (size + 7) // 8 * 8


def _text(data: bytes) -> str:
    return data.split(b"\x00", 1)[0].decode("utf-8", "replace")


def open_hdf5(handle: Readable, size: int, label: str) -> HDF5:
    """An HDF5 file's structure, or one message saying why it cannot be read."""
    return HDF5(handle, size, label)
