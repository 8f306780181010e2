"""Counted layers of a model file, turned into the report every other model gives.

The ONNX, torch.export and weight-file readers find each layer's name, op,
output shape, parameters and MACs themselves (a file records more than the
registry's kinds describe: any rank, any op); this module makes the common
:class:`convcount.model.graph.ModelReport` from them, so that the summary,
JSON and CSV need no format-specific code. A layer whose MACs convcount cannot
count has ``macs=None``: the totals then say "at least" and list it.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any, NamedTuple

from convcount.errors import ConvcountError
from convcount.model.graph import ModelLayer, ModelReport, Tensor


class Row(NamedTuple):
    """One layer as a reader found it."""

    name: str
    kind: str
    """A registry kind where one fits (conv, dense, batchnorm, ...), else the op's name."""
    inputs: tuple[str, ...]
    shape: tuple[int, ...] | None
    """Output shape without the batch, channels first; None when unknown."""
    trainable: int = 0
    buffers: int = 0
    macs: int | None = 0
    """None: an op convcount does not count."""
    non_trainable: int = 0
    op: str = ""
    """What the layer is in the file (an ONNX op, an aten op), for the uncounted list."""
    config: dict[str, Any] | None = None
    """What the file says of the layer beyond its figures (a weight tensor's shape)."""
    origin: dict[str, Any] | None = None
    """The PyTorch module and function that ran it, when the file records them."""


class Names:
    """The layer names a reader has given: a taken name gets ``_1``, ``_2``, ... (as
    torch.export names repeated ops), in time linear in the names whatever they repeat."""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self._next: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.taken)

    def add(self, name: str) -> None:
        """Take ``name`` as it is (the input's)."""
        self.taken.add(name)

    def claim(self, name: str) -> str:
        """``name``, or the first of ``name_1``, ``name_2``, ... not taken."""
        if name in self.taken:
            number = self._next.get(name, 1)
            while f"{name}_{number}" in self.taken:
                number += 1
            self._next[name] = number + 1
            name = f"{name}_{number}"
        self.taken.add(name)
        return name


def tensor(shape: Sequence[int] | None) -> Tensor:
    """A channels-first shape without the batch as the report's Tensor."""
    if shape is None or not shape:
        return Tensor((), 1 if shape is not None else 0, (), ())
    spatial = tuple(shape[1:])
    ones = (1,) * len(spatial)
    return Tensor(spatial, shape[0], ones, ones)


def check_options(label: str, options: dict[str, Any]) -> None:
    """Refuse the options a model file cannot take (it fixes its own widths and layout)."""
    if options.get("width_multiplier") is not None:
        raise ConvcountError(
            "width_multiplier", f"{label}: --width-multiplier applies to shipped models only"
        )
    if options.get("options"):
        raise ConvcountError("option", f"{label}: -O applies to shipped models only")
    if options.get("convention") == "keras":
        raise ConvcountError(
            "convention",
            f"{label}: a PyTorch or ONNX file is channels first; --convention keras does not apply",
        )


def build_report(
    label: str,
    name: str,
    input_shape: Sequence[int],
    rows: Sequence[Row],
    dtype: str | None,
    notes: Sequence[str] = (),
) -> ModelReport:
    """The report of a model file's rows (notes are kept for the summary)."""
    layers = tuple(
        ModelLayer(
            number=number,
            name=row.name,
            kind=row.kind,
            inputs=row.inputs,
            output=tensor(row.shape),
            trainable=row.trainable,
            non_trainable=row.non_trainable,
            macs=row.macs,
            buffers=row.buffers,
            config=row.config,
            op=row.op,
            origin=row.origin,
        )
        for number, row in enumerate(rows, 1)
    )
    return ModelReport(
        name=name,
        source=label,
        convention="torch",
        dtype=dtype or "float32",
        width_multiplier=1.0,
        input=tensor(input_shape),
        layers=layers,
        receptive_field=None,
        notes=tuple(notes),
    )


def elements(shape: Sequence[int]) -> int:
    """Values in a tensor of ``shape``."""
    return prod(shape)
