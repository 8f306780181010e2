"""A pickle reader that runs nothing: the opcodes of a PyTorch state dict, and no more.

``torch.save`` pickles a state dict as dictionaries of tensors, each tensor a
call of ``torch._utils._rebuild_tensor_v2`` on a storage that the pickle names
by a persistent id (its bytes lie in another archive member, never read here).
This interpreter knows the opcodes such a pickle uses and the few globals it
calls (:data:`ALLOWED`), each replaced by a function of its own that only
records a tensor's shape and type; it never imports a module, never looks up a
name, and refuses any other global with :class:`PickleRefused` (a whole pickled
model names its classes: ``torchvision.models.resnet.ResNet``, ``__main__.Net``).
Stack, memo, container sizes and the number of opcodes are bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from struct import unpack_from
from typing import Any, NamedTuple

#: Most opcodes, stack entries and memo entries one pickle may use.
MAX_OPS = 20_000_000
MAX_STACK = 1_000_000
MAX_DIMS = 32


class PickleError(ValueError):
    """Not a pickle this reader understands (corrupt, truncated, an unknown opcode)."""


class PickleRefused(PickleError):
    """The pickle calls a global outside the allow-list: ``module.name``."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class Storage(NamedTuple):
    """A persistent-id storage: its element type (``FloatStorage``, ...) and size."""

    dtype: str
    key: str
    numel: int


class TensorRecord(NamedTuple):
    """A tensor a pickle rebuilds: its shape and element type; ``parameter`` if wrapped."""

    shape: tuple[int, ...]
    dtype: str
    parameter: bool = False
    requires_grad: bool = False

    @property
    def numel(self) -> int:
        """Elements of the tensor."""
        return prod(self.shape)


class _Global(NamedTuple):
    """An allowed global, found by GLOBAL or STACK_GLOBAL, not yet called."""

    name: str


class _Mark:
    """The MARK on the stack."""


_MARK = _Mark()


def _shape(value: Any) -> tuple[int, ...]:
    if not isinstance(value, tuple) or len(value) > MAX_DIMS:
        raise PickleError("a tensor's size is not a tuple of at most 32 numbers")
    if not all(type(v) is int and v >= 0 for v in value):
        raise PickleError("a tensor's size holds something other than counts")
    return value


def _rebuild_tensor(args: tuple[Any, ...]) -> TensorRecord:
    storage, _offset, size = args[0], args[1], args[2]
    requires_grad = bool(args[4]) if len(args) > 4 else False
    dtype = storage.dtype if isinstance(storage, Storage) else "unknown"
    return TensorRecord(_shape(size), dtype, requires_grad=requires_grad)


def _rebuild_parameter(args: tuple[Any, ...]) -> TensorRecord:
    data = args[0]
    if not isinstance(data, TensorRecord):
        raise PickleError("a parameter of something other than a tensor")
    requires_grad = bool(args[1]) if len(args) > 1 else True
    return data._replace(parameter=True, requires_grad=requires_grad)


def _from_type(args: tuple[Any, ...]) -> Any:
    """torch._tensor._rebuild_from_type_v2(func, type, args, state): the inner call."""
    func, _type, inner = args[0], args[1], args[2]
    if not isinstance(func, _Global) or not isinstance(inner, tuple):
        raise PickleError("a tensor subclass rebuilt from something other than a tensor")
    return _call(func, inner)


def _ordered_dict(args: tuple[Any, ...]) -> dict[Any, Any]:
    return dict(args[0]) if args else {}


_STORAGES = (
    "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage",
    "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage",
    "ComplexFloatStorage", "ComplexDoubleStorage", "UntypedStorage",
)  # fmt: skip

#: The only globals a pickle may name, and what this reader does for each.
ALLOWED: dict[str, Callable[[tuple[Any, ...]], Any] | None] = {
    "collections.OrderedDict": _ordered_dict,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": _from_type,
    "torch.nn.parameter.Parameter": None,  # only as _rebuild_from_type_v2's type
    "torch.Tensor": None,
    "torch.Size": lambda args: tuple(args[0]) if args else (),
    **{f"torch.{name}": None for name in _STORAGES},
    **{f"torch.storage.{name}": None for name in ("TypedStorage", "UntypedStorage")},
}


