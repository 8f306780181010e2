"""ONNX models, read with no ``onnx`` package: the graph, shapes, initializers and MACs.

The file is mapped, not read: :mod:`convcount.model.files.onnx_proto` walks its
protobuf fields and steps over every weight's bytes (weights kept in an
external ``.onnx.data`` file are never opened). Then, node by node in the
file's (topological) order:

* **shapes** come from the file where it records them (the dynamo exporter
  writes every intermediate shape in ``value_info``) and are inferred where it
  does not (legacy exports; any open axis filled by ``-r``): the usual
  shape rules of each op, with the integer tensors of shape computations
  (Shape, Gather, Slice, Concat, Unsqueeze, arithmetic, ...) folded to
  constants, so that a Reshape whose target is computed at run time still
  gets its shape;
* **parameters** are the file's floating-point initializers, each counted
  once, at the first layer that takes it as an operand; operands that are
  settings (Resize's scales, Clip's bounds, a Reshape's target, ...) and
  integer initializers are not parameters. A BatchNormalization's running
  mean and variance are buffers, as in PyTorch. Both exporters fold
  BatchNorm into the convolution before it, so a file holds fewer values than
  the PyTorch module it came from (the summary notes it);
* **MACs** of Conv, ConvTranspose, Gemm and MatMul are counted as
  ``FlopCounterMode`` counts the module they came from (bias additions not
  counted); every other op this module knows counts 0, and an op it does not
  know is listed as uncounted (its parameters still counted).

Rows are per example: the first axis of the graph's input is the batch.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Sequence
from math import ceil, floor, prod
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from convcount.errors import ConvcountError
from convcount.model.files.onnx_proto import (
    FLOAT_TYPES,
    MAX_CONSTANT,
    SCOPES,
    Graph,
    Node,
    decode_model,
)
from convcount.model.files.protobuf import ProtobufError
from convcount.model.files.rows import Names, Row, build_report, check_options

if TYPE_CHECKING:
    from convcount.model.graph import ModelReport

Shape = tuple[int, ...]
Values = tuple[Any, ...]
Shapes = list[Shape | None]
Consts = list[Values | None]

#: Largest size any inferred dimension may reach (a hostile file cannot make
#: convcount compute with numbers of thousands of digits).
MAX_DIM = 1 << 40

#: Operand positions that are settings, not weights.
SETTINGS: dict[str, frozenset[int]] = {
    op: frozenset(positions)
    for op, positions in {
        "Resize": {1, 2, 3},
        "Upsample": {1},
        "Clip": {1, 2},
        "Pad": {1, 2, 3},
        "Reshape": {1},
        "Expand": {1},
        "Tile": {1},
        "Slice": {1, 2, 3, 4},
        "Split": {1},
        "Squeeze": {1},
        "Unsqueeze": {1},
        "ReduceMean": {1},
        "ReduceSum": {1},
        "ReduceMax": {1},
        "ReduceMin": {1},
        "ConstantOfShape": {0},
        "Range": {0, 1, 2},
    }.items()
}

#: Op -> the registry kind it is shown as (ops not listed show their own name).
KINDS = {
    "Conv": "conv",
    "ConvTranspose": "transpose",
    "Gemm": "dense",
    "BatchNormalization": "batchnorm",
    "LayerNormalization": "layer_norm",
    "MaxPool": "max_pool",
    "AveragePool": "avg_pool",
    "GlobalAveragePool": "global_avg_pool",
    "GlobalMaxPool": "global_max_pool",
    "Add": "add",
    "Mul": "multiply",
    "Concat": "concat",
    "Flatten": "flatten",
    "Reshape": "reshape",
    "Transpose": "permute",
    "Resize": "upsampling",
    "Upsample": "upsampling",
    "Dropout": "dropout",
    "Identity": "identity",
}
ACTIVATIONS = frozenset(
    ("Relu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "LeakyRelu", "Elu", "Selu", "Gelu",
     "Softmax", "LogSoftmax", "Mish", "Softplus", "Clip", "PRelu", "Erf")
)  # fmt: skip


class Failure(Exception):
    """A node the file gets wrong (its shapes cannot meet): the message names it."""


def read(path: Path, head: bytes, *, label: str, **options: Any) -> ModelReport:
    """Count an ONNX model file."""
    check_options(label, options)
    try:
        with path.open("rb") as handle:
            try:
                buf: Any = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file cannot be mapped
                buf = b""
            try:
                graph = decode_model(buf)
            finally:
                if isinstance(buf, mmap.mmap):
                    buf.close()
    except ProtobufError as error:
        raise ConvcountError("model", f"{label}: not a readable ONNX file: {error}") from None
    except OSError as error:
        raise ConvcountError("model", f"{label}: cannot be read ({error.strerror})") from None
    return count(graph, label, path.stem.removesuffix(".onnx"), options)


def count(graph: Graph, label: str, name: str, options: dict[str, Any]) -> ModelReport:
    """The report of a decoded graph."""
    inits = graph.initializers
    inputs = [v for v in graph.inputs if v.name not in inits]
    if not inputs:
        raise ConvcountError("model", f"{label}: the graph has no input")
    resolution = options.get("resolution")
    if resolution is not None and not any(_open_sizes(v.dims) for v in inputs):
        raise ConvcountError(
            "resolution",
            f"--resolution: {label} fixes its input size ({_show(inputs[0].dims or ())}); "
            "-r fills open sizes only",
        )
    first = inputs[0]
    shape = _input_shape(first.dims, label, first.name, resolution)
    batch = shape[0] if shape else 1
    filled = any(v.dims is not None and any(not isinstance(d, int) for d in v.dims) for v in inputs)
    engine = Engine(graph, label, trust_file=not filled)
    engine.shapes[first.name] = shape
    engine.producer[first.name] = "input"
    engine.names.add("input")
    further = []
    shapes = [(first.name, shape)]
    for value in inputs[1:]:  # the first is the summary's input; the others are rows
        sizes = _input_shape(value.dims, label, value.name, resolution)
        shapes.append((value.name, sizes))
        row = engine.names.claim(value.name or "input")
        engine.shapes[value.name] = sizes
        engine.producer[value.name] = row
        further.append(Row(row, "input", (), sizes[1:], macs=0, op="input"))
    rows = further + engine.run()
    if batch > 1:
        rows = [r._replace(macs=None if r.macs is None else r.macs // batch) for r in rows]
    notes = []
    if graph.producer == "pytorch" and any(r.kind in ("conv", "depthwise") for r in rows):
        notes.append(
            "PyTorch's ONNX exporters fold each BatchNorm that follows a convolution into it: "
            "the file holds fewer values than the module (2 per channel, less the bias the "
            "convolution gains) and no running statistics"
        )
    report = build_report(label, name, shape[1:], rows, options.get("dtype"), notes)
    # the decoded graph stays with the report: --count-as onnx-tool walks it again
    return report._replace(file_graph=FileGraph(graph, tuple(shapes), tuple(engine.layer_names)))


class FileGraph(NamedTuple):
    """An ONNX file's decoded graph, kept with its report for other counters' rules."""

    graph: Graph
    inputs: tuple[tuple[str, Shape], ...]
    """Each graph input's name and the shape convcount counted at (open sizes filled),
    batch first; the summary's input first."""
    layers: tuple[str | None, ...]
    """The report's layer each node is, in the graph's order (None: folded away)."""


