"""Keras models from their files: ``.keras``, ``model.to_json()`` and legacy ``.h5``.

All three hold the same architecture as JSON: a ``.keras`` zip in its
``config.json`` member, ``to_json()`` as the whole file, a legacy ``.h5`` in
the root group's ``model_config`` attribute (read by :mod:`.hdf5`, without
h5py). Each layer's class and config become one layer of a registered kind
(:mod:`convcount.model.kinds`) through the same :class:`~convcount.model.Net`
builder as the zoo, under the layer's own name, so the figures are computed
by the same code: parameters as ``count_params()`` and the trainable and
non-trainable weights count them, MACs as ``FlopCounterMode`` counts a
forward pass.

* Functional models are walked node by node (``inbound_nodes``, Keras 3's
  ``args`` with ``keras_history`` or Keras 2's lists); Sequential models in
  order. A nested model's layers stand on their own under their own names.
* A layer or model called again shares its weights: its parameters are
  counted at its first call, its MACs at every call (rows ``name@2``, ...).
* ``trainable: false`` makes a layer's (or a nested model's) weights
  non-trainable, as Keras counts them.
* A class convcount does not know is an ``opaque`` layer: its output shape
  from what the file records, its parameters from its weights' shapes where
  the file has them (a ``.keras`` file's stored ``model.weights.h5``, a legacy
  ``.h5``'s ``model_weights``), its MACs unknown.
* Input dimensions the file leaves open (``None``) are filled from
  ``-r/--resolution``; without it, the message says which option to give.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from convcount.errors import ConvcountError
from convcount.model.graph import MAX_DIMS, ModelReport, Net, Tensor

if TYPE_CHECKING:
    from convcount.model.files.hdf5 import HDF5

#: Most bytes of a Keras configuration: a to_json() file, config.json in a .keras
#: archive, or the model_config attribute of a .h5 (NASNetLarge's is ~7 MB).
MAX_CONFIG_BYTES = 64 * 1024 * 1024

#: Deepest nesting of models within models.
MAX_NESTING = 100

#: Most calls of layers (nodes) in one model.
MAX_NODES = 1_000_000

_ACTIVATIONS = {
    "relu": "relu",
    "relu6": "relu6",
    "leaky_relu": "leaky_relu",
    "elu": "elu",
    "selu": "selu",
    "gelu": "gelu",
    "swish": "swish",
    "silu": "silu",
    "sigmoid": "sigmoid",
    "hard_sigmoid": "hard_sigmoid",
    "hard_swish": "hard_swish",
    "hard_silu": "hard_swish",
    "tanh": "tanh",
    "softmax": "softmax",
    "mish": "mish",
    "linear": "linear",
}


def read(
    path: Path,
    head: bytes,
    *,
    label: str,
    width_multiplier: object = None,
    resolution: object = None,
    convention: object = None,
    dtype: str | None = None,
    options: dict[str, Any] | None = None,
) -> ModelReport:
    """Count a Keras model file (``.keras``, ``to_json()`` JSON or legacy ``.h5``)."""
    if width_multiplier is not None:
        raise ConvcountError(
            "width_multiplier", f"{label}: -a/--width-multiplier applies to shipped models only"
        )
    if options:
        raise ConvcountError("option", f"{label}: -O/--option applies to shipped models only")
    if convention not in (None, "keras"):
        raise ConvcountError(
            "convention", f"{label}: a Keras file counts as Keras does (--convention keras)"
        )
    source = _Source(path, head, label)
    try:
        config = source.config()
        return _Reader(label, source, resolution, dtype).model(config)
    finally:
        source.close()


# ---------------------------------------------------------------------------
# The configuration and the weights' shapes, from each kind of file


class _Source:
    """A Keras file: its configuration, and its weights' shapes when it holds them."""

    def __init__(self, path: Path, head: bytes, label: str) -> None:
        self.path = path
        self.head = head
        self.label = label
        self.archive: Any = None
        self.handle: Any = None
        self.hdf5: HDF5 | None = None
        self.weights_root: int | None = None
        self.legacy = False

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()
        if self.handle is not None:
            self.handle.close()

    def config(self) -> dict[str, Any]:
        if self.head.startswith(b"PK"):
            from convcount.model.files.archive import Archive

            self.archive = Archive(self.path, self.label)
            if "config.json" not in self.archive.infos:
                raise ConvcountError(
                    "model",
                    f"{self.label}: a zip archive without config.json "
                    "(not a .keras, torch.export or torch.save file)",
                )
            text = self.archive.read("config.json", MAX_CONFIG_BYTES)
            where = "config.json"
        elif self.head.startswith(b"\x89HDF"):
            self.legacy = True
            text, where = self._h5_config(), "model_config"
        elif self.path.suffix.lower() in (".keras", ".h5", ".hdf5"):
            what = "zip archive" if self.path.suffix.lower() == ".keras" else "HDF5 file"
            raise ConvcountError(
                "model", f"{self.label}: not a Keras {self.path.suffix} file (no {what})"
            )
        else:
            text, where = self._json_file(), "the file"
        return _parse(text, self.label, where)

    def _json_file(self) -> bytes:
        try:
            size = self.path.stat().st_size
            if size > MAX_CONFIG_BYTES:
                raise ConvcountError(
                    "model",
                    f"{self.label}: {size:,} bytes, more than the {MAX_CONFIG_BYTES:,} "
                    "a Keras JSON configuration may have",
                )
            return self.path.read_bytes()
        except OSError as error:
            raise ConvcountError(
                "model", f"{self.label}: cannot be read ({error.strerror})"
            ) from None

    def _h5_config(self) -> bytes:
        from convcount.model.files.hdf5 import open_hdf5

        try:
            self.handle = self.path.open("rb")
            size = self.path.stat().st_size
        except OSError as error:
            raise ConvcountError(
                "model", f"{self.label}: cannot be read ({error.strerror})"
            ) from None
        self.hdf5 = open_hdf5(self.handle, size, self.label)
        attributes = self.hdf5.attributes(self.hdf5.root)
        text = attributes.get("model_config")
        if text is None:
            if self.hdf5.dense and "model_config" not in attributes:
                raise ConvcountError(
                    "model",
                    f"{self.label}: its attributes are stored densely (an HDF5 file written "
                    "with libver='latest'), which convcount does not read",
                )
            if "model_config" in attributes:
                raise ConvcountError(
                    "model", f"{self.label}: model_config is not a string attribute"
                )
            raise ConvcountError(
                "model",
                f"{self.label}: an HDF5 file without a model_config attribute: weights "
                "only (save_weights), no architecture to count",
            )
        members = self.hdf5.members(self.hdf5.root)
        self.weights_root = members.get("model_weights")
        return text.encode("utf-8")

    def _open_weights(self) -> None:
        """A .keras archive's model.weights.h5, when stored uncompressed (as Keras writes it)."""
        from convcount.model.files.hdf5 import open_hdf5

        info = self.archive.infos.get("model.weights.h5")
        if info is None or info.compress_type != 0:
            return
        try:
            handle = self.path.open("rb")
        except OSError:
            return
        self.handle = handle
        handle.seek(info.header_offset)
        local = handle.read(30)
        if len(local) != 30 or not local.startswith(b"PK\x03\x04"):
            raise ConvcountError("model", f"{self.label}: model.weights.h5 has a broken header")
        start = (
            info.header_offset
            + 30
            + int.from_bytes(local[26:28], "little")
            + int.from_bytes(local[28:30], "little")
        )
        window = _Window(handle, start, info.file_size)
        self.hdf5 = open_hdf5(window, info.file_size, f"{self.label}: model.weights.h5")
        self.weights_root = self.hdf5.members(self.hdf5.root).get("layers")

    def weight_counts(self, path: Sequence[str]) -> int | None:
        """Values in the weights stored for a layer at ``path``, or None without weights."""
        if self.archive is not None and self.hdf5 is None:
            self._open_weights()
        if self.hdf5 is None or self.weights_root is None:
            return None
        group = self.weights_root
        for part in path:
            found = self.hdf5.members(group).get(part)
            if found is None:
                return None
            group = found
        total = 0
        stack = [group]
        seen = 0
        while stack:
            seen += 1
            if seen > 100_000:
                raise ConvcountError("model", f"{self.label}: too many weights under one layer")
            address = stack.pop()
            shape = self.hdf5.shape(address)
            if shape is None:
                stack.extend(self.hdf5.members(address).values())
            else:
                total += math.prod(shape)
        return total


