"""Weight files (safetensors, ``torch.save`` state dicts): parameters, no graph.

A weight file holds tensors by name and nothing about how they are wired, so
convcount lists every tensor with its shape and values (``--depth`` rolls them
up by module prefix: ``layer1.0.conv1`` for ``layer1.0.conv1.weight`` and
``.bias``), and reports MACs as unknown: they need a graph (export the model
with ``torch.export`` or to ONNX).

* **safetensors**: an 8-byte little-endian header length, then a JSON header
  naming each tensor's dtype, shape and byte range; the ranges are checked
  against the file, the bytes are never read.
* **torch.save** (zip, PyTorch 1.6+): ``data.pkl`` is read by
  :mod:`convcount.model.files.pickle`, which runs nothing and knows only the
  tensor-rebuild functions; the storages under ``data/`` are never opened. A
  pickle that names any other global (a whole pickled model names its
  classes) is refused with a message saying to export the model instead.
* **torch.save before PyTorch 1.6** (not a zip): three small pickles (a magic
  number, a protocol version, the system's sizes), the object's pickle, then
  the raw storages: the pickles are read the same way, the storages never.

Which values are buffers: a state dict does not say, so tensors named like
PyTorch's own buffers (``running_mean``, ``running_var``,
``num_batches_tracked``) count as buffers, every other tensor as a parameter.
"""

from __future__ import annotations

import json
from math import prod
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcount.errors import ConvcountError
from convcount.model.files.rows import Row, build_report, check_options

if TYPE_CHECKING:
    from convcount.model.graph import ModelReport

#: Largest safetensors header read (the format's own readers cap it at 100 MB).
MAX_HEADER = 100 * 1024 * 1024
MAX_TENSORS = 1_000_000
BUFFER_NAMES = ("running_mean", "running_var", "num_batches_tracked")
NO_GRAPH = (
    "a weight file holds no graph: MACs and output shapes are unknown "
    "(export the model with torch.export.save or torch.onnx.export to count them)"
)
_SAFETENSORS_BYTES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
    "U16": 2, "U32": 4, "U64": 8, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "C64": 8,
}  # fmt: skip


def read(path: Path, head: bytes, *, label: str, **options: Any) -> ModelReport:
    """Count a safetensors file or a torch.save state dict."""
    check_options(label, options)
    if options.get("resolution") is not None:
        raise ConvcountError(
            "resolution", f"--resolution: {label} is a weight file, without inputs to size"
        )
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        tensors = _torch_zip(path, label)
    elif head.startswith(b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."):
        tensors = _torch_legacy(path, label)
    else:
        tensors = _safetensors(path, label, head)
    rows = _rows(tensors)
    name = path.name.split(".")[0] or path.name
    report = build_report(label, name, (), rows, options.get("dtype"), (NO_GRAPH,))
    return report._replace(input=report.input._replace(channels=0))  # no input at all


def _rows(tensors: dict[str, tuple[tuple[int, ...], bool]]) -> list[Row]:
    """One row per tensor, in the file's order, named by its key (``layer1.0.conv1.weight``):
    ``--depth`` rolls them up by module prefix."""
    rows = []
    for name, (shape, is_buffer) in tensors.items():
        size = prod(shape)
        rows.append(
            Row(
                name,
                "buffer" if is_buffer else "parameter",
                (),
                None,
                trainable=0 if is_buffer else size,
                buffers=size if is_buffer else 0,
                macs=None,
                op="weights",
                config={"shape": tuple(shape)},
            )
        )
    return rows


def _is_buffer(name: str, dtype_is_float: bool) -> bool:
    return name.rsplit(".", 1)[-1] in BUFFER_NAMES or not dtype_is_float


def _safetensors(path: Path, label: str, head: bytes) -> dict[str, tuple[tuple[int, ...], bool]]:
    size = path.stat().st_size
    length = int.from_bytes(head[:8], "little")
    if length > MAX_HEADER or length > size - 8:
        raise ConvcountError(
            "model",
            f"{label}: the safetensors header claims {length:,} bytes "
            f"({size - 8:,} follow, at most {MAX_HEADER:,} are read)",
        )
    with path.open("rb") as handle:
        handle.seek(8)
        raw = handle.read(length)
    try:
        header = json.loads(raw)
    except RecursionError:
        raise ConvcountError(
            "model", f"{label}: the safetensors header is nested too deep"
        ) from None
    except ValueError as error:
        raise ConvcountError(
            "model", f"{label}: the safetensors header is not JSON ({error})"
        ) from None
    if not isinstance(header, dict):
        raise ConvcountError("model", f"{label}: the safetensors header is not a JSON object")
    tensors: dict[str, tuple[tuple[int, ...], bool]] = {}
    data = size - 8 - length
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if len(tensors) >= MAX_TENSORS:
            raise ConvcountError("model", f"{label}: more than {MAX_TENSORS:,} tensors")
        shape, dtype = _entry(label, name, entry, data)
        tensors[name] = (shape, _is_buffer(name, dtype.startswith(("F", "BF"))))
    return tensors


def _entry(label: str, name: str, entry: Any, data: int) -> tuple[tuple[int, ...], str]:
    """A safetensors header entry's shape and dtype, checked against the file."""
    where = f"{label}: tensor {name!r}"
    if not isinstance(entry, dict):
        raise ConvcountError("model", f"{where}: not a JSON object in the header")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in _SAFETENSORS_BYTES:
        raise ConvcountError("model", f"{where}: unknown dtype {str(dtype)[:20]!r}")
    if (
        not isinstance(shape, list)
        or len(shape) > 32
        or not all(type(d) is int and d >= 0 for d in shape)
    ):
        raise ConvcountError("model", f"{where}: shape is not a list of sizes")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(type(o) is int for o in offsets)
        or not 0 <= offsets[0] <= offsets[1] <= data
    ):
        raise ConvcountError(
            "model", f"{where}: data_offsets {str(offsets)[:40]} lie outside the file's data"
        )
    if prod(shape) * _SAFETENSORS_BYTES[dtype] != offsets[1] - offsets[0]:
        raise ConvcountError(
            "model",
            f"{where}: {offsets[1] - offsets[0]:,} bytes for {prod(shape):,} values of {dtype}",
        )
    return tuple(shape), dtype