def _input_shape(
    dims: Sequence[int | str | None] | None, label: str, name: str, resolution: object
) -> Shape:
    """The graph input's shape: open axes filled (the batch with 1, the others by -r)."""
    if dims is None or not dims:
        raise ConvcountError("model", f"{label}: input {name!r} has no recorded shape")
    open_axes = [i for i, d in enumerate(dims) if not isinstance(d, int) or d < 1]
    spatial_open = [i for i in open_axes if i >= 2]
    if 1 in open_axes and len(dims) >= 3:
        raise ConvcountError(
            "model", f"{label}: input {name!r} leaves its channels open; convcount needs them"
        )
    sizes: tuple[int, ...] = ()
    if spatial_open:
        if resolution is None:
            raise ConvcountError(
                "resolution",
                f"{label}: input {name!r} is {_show(dims)}, with open sizes: "
                "give them with -r/--resolution (e.g. -r 224 or -r 224x160)",
            )
        from convcount.layers import parse_ints

        sizes = tuple(parse_ints("resolution", resolution))
        if len(sizes) == 1:
            sizes *= len(spatial_open)
        if len(sizes) != len(spatial_open):
            raise ConvcountError(
                "resolution",
                f"--resolution: {len(sizes)} sizes for {len(spatial_open)} open sizes "
                f"of input {name!r} ({_show(dims)})",
            )
    filled = dict(zip(spatial_open, sizes, strict=True))
    shape = tuple(
        filled.get(i, 1) if i in open_axes else int(d)  # type: ignore[arg-type]  # ints here
        for i, d in enumerate(dims)
    )
    if any(d > MAX_DIM for d in shape):
        raise ConvcountError("model", f"{label}: input {name!r} is too large ({_show(dims)})")
    return shape


def _open_sizes(dims: Sequence[int | str | None] | None) -> bool:
    """Whether an input leaves a size after its batch and channels open."""
    return bool(dims) and any(not isinstance(d, int) or d < 1 for d in (dims or ())[2:])