class _Window:
    """A file seen from ``start`` for ``size`` bytes (a stored zip member)."""

    def __init__(self, handle: Any, start: int, size: int) -> None:
        self.handle, self.start, self.size = handle, start, size

    def seek(self, offset: int) -> None:
        self.handle.seek(self.start + offset)

    def read(self, length: int) -> bytes:
        data: bytes = self.handle.read(length)
        return data


def _parse(text: bytes, label: str, where: str) -> dict[str, Any]:
    """The JSON configuration, or one message saying what is wrong with it."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ConvcountError("model", f"{label}: {where} is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ConvcountError("model", f"{label}: {where} is not valid JSON ({error})") from None
    if not isinstance(value, dict) or "class_name" not in value:
        raise ConvcountError(
            "model", f"{label}: {where} is no Keras model configuration (no class_name)"
        )
    return value


# ---------------------------------------------------------------------------
# The walk


class _Layer:
    """One layer of a configuration, as the walk needs it."""

    __slots__ = ("calls", "cls", "config", "name", "path", "raw")

    def __init__(self, raw: dict[str, Any], path: tuple[str, ...], label: str) -> None:
        self.raw = raw
        cls = raw.get("class_name")
        config = raw.get("config")
        if cls == "Sequential" and isinstance(config, list):  # Keras 2.0 to 2.2: the layers
            config = {"name": raw.get("name", "sequential"), "layers": config}
        if not isinstance(cls, str) or not isinstance(config, dict):
            raise ConvcountError(
                "model", f"{label}: a layer without class_name and config: {_show(raw)}"
            )
        self.cls = cls
        self.config: dict[str, Any] = config
        name = raw.get("name", config.get("name"))
        if not isinstance(name, str) or not name:
            raise ConvcountError("model", f"{label}: a {cls} layer without a name")
        self.name = name
        self.calls = 0
        self.path = path
        """Where the layer's weights are stored (.keras: layers/<snake_case class>...)."""