def _call(func: Any, args: Any) -> Any:
    if not isinstance(func, _Global) or not isinstance(args, tuple):
        raise PickleError("a call of something other than an allowed function")
    action = ALLOWED[func.name]
    if action is None:
        raise PickleRefused(func.name)
    try:
        return action(args)
    except (IndexError, TypeError, ValueError, AttributeError) as error:
        if isinstance(error, PickleError):
            raise
        raise PickleError(f"{func.name} called with arguments it does not take") from None


def _storage(pid: Any) -> Storage:
    """A persistent id: ('storage', storage type, key, location, numel)."""
    if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
        raise PickleError("a persistent id that is not a storage")
    kind = pid[1]
    dtype = kind.name.rsplit(".", 1)[-1] if isinstance(kind, _Global) else str(kind)
    if type(pid[4]) is not int or pid[4] < 0:
        raise PickleError("a storage of a negative size")
    return Storage(dtype, str(pid[2]), pid[4])


def load(data: bytes) -> Any:
    """The object a pickle builds, with tensors as :class:`TensorRecord`."""
    return load_at(data, 0)[0]


def load_at(data: bytes, start: int) -> tuple[Any, int]:
    """The object of the pickle at ``start``, and where the next one begins."""
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    marks: list[int] = []
    pos = start
    end = len(data)
    ops = 0

    def take(n: int) -> int:
        nonlocal pos
        if n < 0 or pos + n > end:
            raise PickleError(f"truncated at byte {pos:,}")
        start = pos
        pos += n
        return start

    def pop_mark() -> list[Any]:
        if not marks:
            raise PickleError("no MARK for an opcode that needs one")
        at = marks.pop()
        items = stack[at:]
        del stack[at:]
        return items

    def pop() -> Any:
        if not stack:
            raise PickleError("an opcode on an empty stack")
        return stack.pop()

    def line() -> str:
        nonlocal pos
        stop = data.find(b"\n", pos, min(end, pos + 1024))
        if stop < 0:
            raise PickleError(f"an unterminated name at byte {pos:,}")
        text = data[pos:stop].decode("utf-8", errors="replace")
        pos = stop + 1
        return text

    def glob(module: str, name: str) -> _Global:
        qualified = f"{module}.{name}"
        if qualified not in ALLOWED:
            raise PickleRefused(qualified)
        return _Global(qualified)

    while True:
        ops += 1
        if ops > MAX_OPS or len(stack) > MAX_STACK or len(memo) > MAX_STACK:
            raise PickleError("more opcodes or objects than a state dict holds")
        if pos >= end:
            raise PickleError("truncated: no STOP")
        op = data[pos]
        pos += 1
        if op == 0x80:  # PROTO
            take(1)
        elif op == 0x95:  # FRAME
            take(8)
        elif op == 0x2E:  # STOP
            return pop(), pos
        elif op == 0x28:  # MARK
            marks.append(len(stack))
        elif op == 0x7D:  # EMPTY_DICT
            stack.append({})
        elif op == 0x5D:  # EMPTY_LIST
            stack.append([])
        elif op == 0x29:  # EMPTY_TUPLE
            stack.append(())
        elif op == 0x8F:  # EMPTY_SET
            stack.append([])
        elif op == 0x4E:  # NONE
            stack.append(None)
        elif op == 0x88:  # NEWTRUE
            stack.append(True)
        elif op == 0x89:  # NEWFALSE
            stack.append(False)
        elif op == 0x4A:  # BININT
            stack.append(unpack_from("<i", data, take(4))[0])
        elif op == 0x4B:  # BININT1
            stack.append(data[take(1)])
        elif op == 0x4D:  # BININT2
            stack.append(unpack_from("<H", data, take(2))[0])
        elif op == 0x8A:  # LONG1
            n = data[take(1)]
            stack.append(int.from_bytes(data[take(n) : pos], "little", signed=True))
        elif op == 0x47:  # BINFLOAT
            stack.append(unpack_from(">d", data, take(8))[0])
        elif op in (0x58, 0x8C, 0x8D, 0x42, 0x43, 0x54, 0x55, 0x8E):
            # BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, BINBYTES, SHORT_BINBYTES,
            # BINSTRING, SHORT_BINSTRING, BINBYTES8
            width = {0x58: 4, 0x8C: 1, 0x8D: 8, 0x42: 4, 0x43: 1, 0x54: 4, 0x55: 1, 0x8E: 8}[op]
            n = int.from_bytes(data[take(width) : pos], "little")
            raw = data[take(n) : pos]
            text = op in (0x58, 0x8C, 0x8D, 0x54, 0x55)
            stack.append(raw.decode("utf-8", errors="replace") if text else raw)
        elif op == 0x74:  # TUPLE
            stack.append(tuple(pop_mark()))
        elif op == 0x85:  # TUPLE1
            stack.append((pop(),))
        elif op == 0x86:  # TUPLE2
            b, a = pop(), pop()
            stack.append((a, b))
        elif op == 0x87:  # TUPLE3
            c, b, a = pop(), pop(), pop()
            stack.append((a, b, c))
        elif op == 0x6C:  # LIST
            stack.append(pop_mark())
        elif op == 0x64:  # DICT
            items = pop_mark()
            stack.append(_pairs(items))
        elif op == 0x61:  # APPEND
            value = pop()
            _target(stack, list).append(value)
        elif op in (0x65, 0x90):  # APPENDS, ADDITEMS
            items = pop_mark()
            _target(stack, list).extend(items)
        elif op == 0x73:  # SETITEM
            value, key = pop(), pop()
            _target(stack, dict)[_key(key)] = value
        elif op == 0x75:  # SETITEMS
            items = pop_mark()
            _target(stack, dict).update(_pairs(items))
        elif op == 0x91:  # FROZENSET
            stack.append(tuple(pop_mark()))
        elif op in (0x71, 0x72, 0x94):  # BINPUT, LONG_BINPUT, MEMOIZE
            if op == 0x94:
                key = len(memo)
            else:
                width = 1 if op == 0x71 else 4
                key = int.from_bytes(data[take(width) : pos], "little")
            if not stack:
                raise PickleError("a memo store on an empty stack")
            memo[key] = stack[-1]
        elif op in (0x68, 0x6A):  # BINGET, LONG_BINGET
            width = 1 if op == 0x68 else 4
            key = int.from_bytes(data[take(width) : pos], "little")
            if key not in memo:
                raise PickleError(f"memo entry {key} read before it is written")
            stack.append(memo[key])
        elif op == 0x63:  # GLOBAL
            module = line()
            stack.append(glob(module, line()))
        elif op == 0x93:  # STACK_GLOBAL
            name, module = pop(), pop()
            if not isinstance(name, str) or not isinstance(module, str):
                raise PickleError("STACK_GLOBAL of something other than names")
            stack.append(glob(module, name))
        elif op == 0x52:  # REDUCE
            args, func = pop(), pop()
            stack.append(_call(func, args))
        elif op == 0x81:  # NEWOBJ
            args, cls = pop(), pop()
            stack.append(_call(cls, args))
        elif op == 0x62:  # BUILD: state set on an object: kept out (a tensor's hooks)
            pop()
            if not stack:
                raise PickleError("BUILD on an empty stack")
        elif op == 0x51:  # BINPERSID
            stack.append(_storage(pop()))
        else:
            raise PickleError(f"opcode 0x{op:02x} at byte {pos - 1:,} (not used by state dicts)")


def _target(stack: list[Any], kind: type) -> Any:
    if not stack or not isinstance(stack[-1], kind):
        raise PickleError(f"an item added to something other than a {kind.__name__}")
    return stack[-1]


def _key(key: Any) -> Any:
    if isinstance(key, (list, dict)):
        raise PickleError("a dictionary key that is a list or a dictionary")
    return key


def _pairs(items: list[Any]) -> dict[Any, Any]:
    if len(items) % 2:
        raise PickleError("a dictionary of an odd number of items")
    return {_key(items[i]): items[i + 1] for i in range(0, len(items), 2)}
