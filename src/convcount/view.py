"""Which rows a model summary shows: filters, a layer range, and the roll-up by depth.

A view never changes the figures of the network: the totals, memory and
receptive field under a table, and the totals of the JSON and CSV records,
are always the whole network's; only the rows change.

* ``only``: layers of the given kinds (``conv,dense``).
* ``match``: layers whose name matches one of the glob patterns
  (``layer2.*``, ``*_bn``; ``*`` crosses dots).
* ``range``: layers from FROM to TO, both included, each given by its
  number (from 1) or its name, like Keras's ``summary(layer_range=...)``;
  either end may be left out (``:20``, ``block5a_expand_conv:``).
* ``depth``: the layers left are rolled up to the ``depth``-th level of the
  network's hierarchy (:func:`hierarchy`): each group of consecutive layers
  under one name at that level is one row with the sum of their parameters,
  buffers and MACs and the output of its last layer; a layer whose own name
  is not that deep stays a row of its own. Depth 0 is the whole network in
  one row.

The hierarchy comes from the layer names. A name with dots is a path
(torchvision's module paths, ``layer2.0.downsample.0``; a model file's
``USE.REPEAT.NAME``): its prefixes are its levels. Names without dots are
Keras's, whose levels are read by :data:`KERAS_LEVELS` (stages and blocks:
``conv2_block1_1_conv`` is in ``conv2`` and ``conv2_block1``;
``block2b_expand_conv`` in ``block2`` and ``block2b``; ``block_1_expand`` in
``block_1``; ``expanded_conv_3_...``, ``stage_1_block_0_...``,
``mixed5``, NASNet's cells by their ``_0`` / ``_reduce_4`` / ``_stem_1``
suffix). A layer Keras named automatically (``conv2d_12``,
``batch_normalization_3``) belongs to the block of the next named layer, as
Keras's constructors name a block's last layer; those before the first fork
of the network (InceptionV3's stem) are the group ``stem``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from functools import cache
from typing import Any, NamedTuple

from convcount.errors import ConvcountError
from convcount.model.graph import macs_at


class Selection(NamedTuple):
    """What a user asked to see of a model (all empty: every layer)."""

    depth: int | None = None
    only: tuple[str, ...] = ()
    match: tuple[str, ...] = ()
    range: tuple[str, str] | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.only or self.match or self.range)

    def record(self) -> dict[str, Any]:
        """The ``view`` object of the JSON record."""
        return {
            "depth": self.depth,
            "only": list(self.only),
            "match": list(self.match),
            "range": None if self.range is None else list(self.range),
        }


class Row(NamedTuple):
    """One row of a view: a layer, or a group of consecutive layers rolled up."""

    number: int
    """The first layer's position, from 1."""
    last: int
    """The last layer's position (``number`` for a single layer)."""
    name: str
    kind: str
    """The layer's kind, or ``group``."""
    inputs: tuple[str, ...]
    output: Any
    trainable: int
    non_trainable: int
    macs: int | None
    """None: unknown (a layer convcount cannot count, or a group holding one)."""
    buffers: int
    config: dict[str, Any] | None
    layers: int
    """Layers in the row (1 for a layer)."""
    params_known: bool = True
    """False: the parameters of the layer (or of a layer of the group) are unknown."""
    macs_once: int = 0
    """Of ``macs``, those computed once per forward whatever the batch."""
    op: str = ""
    """What the layer is in its model file (a Keras class, an ONNX op); empty otherwise."""

    def macs_at(self, batch_size: int) -> int | None:
        """MACs for ``batch_size`` examples; None when unknown."""
        return macs_at(self.macs, self.macs_once, batch_size)

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable

    @property
    def group(self) -> bool:
        return self.kind == "group"


def rows(report: Any, selection: Selection) -> list[Row]:
    """The rows ``selection`` shows of ``report``."""
    layers = list(report.layers)
    keep = _kept(layers, selection)
    if selection.depth is None:
        return [_single(layers[i], i) for i in keep]
    levels = hierarchy([layer.name for layer in layers], [layer.inputs for layer in layers])
    depth = selection.depth
    out: list[Row] = []
    run: list[int] = []
    key = ""

    def close() -> None:
        if run:
            out.append(_rolled(layers, run, key or str(report.name)))
            run.clear()

    for i in keep:
        path = levels[i]
        here = "" if depth == 0 else path[depth - 1] if len(path) >= depth else None
        if here is None:
            close()
            out.append(_single(layers[i], i))
            continue
        if run and here != key:
            close()
        key = here
        run.append(i)
    close()
    return out