class _Reader:
    def __init__(self, label: str, source: _Source, resolution: object, dtype: str | None) -> None:
        self.label = label
        self.source = source
        self.resolution = resolution
        self.dtype = dtype
        self.net: Net | None = None
        self.nodes = 0
        self.inputs = 0
        self.filled = False
        self.shapeless = False
        """The layer just mapped has an output shape nobody can tell."""
        self.masked: set[str] = set()
        """Tensors that carry a Keras mask (after Masking or Embedding(mask_zero=True))."""
        self.fused: list[str] = []
        """Attention layers whose products run fused, unseen by FlopCounterMode."""

    # -- the model --------------------------------------------------------------

    def model(self, config: dict[str, Any]) -> ModelReport:
        root = _Layer({**config, "name": _name_of(config)}, (), self.label)
        if root.cls not in _MODELS:
            raise ConvcountError(
                "model",
                f"{self.label}: a {root.cls} configuration, not a Functional or Sequential "
                "model (a subclassed model's layers are in its code, not in the file)",
            )
        self.model_name = root.name
        self._nested(root, None, frozen=False, depth=0)
        if self.net is None or not self.net.layers:
            raise ConvcountError("model", f"{self.label}: the model has no layers to count")
        if self.resolution is not None and not self.filled:
            raise ConvcountError(
                "resolution",
                f"--resolution: {self.label} fixes the size of its input; -r fills only "
                "the sizes it leaves open (None)",
            )
        report = self.net.report()
        if self.fused:
            names = ", ".join(self.fused[:3]) + (", ..." if len(self.fused) > 3 else "")
            report = report._replace(
                notes=(
                    *report.notes,
                    f"The attention products of {len(self.fused)} MultiHeadAttention "
                    f"layer{'s' if len(self.fused) > 1 else ''} ({names}) run in torch's fused "
                    "CPU kernel, which FlopCounterMode does not count: like it, their MACs "
                    "hold the four projections only",
                ),
            )
        return report

    def _nested(
        self, model: _Layer, inputs: list[str] | None, *, frozen: bool, depth: int
    ) -> list[str]:
        """Add a model's layers, fed by ``inputs`` (None: the top model); its outputs."""
        if depth > MAX_NESTING:
            raise ConvcountError(
                "model", f"{self.label}: models nested more than {MAX_NESTING} deep"
            )
        shared = model.calls > 0
        model.calls += 1
        frozen = frozen or model.config.get("trainable") is False
        layers = model.config.get("layers")
        if not isinstance(layers, list):
            raise ConvcountError("model", f"{self.label}: model {model.name!r} lists no layers")
        if model.cls == "Sequential" or "input_layers" not in model.config:
            return self._sequential(model, layers, inputs, shared, frozen, depth)
        return self._functional(model, layers, inputs, shared, frozen, depth)

    def _children(self, model: _Layer, layers: list[Any]) -> list[_Layer]:
        """The layers of a model, each with where its weights are stored."""
        counts: dict[str, int] = {}
        out = []
        for raw in layers:
            if not isinstance(raw, dict):
                raise ConvcountError("model", f"{self.label}: a layer that is {_show(raw)}")
            cls = raw.get("class_name")
            key = _snake(cls.rpartition(">")[2] if isinstance(cls, str) else "layer")
            number = counts.get(key, 0)
            counts[key] = number + 1
            stored = key if number == 0 else f"{key}_{number}"
            if self.source.legacy:
                config = raw.get("config")
                name = raw.get("name", config.get("name") if isinstance(config, dict) else None)
                path = (*model.path, str(name))
            else:
                path = (*model.path, "layers", stored) if model.path else (stored,)
            out.append(_Layer(raw, path, self.label))
        return out

    def _sequential(
        self,
        model: _Layer,
        raw: list[Any],
        inputs: list[str] | None,
        shared: bool,
        frozen: bool,
        depth: int,
    ) -> list[str]:
        layers = self._children(model, raw)
        if inputs is None:
            shape = None
            for candidate in (
                *(
                    layer.config.get("batch_shape") or layer.config.get("batch_input_shape")
                    for layer in layers[:1]
                ),
                model.config.get("build_input_shape"),
                _get(model.raw.get("build_config"), "input_shape"),
            ):
                if candidate is not None:
                    shape = candidate
                    break
            if shape is None:
                raise ConvcountError(
                    "model",
                    f"{self.label}: the Sequential model {model.name!r} does not say its "
                    "input shape (it was never built)",
                )
            inputs = [self._input(shape, layers[0] if layers else model)]
        x = inputs
        for i, layer in enumerate(layers):
            if layer.cls == "InputLayer":
                continue
            after = layers[i + 1].raw.get("build_config") if i + 1 < len(layers) else None
            shape = _get(after, "input_shape")
            last = i + 1 == len(layers)
            x = self._call(layer, x, {}, shared, frozen, depth, shape, not last)[:1]
        return x

    def _functional(
        self,
        model: _Layer,
        raw: list[Any],
        inputs: list[str] | None,
        shared: bool,
        frozen: bool,
        depth: int,
    ) -> list[str]:
        layers = self._children(model, raw)
        by_name = {layer.name: layer for layer in layers}
        tensors: dict[tuple[str, int, int], str] = {}
        wanted = _triples(model.config.get("input_layers"), self.label)
        if inputs is not None:
            if len(inputs) < len(wanted):
                raise ConvcountError(
                    "model",
                    f"{self.label}: model {model.name!r} takes {len(wanted)} inputs, "
                    f"is given {len(inputs)}",
                )
            for triple, given in zip(wanted, inputs, strict=False):
                tensors[triple] = given
        else:
            for triple in wanted:
                layer = by_name.get(triple[0])
                if layer is None or layer.cls != "InputLayer":
                    raise ConvcountError(
                        "model", f"{self.label}: the model's input {triple[0]!r} is no InputLayer"
                    )
                shape = layer.config.get("batch_shape") or layer.config.get("batch_input_shape")
                tensors[triple] = self._input(shape, layer)
        pending: list[tuple[_Layer, int, Any]] = []
        for layer in layers:
            nodes = layer.raw.get("inbound_nodes") or []
            if not isinstance(nodes, list):
                raise ConvcountError(
                    "model", f"{self.label}: layer {layer.name!r}: inbound_nodes is not a list"
                )
            for index, node in enumerate(nodes):
                self.nodes += 1
                if self.nodes > MAX_NODES:
                    raise ConvcountError(
                        "model", f"{self.label}: more than {MAX_NODES:,} layer calls"
                    )
                pending.append((layer, index, node))
        recorded = _recorded([node for _, _, node in pending])
        calls = [
            (layer, index, *_node_inputs(node, self.label, layer.name))
            for layer, index, node in pending
        ]
        consumed = {t for *_, args, kwargs in calls for t in (*args, *kwargs.values())}
        # Each call once its inputs are made (in the file's order among those ready):
        # linear in the calls, whatever order the file lists them in.
        need: list[int] = []
        waiting: dict[tuple[str, int, int], list[int]] = {}
        ready: list[int] = []
        for number, (_, _, args, kwargs) in enumerate(calls):
            missing = {t for t in (*args, *kwargs.values()) if t not in tensors}
            need.append(len(missing))
            for t in missing:
                waiting.setdefault(t, []).append(number)
            if not missing:
                ready.append(number)
        heapq.heapify(ready)
        while ready:
            number = heapq.heappop(ready)
            layer, index, args, kwargs = calls[number]
            outputs = self._call(
                layer,
                [tensors[t] for t in args],
                {k: tensors[t] for k, t in kwargs.items()},
                shared,
                frozen,
                depth,
                recorded.get((layer.name, index, 0)),
                (layer.name, index, 0) in consumed,
            )
            for k, out in enumerate(outputs):
                made = (layer.name, index, k)
                tensors[made] = out
                for later in waiting.pop(made, ()):
                    need[later] -= 1
                    if not need[later]:
                        heapq.heappush(ready, later)
        for number, (layer, _, args, kwargs) in enumerate(calls):
            if need[number]:
                absent = next(t for t in (*args, *kwargs.values()) if t not in tensors)
                raise ConvcountError(
                    "model",
                    f"{self.label}: layer {layer.name!r} takes {absent[0]!r}, which is never "
                    "made (no such layer or call, or layers that take each other's outputs)",
                )
        outputs = []
        for triple in _triples(model.config.get("output_layers"), self.label):
            if triple not in tensors:
                raise ConvcountError(
                    "model", f"{self.label}: the model's output {triple[0]!r} is never made"
                )
            outputs.append(tensors[triple])
        return outputs

    # -- the input ----------------------------------------------------------------

    def _input(self, shape: object, layer: _Layer) -> str:
        """The model's input, from a batch shape: Net's ``input``, then ``input`` layers."""
        self.inputs += 1
        if not isinstance(shape, list) or not 2 <= len(shape) <= MAX_DIMS + 2:
            raise ConvcountError(
                "model",
                f"{self.label}: input {layer.name!r}: a batch shape of 1 to {MAX_DIMS + 1} "
                f"dimensions after the batch, got {_show(shape)}",
            )
        dims = shape[1:]
        channels = dims[-1]
        spatial = list(dims[:-1])
        if not _whole(channels):
            raise ConvcountError(
                "model",
                f"{self.label}: input {layer.name!r}: its channels are open ({_show(channels)}); "
                "convcount cannot fill them",
            )
        if any(s is not None and not _whole(s) for s in spatial):
            raise ConvcountError(
                "model", f"{self.label}: input {layer.name!r}: a size of {_show(spatial)}"
            )
        if None in spatial:
            if self.resolution is None:
                example = "x".join("224" for _ in spatial)
                raise ConvcountError(
                    "resolution",
                    f"{self.label}: input {layer.name!r} has an open size "
                    f"({_shape_text(dims)}): give it with -r/--resolution, e.g. -r {example}",
                )
            from convcount.layers import parse_ints

            given = parse_ints("resolution", self.resolution)
            if len(given) == 1:
                given = given * len(spatial)
            if len(given) != len(spatial):
                raise ConvcountError(
                    "resolution",
                    f"--resolution: {len(given)} sizes for input {layer.name!r} of "
                    f"{len(spatial)} spatial dimensions ({_shape_text(dims)})",
                )
            for i, (fixed, wanted) in enumerate(zip(spatial, given, strict=True)):
                if fixed is not None and fixed != wanted:
                    raise ConvcountError(
                        "resolution",
                        f"--resolution: {self.label} fixes input {layer.name!r} at "
                        f"{_shape_text(dims)}; -r fills only the sizes it leaves open (None)",
                    )
                spatial[i] = wanted
            self.filled = True
        if self.net is not None:  # a further input: a layer of the input kind
            name = self._name(layer.name)
            where = f"{self.label}: input {layer.name!r}"
            self.net.layer("input", "input", name=name, where=where, shape=[*spatial, channels])
            return name
        dtype = self.dtype or "float32"
        if spatial:
            self.net = Net(
                self.model_name, spatial, channels, source=self.label, dtype=dtype, strict=False
            )
        else:  # a flat input (an MLP): Net needs a spatial size, so a 1-long one stands in
            self.net = _FlatNet(
                self.model_name, (1,), channels, source=self.label, dtype=dtype, strict=False
            )
        return "input"

    # -- one layer call ----------------------------------------------------------

    def _call(
        self,
        layer: _Layer,
        inputs: list[str],
        kwargs: dict[str, str],
        shared: bool,
        frozen: bool,
        depth: int,
        recorded: object = None,
        used: bool = True,
    ) -> list[str]:
        """Add one call of a layer (or of a nested model); the names of its outputs.

        ``recorded``: its output shape as the file records it, if it does; ``used``:
        whether later layers take its output (else a model output)."""
        net = self.net
        if net is None:
            raise ConvcountError(
                "model", f"{self.label}: layer {layer.name!r} comes before any input"
            )
        if layer.cls in _MODELS:
            return self._nested(layer, [*inputs, *kwargs.values()], frozen=frozen, depth=depth + 1)
        if layer.cls == "InputLayer":
            raise ConvcountError(
                "model", f"{self.label}: the InputLayer {layer.name!r} is called on a tensor"
            )
        reused = shared or layer.calls > 0
        layer.calls += 1
        name = self._name(layer.name)
        where = f"{self.label}: layer {layer.name!r} ({layer.cls})"
        if layer.cls == "MultiHeadAttention":  # mha(query, value=..., key=...)
            inputs = [*inputs, *(kwargs[k] for k in ("query", "value", "key") if k in kwargs)]
        if not inputs:
            inputs = list(kwargs.values())
        if not inputs:
            raise ConvcountError("model", f"{where}: called on nothing")
        self.shapeless = False
        kind, fields = self._map(layer, inputs, recorded, used, where)
        net.layer(
            kind,
            inputs if kind in _JOINS else inputs[0],
            name=name,
            where=where,
            op=layer.cls.rpartition(">")[2],  # a registered class: package>Name
            **fields,
        )
        if self.shapeless:  # not its input's shape: unknown (no later layer reads it)
            unknown = Tensor((), 0, (), ())
            net.tensors[name] = unknown
            net.layers[-1] = net.layers[-1]._replace(output=unknown)
        if _makes_mask(layer.cls, layer.config) or (
            _keeps_mask(layer.cls, layer.config) and any(i in self.masked for i in inputs)
        ):
            self.masked.add(name)
        frozen = frozen or layer.config.get("trainable") is False
        net.weights(shared=reused, frozen=frozen)
        return [name]

    def _name(self, name: str) -> str:
        assert self.net is not None
        if name not in self.net.tensors:
            return name
        number = 2
        while f"{name}@{number}" in self.net.tensors:
            number += 1
        return f"{name}@{number}"

    # -- classes to kinds ----------------------------------------------------------

    def _map(
        self, layer: _Layer, inputs: list[str], recorded: object, used: bool, where: str
    ) -> tuple[str, dict[str, Any]]:
        assert self.net is not None
        cls = layer.cls
        c = layer.config
        x = self.net.shape(inputs[0])
        rank = len(x.spatial)
        module = layer.raw.get("module")
        if (
            module.startswith(("keras.src.ops", "keras.ops"))
            if isinstance(module, str)
            # A legacy .h5 drops the module: an op's config has no trainable (nor has
            # SpatialDropout's, a layer).
            else "trainable" not in c and (cls not in _MAPPERS or cls in _OPS)
        ):
            return self._op(cls, inputs, recorded, used, where)
        mapper = _MAPPERS.get(cls)
        data_format = c.get("data_format")
        if data_format not in (None, "channels_last"):
            raise ConvcountError(
                "model", f"{where}: data_format {_show(data_format)}: only channels_last is read"
            )
        try:
            if cls == "Permute":
                dims = c["dims"]
                full = [*x.spatial, x.channels]
                if sorted(dims) == list(range(1, len(full) + 1)):
                    return "reshape", {"shape": [full[d - 1] for d in dims]}
            elif cls in ("Resizing", "CenterCrop") and rank == 2:
                size = [_positive(c["height"]), _positive(c["width"])]
                cut = [n - w for n, w in zip(x.spatial, size, strict=True)]
                if cls == "CenterCrop" and min(cut) >= 0:  # a smaller input is resized
                    return "cropping", {"cropping": [[d // 2, d - d // 2] for d in cut]}
                if "resize" in _kinds():
                    method = c.get("interpolation", "bilinear")
                    return "resize", {
                        "size": size,
                        "interpolation": method if method in _RESIZE_METHODS else "bilinear",
                    }
                return "opaque", {"shape": [*size, x.channels], "macs": 0}
            elif cls == "RepeatVector" and rank == 0:
                return "opaque", {"shape": [_positive(c["n"]), x.channels], "macs": 0}
            elif cls == "TimeDistributed":
                inner = c["layer"]
                if inner["class_name"] in _PER_POSITION:  # the same at every position
                    result = _MAPPERS[inner["class_name"]](inner["config"], rank, x.channels, 1)
                    if result is not None:
                        return result
            elif cls.startswith("Random") or cls == "Masking":
                # Augmentations pass their input on at inference; Masking always does.
                # RandomCrop alone changes the shape: the recorded one says whether it does.
                same = isinstance(recorded, list) and recorded[1:] == [*x.spatial, x.channels]
                if cls != "RandomCrop" or same:
                    return "identity", {}
            elif mapper is not None:
                result = mapper(c, rank, x.channels, len(inputs))
                if result is not None:
                    return result
        except KeyError as key:
            raise ConvcountError("model", f"{where}: its config has no {key}") from None
        except (TypeError, ValueError, IndexError, AttributeError):
            raise ConvcountError(
                "model", f"{where}: its config is not one Keras writes: {_show(c)}"
            ) from None
        # A class convcount does not count: its shape from the file, its weights' sizes.
        fields: dict[str, Any] = {}
        formula = _PARAMS.get(cls)
        counted: int | tuple[int, int] | None = None
        try:
            shapes = [self.net.shape(name) for name in inputs]
            figures = _sequence_figures(cls, c, shapes, inputs[0] in self.masked)
            if figures is not None and figures.params is not None:
                counted = figures.params
            elif formula is not None:
                counted = formula(c, [*x.spatial, x.channels])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError):
            raise ConvcountError(
                "model", f"{where}: its config is not one Keras writes: {_show(c)}"
            ) from None
        if figures is not None:
            recorded, fields["macs"] = [None, *figures.shape], figures.macs
            if figures.fused:
                self.fused.append(layer.name)
        if isinstance(counted, tuple):
            fields["trainable"], fields["non_trainable"] = counted
        elif counted is not None:
            fields["trainable"] = counted
        elif cls in _NO_WEIGHTS or cls.startswith("Random"):  # Keras's, known to hold none
            if cls not in ("Lambda", "TFOpLambda", "SlicingOpLambda", "Dot"):
                fields["macs"] = 0  # moving or copying values, no matrix product
        else:
            params = self.source.weight_counts(layer.path)
            fields["params_known"] = params is not None
            if params is not None:
                fields["trainable"] = params  # the file does not say which are trainable
        if counted is not None and cls in _NO_MACS:
            fields["macs"] = 0
        if counted is not None and cls in _SAME_SHAPE:
            pass  # its output is shaped as its input
        elif isinstance(recorded, list) and len(recorded) >= 2:
            fields["shape"] = _fill(recorded, x.spatial, x.channels)
        elif used:
            raise ConvcountError(
                "model",
                f"{where}: convcount cannot tell its output shape, and the file does not "
                "record it (Keras 2 records none), which later layers need",
            )
        else:
            self.shapeless = True  # a model output of unknown shape: shown as unknown
        return "opaque", fields

    def _op(
        self, cls: str, inputs: list[str], recorded: object, used: bool, where: str
    ) -> tuple[str, dict[str, Any]]:
        """An operation of keras.ops applied to Keras tensors (``x * 2``, ``ops.reshape``):
        no weights; elementwise and reshaping ones counted, the others' MACs unknown."""
        assert self.net is not None
        shapes = [self.net.shape(name) for name in inputs]
        x = shapes[0]
        if cls in _ELEMENTWISE:
            if len(inputs) == 1:  # with a number: x + 3, x / 6
                return "rescaling", {}
            if all(t.spatial == x.spatial and t.channels == x.channels for t in shapes):
                return ("multiply" if cls in ("Multiply", "Divide", "TrueDivide") else "add"), {}
            return "multiply", {}  # broadcasting: the multiply kind's shape rule
        if cls in _UNARY:
            function = _snake(cls)
            return "activation", {"function": function if function in _ACTIVATIONS else "linear"}
        shape = None
        if isinstance(recorded, list) and len(recorded) >= 2:
            shape = _fill(recorded, x.spatial, x.channels)
        if cls in _RESHAPING and shape is not None and math.prod(shape) == x.elements:
            return "reshape", {"shape": shape}
        if cls in _REDUCTIONS and shape is not None:
            return "opaque", {"shape": shape, "macs": 0}
        if shape is None and used:
            raise ConvcountError(
                "model",
                f"{where}: an operation whose output shape convcount cannot tell, and the "
                "file does not record it, which later layers need",
            )
        return "opaque", {} if shape is None else {"shape": shape}


class _FlatNet(Net):
    """A Net whose input is flat (a vector of features): its 1-long spatial size is dropped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.input = self.input._replace(spatial=(), rf=(), jump=())
        self.tensors["input"] = self.input


# ---------------------------------------------------------------------------
# Nodes, tensors and shapes in the configuration


_MODELS = frozenset({"Functional", "Sequential", "Model"})
#: Keras classes convcount does not count that hold no weights (also Random*).
_NO_WEIGHTS = frozenset(
    {
        "Resizing",
        "CenterCrop",
        "RepeatVector",
        "Lambda",
        "TFOpLambda",
        "SlicingOpLambda",
        "Masking",
        "Dot",
        "Permute",
        "Concatenate",
        "Cropping1D",
        "Cropping2D",
        "Cropping3D",
    }
)
#: keras.ops operations: elementwise on two tensors or a tensor and a number ...
_ELEMENTWISE = frozenset(
    {
        "Add",
        "Subtract",
        "Multiply",
        "Divide",
        "TrueDivide",
        "Maximum",
        "Minimum",
        "Power",
        "Equal",
        "NotEqual",
        "Greater",
        "GreaterEqual",
        "Less",
        "LessEqual",
        "LogicalAnd",
        "LogicalOr",
    }
)
#: ... reducing (no matrix product: FlopCounterMode counts none) ...
_REDUCTIONS = frozenset(
    {"Any", "All", "Mean", "Sum", "Max", "Min", "Argmax", "Argmin", "Prod", "Std", "Var"}
)
#: ... elementwise on one tensor ...
_UNARY = frozenset(
    {
        "Relu",
        "Relu6",
        "Sigmoid",
        "Tanh",
        "Gelu",
        "Silu",
        "Swish",
        "HardSigmoid",
        "HardSilu",
        "Softmax",
        "Exp",
        "Log",
        "Sqrt",
        "Square",
        "Abs",
        "Negative",
        "Clip",
        "Cast",
    }
)
#: ... and moving values without computing (the recorded shape holds as many).
_RESHAPING = frozenset(
    {"Reshape", "Transpose", "Squeeze", "ExpandDims", "Swapaxes", "Moveaxis", "Ravel"}
)
_OPS = _ELEMENTWISE | _UNARY | _RESHAPING | _REDUCTIONS
#: Classes counted from their config that do no matrix product (FlopCounterMode: none).
_NO_MACS = frozenset({"LayerNormalization", "BatchNormalization", "PReLU"})
#: ... and whose output is shaped as their input.
_SAME_SHAPE = frozenset({"LayerNormalization", "BatchNormalization", "PReLU"})
#: Classes TimeDistributed may wrap that act alike at every position (on the channels).
_PER_POSITION = frozenset(
    {"Dense", "Activation", "Dropout", "ReLU", "LeakyReLU", "Softmax", "BatchNormalization"}
)
_RESIZE_METHODS = frozenset({"nearest", "bilinear", "bicubic", "area"})


def _kinds() -> dict[str, Any]:
    from convcount.model.kinds import KINDS

    return KINDS


_JOINS = frozenset({"add", "multiply", "concat", "opaque"})


def _name_of(config: dict[str, Any]) -> str:
    inner = config.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    return name if isinstance(name, str) and name else "model"


def _triples(value: object, label: str) -> list[tuple[str, int, int]]:
    """A model's input_layers/output_layers: one [name, node, index] or a list of them."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        value = [value]
    if not isinstance(value, list):
        raise ConvcountError("model", f"{label}: a model's inputs or outputs are {_show(value)}")
    out = []
    for item in value:
        if (
            not isinstance(item, list)
            or len(item) != 3
            or not isinstance(item[0], str)
            or not all(type(v) is int for v in item[1:])
        ):
            raise ConvcountError("model", f"{label}: a tensor reference {_show(item)}")
        out.append((item[0], item[1], item[2]))
    return out


def _node_inputs(
    node: Any, label: str, name: str
) -> tuple[list[tuple[str, int, int]], dict[str, tuple[str, int, int]]]:
    """The tensors one call of a layer takes: positional, then by keyword."""
    args: list[tuple[str, int, int]] = []
    kwargs: dict[str, tuple[str, int, int]] = {}
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        for tensor, _ in _tensors(node.get("args")):
            args.append(tensor)
        given = node.get("kwargs")
        if isinstance(given, dict):
            for key, value in given.items():
                found = list(_tensors(value))
                if len(found) == 1:
                    kwargs[str(key)] = found[0][0]
        return args, kwargs
    if isinstance(node, list):  # Keras 2: [[name, node, index, kwargs], ...]
        for item in node:
            if _triple(item):
                args.append((item[0], item[1], item[2]))
                # tensors given by keyword (MultiHeadAttention's value): triples too
                extra = item[3] if len(item) > 3 and isinstance(item[3], dict) else {}
                for key, value in extra.items():
                    if _triple(value):
                        kwargs[str(key)] = (value[0], value[1], value[2])
            else:
                raise ConvcountError(
                    "model", f"{label}: layer {name!r}: an inbound node entry {_show(item)}"
                )
        return args, kwargs
    raise ConvcountError("model", f"{label}: layer {name!r}: an inbound node {_show(node)}")


def _triple(item: object) -> bool:
    """A Keras 2 tensor reference: [layer name, node index, tensor index, ...]."""
    return (
        isinstance(item, list)
        and len(item) >= 3
        and isinstance(item[0], str)
        and type(item[1]) is int
        and type(item[2]) is int
    )


def _tensors(value: Any, depth: int = 0) -> Iterator[tuple[tuple[str, int, int], object]]:
    """Every Keras tensor reference in a node's arguments, in order, with its recorded shape."""
    if depth > 20:
        return
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            config = value.get("config")
            if not isinstance(config, dict):
                return
            history = config.get("keras_history")
            if (
                isinstance(history, list)
                and len(history) == 3
                and isinstance(history[0], str)
                and type(history[1]) is int
                and type(history[2]) is int
            ):
                yield (history[0], history[1], history[2]), config.get("shape")
        return
    if isinstance(value, list):
        for item in value:
            yield from _tensors(item, depth + 1)


def _recorded(nodes: Sequence[Any]) -> dict[tuple[str, int, int], list[Any]]:
    """The shapes Keras 3 records of the tensors that layers take, by tensor."""
    shapes: dict[tuple[str, int, int], list[Any]] = {}
    for node in nodes:
        if isinstance(node, dict):
            for part in (node.get("args"), node.get("kwargs")):
                values = part.values() if isinstance(part, dict) else [part]
                for value in values:
                    for tensor, shape in _tensors(value):
                        if isinstance(shape, list):
                            shapes[tensor] = shape
    return shapes


def _fill(shape: list[Any], spatial: tuple[int, ...], channels: int) -> list[int]:
    """A recorded shape (batch dropped) with open sizes filled from the input's, where aligned."""
    dims = list(shape[1:])
    known = [*spatial, channels]
    out = []
    for i, d in enumerate(dims):
        if _whole(d):
            out.append(d)
        elif len(dims) == len(known):
            out.append(known[i])
        else:
            raise ConvcountError("shape", "shape: an output size that is open")
    return out


def _get(value: object, key: str) -> object:
    """``value[key]`` of a dict, else None."""
    return value.get(key) if isinstance(value, dict) else None


def _whole(value: object) -> bool:
    return type(value) is int and value >= 1


def _show(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _shape_text(dims: Sequence[object]) -> str:
    return "x".join("None" if d is None else str(d) for d in dims)


def _snake(name: str) -> str:
    """Keras's to_snake_case: the name a .keras file stores a layer's weights under."""
    import re

    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# ---------------------------------------------------------------------------
# Each Keras class, as a registered kind and its fields

_Mapper = Callable[[dict[str, Any], int, int, int], "tuple[str, dict[str, Any]] | None"]


def _tuple(value: object, rank: int) -> list[int]:
    if isinstance(value, int):
        return [value] * rank
    if isinstance(value, list) and len(value) == rank:
        return list(value)
    raise ValueError(value)


def _window(c: dict[str, Any], rank: int) -> dict[str, Any]:
    """The sliding-window fields every Keras convolution class spells alike."""
    return {
        "kernel_size": _tuple(c["kernel_size"], rank),
        "stride": _tuple(c.get("strides", 1), rank),
        "padding": c.get("padding", "valid"),
        "dilation": _tuple(c.get("dilation_rate", 1), rank),
    }


def _conv(rank: int) -> _Mapper:
    def conv(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]] | None:
        if dims != rank:
            return None
        return "conv", {
            "out_channels": c["filters"],
            **_window(c, rank),
            "groups": c.get("groups", 1),
            "bias": c.get("use_bias", True),
        }

    return conv


def _transpose(rank: int) -> _Mapper:
    def transpose(
        c: dict[str, Any], dims: int, cin: int, n: int
    ) -> tuple[str, dict[str, Any]] | None:
        if dims != rank:
            return None
        padding = c.get("output_padding")
        return "transpose", {
            "out_channels": c["filters"],
            **_window(c, rank),
            "bias": c.get("use_bias", True),
            **({} if padding is None else {"output_padding": _tuple(padding, rank)}),
        }

    return transpose


def _separable(rank: int) -> _Mapper:
    def separable(
        c: dict[str, Any], dims: int, cin: int, n: int
    ) -> tuple[str, dict[str, Any]] | None:
        if dims != rank:
            return None
        return "separable", {
            "out_channels": c["filters"],
            **_window(c, rank),
            "depth_multiplier": c.get("depth_multiplier", 1),
            "depthwise_bias": False,
            "pointwise_bias": c.get("use_bias", True),
        }

    return separable


def _depthwise(rank: int) -> _Mapper:
    def depthwise(
        c: dict[str, Any], dims: int, cin: int, n: int
    ) -> tuple[str, dict[str, Any]] | None:
        if dims != rank:
            return None
        return "depthwise", {
            **_window(c, rank),
            "depth_multiplier": c.get("depth_multiplier", 1),
            "bias": c.get("use_bias", True),
        }

    return depthwise


def _channel_axis(axis: object, dims: int) -> bool:
    """Whether a Keras axis (an int or a one-item list, counted with the batch) is the last."""
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    return axis == -1 or axis == dims + 1


def _dense(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]] | None:
    return "dense", {"units": c["units"], "bias": c.get("use_bias", True)}


def _batchnorm(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]] | None:
    if not _channel_axis(c.get("axis", -1), dims) or c.get("renorm"):
        return None
    return "batchnorm", {"center": c.get("center", True), "scale": c.get("scale", True)}


