"""Model files people already have, read without their frameworks.

One reader per format, one network for all: each reader module turns its file
into the same :class:`convcount.model.graph.Net` of registered layer kinds that
the model language and the zoo build, so the summary, JSON and CSV need no
format-specific code. Format detection by content lives here and only here.

A reader module has one function, ``read(path, head, **options) -> ModelReport``
(``head`` is the file's first :data:`HEAD_BYTES` bytes; ``options`` are those of
:func:`convcount.model.load_model`). Nothing in any file is ever executed:
readers read headers and configs, never weights, and check every length
against the bytes that remain.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcount.errors import ConvcountError

if TYPE_CHECKING:
    from convcount.model.graph import ModelReport

#: Bytes read from the start of a file to tell its format.
HEAD_BYTES = 4096

#: Format name -> the module that reads it (imported only when such a file is read).
READERS: dict[str, str] = {
    "keras": "convcount.model.files.keras",  # .keras zip, to_json() JSON, legacy .h5
    "onnx": "convcount.model.files.onnx",
    "pt2": "convcount.model.files.pt2",  # torch.export.save archive
    "safetensors": "convcount.model.files.weights",
    "torch": "convcount.model.files.weights",  # torch.save zip / legacy pickle
}

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_KERAS_SUFFIXES = frozenset({".keras", ".h5", ".hdf5", ".json"})
_HDF5 = b"\x89HDF\r\n\x1a\n"
# torch.save's legacy (non-zip) format starts with a pickled magic number.
_TORCH_LEGACY = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."


def read_head(path: Path, label: str) -> bytes:
    """The first bytes of a file, or one message saying why it cannot be read."""
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except IsADirectoryError:
        raise ConvcountError("model", f"{label}: is a directory, not a model file") from None
    except PermissionError:
        raise ConvcountError("model", f"{label}: cannot be read (permission denied)") from None
    except OSError as error:
        raise ConvcountError("model", f"{label}: cannot be read ({error.strerror})") from None


def detect(path: Path, head: bytes) -> str | None:
    """The format of a model file from its content, or None for the model language (TOML).

    Zip archives are told apart by their members (``config.json``: Keras;
    ``models/model.json``: torch.export; ``data.pkl``: torch.save) in the
    reader; here a zip is ``keras``, ``pt2`` or ``torch`` by the cheapest look.
    """
    if head.startswith(_ZIP):
        from convcount.model.files.archive import zip_kind

        return zip_kind(path)
    if head.startswith(_HDF5):
        return "keras"
    if head.startswith(_TORCH_LEGACY):
        return "torch"
    # safetensors: a little-endian u64 header length, then its JSON. A length is
    # binary (its top byte is 0 below 2^56): text that happens to have a "{" ninth
    # (a TOML file's `model = {`) is not one.
    if (
        len(head) >= 9
        and head[8:9] == b"{"
        and int.from_bytes(head[:8], "little") > 1
        and not all(32 <= byte < 127 or byte in b"\t\r\n" for byte in head[:8])
    ):
        return "safetensors"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "keras"  # a JSON object: Keras's model.to_json()
    if path.suffix.lower() == ".onnx" or _looks_like_onnx(head):
        return "onnx"
    if path.suffix.lower() in _KERAS_SUFFIXES:
        return "keras"  # its reader says what is wrong with it
    return None


def _looks_like_onnx(head: bytes) -> bool:
    """ONNX ModelProto starts with ir_version (field 1, varint) and is not text."""
    return len(head) >= 2 and head[0] == 0x08 and b"\x00" in head[:256]


def read_file(path: Path, label: str, fmt: str, head: bytes, **options: Any) -> ModelReport:
    """Count a model file of a detected format."""
    module = READERS.get(fmt)
    if module is None:  # pragma: no cover - detect() returns only registered names
        raise ConvcountError("model", f"{label}: a {fmt} file, which convcount cannot read")
    try:
        reader = import_module(module)
    except ModuleNotFoundError:  # a reader still being written on a branch
        raise ConvcountError(
            "model", f"{label}: a {fmt} file, which convcount cannot read yet"
        ) from None
    report: ModelReport = reader.read(path, head, label=label, **options)
    return report