def _torch_zip(path: Path, label: str) -> dict[str, tuple[tuple[int, ...], bool]]:
    from convcount.model.files.archive import Archive

    archive = Archive(path, label)
    try:
        member = archive.find("data.pkl")
        if member is None:
            raise ConvcountError("model", f"{label}: no data.pkl in the archive")
        data = archive.read(member)
    finally:
        archive.close()
    return _tensors(data, 0, label, "data.pkl")


#: Most bytes of a legacy torch.save file read: its pickles, before the raw storages.
MAX_LEGACY_PICKLES = 64 * 1024 * 1024


def _torch_legacy(path: Path, label: str) -> dict[str, tuple[tuple[int, ...], bool]]:
    """torch.save before PyTorch 1.6: a magic number, a protocol version and the
    system's sizes, each a pickle, then the object's pickle (then raw storages)."""
    from convcount.model.files.pickle import PickleError, load_at

    with path.open("rb") as handle:
        data = handle.read(MAX_LEGACY_PICKLES)
    try:
        pos = 0
        for _ in range(3):
            _, pos = load_at(data, pos)
    except PickleError as error:
        raise ConvcountError(
            "model", f"{label}: not a readable legacy torch.save file ({error})"
        ) from None
    return _tensors(data, pos, label, "the pickle")


def _tensors(
    data: bytes, start: int, label: str, what: str
) -> dict[str, tuple[tuple[int, ...], bool]]:
    """The tensors of the pickle at ``start``, by key path: (shape, is a buffer)."""
    from convcount.model.files.pickle import PickleError, PickleRefused, TensorRecord, load_at

    try:
        obj, _ = load_at(data, start)
    except PickleRefused as refused:
        raise ConvcountError(
            "model",
            f"{label}: {what} calls {refused.name}, which convcount never runs (it reads "
            "tensors only); a whole pickled model must be exported first: "
            "torch.export.save or torch.onnx.export (or save its state_dict)",
        ) from None
    except PickleError as error:
        raise ConvcountError(
            "model", f"{label}: {what} is not a readable pickle ({error})"
        ) from None
    records: dict[str, TensorRecord] = {}
    _walk(obj, "", records, 0, [0])
    if not records:
        raise ConvcountError("model", f"{label}: {what} holds no tensors")
    floats = ("Float", "Double", "Half", "BFloat16")
    return {
        name: (record.shape, _is_buffer(name, record.dtype.startswith(floats)))
        for name, record in records.items()
    }


def _walk(obj: Any, prefix: str, out: dict[str, Any], depth: int, visits: list[int]) -> None:
    """Every tensor in nested dicts and lists, named by its key path (bounded: a
    pickle may hold a container many times, or inside itself)."""
    from convcount.model.files.pickle import TensorRecord

    visits[0] += 1
    if depth > 100 or visits[0] > 4 * MAX_TENSORS:
        return
    if isinstance(obj, TensorRecord):
        out[prefix or "tensor"] = obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _walk(value, f"{prefix}.{key}" if prefix else str(key), out, depth + 1, visits)
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            _walk(value, f"{prefix}.{i}" if prefix else str(i), out, depth + 1, visits)