def _layer_norm(
    c: dict[str, Any], dims: int, cin: int, n: int
) -> tuple[str, dict[str, Any]] | None:
    if not _channel_axis(c.get("axis", -1), dims):
        return None
    rms = bool(c.get("rms_scaling", False))
    scale = bool(c.get("scale", True)) or rms
    center = bool(c.get("center", True)) and not rms
    return "layer_norm", {"center": center, "scale": scale}


def _group_norm(
    c: dict[str, Any], dims: int, cin: int, n: int
) -> tuple[str, dict[str, Any]] | None:
    if not _channel_axis(c.get("axis", -1), dims):
        return None
    return "layer_norm", {"center": c.get("center", True), "scale": c.get("scale", True)}


def _activation(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]]:
    function = c.get("activation", "linear")
    return "activation", {"function": _ACTIVATIONS.get(str(function), "linear")}


def _named(function: str) -> _Mapper:
    def named(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]]:
        if function == "relu" and c.get("max_value") == 6 and not c.get("negative_slope"):
            return "activation", {"function": "relu6"}
        return "activation", {"function": function}

    return named


def _same(kind: str) -> _Mapper:
    def same(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]]:
        return kind, {}

    return same


def _dropout(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]]:
    rate = c.get("rate", 0)
    return "dropout", {"rate": rate if isinstance(rate, (int, float)) else 0}