def _single(layer: Any, index: int) -> Row:
    return Row(
        index + 1,
        index + 1,
        layer.name,
        layer.kind,
        tuple(layer.inputs),
        layer.output,
        layer.trainable,
        layer.non_trainable,
        layer.macs,
        int(getattr(layer, "buffers", 0) or 0),
        getattr(layer, "config", None),
        1,
        bool(getattr(layer, "params_known", True)),
        int(getattr(layer, "macs_once", 0) or 0),
        str(getattr(layer, "op", "") or ""),
    )


def _rolled(layers: Sequence[Any], run: Sequence[int], key: str) -> Row:
    if len(run) == 1 and layers[run[0]].name == key:
        return _single(layers[run[0]], run[0])
    members = [layers[i] for i in run]
    return Row(
        run[0] + 1,
        run[-1] + 1,
        key,
        "group",
        (),
        members[-1].output,
        sum(m.trainable for m in members),
        sum(m.non_trainable for m in members),
        None if any(m.macs is None for m in members) else sum(m.macs for m in members),
        sum(int(getattr(m, "buffers", 0) or 0) for m in members),
        None,
        len(members),
        all(getattr(m, "params_known", True) for m in members),
        sum(int(getattr(m, "macs_once", 0) or 0) for m in members),
    )


# ---------------------------------------------------------------------------
# Filters


def _kept(layers: Sequence[Any], selection: Selection) -> list[int]:
    start, stop = 0, len(layers)
    if selection.range is not None:
        start, stop = _range(layers, selection.range)
    only = set(selection.only)
    return [
        i
        for i in range(start, stop)
        if (not only or layers[i].kind in only)
        and (
            not selection.match
            or any(fnmatchcase(layers[i].name, pattern) for pattern in selection.match)
        )
    ]


def _range(layers: Sequence[Any], given: tuple[str, str]) -> tuple[int, int]:
    names = {layer.name: i for i, layer in enumerate(layers)}

    def position(text: str, default: int) -> int:
        text = text.strip()
        if not text:
            return default
        if text in names:
            return names[text]
        if text.isascii() and text.isdigit():
            number = int(text)
            if 1 <= number <= len(layers):
                return number - 1
            raise ConvcountError(
                "range", f"--range: layer {number} is not in the network (1 to {len(layers)})"
            )
        from convcount.errors import did_you_mean

        raise ConvcountError(
            "range",
            f"--range: no layer is named {text!r}"
            + did_you_mean(text, tuple(names), as_field=False),
        )

    first = position(given[0], 0)
    last = position(given[1], len(layers) - 1)
    if first > last:
        raise ConvcountError(
            "range", f"--range: {given[0]} comes after {given[1]} (give FROM:TO in network order)"
        )
    return first, last + 1


def check_kinds(option: str, wanted: Sequence[str], kinds: Sequence[str]) -> None:
    """Refuse a kind ``--only`` or ``--kinds`` names that the registry does not have."""
    for kind in wanted:
        if kind not in kinds:
            from convcount.errors import did_you_mean

            raise ConvcountError(
                option,
                f"--{option}: no layer kind {kind!r}"
                + did_you_mean(kind, tuple(kinds), as_field=False)
                + "; convcount model --kinds lists them",
            )


def parse_selection(
    depth: str | None,
    only: Sequence[str],
    match: Sequence[str],
    range_: str | None,
    kinds: Sequence[str],
) -> Selection:
    """The selection the options ask for; ``kinds`` are the known layer kinds."""
    level = None
    if depth is not None:
        text = depth.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 3:
            raise ConvcountError("depth", f"--depth must be a whole number from 0, got {depth!r}")
        level = int(text)
    wanted = tuple(k.strip() for item in only for k in item.split(",") if k.strip())
    check_kinds("only", wanted, kinds)
    patterns = tuple(p.strip() for item in match for p in item.split(",") if p.strip())
    span = None
    if range_ is not None:
        first, colon, last = range_.partition(":")
        if not colon:
            raise ConvcountError(
                "range", f"--range takes FROM:TO (numbers or layer names), got {range_!r}"
            )
        span = (first, last)
    return Selection(level, wanted, patterns, span)


# ---------------------------------------------------------------------------
# The hierarchy


