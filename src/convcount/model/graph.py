"""A network as a graph of counted layers, and the builder that makes one.

:class:`Net` is the one way a network is assembled, whether from a model file
(:mod:`convcount.model.language`) or from a shipped family definition
(:mod:`convcount.model.zoo`): each call adds one layer of a registered kind
(:data:`convcount.model.kinds.KINDS`), computes its output shape, parameters
and MACs at once, and refuses what the framework would refuse, naming the
layer. Nothing here prints or exits.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import prod
from typing import Any, NamedTuple

from convcount.errors import ConvcountError
from convcount.layers import DTYPE_BYTES, Convention


class Tensor(NamedTuple):
    """A layer's output for a batch of one: spatial size (empty once flat) and channels."""

    spatial: tuple[int, ...]
    channels: int
    rf: tuple[int, ...]
    """Receptive field per spatial dimension, in input pixels."""
    jump: tuple[Fraction | int, ...]
    """Input pixels between neighbouring outputs, per spatial dimension."""
    permuted: bool = False
    """The channel axis sits at the other end from the convention's (a torch Permute to
    channels last, as in ConvNeXt's blocks): only the printed shape changes."""

    @property
    def elements(self) -> int:
        """Values in the tensor (batch of one)."""
        return prod(self.spatial) * self.channels


class Out(NamedTuple):
    """What a layer kind computes for one layer."""

    output: Tensor
    trainable: int = 0
    non_trainable: int = 0
    macs: int | None = 0
    """None: unknown (a layer convcount cannot count, such as a model file's custom layer)."""
    buffers: int = 0
    params_known: bool = True
    """False: the parameters are unknown (a custom layer of a file without weights); the
    figures above are then 0."""
    config: dict[str, Any] | None = None
    """The layer's own field values, resolved (filled in by the registry)."""
    macs_once: int = 0
    """Of ``macs``, those computed once per forward whatever the batch (a module run on
    a buffer: Swin V2's bias MLP on its relative coordinates)."""


def macs_at(macs: int | None, once: int, batch_size: int) -> int | None:
    """A layer's (or a group's) MACs for ``batch_size`` examples, of which ``once`` are
    computed once per forward whatever the batch; None when unknown."""
    return None if macs is None else (macs - once) * batch_size + once


class ModelLayer(NamedTuple):
    """One row of a model summary."""

    number: int
    """Position in the network, from 1."""
    name: str
    kind: str
    inputs: tuple[str, ...]
    output: Tensor
    trainable: int
    """Parameters the framework trains."""
    non_trainable: int
    """Parameters the framework keeps but does not train (Keras's BatchNorm statistics)."""
    macs: int | None
    """Multiply-accumulates for one input (bias additions excluded); None when unknown."""
    buffers: int = 0
    """PyTorch buffers (BatchNorm's running statistics): state that is not a parameter."""
    op: str = ""
    """What the layer is in its model file (a Keras class, an ONNX op); empty otherwise.
    A layer of unknown MACs is listed under it in :attr:`ModelReport.uncounted`."""
    params_known: bool = True
    """False: its parameters are unknown (counted as 0; the totals are lower bounds)."""
    config: dict[str, Any] | None = None
    """The layer's own fields as its kind resolved them (kernel_size, stride, padding,
    units, function, ...): defaults filled in, sizes one per spatial dimension."""
    runs: bool = True
    """False for a layer that holds parameters but does not run in inference (an
    auxiliary head in eval mode): no MACs, and no tool sees it run."""
    call: str = ""
    """How PyTorch code runs this layer, for the counters that hook module classes
    (thop, ptflops's pytorch backend): empty for a call of its kind's own module
    class (nn.Conv2d, nn.ReLU, nn.AdaptiveAvgPool2d, ...; operators for add and
    multiply), else the function called (``F.relu``, ``F.avg_pool2d``,
    ``F.adaptive_avg_pool2d``) or the name of another module class
    (``LayerNorm2d``). See :func:`convcount.model.tools.torch_call`."""
    macs_once: int = 0
    """Of ``macs``, those computed once per forward whatever the batch (see
    :attr:`Out.macs_once`): FlopCounterMode counts them once at any batch size."""
    batched: bool = True
    """False for a layer computed once per forward whatever the batch: relative
    coordinates (a buffer) and what is computed from them alone (Swin V2's bias MLP
    as layers of its own). All its MACs are then :attr:`macs_once`."""
    origin: dict[str, Any] | None = None
    """What a model file records of the PyTorch code that ran this op (a torch.export
    archive: the innermost module's path and class, whether it is a leaf, the function
    called, the module's own parameters): read by :mod:`convcount.model.tools` only."""

    def macs_at(self, batch_size: int) -> int | None:
        """MACs for ``batch_size`` examples; None when unknown."""
        return macs_at(self.macs, self.macs_once, batch_size)

    @property
    def params(self) -> int:
        """All parameters, trainable or not."""
        return self.trainable + self.non_trainable