def _pool(kind: str, rank: int) -> _Mapper:
    def pool(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]] | None:
        if dims != rank:
            return None
        size = _tuple(c.get("pool_size", 2), rank)
        strides = c.get("strides")
        return kind, {
            "pool_size": size,
            "stride": size if strides is None else _tuple(strides, rank),
            "padding": c.get("padding", "valid"),
        }

    return pool


def _global(kind: str, rank: int) -> _Mapper:
    def pool(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]] | None:
        if dims != rank:
            return None
        return kind, {"keepdims": bool(c.get("keepdims", False))}

    return pool


def _pairs(value: object, rank: int) -> list[list[int]]:
    """Keras padding/cropping: n, (a, b) per dimension or ((a, b), ...), as pairs per dimension."""
    if isinstance(value, int):
        return [[value, value]] * rank
    if isinstance(value, list) and len(value) == rank and all(isinstance(v, int) for v in value):
        if rank == 1:
            return [[value[0], value[0]]]
        return [[v, v] for v in value]
    if rank == 1 and isinstance(value, list) and len(value) == 2:
        return [list(value)]
    if isinstance(value, list) and len(value) == rank:
        return [list(v) if isinstance(v, list) else [v, v] for v in value]
    raise ValueError(value)


def _padding(rank: int) -> _Mapper:
    def pad(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]] | None:
        if dims != rank:
            return None
        return "zero_padding", {"padding": _pairs(c.get("padding", 1), rank)}

    return pad


