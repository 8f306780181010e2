"""Whole networks: the model language, the layer-kind registry and the shipped zoo.

:func:`load_model` takes what a user types after ``convcount model``: the path
of an existing model file, or the name of a shipped model
(``keras/efficientnetb0``, ``torchvision/resnet50``, an alias such as
``mobilenet-v2``). A path is a file only when that file exists; a shipped
name never falls back to ``NAME.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from convcount.errors import ConvcountError
from convcount.layers import CONVENTIONS, DTYPE_BYTES, parse_choice, parse_ints
from convcount.model.graph import ModelLayer, ModelReport, Net, Tensor

__all__ = [
    "ModelLayer",
    "ModelReport",
    "Net",
    "Resolved",
    "Tensor",
    "build_model",
    "load_file",
    "load_model",
    "resolve_source",
    "shipped_models",
    "summarize",
]

SUMMARY_FORMATS = ("table", "json", "csv", "plain")


class Resolved(NamedTuple):
    """What a model argument names."""

    path: Path | None
    """The model file, when the argument names an existing file."""
    shipped: str | None
    """The shipped model's full name, otherwise."""
    notice: str | None
    """A line for stderr when a file shadows a shipped name."""


def summarize(
    report: ModelReport, fmt: str = "table", *, batch_size: int = 1, width: int | None = None
) -> str:
    """A counted network as ``convcount model`` prints it, as a string.

    ``fmt`` is ``"table"`` (the summary table, at ``width`` columns or its
    natural width), ``"json"`` (what ``--json`` prints), ``"csv"`` (``--format
    csv``: one row per layer, then a total row) or ``"plain"`` (the total
    parameters, as ``-q``). ``batch_size`` sets the memory estimate's batch,
    as ``--batch-size`` does. Neither rich nor any framework is imported.
    """
    if fmt not in SUMMARY_FORMATS:
        raise ConvcountError(
            "format", f"format: must be one of {', '.join(SUMMARY_FORMATS)}, got {fmt!r}"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConvcountError("batch_size", f"batch_size: must be at least 1, got {batch_size!r}")
    if fmt == "plain":
        return f"{report.total_params}\n"
    if fmt == "table":
        from convcount.render import model_view

        view = model_view(report, width, batch_size)
        return "".join(f"{line.text.rstrip()}\n" for line in view.lines)
    from convcount.output import csv_text, json_text
    from convcount.summary import model_csv, model_record

    record = model_record(report, batch_size)
    if fmt == "json":
        return json_text(record)
    return csv_text(*model_csv(record))


def build_model(spec: Any, source: str, **options: Any) -> ModelReport:
    """Count a parsed model file: :func:`convcount.model.language.build_model`."""
    from convcount.model.language import build_model as build

    return build(spec, source, **options)


def load_file(path: str | Path, **options: Any) -> ModelReport:
    """Read and count a model file, of any format convcount reads (by its content).

    Keras, ONNX, torch.export and weight files go to their readers
    (:mod:`convcount.model.files`); anything else is the model language (TOML).
    """
    from convcount.model.files import detect, read_file, read_head

    path = Path(path)
    label = str(path)
    head = read_head(path, label)
    fmt = detect(path, head)
    if fmt is not None:
        return read_file(path, label, fmt, head, **options)
    from convcount.model.language import load_file as load

    return load(path, **options)


def shipped_models() -> list[str]:
    """Full names of every shipped model."""
    from convcount.model.zoo import ZOO

    return sorted(ZOO)


#: Written before a shipped model's name, it always means the shipped model,
#: never a file: ``zoo:keras/vgg16``.
ZOO_PREFIX = "zoo:"


def resolve_source(source: str) -> Resolved:
    """Decide whether ``source`` is a model file or a shipped model, or refuse it.

    A name is a file when a file (not a directory) of that name exists; else a
    shipped model's name. ``zoo:NAME`` is always the shipped model.
    """
    from convcount.model.zoo import resolve

    if not source.strip():
        raise ConvcountError("model", "model: give a model file or a shipped model's name")
    if source[: len(ZOO_PREFIX)].lower() == ZOO_PREFIX:
        named = source[len(ZOO_PREFIX) :]
        shipped = resolve(named)
        if shipped is None:
            hint = _hint(named)
            raise ConvcountError(
                "model",
                f"model: {source!r}: no shipped model is named {named!r}"
                + (f";{hint}" if hint else " (convcount model --list shows them)"),
            )
        return Resolved(None, shipped, None)
    path = Path(source)
    shipped = resolve(source)
    found = _look_up(path)
    if found == "file":
        notice = None
        if shipped is not None:
            notice = (
                f"reading the file {source!r}; for the shipped model of that name, "
                f"write {ZOO_PREFIX}{shipped}"
            )
        return Resolved(path, None, notice)
    if shipped is not None:
        return Resolved(None, shipped, None)  # a directory is never a model file
    if found == "directory":
        raise ConvcountError("model", f"model: {source!r} is a directory, not a model file")
    if found == "denied":
        raise ConvcountError("model", f"model: {source!r}: cannot be read (permission denied)")
    if ("/" in source and not source.startswith(("keras/", "torchvision/"))) or source.endswith(
        ".toml"
    ):
        raise ConvcountError("model", f"model: {source!r}: no such file")
    raise ConvcountError(
        "model",
        f"model: {source!r} is no file and no shipped model;"
        + _hint(source)
        + " convcount model --list shows the shipped ones",
    )


def _hint(name: str) -> str:
    from convcount.model.zoo import suggestions

    close = suggestions(name)
    return f" did you mean {' or '.join(close)}?" if close else ""


def _look_up(path: Path) -> str | None:
    """``"file"``, ``"directory"``, ``"denied"`` (a folder on the way may not be
    searched), or None when nothing of that name exists."""
    import stat

    try:
        mode = path.stat().st_mode
    except PermissionError:
        return "denied"
    except (OSError, ValueError):  # missing, or a name no file system takes (a NUL, too long)
        return None
    return "directory" if stat.S_ISDIR(mode) else "file"


def load_model(
    source: str,
    *,
    width_multiplier: str | float | None = None,
    resolution: object = None,
    convention: str | None = None,
    dtype: str | None = None,
    options: dict[str, Any] | None = None,
) -> ModelReport:
    """Read and count a model file or a shipped model in one call."""
    where = resolve_source(source)
    conv = None if convention is None else parse_choice("convention", convention, CONVENTIONS)
    if dtype is not None:
        dtype = parse_choice("dtype", dtype, DTYPE_BYTES)
    if where.path is not None:
        return load_file(
            where.path,
            width_multiplier=width_multiplier,
            resolution=resolution,
            convention=conv,
            dtype=dtype,
            options=options,
        )
    from convcount.model.zoo import build_zoo

    assert where.shipped is not None
    size = None if resolution is None else parse_ints("resolution", resolution)
    return build_zoo(
        where.shipped,
        width_multiplier=None if width_multiplier is None else str(width_multiplier),
        resolution=size,
        options=options,
        convention=conv,
        dtype=dtype or "float32",
    )