class ModelReport(NamedTuple):
    """A whole network, counted."""

    name: str
    source: str
    convention: Convention
    dtype: str
    width_multiplier: float
    input: Tensor
    layers: tuple[ModelLayer, ...]
    receptive_field: tuple[tuple[int, ...], str] | None
    """Receptive field of the last spatial layer before any global pooling, and its name."""
    notes: tuple[str, ...] = ()
    """What a model file's reader wants said under the summary (e.g. folded BatchNorm)."""
    file_graph: Any = None
    """An ONNX file's decoded graph (:class:`convcount.model.files.onnx.FileGraph`),
    for ``--count-as onnx-tool``; None for every other source."""

    @property
    def trainable_params(self) -> int:
        """Parameters a framework trains."""
        return sum(layer.trainable for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        """Parameters a framework keeps but does not train (Keras's BN statistics)."""
        return sum(layer.non_trainable for layer in self.layers)

    @property
    def total_params(self) -> int:
        """All parameters."""
        return self.trainable_params + self.non_trainable_params

    @property
    def buffers(self) -> int:
        """PyTorch buffers (BatchNorm running statistics and batch counters)."""
        return sum(layer.buffers for layer in self.layers)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the convolution and matrix-product layers.

        Layers whose MACs are unknown count nothing here: the figure is then a
        lower bound, and :attr:`macs_exact` is False.
        """
        return sum(layer.macs for layer in self.layers if layer.macs is not None)

    def macs_at(self, batch_size: int) -> int:
        """:attr:`macs` for ``batch_size`` examples (what runs once per forward, once)."""
        return sum(m for layer in self.layers if (m := layer.macs_at(batch_size)) is not None)

    @property
    def macs_exact(self) -> bool:
        """Whether every layer's MACs are known (:attr:`macs` is then exact)."""
        return all(layer.macs is not None for layer in self.layers)

    @property
    def params_exact(self) -> bool:
        """Whether every layer's parameters are known (the totals are then exact)."""
        return all(layer.params_known for layer in self.layers)

    @property
    def uncounted(self) -> dict[str, int]:
        """Layers whose MACs are unknown, by what they are (class or op, else kind)."""
        counts: dict[str, int] = {}
        for layer in self.layers:
            if layer.macs is None:
                key = layer.op or layer.kind
                counts[key] = counts.get(key, 0) + 1
        return counts

    @property
    def param_bytes(self) -> int:
        """Bytes of all parameters at the model's dtype."""
        return self.total_params * DTYPE_BYTES[self.dtype]

    @property
    def output(self) -> Tensor:
        """The network's output (its last layer's)."""
        return self.layers[-1].output if self.layers else self.input

    def output_shape(self, tensor: Tensor) -> tuple[int, ...]:
        """A tensor's shape without the batch: channels last (keras) or first (torch)."""
        if not tensor.spatial:
            return (tensor.channels,)
        if (self.convention == "keras") != tensor.permuted:
            return (*tensor.spatial, tensor.channels)
        return (tensor.channels, *tensor.spatial)


#: Most spatial dimensions and elements a network may have: checked before anything
#: is computed, so that a hostile file cannot make convcount allocate or loop.
MAX_DIMS = 3
MAX_LAYERS = 100_000
#: Largest size, channel count and receptive field of any tensor, and largest numerator
#: and denominator of a jump: checked as each layer is computed, so that no chain of
#: upsampling, padding or striding grows numbers (and memory) without bound.
MAX_EXTENT = 10**18


class Net:
    """Builds a network layer by layer, as the shipped zoo does; :meth:`report` counts it.

    ``Net(name, size, channels)`` starts from an input of ``size`` (one to three
    spatial sizes, or one number for a square 2-D input) and ``channels``, under
    ``convention`` "keras" (channels last, Keras's counts) or "torch"
    (channels first, PyTorch's parameters and buffers). Each method adds one
    layer, checks it as the framework would (a ConvcountError naming the layer
    and field otherwise) and returns its name; a layer's input ``x`` is an
    earlier layer's name, ``None`` for the layer just added, ``"input"`` for
    the network's input.

    * :meth:`layer` adds any kind of the format reference (``convcount model
      --kinds``) with the same fields: ``net.layer("resize", x, like="stem")``,
      ``net.layer("max_pool", pool_size=3, stride=2)``, ``net.layer("add",
      ["a", "b"])``.
    * :meth:`conv`, :meth:`depthwise`, :meth:`dense`, :meth:`bn`, :meth:`act`,
      :meth:`add`, :meth:`multiply` and :meth:`concat` spell the common ones.
    * :meth:`shape` and :meth:`channels` read a layer's output, to size what
      follows; :meth:`report` returns the :class:`ModelReport`, and
      :meth:`summary` its table, JSON or CSV as ``convcount model`` prints them.

    >>> net = Net("tiny", (32, 32), 3)
    >>> x = net.conv(None, 16, 3, padding="same")
    >>> net.layer("global_avg_pool")
    'global_avg_pool'
    >>> net.dense(None, 10)
    'dense'
    >>> net.report().total_params
    618
    """

    def __init__(
        self,
        name: str,
        size: int | Sequence[int],
        channels: int,
        *,
        convention: Convention = "keras",
        dtype: str = "float32",
        source: str = "",
        width_multiplier: float = 1.0,
        strict: bool = False,
    ) -> None:
        if isinstance(size, int) and not isinstance(size, bool):
            size = (size, size)
        if not isinstance(size, Sequence) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in size
        ):
            raise ConvcountError("input_size", f"input: sizes must be whole numbers, got {size!r}")
        if not 1 <= len(size) <= MAX_DIMS:
            raise ConvcountError("input_size", f"input: {len(size)} spatial dimensions (1 to 3)")
        if isinstance(channels, bool) or not isinstance(channels, int):
            raise ConvcountError("channels", f"channels: must be a whole number, got {channels!r}")
        if min(size) < 1 or channels < 1:
            raise ConvcountError("input_size", "input: sizes and channels must be at least 1")
        if max(*size, channels) > MAX_EXTENT:
            raise ConvcountError(
                "input_size", f"input: sizes and channels must be at most {MAX_EXTENT:.0e}"
            )
        if convention not in ("keras", "torch"):
            raise ConvcountError(
                "convention", f"convention: must be keras or torch, got {convention!r}"
            )
        if dtype not in DTYPE_BYTES:
            raise ConvcountError(
                "dtype", f"dtype: must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}"
            )
        self.name = name
        self.source = source or name
        self.convention: Convention = convention
        self.dtype = dtype
        self.width_multiplier = width_multiplier
        #: Apply every rule of the single-layer commands to each convolution (a
        #: user's model file); the shipped definitions are known to be legal.
        self.strict = strict
        spatial = tuple(size)
        self.input = Tensor(spatial, channels, (1,) * len(spatial), (1,) * len(spatial))
        self.tensors: dict[str, Tensor] = {"input": self.input}
        self.layers: list[ModelLayer] = []
        self.last = "input"
        self._counts: dict[str, int] = {}
        self._unbatched: set[str] = set()  # layers not batched (ModelLayer.batched)
        #: Names given explicitly somewhere: automatic names step aside for them.
        self.reserved: set[str] = set()
        self._receptive: tuple[tuple[int, ...], str] | None = None

    # -- the general entry -------------------------------------------------

    def layer(
        self,
        kind: str,
        x: str | Sequence[str] | None = None,
        /,
        name: str | None = None,
        where: str | None = None,
        call: str = "",
        op: str = "",
        **fields: Any,
    ) -> str:
        """Add a layer of ``kind`` fed by ``x`` (default: the last layer); return its name.

        ``kind`` and ``fields`` are those of the format reference (``convcount
        model --kinds``), e.g. ``layer("conv", x, out_channels=64, kernel_size=3)``;
        a join (add, multiply, concat) takes a list of names as ``x``, and a
        field that names a layer (``like``) takes its name. Without ``name``,
        the layer is named after its kind (``conv``, ``conv_1``, ...). Errors
        start with ``where`` when given, else with the source and layer name.
        ``call`` says how PyTorch code runs the layer when it is not a call of its
        kind's own module class (:attr:`ModelLayer.call`).
        ``op`` is what the layer is in a model file (see :attr:`ModelLayer.op`).
        """
        spec = _kinds().get(kind)
        if spec is None:
            raise ConvcountError("kind", f"{self.source}: no layer kind {kind!r}")
        inputs = (self.last,) if x is None else (x,) if isinstance(x, str) else tuple(x)
        if name is None:
            number = self._counts.get(kind, 0)
            name = kind if number == 0 else f"{kind}_{number}"
            while name in self.tensors or name in self.reserved:  # a given name wins
                number += 1
                name = f"{kind}_{number}"
            self._counts[kind] = number + 1
        if name in self.tensors or len(self.layers) >= MAX_LAYERS:
            here = where or f"{self.source}: layer '{name}'"
            if name in self.tensors:
                raise ConvcountError("name", f"{here}: name: {name!r} is used twice")
            raise ConvcountError("layer", f"{here}: more than {MAX_LAYERS:,} layers")
        tensors = self.tensors
        try:
            out = spec.apply(self, [tensors[i] for i in inputs], fields)
        except KeyError as missing:
            here = where or f"{self.source}: layer '{name}'"
            raise ConvcountError(
                "input", f"{here}: input: no earlier layer is named {missing}"
            ) from None
        except ConvcountError as error:
            here = where or f"{self.source}: layer '{name}'"
            raise ConvcountError(error.option, f"{here}: {error.spelled('field')}") from None
        _bounded(out.output, where or f"{self.source}: layer '{name}'")
        batched = self._batched(name, kind, inputs)
        self.layers.append(
            ModelLayer(
                len(self.layers) + 1,
                name,
                kind,
                inputs,
                out.output,
                out.trainable,
                out.non_trainable,
                out.macs,
                out.buffers,
                op,
                out.params_known,
                out.config,
                call=call,
                macs_once=out.macs_once if batched else out.macs or 0,
                batched=batched,
            )
        )
        self.tensors[name] = out.output
        self.last = name
        # The receptive field reported is the last spatial map's: pooled 1x1 maps
        # (global pooling, squeeze-and-excite) and what follows them see everything.
        spatial = out.output.spatial
        if spatial and max(spatial) > 1 and not kind.startswith(("global_", "adaptive_")):
            self._receptive = (out.output.rf, name)
        return name

    def _batched(self, name: str, kind: str, inputs: tuple[str, ...]) -> bool:
        """Whether a layer runs per example (see :attr:`ModelLayer.batched`)."""
        if kind == "relative_coords" or (inputs and all(i in self._unbatched for i in inputs)):
            self._unbatched.add(name)
            return False
        return True

    def idle(self, first: int) -> None:
        """No MACs for the layers from position ``first`` (0-based) on.

        For heads that hold parameters but do not run in inference, such as
        torchvision's auxiliary classifiers: FlopCounterMode never sees them.
        """
        self.layers[first:] = [
            layer._replace(macs=0, runs=False, macs_once=0) for layer in self.layers[first:]
        ]

    def weights(self, *, shared: bool = False, frozen: bool = False) -> None:
        """Recount the last layer's weights: ``shared`` with an earlier layer (a layer
        or model called again: its parameters are counted once, at the first call, its
        MACs at every call) or ``frozen`` (all non-trainable, as Keras counts a layer
        with ``trainable=False``)."""
        layer = self.layers[-1]
        if shared:
            layer = layer._replace(trainable=0, non_trainable=0, buffers=0)
        elif frozen:
            layer = layer._replace(trainable=0, non_trainable=layer.params)
        self.layers[-1] = layer

    def shape(self, x: str | None = None) -> Tensor:
        """The output of layer ``x`` (default: the last layer)."""
        return self.tensors[self.last if x is None else x]

    def channels(self, x: str | None = None) -> int:
        """Channels of layer ``x``'s output (default: the last layer)."""
        return self.shape(x).channels

    def summary(self, fmt: str = "table", *, batch_size: int = 1, width: int | None = None) -> str:
        """The counted network as ``convcount model`` prints it: "table", "json", "csv"
        or "plain" (see :func:`convcount.model.summarize`)."""
        from convcount.model import summarize

        return summarize(self.report(), fmt, batch_size=batch_size, width=width)

    def report(self) -> ModelReport:
        """The counted network."""
        return ModelReport(
            name=self.name,
            source=self.source,
            convention=self.convention,
            dtype=self.dtype,
            width_multiplier=self.width_multiplier,
            input=self.input,
            layers=tuple(self.layers),
            receptive_field=self._receptive,
        )

    # -- short spellings of common kinds ------------------------------------

    def conv(
        self,
        x: str | None,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = 0,
        *,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        name: str | None = None,
    ) -> str:
        """A (grouped) convolution."""
        return self.layer(
            "conv",
            x,
            name=name,
            out_channels=out_channels,
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )

    def depthwise(
        self,
        x: str | None,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = 0,
        *,
        depth_multiplier: int = 1,
        dilation: int | Sequence[int] = 1,
        bias: bool = True,
        name: str | None = None,
    ) -> str:
        """A depthwise convolution (out = in x depth_multiplier)."""
        return self.layer(
            "depthwise",
            x,
            name=name,
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
            depth_multiplier=depth_multiplier,
            dilation=dilation,
            bias=bias,
        )

    def dense(
        self, x: str | None, units: int, *, bias: bool = True, name: str | None = None
    ) -> str:
        """A dense (linear) layer over the channels, at every position."""
        return self.layer("dense", x, name=name, units=units, bias=bias)

    def bn(
        self,
        x: str | None = None,
        *,
        center: bool = True,
        scale: bool = True,
        name: str | None = None,
    ) -> str:
        """Batch normalisation."""
        return self.layer("batchnorm", x, name=name, center=center, scale=scale)

    def act(self, x: str | None, function: str, *, name: str | None = None, call: str = "") -> str:
        """An activation (no parameters)."""
        return self.layer("activation", x, name=name, call=call, function=function)

    def add(self, *xs: str, name: str | None = None) -> str:
        """Elementwise sum of equal shapes."""
        return self.layer("add", xs, name=name)

    def multiply(self, *xs: str, name: str | None = None) -> str:
        """Elementwise product, broadcasting sizes of 1 (squeeze-and-excite)."""
        return self.layer("multiply", xs, name=name)

    def concat(self, *xs: str, name: str | None = None) -> str:
        """Concatenation along the channels."""
        return self.layer("concat", xs, name=name)


def _bounded(tensor: Tensor, here: str) -> None:
    """Refuse a tensor whose sizes, channels, receptive field or jump pass MAX_EXTENT."""
    checks: list[tuple[str, int]] = [
        *(("size", v) for v in tensor.spatial),
        ("channels", tensor.channels),
        *(("receptive field", v) for v in tensor.rf),
        *(("jump", j if type(j) is int else max(j.numerator, j.denominator)) for j in tensor.jump),
    ]
    for what, value in checks:
        if value > MAX_EXTENT:
            digits = len(str(value)) if value.bit_length() < 4000 else "over a thousand"
            raise ConvcountError(
                "layer",
                f"{here}: the output's {what} would be a number of {digits} digits, "
                "past the limit of 10^18",
            )


_KINDS: dict[str, Any] = {}


def _kinds() -> dict[str, Any]:
    """The registry, imported once (kinds imports this module)."""
    if not _KINDS:
        from convcount.model.kinds import KINDS

        _KINDS.update(KINDS)
    return _KINDS