def _cropping(rank: int) -> _Mapper:
    def crop(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]] | None:
        if dims != rank:
            return None
        return "cropping", {"cropping": _pairs(c.get("cropping", 1), rank)}

    return crop


def _upsampling(rank: int) -> _Mapper:
    def up(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]] | None:
        if dims != rank:
            return None
        interpolation = c.get("interpolation", "nearest")
        return "upsampling", {
            "size": _tuple(c.get("size", 2), rank),
            "interpolation": "nearest" if interpolation == "nearest" else "bilinear",
        }

    return up


def _reshape(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]]:
    return "reshape", {"shape": list(c["target_shape"])}


def _rescaling(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]]:
    scale, offset = c.get("scale", 1), c.get("offset", 0)
    return "rescaling", {
        "scale": scale if isinstance(scale, (int, float)) else 1,
        "offset": offset if isinstance(offset, (int, float)) else 0,
    }


def _normalization(
    c: dict[str, Any], dims: int, cin: int, n: int
) -> tuple[str, dict[str, Any]] | None:
    if not _channel_axis(c.get("axis", -1), dims):
        return None
    constant = c.get("mean") is not None and c.get("variance") is not None
    return "normalization", {"constant": constant}


def _layer_scale(
    c: dict[str, Any], dims: int, cin: int, n: int
) -> tuple[str, dict[str, Any]] | None:
    if c.get("projection_dim", cin) != cin:
        return None
    return "layer_scale", {}