def _show(dims: Sequence[int | str | None]) -> str:
    return "x".join("?" if d is None or d == "" else str(d) for d in dims)


class Engine:
    """Shape inference and counting over the nodes of one graph."""

    def __init__(self, graph: Graph, label: str, *, trust_file: bool) -> None:
        self.graph = graph
        self.label = label
        self.trust_file = trust_file
        self.shapes: dict[str, Shape | None] = {}
        self.consts: dict[str, Values] = {}
        self.producer: dict[str, str] = {}
        self.alias: dict[str, str] = {}  # an Identity of an initializer -> the initializer
        self.counted: set[str] = set()
        self.names = Names()
        self.layer_names: list[str | None] = []
        for init in graph.initializers.values():
            self.shapes[init.name] = init.dims
            if init.values is not None:
                self.consts[init.name] = init.values

    # -- the walk -----------------------------------------------------------

    def run(self) -> list[Row]:
        rows = []
        for node in self.graph.nodes:
            row = self.node(node)
            # which layer each node is (None: folded), for --count-as onnx-tool's rows
            self.layer_names.append(None if row is None else row.name)
            if row is not None:
                rows.append(row)
        return rows

    def node(self, node: Node) -> Row | None:
        inits = self.graph.initializers
        if node.op == "Identity" and node.inputs and self._init(node.inputs[0]) is not None:
            for out in node.outputs:  # legacy exports share equal weights this way
                self.alias[out] = self._init(node.inputs[0]) or ""
                source = inits[self.alias[out]]
                self.shapes[out] = source.dims
                if source.values is not None:
                    self.consts[out] = source.values
            return None
        shapes = [self.shapes.get(i) if i else None for i in node.inputs]
        consts = [self.consts.get(i) if i else None for i in node.inputs]
        rule = RULES.get(node.op) if node.domain in ("", "ai.onnx") else None
        outs: Shapes = [None] * len(node.outputs)
        values: Consts = [None] * len(node.outputs)
        macs: int | None = None
        if rule is not None:
            try:
                result = rule(self, node, shapes, consts)
            except Failure as error:
                raise ConvcountError(
                    "model", f"{self.label}: node {node.name or node.op!r} ({node.op}): {error}"
                ) from None
            outs, values, macs = list(result.shapes), list(result.values), result.macs
        for i, out in enumerate(node.outputs[: len(outs)]):
            recorded = self._recorded(out)
            if recorded is not None and (self.trust_file or outs[i] is None):
                outs[i] = recorded
            if outs[i] is not None and any(d > MAX_DIM or d < 0 for d in outs[i] or ()):
                raise ConvcountError(
                    "model", f"{self.label}: node {node.name or node.op!r}: a size out of range"
                )
            self.shapes[out] = outs[i]
            if values[i] is not None:
                self.consts[out] = values[i]  # type: ignore[assignment]  # not None here
        trainable, buffers = self._weights(node)
        folded = node.outputs and all(o in self.consts for o in node.outputs if o)
        if folded and not trainable + buffers:
            return None  # a shape computation, folded: not a layer
        name = self._name(node)
        for out in node.outputs:
            self.producer[out] = name
        sources = tuple(
            dict.fromkeys(
                self.producer[i] for i in node.inputs if i in self.producer and i not in self.consts
            )
        )
        shape = outs[0] if outs else None
        kind = self._kind(node, shapes)
        return Row(
            name,
            kind,
            sources,
            None if shape is None else shape[1:],
            trainable,
            buffers,
            macs if rule is not None else None,
            op=node.op,
        )

    def _init(self, name: str) -> str | None:
        name = self.alias.get(name, name)
        return name if name in self.graph.initializers else None

    def _recorded(self, name: str) -> Shape | None:
        value = self.graph.values.get(name)
        if value is None:
            value = next((v for v in self.graph.outputs if v.name == name), None)
        if value is None or value.dims is None:
            return None
        if all(isinstance(d, int) and d >= 0 for d in value.dims):
            return tuple(value.dims)  # type: ignore[arg-type]  # all ints, checked
        return None

    def _weights(self, node: Node) -> tuple[int, int]:
        """Values of the initializers this node is the first to take: (params, buffers)."""
        settings = SETTINGS.get(node.op, frozenset())
        params = buffers = 0
        for position, operand in enumerate(node.inputs):
            init = self._init(operand) if operand else None
            if init is None or init in self.counted or position in settings:
                continue
            tensor = self.graph.initializers[init]
            if tensor.data_type not in FLOAT_TYPES:
                continue
            self.counted.add(init)
            if node.op == "BatchNormalization" and position >= 3:
                buffers += prod(tensor.dims)
            else:
                params += prod(tensor.dims)
        return params, buffers

    def _name(self, node: Node) -> str:
        """The module path the exporter recorded, else the node's name.

        A weighted op takes its weight's module path (``layer1.0.conv1.weight``);
        others the path of the module they run in: from a legacy export's node
        name (``/layer1/layer1.0/relu/Relu``) or the dynamo exporter's
        ``name_scopes`` metadata. Repeats get ``_1``, ``_2``, as in a .pt2 file.
        """
        name = node.name or f"{node.op}_{len(self.names)}"
        weight = None
        if node.op in ("Conv", "ConvTranspose", "Gemm", "MatMul") and len(node.inputs) > 1:
            weight = self._init(node.inputs[1])
        if weight is not None and weight.endswith(".weight"):
            name = weight.removesuffix(".weight")
        elif name.startswith("/"):
            name = _module_path(name) or name.strip("/")
        elif SCOPES in node.attrs:
            name = _scope_path(node.attrs[SCOPES]) or name
        return self.names.claim(name)

    def _kind(self, node: Node, shapes: Sequence[Shape | None]) -> str:
        if node.op in ACTIVATIONS:
            return "activation"
        if node.op == "Conv" and len(shapes) > 1:
            x, w = shapes[0], shapes[1]
            group = node.attrs.get("group", 1)
            if x is not None and w is not None and group > 1 and group == x[1] and w[1] == 1:
                return "depthwise"
        if node.op == "MatMul" and len(node.inputs) > 1:
            return "dense" if self._init(node.inputs[1]) is not None else "matmul"
        if node.op == "ReduceMean":
            return "global_avg_pool"
        return KINDS.get(node.op, node.op)