def _groups(*parts: str) -> Callable[[re.Match[str]], tuple[str, ...]]:
    """Levels made of the match's groups: ``("{1}", "{1}_{2}")``."""
    return lambda m: tuple(part.format(*m.groups()) for part in parts)


#: Keras names -> their levels, first match wins (the module docstring lists them);
#: compiled on first use, so that a summary without --depth pays nothing for them.
KERAS_LEVELS: tuple[tuple[str, Callable[[re.Match[str]], tuple[str, ...]]], ...] = (
    # ConvNeXt: convnext_tiny_stage_0_block_0_depthwise_conv
    (r"^(.*?stage_\d+)_(block_\d+)_", _groups("{0}", "{0}_{1}")),
    (r"^(.*?downsampling)_.*_(\d+)$", _groups("{0}_{1}")),
    # NASNet's cells: normal_conv_1_0, adjust_relu_1_stem_2, reduction_add_1_reduce_4
    (
        r"^(?:adjust|normal|reduction|separable)_.*?_((?:stem|reduce)_\d+|\d+)$",
        lambda m: (m.group(1) if not m.group(1).isdigit() else f"cell_{m.group(1)}",),
    ),
    # ResNet, DenseNet: conv2_block1_1_conv
    (r"^(conv\d+)_(block\d+)_", _groups("{0}", "{0}_{1}")),
    # EfficientNet (V1, V2): block2b_expand_conv
    (r"^(block\d+)([a-z])_", _groups("{0}", "{0}{1}")),
    # Inception-ResNet: block35_1_conv, block8_10
    (r"^(block\d+)_(\d+)(?:_|$)", _groups("{0}", "{0}_{1}")),
    # MobileNetV2 (block_1_expand), VGG and Xception (block1_conv1)
    (r"^(block_?\d+)_", _groups("{0}")),
    # MobileNetV2/V3: expanded_conv_depthwise, expanded_conv_3_squeeze_excite_mul
    (r"^(expanded_conv(?:_\d+)?)_", _groups("{0}")),
    # MobileNet: conv_dw_1, conv_pw_1_bn, conv_pad_2
    (r"^conv_(?:dw|pw|pad)_(\d+)", _groups("conv_*_{0}")),
    # Inception: mixed0, mixed_5b (mixed9_0 and mixed9_1 sit inside mixed9 and mixed10)
    (r"^(mixed_?\d+[a-z]?)$", _groups("{0}")),
    # EfficientNet's stem and top, ConvNeXt's stem and head
    (r"^((?:.*_)?(?:prestem|stem|head|top))_", _groups("{0}")),
    # ResNet's conv1_conv and pool1_pool, DenseNet's pool2_conv, conv_7b_bn
    (r"^((?:conv|pool)\d+|conv_\d+[a-z])(?:_|$)", _groups("{0}")),
    # MobileNetV2/V3's first and last convolutions: Conv1, bn_Conv1, conv_bn, Conv_1_bn
    (r"^(?:bn_)?([Cc]onv(?:_?\d+)?)(?:_(?:bn|BN|act|relu))?$", _groups("{0}")),
)


@cache
def _compiled() -> tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, ...]]], ...]:
    return tuple((re.compile(pattern), levels) for pattern, levels in KERAS_LEVELS)


def hierarchy(names: Sequence[str], inputs: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    """Each layer's levels, outermost first (empty: a layer on its own at every depth)."""
    if any("." in name for name in names):
        out = []
        for name in names:
            parts = name.split(".")
            out.append(tuple(".".join(parts[: i + 1]) for i in range(len(parts) - 1)))
        return out
    levels: list[tuple[str, ...] | None] = [_keras_levels(name) for name in names]
    named = [i for i, path in enumerate(levels) if path]
    if named:
        first = named[0]
        users: dict[str, int] = {}
        for row in inputs[:first]:
            for source in row:
                users[source] = users.get(source, 0) + 1
        for row in inputs[first:]:
            for source in row:
                users[source] = users.get(source, 0) + 1
        forks = [i for i in range(first) if users.get(names[i], 0) > 1]
        if forks:
            for i in range(forks[-1] + 1):
                levels[i] = ("stem",)
    following: tuple[str, ...] = ()
    for i in range(len(levels) - 1, -1, -1):
        path = levels[i]
        if path is None:
            levels[i] = following
        else:
            following = path
    return [path or () for path in levels]


def _keras_levels(name: str) -> tuple[str, ...] | None:
    for pattern, levels in _compiled():
        found = pattern.match(name)
        if found:
            return levels(found)
    return None