def _join(kind: str) -> _Mapper:
    def join(c: dict[str, Any], dims: int, cin: int, n: int) -> tuple[str, dict[str, Any]] | None:
        if n == 1:
            # An op of keras.ops on one tensor and a number (MobileNetV3's x + 3, x / 6):
            # elementwise, no weights, no MACs.
            return "rescaling", {}
        return kind, {}

    return join


def _concatenate(
    c: dict[str, Any], dims: int, cin: int, n: int
) -> tuple[str, dict[str, Any]] | None:
    if n < 2 or not _channel_axis(c.get("axis", -1), dims):
        return None
    return "concat", {}


_MAPPERS: dict[str, _Mapper] = {
    **{f"Conv{r}D": _conv(r) for r in (1, 2, 3)},
    **{f"Convolution{r}D": _conv(r) for r in (1, 2, 3)},
    **{f"Conv{r}DTranspose": _transpose(r) for r in (1, 2, 3)},
    **{f"Convolution{r}DTranspose": _transpose(r) for r in (1, 2, 3)},
    **{f"SeparableConv{r}D": _separable(r) for r in (1, 2)},
    **{f"SeparableConvolution{r}D": _separable(r) for r in (1, 2)},
    **{f"DepthwiseConv{r}D": _depthwise(r) for r in (1, 2)},
    "Dense": _dense,
    "BatchNormalization": _batchnorm,
    "SyncBatchNormalization": _batchnorm,
    "LayerNormalization": _layer_norm,
    "GroupNormalization": _group_norm,
    "Activation": _activation,
    "ReLU": _named("relu"),
    "LeakyReLU": _named("leaky_relu"),
    "ELU": _named("elu"),
    "Softmax": _named("softmax"),
    "ThresholdedReLU": _named("relu"),
    "Dropout": _dropout,
    **{f"SpatialDropout{r}D": _dropout for r in (1, 2, 3)},
    "GaussianDropout": _dropout,
    "AlphaDropout": _dropout,
    "GaussianNoise": _same("identity"),
    "ActivityRegularization": _same("identity"),
    "Identity": _same("identity"),
    "UnitNormalization": _same("identity"),
    "StochasticDepth": _same("stochastic_depth"),
    **{f"MaxPooling{r}D": _pool("max_pool", r) for r in (1, 2, 3)},
    **{f"MaxPool{r}D": _pool("max_pool", r) for r in (1, 2, 3)},
    **{f"AveragePooling{r}D": _pool("avg_pool", r) for r in (1, 2, 3)},
    **{f"AvgPool{r}D": _pool("avg_pool", r) for r in (1, 2, 3)},
    **{f"GlobalAveragePooling{r}D": _global("global_avg_pool", r) for r in (1, 2, 3)},
    **{f"GlobalAvgPool{r}D": _global("global_avg_pool", r) for r in (1, 2, 3)},
    **{f"GlobalMaxPooling{r}D": _global("global_max_pool", r) for r in (1, 2, 3)},
    **{f"GlobalMaxPool{r}D": _global("global_max_pool", r) for r in (1, 2, 3)},
    **{f"ZeroPadding{r}D": _padding(r) for r in (1, 2, 3)},
    **{f"Cropping{r}D": _cropping(r) for r in (1, 2, 3)},
    **{f"UpSampling{r}D": _upsampling(r) for r in (1, 2, 3)},
    "Flatten": _same("flatten"),
    "Reshape": _reshape,
    "Rescaling": _rescaling,
    "Normalization": _normalization,
    "LayerScale": _layer_scale,
    "Add": _join("add"),
    "Subtract": _join("add"),
    "Average": _join("add"),
    "Maximum": _join("add"),
    "Minimum": _join("add"),
    "Multiply": _join("multiply"),
    "CustomScaleLayer": _join("add"),  # InceptionResNetV2: inputs[0] + inputs[1] * scale
    "TrueDivide": _join("multiply"),
    "Divide": _join("multiply"),
    "Concatenate": _concatenate,
}


# ---------------------------------------------------------------------------
# Keras classes convcount does not count the MACs of, whose weights their config gives


def _rnn(gates: int) -> Callable[[dict[str, Any], list[int]], int]:
    def params(c: dict[str, Any], shape: list[int]) -> int:
        units: int = _positive(c["units"])
        bias = gates * units if c.get("use_bias", True) else 0
        if gates == 3 and c.get("reset_after", True) and bias:
            bias *= 2  # GRU keeps an input and a recurrent bias
        return gates * units * (shape[-1] + units) + bias

    return params


def _embedding(c: dict[str, Any], shape: list[int]) -> int:
    return _positive(c["input_dim"]) * _positive(c["output_dim"])


def _prelu(c: dict[str, Any], shape: list[int]) -> int:
    shared = c.get("shared_axes") or []
    if isinstance(shared, int):
        shared = [shared]
    return math.prod(1 if i + 1 in shared else d for i, d in enumerate(shape))


def _bidirectional(c: dict[str, Any], shape: list[int]) -> int | None:
    total = 0
    for key in ("layer", "backward_layer"):
        inner = c.get(key) or (c.get("layer") if key == "backward_layer" else None)
        formula = _PARAMS.get(inner["class_name"]) if isinstance(inner, dict) else None
        if formula is None or not isinstance(inner, dict):
            return None
        count = formula(inner["config"], shape)
        if not isinstance(count, int):
            return None
        total += count
    return total


class _Figures(NamedTuple):
    shape: list[int]
    """The output shape without the batch, channels last."""
    macs: int
    fused: bool = False
    """Attention products that run fused (FlopCounterMode does not see them)."""
    params: int | None = None
    """Its parameters, when they are worked out here too (attention's)."""