def _scope_path(scopes: str) -> str:
    """The dynamo exporter's name_scopes, ``['', 'layer1', 'layer1.0', 'add']``: the
    innermost module's path (``layer1.0``); the last entry names the op, not a module."""
    parts = [p.strip().strip("'\"") for p in scopes.strip("[]").split(",")]
    modules = [p for p in parts[:-1] if p]
    return modules[-1] if modules else ""


def _module_path(name: str) -> str:
    """A legacy export's node name as a module path.

    Each part names a module within the one before, a Sequential's children
    repeating their parent's part: ``/layer1/layer1.0/downsample/downsample.0/Conv``
    is ``layer1.0.downsample.0``.
    """
    path = previous = ""
    for part in name.split("/")[1:-1]:
        if previous and part.startswith(previous + "."):
            path += part[len(previous) :]
        else:
            path = f"{path}.{part}" if path else part
        previous = part
    return path


# ---------------------------------------------------------------------------
# Shape rules


class Result:
    """What a rule computes: output shapes, folded values, MACs (None: uncounted)."""

    __slots__ = ("macs", "shapes", "values")

    def __init__(
        self,
        shapes: list[Shape | None],
        values: list[Values | None] | None = None,
        macs: int | None = 0,
    ) -> None:
        self.shapes = shapes
        self.values = values if values is not None else [None] * len(shapes)
        self.macs = macs


Rule = Callable[[Engine, Node, list[Shape | None], list[Values | None]], Result]
RULES: dict[str, Rule] = {}


def rule(*ops: str) -> Callable[[Rule], Rule]:
    def register(function: Rule) -> Rule:
        for op in ops:
            RULES[op] = function
        return function

    return register


def _need(shape: Shape | None) -> Shape:
    if shape is None:
        raise _Unknown
    return shape


class _Unknown(Exception):
    """An operand's shape is unknown: so are the outputs."""


def _guard(function: Rule) -> Rule:
    def guarded(
        engine: Engine, node: Node, shapes: list[Shape | None], consts: list[Values | None]
    ) -> Result:
        try:
            return function(engine, node, shapes, consts)
        except _Unknown:
            macs = None if node.op in COUNTED else 0
            return Result([None] * len(node.outputs), macs=macs)
        except (IndexError, KeyError, TypeError, ZeroDivisionError, ValueError, OverflowError):
            raise Failure("its operands or attributes do not fit the op") from None

    return guarded


COUNTED = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})


