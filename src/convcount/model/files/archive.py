"""Zip archives (.keras, torch.export .pt2, torch.save) read with every length checked.

Only the members a reader names are read, each with a cap on what it may
inflate to; weights are never read. Any failure of the archive is one message.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from convcount.errors import ConvcountError

#: Most bytes one configuration member (config.json, model.json, data.pkl) may
#: inflate to; its size in the directory is checked before anything is read.
MAX_MEMBER_BYTES = 64 * 1024 * 1024

#: Most members an archive may list.
MAX_MEMBERS = 200_000

_FAILURES = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    UnicodeDecodeError,
)


class Archive:
    """An open zip archive: its member names and bounded reads of single members."""

    def __init__(self, path: Path, label: str) -> None:
        self.label = label
        try:
            self.zip = zipfile.ZipFile(path)
            infos = self.zip.infolist()
        except _FAILURES as error:
            raise ConvcountError(
                "model", f"{label}: not a readable zip archive ({error})"
            ) from None
        if len(infos) > MAX_MEMBERS:
            raise ConvcountError(
                "model", f"{label}: more than {MAX_MEMBERS:,} members in the archive"
            )
        self.infos = {info.filename: info for info in infos}

    def names(self) -> list[str]:
        """Member names, in the archive's order."""
        return list(self.infos)

    def find(self, suffix: str) -> str | None:
        """The first member whose name is ``suffix`` or ends with ``/suffix``."""
        for name in self.infos:
            if name == suffix or name.endswith("/" + suffix):
                return name
        return None

    def read(self, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
        """One member's bytes, refusing a member that claims or inflates past ``limit``."""
        info = self.infos[name]
        if info.file_size > limit:
            raise ConvcountError(
                "model",
                f"{self.label}: member {name!r} claims {info.file_size:,} bytes "
                f"(at most {limit:,} are read)",
            )
        try:
            with self.zip.open(info) as handle:
                data = handle.read(limit + 1)
        except _FAILURES as error:
            raise ConvcountError(
                "model", f"{self.label}: member {name!r} cannot be read ({error})"
            ) from None
        if len(data) > limit:
            raise ConvcountError(
                "model", f"{self.label}: member {name!r} inflates past {limit:,} bytes"
            )
        return data

    def close(self) -> None:
        """Close the archive."""
        self.zip.close()


def zip_kind(path: Path) -> str:
    """Which reader a zip archive is for: ``keras``, ``pt2`` or ``torch``."""
    archive = Archive(path, str(path))
    try:
        if archive.find("models/model.json") is not None:
            return "pt2"
        if archive.find("data.pkl") is not None:
            return "torch"
        return "keras"
    finally:
        archive.close()