#: Gates of each recurrent cell: a step multiplies (input + units) by gates x units.
_RNN_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def _sequence_figures(
    cls: str, c: dict[str, Any], shapes: list[Tensor], masked: bool
) -> _Figures | None:
    """Output shape and MACs of Keras's recurrent and attention layers, Embedding and
    PReLU, as FlopCounterMode counts them on Keras's torch backend (CPU, batch 1);
    None for any other class (or a call convcount cannot follow: states returned)."""
    x = shapes[0]
    if cls == "Embedding":
        return _Figures([*x.spatial, x.channels, _positive(c["output_dim"])], 0)
    if cls == "PReLU":
        return _Figures([*x.spatial, x.channels], 0)
    if cls in _RNN_GATES:
        return _rnn_figures(cls, c, x, masked)
    if cls == "Bidirectional":
        forward = c["layer"]
        backward = c.get("backward_layer") or forward
        merge = c.get("merge_mode", "concat")
        if merge not in ("concat", "sum", "mul", "ave") or not all(
            isinstance(inner, dict) and inner.get("class_name") in _RNN_GATES
            for inner in (forward, backward)
        ):
            return None
        one = _rnn_figures(forward["class_name"], forward["config"], x, masked)
        two = _rnn_figures(backward["class_name"], backward["config"], x, masked)
        if one is None or two is None:
            return None
        shape = list(one.shape)
        if merge == "concat":
            shape[-1] += two.shape[-1]
        return _Figures(shape, one.macs + two.macs)
    if cls == "MultiHeadAttention":
        return _attention_figures(c, shapes)
    return None


def _rnn_figures(cls: str, c: dict[str, Any], x: Tensor, masked: bool) -> _Figures | None:
    """A recurrent layer over a sequence (steps x features)."""
    if c.get("return_state") or len(x.spatial) != 1:
        return None
    units, gates = _positive(c["units"]), _RNN_GATES[cls]
    steps = x.spatial[0]
    # Keras's torch backend runs LSTM, and GRU with reset_after, in its own loop of
    # steps unless the layer is masked, has recurrent dropout or refuses the fast
    # path; otherwise its generic loop runs the cell once more on the first step
    # (for the output's shape), unless unrolled.
    # (use_cudnn=False would also refuse it, but a saved config does not keep it.)
    fast = (
        (cls == "LSTM" or (cls == "GRU" and c.get("reset_after", True)))
        and not c.get("recurrent_dropout")
        and not masked
    )
    runs = steps if fast or c.get("unroll") else steps + 1
    macs = runs * gates * units * (x.channels + units)
    return _Figures([steps, units] if c.get("return_sequences") else [units], macs)


def _attention_figures(c: dict[str, Any], shapes: list[Tensor]) -> _Figures:
    """MultiHeadAttention: its four projections' parameters and MACs, and the MACs of the
    two products unless they run fused."""
    heads, key_dim = _positive(c["num_heads"]), _positive(c["key_dim"])
    value_dim = _positive(c.get("value_dim") or key_dim)
    query = shapes[0]
    value = shapes[1] if len(shapes) > 1 else query
    key = shapes[2] if len(shapes) > 2 else value
    rank = len(query.spatial)
    axes = c.get("attention_axes")
    if axes is None:
        axes = list(range(1, rank + 1))
    elif isinstance(axes, int):
        axes = [axes]
    spots = sorted({(a if a >= 0 else rank + 1 + a) - 1 for a in axes})
    if not spots or not all(0 <= a < rank for a in spots) or len(key.spatial) != rank:
        raise ValueError(axes)
    out = c.get("output_shape")
    outs = math.prod(_positive(d) for d in out) if isinstance(out, list) else out
    outs = query.channels if outs is None else _positive(outs)
    # the query, key, value and output projections: weights, then MACs at every position
    projections = [
        (query, query.channels * heads * key_dim, heads * key_dim),
        (key, key.channels * heads * key_dim, heads * key_dim),
        (value, value.channels * heads * value_dim, heads * value_dim),
        (query, heads * value_dim * outs, outs),
    ]
    bias = bool(c.get("use_bias", True))
    params = sum(weights + (size if bias else 0) for _, weights, size in projections)
    macs = sum(math.prod(at.spatial) * weights for at, weights, _ in projections)
    q_at = math.prod(query.spatial)
    # Keras computes the products with torch's fused scaled_dot_product_attention
    # when it can (no dropout, one attention axis); on the CPU it runs the fused
    # kernel FlopCounterMode does not count when the key and value depths are equal.
    fused = not c.get("dropout") and rank == 1 and key_dim == value_dim
    if not fused:
        attended = math.prod(query.spatial[a] for a in spots)
        keys = math.prod(key.spatial[a] for a in spots)
        macs += heads * (q_at // attended) * attended * keys * (key_dim + value_dim)
    shape = [*query.spatial, *(out if isinstance(out, list) else [outs])]
    return _Figures(shape, macs, fused, params)


def _makes_mask(cls: str, c: dict[str, Any]) -> bool:
    return cls == "Masking" or (cls == "Embedding" and bool(c.get("mask_zero")))


#: Keras layers that pass their input's mask on (supports_masking, same positions).
_MASK_PASSING = frozenset(
    {
        "Activation", "ActivityRegularization", "AlphaDropout", "BatchNormalization",
        "Dense", "Dropout", "ELU", "GaussianDropout", "GaussianNoise", "GroupNormalization",
        "Identity", "LayerNormalization", "LeakyReLU", "Masking", "MultiHeadAttention",
        "Normalization", "PReLU", "ReLU", "Rescaling", "Softmax", "TimeDistributed",
        "UnitNormalization", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
        "Concatenate",
    }
)  # fmt: skip


def _keeps_mask(cls: str, c: dict[str, Any]) -> bool:
    if cls in _RNN_GATES:
        return bool(c.get("return_sequences"))
    if cls == "Bidirectional":
        inner = c.get("layer")
        return isinstance(inner, dict) and bool(_get(inner.get("config"), "return_sequences"))
    return cls in _MASK_PASSING


def _positive(value: object) -> int:
    if type(value) is not int or value < 1:
        raise ValueError(value)
    return value


def _axes(c: dict[str, Any], shape: list[int]) -> int:
    """Values per normalised slice: the sizes of a normalisation's axes (with the batch)."""
    axis = c.get("axis", -1)
    axes = axis if isinstance(axis, list) else [axis]
    if not axes or not all(type(a) is int and -len(shape) <= a <= len(shape) for a in axes):
        raise ValueError(axis)
    return math.prod(shape[a - 1] if a > 0 else shape[a] for a in axes)


def _layer_norm_params(c: dict[str, Any], shape: list[int]) -> int:
    rms = bool(c.get("rms_scaling", False))
    terms = int(bool(c.get("scale", True)) or rms) + int(bool(c.get("center", True)) and not rms)
    return terms * _axes(c, shape)


def _batchnorm_params(c: dict[str, Any], shape: list[int]) -> tuple[int, int] | None:
    if c.get("renorm"):
        return None
    size = _axes(c, shape)
    return (int(bool(c.get("center", True))) + int(bool(c.get("scale", True)))) * size, 2 * size


_PARAMS: dict[str, Callable[[dict[str, Any], list[int]], int | tuple[int, int] | None]] = {
    "LayerNormalization": _layer_norm_params,
    "BatchNormalization": _batchnorm_params,
    "SimpleRNN": _rnn(1),
    "LSTM": _rnn(4),
    "GRU": _rnn(3),
    "Embedding": _embedding,
    "PReLU": _prelu,
    "Bidirectional": _bidirectional,
}