def _axis(axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise Failure(f"axis {axis} outside a tensor of {rank} dimensions")
    return axis % rank if rank else 0


def _broadcast(*shapes: Shape) -> Shape:
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        sizes = {s[i - rank + len(s)] for s in shapes if i - rank + len(s) >= 0}
        wide = sizes - {1}
        if len(wide) > 1:
            raise Failure(f"shapes {' and '.join(map(_fmt, shapes))} do not broadcast")
        out.append(wide.pop() if wide else 1)
    return tuple(out)


def _fmt(shape: Shape) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _flat(values: Values | None, shape: Shape | None) -> Values | None:
    if values is None or shape is None or len(values) != prod(shape) or len(values) > MAX_CONSTANT:
        return None
    return values


@rule(*ACTIVATIONS, "Dropout", "Identity", "Cast", "Neg", "Sqrt", "Exp", "Log", "Abs",
      "Floor", "Ceil", "Not", "Reciprocal", "BatchNormalization", "LayerNormalization",
      "InstanceNormalization", "LRN", "CastLike", "Round", "Sign")  # fmt: skip
@_guard
def _same(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    out: list[Shape | None] = [x] + [None] * (len(node.outputs) - 1)
    values: list[Values | None] = [None] * len(node.outputs)
    if node.op in ("PRelu",):
        out[0] = _broadcast(x, _need(shapes[1]))
    fold = _UNARY.get(node.op)
    if fold is not None and consts[0] is not None:
        values[0] = tuple(fold(v) for v in consts[0])
    return Result(out, values)


_UNARY: dict[str, Callable[[Any], Any]] = {
    "Identity": lambda v: v,
    "Cast": lambda v: v,
    "Neg": lambda v: -v,
    "Abs": abs,
    "Floor": floor,
    "Ceil": ceil,
}
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: int(a / b) if isinstance(a, int) and isinstance(b, int) else a / b,
    "Max": max,
    "Min": min,
    "Equal": lambda a, b: int(a == b),
    "Less": lambda a, b: int(a < b),
    "Greater": lambda a, b: int(a > b),
}


@rule("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Less",
      "Greater", "And", "Or", "Where", "Mod", "BitShift")  # fmt: skip
@_guard
def _elementwise(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    ins = [_need(s) for s in shapes]
    out = _broadcast(*ins)
    value: Values | None = None
    fold = _BINARY.get(node.op)
    if fold is not None and len(ins) == 2 and all(c is not None for c in consts):
        a, b = consts[0], consts[1]
        assert a is not None and b is not None
        if (
            prod(out) <= MAX_CONSTANT
            and (len(a) == 1 or len(a) == prod(out))
            and (len(b) == 1 or len(b) == prod(out))
        ):
            n = prod(out)
            value = tuple(
                fold(a[i % len(a)], b[i % len(b)]) for i in range(n)
            )  # broadcasting of a scalar or an equal shape
            if any(isinstance(v, int) and abs(v) > MAX_DIM * MAX_DIM for v in value):
                value = None  # numbers growing without bound: no longer a shape
    if node.op == "Where" and all(c is not None for c in consts) and prod(out) <= MAX_CONSTANT:
        c, a, b = consts
        assert c is not None and a is not None and b is not None
        value = tuple(a[i % len(a)] if c[i % len(c)] else b[i % len(b)] for i in range(prod(out)))
    return Result([out], [value])


def _spatial_attrs(
    node: Node, x: Shape, kernel: Sequence[int]
) -> tuple[list[int], list[int], list[int], list[int]]:
    dims = len(x) - 2
    strides = list(node.attrs.get("strides") or [1] * dims)
    dilations = list(node.attrs.get("dilations") or [1] * dims)
    pads = list(node.attrs.get("pads") or [0] * (2 * dims))
    if (
        len(kernel) != dims
        or len(strides) != dims
        or len(dilations) != dims
        or len(pads) != 2 * dims
    ):
        raise Failure(f"its attributes do not fit an input of shape {_fmt(x)}")
    if min(strides) < 1 or min(dilations) < 1 or min(kernel) < 1 or min(pads, default=0) < 0:
        raise Failure("a kernel, stride, dilation or padding out of range")
    return strides, dilations, pads, list(kernel)


def _windows(node: Node, x: Shape, kernel: Sequence[int], *, ceil_mode: bool = False) -> Shape:
    strides, dilations, pads, kernel = _spatial_attrs(node, x, kernel)
    dims = len(kernel)
    auto = node.attrs.get("auto_pad", "NOTSET")
    out = []
    for i in range(dims):
        size, k, s, d = x[2 + i], kernel[i], strides[i], dilations[i]
        reach = d * (k - 1) + 1
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            n = -(-size // s)
        elif auto == "VALID":
            n = (size - reach) // s + 1
        else:
            total = size + pads[i] + pads[i + dims] - reach
            n = (-(-total // s) if ceil_mode else total // s) + 1
            if ceil_mode and (n - 1) * s >= size + pads[i]:
                n -= 1
        if n < 1:
            raise Failure(f"input {_fmt(x)} is too small for the window (output size {n})")
        out.append(n)
    return tuple(out)


@rule("Conv")
@_guard
def _conv(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x, w = _need(shapes[0]), _need(shapes[1])
    if len(x) < 3 or len(w) != len(x):
        raise Failure(f"input {_fmt(x)} and weight {_fmt(w)} do not fit")
    group = node.attrs.get("group", 1)
    if group < 1 or x[1] != w[1] * group or w[0] % group:
        raise Failure(f"input {_fmt(x)}, weight {_fmt(w)} and group {group} do not fit")
    kernel = node.attrs.get("kernel_shape") or w[2:]
    sizes = _windows(node, x, kernel)
    out = (x[0], w[0], *sizes)
    return Result([out], macs=prod(out) * prod(w[1:]))


@rule("ConvTranspose")
@_guard
def _conv_transpose(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x, w = _need(shapes[0]), _need(shapes[1])
    if len(x) < 3 or len(w) != len(x) or x[1] != w[0]:
        raise Failure(f"input {_fmt(x)} and weight {_fmt(w)} do not fit")
    group = node.attrs.get("group", 1)
    kernel = node.attrs.get("kernel_shape") or w[2:]
    strides, dilations, pads, kernel = _spatial_attrs(node, x, kernel)
    dims = len(kernel)
    extra = list(node.attrs.get("output_padding") or [0] * dims)
    given = node.attrs.get("output_shape")
    if given:
        sizes = tuple(given[-dims:])
    else:
        sizes = tuple(
            strides[i] * (x[2 + i] - 1) + extra[i] + dilations[i] * (kernel[i] - 1) + 1
            - pads[i] - pads[i + dims]
            for i in range(dims)
        )  # fmt: skip
    if min(sizes) < 1:
        raise Failure(f"output size {_fmt(sizes)} below 1")
    out = (x[0], w[1] * group, *sizes)
    return Result([out], macs=prod(x[:1]) * prod(x[2:]) * prod(w))


@rule("Gemm")
@_guard
def _gemm(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    a, b = _need(shapes[0]), _need(shapes[1])
    if len(a) != 2 or len(b) != 2:
        raise Failure(f"Gemm of {_fmt(a)} and {_fmt(b)}: both must be matrices")
    m, k = (a[1], a[0]) if node.attrs.get("transA") else a
    k2, n = (b[1], b[0]) if node.attrs.get("transB") else b
    if k != k2:
        raise Failure(f"Gemm of {_fmt(a)} and {_fmt(b)}: inner sizes differ")
    return Result([(m, n)], macs=m * k * n)


@rule("MatMul")
@_guard
def _matmul(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    a, b = _need(shapes[0]), _need(shapes[1])
    if not a or not b:
        raise Failure("MatMul of a scalar")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise Failure(f"MatMul of {_fmt(a)} and {_fmt(b)}: inner sizes differ")
    batch = _broadcast(a2[:-2], b2[:-2]) if len(a2) > 2 or len(b2) > 2 else ()
    out = (*batch, a2[-2], b2[-1])
    macs = prod(batch) * a2[-2] * a2[-1] * b2[-1]
    if len(a) == 1:
        out = (*batch, b2[-1])
    if len(b) == 1:
        out = out[:-1]
    return Result([out], macs=macs)


@rule("MaxPool", "AveragePool", "LpPool")
@_guard
def _pool(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    kernel = node.attrs.get("kernel_shape")
    if not kernel or len(x) < 3:
        raise Failure("a pooling without kernel_shape or a spatial input")
    sizes = _windows(node, x, kernel, ceil_mode=bool(node.attrs.get("ceil_mode", 0)))
    out = (*x[:2], *sizes)
    return Result([out] * len(node.outputs))


@rule("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool")
@_guard
def _global_pool(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    return Result([(*x[:2], *(1 for _ in x[2:]))])


@rule("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2")
@_guard
def _reduce(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    axes = node.attrs.get("axes")
    if axes is None and len(node.inputs) > 1 and node.inputs[1]:
        axes = consts[1]
        if axes is None:
            raise _Unknown
    keep = node.attrs.get("keepdims", 1)
    rank = len(x)
    chosen = {_axis(a, rank) for a in axes} if axes else set(range(rank))
    if not axes and node.attrs.get("noop_with_empty_axes"):
        chosen = set()
    out = tuple(1 if i in chosen else d for i, d in enumerate(x) if keep or i not in chosen)
    return Result([out])


@rule("Flatten")
@_guard
def _flatten(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    axis = node.attrs.get("axis", 1)
    axis = axis % len(x) if axis < 0 else axis
    return Result([(prod(x[:axis]), prod(x[axis:]))])


@rule("Reshape")
@_guard
def _reshape(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    target = node.attrs.get("shape") if len(node.inputs) < 2 else consts[1]
    if target is None:
        raise _Unknown
    allowzero = node.attrs.get("allowzero", 0)
    sizes = [
        x[i] if t == 0 and not allowzero and i < len(x) else int(t) for i, t in enumerate(target)
    ]
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise Failure(f"target shape {list(target)}")
    known = prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if known == 0 or prod(x) % known:
            raise Failure(f"{_fmt(x)} cannot be reshaped to {list(target)}")
        sizes[sizes.index(-1)] = prod(x) // known
    if prod(sizes) != prod(x):
        raise Failure(f"{_fmt(x)} cannot be reshaped to {list(target)}")
    value = consts[0] if consts[0] is not None else None
    return Result([tuple(sizes)], [value])


@rule("Transpose")
@_guard
def _transpose(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    perm = node.attrs.get("perm") or tuple(reversed(range(len(x))))
    if sorted(perm) != list(range(len(x))):
        raise Failure(f"perm {list(perm)} for a tensor of {len(x)} dimensions")
    return Result([tuple(x[p] for p in perm)])


def _axes_operand(node: Node, consts: list[Values | None]) -> Values:
    axes = node.attrs.get("axes")
    if axes is None and len(node.inputs) > 1 and node.inputs[1]:
        axes = consts[1]
        if axes is None:
            raise _Unknown
    return tuple(axes or ())


@rule("Unsqueeze")
@_guard
def _unsqueeze(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    axes = _axes_operand(node, consts)
    rank = len(x) + len(axes)
    chosen = sorted(_axis(a, rank) for a in axes)
    out = list(x)
    for a in chosen:
        out.insert(a, 1)
    return Result([tuple(out)], [consts[0]])


@rule("Squeeze")
@_guard
def _squeeze(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    axes = _axes_operand(node, consts)
    chosen = {_axis(a, len(x)) for a in axes} if axes else {i for i, d in enumerate(x) if d == 1}
    return Result([tuple(d for i, d in enumerate(x) if i not in chosen)], [consts[0]])


@rule("Concat")
@_guard
def _concat(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    ins = [_need(s) for s in shapes]
    axis = _axis(node.attrs.get("axis", 0), len(ins[0]))
    if any(len(s) != len(ins[0]) or s[:axis] + s[axis + 1 :] != ins[0][:axis] + ins[0][axis + 1 :]
           for s in ins):  # fmt: skip
        raise Failure(f"cannot concatenate {', '.join(map(_fmt, ins))} on axis {axis}")
    out = list(ins[0])
    out[axis] = sum(s[axis] for s in ins)
    value: Values | None = None
    if len(out) == 1 and all(c is not None for c in consts):
        value = tuple(v for c in consts for v in c or ())
    return Result([tuple(out)], [_flat(value, tuple(out))])


@rule("Shape")
@_guard
def _shape(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    start = node.attrs.get("start", 0)
    end = node.attrs.get("end", len(x))
    part = x[start:end]
    return Result([(len(part),)], [part])


@rule("Size")
@_guard
def _size(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    return Result([()], [(prod(_need(shapes[0])),)])


@rule("Constant")
@_guard
def _constant(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    attrs = node.attrs
    if attrs.get("value") is not None:
        tensor = attrs["value"]
        return Result([tensor.dims], [tensor.values])
    for key in ("value_int", "value_float"):
        if key in attrs:
            return Result([()], [(attrs[key],)])
    for key in ("value_ints", "value_floats"):
        if key in attrs:
            return Result([(len(attrs[key]),)], [tuple(attrs[key])])
    raise _Unknown


@rule("ConstantOfShape")
@_guard
def _constant_of_shape(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    target = consts[0]
    if target is None:
        raise _Unknown
    out = tuple(int(t) for t in target)
    tensor = node.attrs.get("value")
    fill = tensor.values[0] if tensor is not None and tensor.values else 0
    value = (fill,) * prod(out) if prod(out) <= MAX_CONSTANT else None
    return Result([out], [value])


@rule("Gather")
@_guard
def _gather(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x, idx = _need(shapes[0]), _need(shapes[1])
    axis = _axis(node.attrs.get("axis", 0), len(x))
    out = (*x[:axis], *idx, *x[axis + 1 :])
    value: Values | None = None
    data, index = consts[0], consts[1]
    if data is not None and index is not None and len(x) == 1:
        value = tuple(data[int(i) % x[0]] for i in index)
    return Result([out], [value])


@rule("Slice")
@_guard
def _slice(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    if len(node.inputs) >= 3:
        starts, ends = consts[1], consts[2]
        axes = consts[3] if len(node.inputs) > 3 and node.inputs[3] else None
        steps = consts[4] if len(node.inputs) > 4 and node.inputs[4] else None
        if (
            starts is None
            or ends is None
            or (len(node.inputs) > 3 and node.inputs[3] and axes is None)
        ):
            raise _Unknown
        if len(node.inputs) > 4 and node.inputs[4] and steps is None:
            raise _Unknown
    else:
        starts, ends = node.attrs.get("starts"), node.attrs.get("ends")
        axes, steps = node.attrs.get("axes"), None
        if starts is None or ends is None:
            raise Failure("a Slice without starts and ends")
    axes = axes or tuple(range(len(starts)))
    steps = steps or (1,) * len(starts)
    out = list(x)
    ranges = [range(d) for d in x]
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        a = _axis(int(axis), len(x))
        if step == 0:
            raise Failure("a Slice step of 0")
        ranges[a] = range(x[a])[slice(int(start), int(end), int(step))]
        out[a] = len(ranges[a])
    value: Values | None = None
    if consts[0] is not None and len(x) == 1:
        value = tuple(consts[0][i] for i in ranges[0])
    return Result([tuple(out)], [value])


@rule("Split")
@_guard
def _split(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    axis = _axis(node.attrs.get("axis", 0), len(x))
    parts = node.attrs.get("split")
    if parts is None and len(node.inputs) > 1 and node.inputs[1]:
        parts = consts[1]
        if parts is None:
            raise _Unknown
    count = len(node.outputs)
    if not parts:
        size = -(-x[axis] // count)
        parts = [min(size, x[axis] - i * size) for i in range(count)]
    if len(parts) != count or sum(parts) != x[axis]:
        raise Failure(f"split {list(parts)} of size {x[axis]}")
    return Result([(*x[:axis], int(p), *x[axis + 1 :]) for p in parts])


@rule("Expand")
@_guard
def _expand(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x, target = _need(shapes[0]), consts[1]
    if target is None:
        raise _Unknown
    return Result([_broadcast(x, tuple(int(t) for t in target))])


@rule("Pad")
@_guard
def _pad(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    pads = node.attrs.get("pads") if len(node.inputs) < 2 else consts[1]
    if pads is None:
        raise _Unknown
    axes = consts[3] if len(node.inputs) > 3 and node.inputs[3] else tuple(range(len(x)))
    if axes is None:
        raise _Unknown
    out = list(x)
    for i, axis in enumerate(axes):
        a = _axis(int(axis), len(x))
        out[a] += int(pads[i]) + int(pads[i + len(axes)])
    return Result([tuple(out)])


@rule("Resize", "Upsample")
@_guard
def _resize(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    if node.op == "Upsample" or len(node.inputs) == 2:
        scales = consts[1] if len(node.inputs) > 1 else node.attrs.get("scales")
        sizes = None
    else:
        scales = consts[2] if len(node.inputs) > 2 and node.inputs[2] else None
        sizes = consts[3] if len(node.inputs) > 3 and node.inputs[3] else None
    if sizes:
        return Result([tuple(int(s) for s in sizes)])
    if not scales:
        raise _Unknown
    if len(scales) != len(x):
        raise Failure(f"{len(scales)} scales for a tensor of {len(x)} dimensions")
    return Result([tuple(floor(d * s) for d, s in zip(x, scales, strict=True))])


@rule("Tile")
@_guard
def _tile(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x, repeats = _need(shapes[0]), consts[1]
    if repeats is None or len(repeats) != len(x):
        raise _Unknown
    return Result([tuple(d * int(r) for d, r in zip(x, repeats, strict=True))])


@rule("Range")
@_guard
def _range(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    if any(c is None or len(c) != 1 for c in consts):
        raise _Unknown
    start, limit, delta = (c[0] for c in consts if c is not None)
    if delta == 0:
        raise Failure("a Range step of 0")
    n = max(ceil((limit - start) / delta), 0)
    value = tuple(start + i * delta for i in range(n)) if n <= MAX_CONSTANT else None
    return Result([(n,)], [value])


@rule("ArgMax", "ArgMin")
@_guard
def _argmax(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x = _need(shapes[0])
    axis = _axis(node.attrs.get("axis", 0), len(x))
    keep = node.attrs.get("keepdims", 1)
    return Result([tuple(1 if i == axis else d for i, d in enumerate(x) if keep or i != axis)])


@rule("GatherND")
@_guard
def _gather_nd(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    x, idx = _need(shapes[0]), _need(shapes[1])
    batch = node.attrs.get("batch_dims", 0)
    if not idx or idx[-1] + batch > len(x):
        raise Failure(f"indices {_fmt(idx)} for data {_fmt(x)}")
    return Result([(*idx[:-1], *x[batch + idx[-1] :])])


@rule("ScatterND", "ScatterElements")
@_guard
def _scatter(engine: Engine, node: Node, shapes: Shapes, consts: Consts) -> Result:
    return Result([_need(shapes[0])])
