"""onnx-tool 1.0.1's per-node profile of an ONNX file, reproduced from convcount's decoded graph.

``m = onnx_tool.Model(path); m.graph.shape_infer(); m.graph.profile();
m.graph.print_node_map()`` lists every node of the file in the file's order, by
its name (``Op_N``, N its position, for a node without one), with

* **Forward_MACs** by the node's class in onnx-tool's ``node.py``: Conv and
  ConvTranspose output elements × the weight's size over its first axis, plus 1
  per output element with a bias; Gemm and MatMul output elements × the inner
  size, plus 1 per output element with a bias; elementwise ops (Add, Sub, Mul, Max,
  Min, Neg, Abs, ...) 1 per output element, Div 4; activations per output element
  by their instruction cost (Relu 1, Clip 2, LeakyRelu and PRelu 2, HardSigmoid 4,
  HardSwish 5, Exp and Sigmoid 32, Softmax 36, Gelu 34, Silu 33, Elu 35, Tanh 76,
  Sqrt 24, Pow 32, Log 43, Reciprocal 4, ...); MaxPool and AveragePool output
  elements × the kernel's first two sizes; GlobalAveragePool 1 per input element
  and 4 per output element; ReduceMean/Sum/Max/Min 1 per input element;
  BatchNormalization 31 per element; LayerNormalization 7 per element and 29 per
  normalised row; Resize linear 4, cubic 8, nearest 0 per output element; the
  comparisons 1 per output element; Erf, Identity, Dropout, shape ops and data
  movement (Transpose, Reshape, Concat, Split, Gather, Pad, Slice, ...) 0;
* **Memory**: the bytes of the node's outputs (a Constant's: none) plus those of
  every initializer it is the first node to take, whatever its type (a Reshape's
  int64 target shape too);
* **Params**: the elements of those initializers, each counted once at its first
  node; a scalar counts 0 (onnx-tool's ``volume([])`` is 0), as does a scalar's
  output memory;
* each figure's share of its total, to two places, and the Total row (the MACs
  summed in floating point and rounded); ``onnx_tool.model_profile()`` prints the
  same MACs, but leaves the nodes of its ``NoMacsOps`` (:data:`HIDDEN`) out of its
  rows and of its Memory and Params.

Einsum counts the product of all its letters' sizes, ReduceL2 25 per input element
(over the axes of its attribute only: an axes operand is ignored), LSTM and GRU the
weights' products per step and time-major example plus per hidden value its gate
costs (LSTM 180, GRU 110), NonZero 1 per output element, ArgMax, TopK, Trilu,
DepthToSpace, ScatterND, GridSample, GatherElements and Range 0.

Shapes and element types are onnx-tool's own inference (its shape rules, e.g. a
pooling's output size by floor or ceil of a division, and numpy's types for the
nodes that compute a shape), at the file's input shapes, the first axis times the
batch given.
onnx-tool stops (NotImplementedError) on an op it registers no class for; such a
node is refused here, naming it, as is an op whose rule is not reproduced.
"""

from __future__ import annotations

from collections.abc import Callable
from math import ceil, floor, prod
from typing import Any

from convcount.errors import ConvcountError

VERSION = "1.0.1"
#: Most values a shape computation may hold (a shape, an axis list); more is refused.
MAX_VALUES = 1 << 16

# onnx-tool's instruction costs (node.py)
_ADD = _MUL = _CMP = 1
_DIV = 4
_EXP = _POW = 32
_LOG = 43
_SIN = _COS = 39
_SQRT = 24
_TANH = _EXP + 2 * _ADD + _DIV
_ATAN = _SQRT + 3 * _MUL + _MUL + _DIV

#: numpy's item size of each ONNX element type onnx-tool maps (others: numpy's
#: default float64, 8 bytes).
_TYPES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
    7: "int64", 9: "bool", 10: "float16", 11: "float64",
}  # fmt: skip
_ITEM = {
    "float32": 4, "uint8": 1, "int8": 1, "uint16": 2, "int16": 2, "int32": 4,
    "int64": 8, "bool": 1, "float16": 2, "float64": 8,
}  # fmt: skip

#: Elementwise ops (NpMathBase: broadcast shape) and their cost per output element.
_NPMATH = {"Sub": 1, "Add": 1, "Min": 1, "Max": 1, "Neg": 1, "Div": _DIV, "Mod": 1, "Mul": 1,
           "Abs": 1, "Ceil": 1}  # fmt: skip
#: Pointwise ops (PWNode: the largest input's shape) and their cost per output element.
_PW = {
    "Exp": _EXP, "Softmax": _EXP + _DIV, "Softplus": _EXP + _ADD + _LOG, "Log": _LOG,
    "ImageScaler": _ADD + _MUL, "InstanceNormalization": 2 * _ADD + _MUL + _DIV,
    "LpNormalization": _EXP + _ADD, "Sqrt": _SQRT, "Pow": _POW, "Sin": _SIN, "Cos": _COS,
    "Sigmoid": _EXP, "Tanh": 2 * _TANH, "LogSoftmax": _EXP + _DIV + _ADD + _LOG,
    "Atan": 2 * _ATAN, "Sign": _CMP, "HardSigmoid": _MUL + _ADD + 2 * _CMP,
    "HardSwish": 2 * _MUL + _ADD + 2 * _CMP, "Relu": _CMP,
    "Elu": _CMP + _EXP + _ADD + _MUL, "Silu": _EXP + _MUL, "Gelu": _EXP + 2 * _MUL,
    "PRelu": _CMP + _MUL, "LeakyRelu": _MUL + _CMP, "Clip": 2 * _CMP, "Reciprocal": _DIV,
    "Relu6": 2 * _CMP, "CumSum": _ADD, "Hardmax": _ADD, "QuantizeLinear": _MUL + _ADD,
    "DequantizeLinear": _MUL + _ADD, "CategoryMapper": 0,
}  # fmt: skip
#: Comparisons (output bool, 1 per output element); Equal and Greater have no shape
#: rule of their own (numpy's broadcast result), the others broadcast.
_COMPARE = frozenset(
    {"Less", "LessOrEqual", "Not", "And", "Or", "Xor", "Round", "Equal", "Greater",
     "GreaterOrEqual"}
)  # fmt: skip
_REDUCE = frozenset({"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd"})
#: Every op onnx-tool 1.0.1 registers a class for (others stop its shape inference).
_REGISTERED = (
    "Abs Add And ArgMax ArrayFeatureExtractor Atan AveragePool BatchNormalization Cast "
    "CategoryMapper Ceil Clip Compress Concat Constant ConstantOfShape Conv ConvInteger "
    "ConvTranspose Cos CumSum DepthToSpace DequantizeLinear Div Dropout Einsum Elu Equal Erf "
    "Exp Expand Flatten Floor GQA GRU Gather GatherElements GatherND GeGelu Gelu Gemm "
    "GlobalAveragePool Greater GreaterOrEqual GridSample HardSigmoid HardSwish Hardmax "
    "Identity ImageScaler InstanceNormalization LRN LSTM LayerNormalization LeakyRelu Less "
    "LessOrEqual Log LogSoftmax LogitSoftCapping LpNormalization MHA MQA MatMul MatMulInteger "
    "Max MaxPool Min Mod Mul Neg NonMaxSuppression NonZero Not OneHot Or PRelu Pad Pool Pow "
    "QLinearConv QLinearMatMul QuantizeLinear RandomNormalLike RandomUniformLike Range "
    "Reciprocal ReduceL2 ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum Relu Relu6 "
    "Reshape Resize RoiAlign Rope Round Scan ScatterElements ScatterND Shape Sigmoid Sign Silu "
    "Sin Slice Softmax Softplus Split Sqrt Squeeze Sub Sum Tanh Tile TopK Transpose Trilu "
    "Unsqueeze Upsample Where Xor ZipMap"
)
REGISTERED = frozenset(_REGISTERED.split())
#: Operands that hold a shape (graph.py's _SHAPE_TENSORS): "positions of count" inputs.
_SHAPE_OPERANDS: dict[str, tuple[tuple[tuple[int, ...], int], ...]] = {
    "Reshape": (((1,), 2),),
    "Resize": (((2,), 3), ((3,), 4), ((1,), 2)),
    "Upsample": (((2,), 3), ((3,), 4), ((1,), 2)),
    "Expand": (((1,), 2),),
    "Slice": (((1, 2), 3), ((1, 2, 3), 4), ((1, 2, 3, 4), 5)),
    "ConstantOfShape": (((0,), 1),),
    "Tile": (((1,), 2),),
    "Range": (((0, 1, 2), 3),),
    "OneHot": (((1,), 3),),
    "TopK": (((1,), 2),),
    "Pad": (((1,), 2), ((1,), 3)),
    "NonMaxSuppression": (((2,), 5), ((2,), 4)),
    "Split": (((1,), 2),),
    "Unsqueeze": (((1,), 2),),
    "Squeeze": (((1,), 2),),
    "ReduceSum": (((1,), 2),),
    "ReduceMean": (((1,), 2),),
}


class _Refused(Exception):
    """onnx-tool's figure for this node is not reproduced (or onnx-tool stops)."""


class Tensor:
    """A tensor as onnx-tool tracks it: shape, numpy element type, values when known."""

    __slots__ = ("dtype", "shape", "value")

    def __init__(self, shape: list[Any], dtype: str | None, value: list[Any] | None = None):
        self.shape = shape
        self.dtype = dtype
        self.value = value
        """Flattened values (of an initializer, a Constant or a shape computation)."""

    def item(self) -> int:
        return _ITEM.get(self.dtype or "", 8)

    def values(self) -> list[Any]:
        """Its values; a tensor onnx-tool holds no values of reads as zeros of its shape."""
        if self.value is not None:
            return self.value
        count = _volume(self.shape) if self.shape else 1
        if count > MAX_VALUES:
            raise _Refused(f"a shape operand of {count:,} values")
        return [0] * count


class NodeRow:
    """One row of onnx-tool's table."""

    __slots__ = (
        "index", "inshape", "layer", "macs", "memory", "name", "op", "outputs", "outshape",
        "params",
    )  # fmt: skip

    def __init__(self, index: int, name: str, op: str) -> None:
        self.index = index
        self.name = name
        self.op = op
        self.macs = 0
        self.memory = 0
        self.params = 0
        self.outputs = 0
        """The bytes of its outputs (in its memory, unless it is a Constant)."""
        self.inshape = ""
        self.outshape = ""
        self.layer: str | None = None


def _volume(shape: list[Any]) -> int:
    """onnx-tool's volume: the product of the sizes, 0 for a scalar's empty shape."""
    if any(not isinstance(d, int) for d in shape):
        raise _Refused("a size left open")
    return prod(shape) if shape else 0


def _axis(axis: int, rank: int) -> int:
    return rank + axis if axis < 0 else axis


def _broadcast(shapes: list[list[int]]) -> list[int]:
    rank = max((len(s) for s in shapes), default=0)
    padded = [[1] * (rank - len(s)) + list(s) for s in shapes]
    out = []
    for dims in zip(*padded, strict=True):
        top = max(dims)
        if 0 in dims:
            top = 0
        if any(d not in (top, 1) and not (top == 0 and d == 0) for d in dims):
            raise _Refused(f"shapes {shapes} do not broadcast")
        out.append(top)
    return out


def _max_shape(shapes: list[list[int]]) -> list[int]:
    best = shapes[0]
    for shape in shapes:
        if _volume(shape) > _volume(best) or (
            _volume(shape) == _volume(best) and len(shape) > len(best)
        ):
            best = shape
    return list(best)


def _promote(a: str | None, b: str | None) -> str | None:
    """numpy's result type of two arrays (the types shape computations meet)."""
    if a == b:
        return a
    if a == "bool" or b is None:
        return b if a == "bool" else a
    if b == "bool":
        return a
    floats = [t for t in (a, b) if t and t.startswith("float")]
    if floats:
        ints = [t for t in (a, b) if t and not t.startswith("float")]
        if "float64" in floats or any(t in ("int32", "int64", "uint32", "uint64") for t in ints):
            return "float64"
        return max(floats, key=lambda t: _ITEM[t])
    return max((a, b), key=lambda t: _ITEM.get(t or "", 8))


class Profile:
    """onnx-tool's shape inference and profile over one decoded graph."""

    def __init__(self, graph: Any, inputs: dict[str, tuple[int, ...]]) -> None:
        self.graph = graph
        self.tensors: dict[str, Tensor] = {}
        inits = graph.initializers
        for init in inits.values():
            dtype = _TYPES.get(init.data_type)
            if dtype is None:
                raise ConvcountError(
                    "count_as",
                    f"--count-as onnx-tool: initializer {init.name!r} is of ONNX type "
                    f"{init.data_type}, which onnx-tool {VERSION} cannot read",
                )
            values = list(init.values) if init.values is not None else None
            self.tensors[init.name] = Tensor(list(init.dims), dtype, values)
        for value in [*graph.inputs, *graph.outputs, *graph.values.values()]:
            if value.name not in self.tensors:
                dims = [d for d in (value.dims or ()) if d is not None and d != ""]
                self.tensors[value.name] = Tensor(dims, _TYPES.get(value.elem_type))
        for name, shape in inputs.items():
            if name in self.tensors:
                self.tensors[name].shape = list(shape)
        self.names: list[str] = []
        seen: set[str] = set()
        for index, node in enumerate(graph.nodes):
            name = node.name or f"{node.op}_{index}"
            if name in seen:
                raise ConvcountError(
                    "count_as",
                    f"--count-as onnx-tool: two nodes are named {name!r}; onnx-tool keeps "
                    "only one of them",
                )
            seen.add(name)
            self.names.append(name)
            for operand in (*node.inputs, *node.outputs):
                if operand not in self.tensors:
                    self.tensors[operand] = Tensor([], "float32")
        self.shape_calc = self._shape_calc()

    def _shape_calc(self) -> set[int]:
        """The nodes that compute a shape operand (evaluated with numpy, not shape rules)."""
        producer: dict[str, int] = {}
        for index, node in enumerate(self.graph.nodes):
            for out in node.outputs:
                producer.setdefault(out, index)
        marked: set[int] = set()
        inits = self.graph.initializers
        for node in self.graph.nodes:
            for positions, count in _SHAPE_OPERANDS.get(node.op, ()):
                if len(node.inputs) != count:
                    continue
                todo = [producer[t] for p in positions if (t := node.inputs[p]) in producer
                        and t not in inits]  # fmt: skip
                while todo:
                    following = []
                    for index in todo:
                        marked.add(index)
                        source = self.graph.nodes[index]
                        if source.op == "Shape":
                            continue
                        following += [
                            producer[t]
                            for t in source.inputs
                            if t in producer and t not in inits and producer[t] not in marked
                        ]
                    todo = following
        return marked

    # -- the walk ---------------------------------------------------------------

    def run(self) -> list[NodeRow]:
        inits = self.graph.initializers
        counted: set[str] = set()
        rows = []
        for index, node in enumerate(self.graph.nodes):
            name = self.names[index]
            if node.op not in REGISTERED:
                raise ConvcountError(
                    "count_as",
                    f"--count-as onnx-tool: node {name!r} ({node.op}): onnx-tool {VERSION} "
                    f"has no class for {node.op}, and its shape inference stops there "
                    "(NotImplementedError)",
                )
            ins = [self.tensors[i] for i in node.inputs]
            outs = [self.tensors[o] for o in node.outputs]
            if (not ins and node.op != "Constant") or not outs:
                raise ConvcountError(
                    "count_as",
                    f"--count-as onnx-tool: node {name!r} ({node.op}) has no "
                    f"{'outputs' if ins else 'operands'}, which onnx-tool's rules read",
                )
            try:
                self._infer(index, node, ins, outs)
                macs = self._macs(node, ins, outs)
                row = NodeRow(index, name, node.op)
                for operand in node.inputs:
                    if operand in inits and operand not in counted:
                        counted.add(operand)
                        tensor = self.tensors[operand]
                        row.params += _volume(tensor.shape)
                        row.memory += _volume(tensor.shape) * tensor.item()
                row.outputs = sum(_volume(t.shape) * t.item() for t in outs)
                if node.op != "Constant":
                    row.memory += row.outputs
            except _Refused as error:
                text = str(error)
                if "onnx-tool stops" not in text:
                    text = f"onnx-tool's figures are not reproduced for {text}"
                raise ConvcountError(
                    "count_as", f"--count-as onnx-tool: node {name!r} ({node.op}): {text}"
                ) from None
            except (IndexError, KeyError, TypeError, ValueError, ArithmeticError):
                raise ConvcountError(
                    "count_as",
                    f"--count-as onnx-tool: node {name!r} ({node.op}): its operands or "
                    f"attributes do not fit onnx-tool's rule for {node.op}",
                ) from None
            row.macs = macs
            row.inshape = _show(ins[0].shape if ins else [])
            row.outshape = _show(outs[0].shape if outs else [])
            rows.append(row)
        return rows

    # -- shapes and types -----------------------------------------------------

    def _infer(self, index: int, node: Any, ins: list[Tensor], outs: list[Tensor]) -> None:
        op, attrs = node.op, node.attrs
        values = index in self.shape_calc
        if values:
            self._evaluate(node, ins, outs)
            return
        first = ins[0] if ins else None
        if op in _NPMATH:
            outs[0].shape = _broadcast([t.shape for t in ins])
            outs[0].dtype = ins[0].dtype
        elif op in ("QuantizeLinear", "DequantizeLinear"):
            # the output takes the zero point's type (quantize) or the scale's
            outs[0].shape = list(ins[0].shape)
            outs[0].dtype = ins[2 if op == "QuantizeLinear" else 1].dtype
        elif op in _PW or op in {"Sum", "LRN"}:
            outs[0].shape = _max_shape([t.shape for t in ins])
            outs[0].dtype = ins[0].dtype
        elif op in ("Less", "LessOrEqual", "Not", "And", "Or", "Xor", "Round"):
            outs[0].shape = _broadcast([t.shape for t in ins])
            outs[0].dtype = "bool"
        elif op in ("Equal", "Greater", "GreaterOrEqual"):
            outs[0].shape = _broadcast([t.shape for t in ins[:2]])
            outs[0].dtype = "bool"
            outs[0].value = None
        elif op in ("Identity", "Erf", "Floor", "BatchNormalization", "LayerNormalization"):
            assert first is not None
            outs[0].shape = list(first.shape)
            outs[0].dtype = first.dtype
        elif op == "Dropout":
            assert first is not None
            outs[0].shape = list(first.shape)
            outs[0].dtype = first.dtype
            if len(outs) == 2:
                outs[1].shape, outs[1].dtype = list(first.shape), "bool"
        elif op == "Conv":
            self._conv(node, ins, outs)
        elif op == "ConvTranspose":
            self._conv_transpose(node, ins, outs)
        elif op in ("Gemm", "MatMul"):
            self._gemm(node, ins, outs)
        elif op in ("MaxPool", "AveragePool"):
            self._pool(node, ins, outs)
        elif op == "GlobalAveragePool":
            assert first is not None
            outs[0].shape = first.shape[:2] + [1] * (len(first.shape) - 2)
            outs[0].dtype = first.dtype
        elif op in _REDUCE:
            assert first is not None
            axes = list(ins[1].values()) if len(ins) == 2 else attrs.get("axes")
            if axes is None:
                return  # onnx-tool returns without a shape: the output keeps its own
            keep = attrs.get("keepdims", 1)
            chosen = [_axis(int(a), len(first.shape)) for a in axes]
            outs[0].shape = [
                1 if i in chosen else d
                for i, d in enumerate(first.shape)
                if keep or i not in chosen
            ]
            outs[0].dtype = first.dtype
        elif op == "Where":
            outs[0].shape = _max_shape([t.shape for t in ins[:3]])
            outs[0].dtype = ins[1].dtype
        elif op == "Cast":
            assert first is not None
            outs[0].shape = list(first.shape)
            outs[0].dtype = _TYPES.get(int(attrs["to"]))
        elif op in ("Resize", "Upsample"):
            self._resize(node, ins, outs)
        elif op == "Pad":
            assert first is not None
            pads = attrs.get("pads")
            if pads is None:
                pads = ins[1].values() if len(ins) > 1 else None
            rank = len(first.shape)
            outs[0].shape = (
                [int(d + pads[i] + pads[i + rank]) for i, d in enumerate(first.shape)]
                if pads is not None
                else []
            )
            outs[0].dtype = first.dtype
        else:
            # the rest: value rules (onnx-tool's shape_infer is its value_infer), run on
            # the values it holds, zeros for the activations
            self._evaluate(node, ins, outs)

    def _conv(self, node: Any, ins: list[Tensor], outs: list[Tensor]) -> None:
        attrs = node.attrs
        x, w = ins[0].shape, ins[1].shape
        pads = list(attrs.get("pads") or (0, 0, 0, 0, 0, 0))
        strides = list(attrs.get("strides") or (1, 1, 1))
        dil = list(attrs.get("dilations") or (1, 1, 1))
        auto = attrs.get("auto_pad")
        shape: list[int] = []
        if auto is not None and auto != "NOTSET":
            if auto in ("SAME_LOWER", "SAME_UPPER"):
                shape = [x[0], w[0], ceil(x[2] / strides[0])]
                if len(x) == 4:
                    shape.append(ceil(x[3] / strides[1]))
            elif auto == "VALID":
                shape = [x[0], w[0], ceil((x[2] - w[2] + 1) / strides[0])]
                if len(x) == 4:
                    shape.append(ceil((x[3] - w[3] + 1) / strides[1]))
            else:
                raise _Refused(f"auto_pad {auto!r}")
        else:
            dims = len(x) - 2
            if dims not in (1, 2, 3):
                raise _Refused(f"a {len(x)}-D input")
            shape = [x[0], w[0]] + [
                int((x[2 + i] + pads[i] + pads[i + dims] - dil[i] * (w[2 + i] - 1) - 1)
                    / strides[i] + 1)
                for i in range(dims)
            ]  # fmt: skip
        outs[0].shape = shape
        outs[0].dtype = ins[0].dtype

    def _conv_transpose(self, node: Any, ins: list[Tensor], outs: list[Tensor]) -> None:
        attrs = node.attrs
        x, w = ins[0].shape, ins[1].shape
        pads = list(attrs.get("pads") or (0, 0, 0, 0))
        extra = list(attrs.get("output_padding") or (0, 0, 0, 0))
        strides = list(attrs.get("strides") or (1, 1))
        dil = list(attrs.get("dilations") or (1, 1))
        given = list(attrs.get("output_shape") or (0, 0))
        dims = len(x) - 2
        if dims not in (1, 2, 3):
            raise _Refused(f"a {len(x)}-D input")
        shape = [x[0], attrs.get("group", 1) * w[1]] + [
            strides[i] * (x[2 + i] - 1) + extra[i] + ((w[2 + i] - 1) * dil[i] + 1)
            - (pads[i] + pads[i + dims])
            for i in range(dims)
        ]  # fmt: skip
        if _volume(given) != 0:
            shape = shape[:2] + given[: 1 if dims == 1 else len(given)]
        outs[0].shape = shape
        outs[0].dtype = ins[0].dtype

    def _gemm(self, node: Any, ins: list[Tensor], outs: list[Tensor]) -> None:
        a, b = ins[0].shape, ins[1].shape
        if len(a) < 2 or len(b) < 2:
            raise _Refused("an operand of rank below 2, on which onnx-tool stops")
        if node.op == "Gemm":
            m, k = (a[-1], a[-2]) if node.attrs.get("transA", 0) > 0 else (a[-2], a[-1])
            k2, n = (b[-1], b[-2]) if node.attrs.get("transB", 0) > 0 else (b[-2], b[-1])
            if k != k2:
                raise _Refused("inner sizes differ")
        else:
            m, n = a[-2], b[-1]
        batch = a[:-2] if _volume(a[:-2]) >= _volume(b[:-2]) else b[:-2]
        outs[0].shape = [*batch, m, n]
        outs[0].dtype = ins[0].dtype

    def _pool(self, node: Any, ins: list[Tensor], outs: list[Tensor]) -> None:
        attrs = node.attrs
        x = ins[0].shape
        kernel = list(attrs.get("kernel_shape") or (3, 3))
        pads = list(attrs.get("pads") or (0, 0, 0, 0))
        strides = list(attrs.get("strides") or (1, 1))
        dil = list(attrs.get("dilations") or (1, 1))
        ceil_mode = attrs.get("ceil_mode", 0)
        auto = attrs.get("auto_pad")

        def size(length: int, pad: int, k: int, d: int, s: int) -> int:
            value = (length + pad - ((k - 1) * d + 1)) / s + 1
            return ceil(value) if ceil_mode else floor(value)

        shape = list(x[:2])
        if auto is not None and auto != "NOTSET":
            if auto in ("SAME_LOWER", "SAME_UPPER"):
                shape += [ceil(x[2] / strides[0])]
                if len(strides) == 2:
                    shape += [ceil(x[3] / strides[1])]
            elif auto == "VALID":
                shape += [ceil((x[2] - kernel[0] + 1) / strides[0])]
                if len(strides) == 2:
                    shape += [ceil((x[3] - kernel[1] + 1) / strides[1])]
        elif len(kernel) == 1:
            shape += [size(x[2], pads[0] + pads[1], kernel[0], dil[0], strides[0])]
        elif len(kernel) == 2:
            shape += [
                size(x[2], pads[0] + pads[2], kernel[0], dil[0], strides[0]),
                size(x[3], pads[1] + pads[3], kernel[1], dil[1], strides[1]),
            ]
        elif len(kernel) == 3:
            # onnx-tool adds each axis's first pad twice, and dilates the depth by the
            # height's dilation
            shape += [
                size(x[2 + i], 2 * pads[i], kernel[i], dil[min(i, 1)], strides[i]) for i in range(3)
            ]
        else:
            raise _Refused(f"a {len(kernel)}-D pooling")
        outs[0].shape = shape
        outs[0].dtype = ins[0].dtype

    def _resize(self, node: Any, ins: list[Tensor], outs: list[Tensor]) -> None:
        x = ins[0].shape
        sizes: list[Any] = []
        scales: list[Any] = []
        if len(ins) == 2:
            scales = ins[1].values()
        elif len(ins) >= 3:
            scales = ins[2].values()
            if len(ins) >= 4:
                if not ins[3].shape and node.inputs[3] == "":
                    raise _Refused("an omitted sizes operand, on which onnx-tool stops")
                sizes = ins[3].values()
        shape: list[Any] = []
        if sizes:
            if len(sizes) == len(x):
                shape = [int(s) for s in sizes]
            if len(sizes) == 2:
                raise _Refused("two sizes")
        elif scales and any(scales) and ins[2 if len(ins) >= 3 else 1].shape:
            shape = [floor(d * s) for d, s in zip(x, scales, strict=False)]
        outs[0].shape = shape
        outs[0].dtype = ins[0].dtype

    # -- values (numpy's, as onnx-tool's value_infer computes them) -----------

    def _evaluate(self, node: Any, ins: list[Tensor], outs: list[Tensor]) -> None:
        op, attrs = node.op, node.attrs
        first = ins[0] if ins else None
        out = outs[0]
        if op == "Constant":
            tensor = attrs.get("value")
            if tensor is None or not hasattr(tensor, "dims"):
                raise _Refused("a Constant without a tensor value")
            dtype = _TYPES.get(tensor.data_type)
            if dtype is None or (tensor.values is None and prod(tensor.dims) > 0):
                raise _Refused("a Constant whose values are not read")
            out.shape, out.dtype = list(tensor.dims), dtype
            out.value = list(tensor.values) if tensor.values is not None else []
            return
        assert first is not None
        if op == "Shape":
            out.shape, out.dtype, out.value = [len(first.shape)], "int64", list(first.shape)
        elif op in ("Identity", "Erf", "Floor", "Dropout"):
            out.shape, out.dtype, out.value = list(first.shape), first.dtype, first.value
        elif op == "Flatten":
            axis = attrs.get("axis")
            rows = first.shape[0] if axis is None else prod(first.shape[: max(axis, 0)])
            out.shape = [rows, _volume(first.shape) // rows if rows else 0]
            out.dtype, out.value = first.dtype, first.value
        elif op == "Cast":
            dtype = _TYPES.get(int(attrs["to"]))
            out.shape, out.dtype = list(first.shape), dtype
            out.value = None if first.value is None else [
                (float(v) if dtype and dtype.startswith("float") else int(v)) for v in first.value
            ]  # fmt: skip
        elif op in ("Add", "Sub", "Mul", "Div", "Mod", "Max"):
            a, b = ins[0], ins[1]
            out.shape = _broadcast([a.shape, b.shape])
            out.dtype = _promote(a.dtype, b.dtype)
            out.value = _binary(op, a, b, out.shape, out.dtype)
        elif op in ("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"):
            a, b = ins[0], ins[1]
            out.shape, out.dtype = _broadcast([a.shape, b.shape]), "bool"
            out.value = _binary(op, a, b, out.shape, out.dtype)
        elif op == "Where":
            shape = _broadcast([t.shape for t in ins[:3]])
            n = _volume(shape) if shape else 1
            cond, yes, no = (t.values() for t in ins[:3])
            if any(len(v) not in (1, n) for v in (cond, yes, no)):
                raise _Refused("a broadcast of shape values")
            out.shape, out.dtype = shape, _promote(ins[1].dtype, ins[2].dtype)
            out.value = [
                yes[i % len(yes)] if cond[i % len(cond)] else no[i % len(no)] for i in range(n)
            ]
        elif op == "Neg":
            out.shape, out.dtype = list(first.shape), first.dtype
            out.value = [-v for v in first.values()]
        elif op == "Gather":
            axis = _axis(attrs.get("axis", 0), len(first.shape))
            index = ins[1]
            out.shape = first.shape[:axis] + index.shape + first.shape[axis + 1 :]
            out.dtype = first.dtype
            if len(first.shape) == 1:
                data = first.values()
                out.value = [data[int(i)] for i in index.values()]
            else:
                out.value = None
        elif op in ("Unsqueeze", "Squeeze"):
            axes = list(ins[1].values()) if len(ins) == 2 else list(attrs.get("axes") or [0])
            shape = list(first.shape)
            if op == "Unsqueeze":
                for a in axes:  # numpy's expand_dims, one axis after the other
                    shape.insert(_axis(int(a), len(shape) + 1), 1)
            else:
                for done, a in enumerate(axes):
                    del shape[int(a) - done]
            out.shape, out.dtype, out.value = shape, first.dtype, first.value
        elif op == "Concat":
            axis = attrs["axis"]
            shape = list(first.shape)
            for t in ins[1:]:
                shape[axis] += t.shape[axis]
            out.shape = shape
            dtype = first.dtype
            for t in ins[1:]:
                dtype = _promote(dtype, t.dtype)
            out.dtype = dtype
            out.value = [v for t in ins for v in t.values()] if len(shape) == 1 else None
        elif op == "Reshape":
            target = [int(v) for v in ins[1].values()]
            sizes = [first.shape[i] if t == 0 else t for i, t in enumerate(target)]
            if -1 in sizes:
                known = prod(s for s in sizes if s != -1)
                sizes[sizes.index(-1)] = _volume(first.shape) // known
            if _volume(sizes) != _volume(first.shape):
                raise _Refused(
                    f"a reshape of {_show(first.shape)} to {_show(sizes)}, on which onnx-tool "
                    "stops (a file exported at a fixed batch, counted at another -b?)"
                )
            out.shape, out.dtype, out.value = sizes, first.dtype, first.value
        elif op == "Slice" and len(first.shape) == 1 and len(ins) >= 3:
            starts, ends = ins[1].values(), ins[2].values()
            steps = ins[4].values() if len(ins) == 5 else [1]
            data = first.values()
            part = data[int(starts[0]) : int(ends[0]) : int(steps[0])]
            out.shape, out.dtype, out.value = [len(part)], first.dtype, part
        elif op == "ConstantOfShape":
            shape = [int(v) for v in first.values()]
            tensor = attrs.get("value")
            if tensor is None:
                raise _Refused("a ConstantOfShape without a value, on which onnx-tool stops")
            out.shape, out.dtype = shape, _TYPES.get(tensor.data_type)
            fill = tensor.values[0] if tensor.values else 0
            out.value = [fill] * prod(shape) if 0 <= prod(shape) <= MAX_VALUES else None
        elif op == "Transpose":
            perm = attrs.get("perm")
            out.shape = first.shape[::-1] if perm is None else [first.shape[int(p)] for p in perm]
            out.dtype, out.value = first.dtype, None
        elif op == "Split":
            self._split(node, ins, outs)
        elif op == "Expand":
            target = [int(v) for v in ins[1].values()]
            shape = list(first.shape)
            rank = max(len(shape), len(target))
            shape = [1] * (rank - len(shape)) + shape
            target = [1] * (rank - len(target)) + target
            out.shape = [max(a, b) for a, b in zip(shape, target, strict=True)]
            out.dtype, out.value = first.dtype, None
        elif op == "Slice":
            self._slice(node, ins, outs)
        elif op == "Tile":
            reps = [int(v) for v in ins[1].values()]
            shape = list(first.shape)
            rank = max(len(shape), len(reps))
            shape = [1] * (rank - len(shape)) + shape
            reps = [1] * (rank - len(reps)) + reps
            out.shape = [a * b for a, b in zip(shape, reps, strict=True)]
            out.dtype, out.value = first.dtype, None
        elif op in ("Trilu", "ScatterND"):
            out.shape, out.dtype, out.value = list(first.shape), first.dtype, None
        elif op == "DepthToSpace":
            n, c, h, w = first.shape
            block = int(attrs["blocksize"])
            out.shape = [n, c // (block * block), h * block, w * block]
            out.dtype, out.value = first.dtype, None
        elif op == "ArgMax":
            axis = _axis(attrs.get("axis", 0), len(first.shape))
            keep = attrs.get("keepdims", 1)
            out.shape = [
                1 if i == axis else d for i, d in enumerate(first.shape) if keep == 1 or i != axis
            ]
            out.dtype, out.value = "int64", None
        elif op == "ReduceL2":
            axes = attrs.get("axes")
            keep = attrs.get("keepdims", 1) == 1
            rank = len(first.shape)
            chosen = range(rank) if axes is None else [_axis(int(a), rank) for a in axes]
            out.shape = [
                1 if i in chosen else d
                for i, d in enumerate(first.shape)
                if keep or i not in chosen
            ]
            out.dtype, out.value = first.dtype, None
        elif op == "Range":
            start, limit, delta = (t.values()[0] for t in ins[:3])
            count = max(ceil((limit - start) / delta), 0)
            out.shape, out.dtype = [count], first.dtype
            out.value = [start + i * delta for i in range(count)] if count <= MAX_VALUES else None
        elif op == "Einsum":
            sides = _einsum(attrs)
            letters = dict(zip(sides[0], first.shape, strict=False))
            letters.update(zip(sides[1], ins[1].shape, strict=False))
            out.shape, out.dtype, out.value = [letters[k] for k in sides[2]], first.dtype, None
        elif op in ("LSTM", "GRU"):
            if op == "GRU" and len(outs) < 2:
                raise _Refused("a GRU with one output, on which onnx-tool stops")
            seq, batch = first.shape[0], first.shape[1]
            w = ins[1].shape
            hidden = w[1] // (4 if op == "LSTM" else 3)
            if op == "LSTM" and attrs.get("hidden_size") not in (None, hidden):
                raise _Refused("a hidden_size other than its weight's, on which onnx-tool stops")
            outs[0].shape, outs[0].dtype = [seq, w[0], batch, hidden], first.dtype
            for extra in outs[1 : 3 if op == "LSTM" else 2]:
                extra.shape, extra.dtype = [w[0], batch, hidden], first.dtype
        elif op == "TopK":
            k = int(ins[1].values()[0])
            axis = attrs.get("axis")
            if axis is None and len(first.shape) == 1:
                axis = 0
            if axis is None:
                raise _Refused("a TopK without an axis, on which onnx-tool stops")
            axis = _axis(axis, len(first.shape))
            shape = [k if i == axis else d for i, d in enumerate(first.shape)]
            out.shape, out.dtype, out.value = shape, first.dtype, None
            if len(outs) == 2:
                outs[1].shape, outs[1].dtype = list(shape), "int64"
        elif op == "GridSample":
            rank = ins[1].shape[-1]
            out.shape = first.shape[:2] + ins[1].shape[1 : 1 + rank]
            out.dtype, out.value = first.dtype, None
        elif op == "NonZero":
            # numpy.nonzero of the values onnx-tool holds (zeros for an activation, when
            # it takes every position instead)
            values = first.values() if first.value is not None else []
            count = sum(1 for v in values if v) or _volume(first.shape)
            out.shape, out.dtype, out.value = [len(first.shape), count], "int64", None
        elif op == "GatherElements":
            out.shape, out.dtype, out.value = list(ins[1].shape), first.dtype, None
        elif op == "GatherND":
            # onnx-tool takes batch_dims as 0, whatever the node says
            data, where = first.shape, ins[1].shape
            if where[-1] > len(data):
                raise _Refused("indices deeper than the data")
            out.shape = where[:-1] + ([] if where[-1] == len(data) else data[where[-1] :])
            out.dtype, out.value = first.dtype, None
        else:
            raise _Refused(f"a {op}")

    def _split(self, node: Any, ins: list[Tensor], outs: list[Tensor]) -> None:
        attrs = node.attrs
        shape = ins[0].shape
        if "axis" not in attrs:
            raise _Refused("a Split without an axis, on which onnx-tool stops")
        axis = _axis(attrs["axis"], len(shape))
        split = attrs.get("split")
        if split is None:
            if len(ins) == 2:
                split = [int(v) for v in ins[1].values()]
            else:
                count = len(outs)
                size = shape[axis] // count + (1 if shape[axis] % count else 0)
                split = [size] * count
                split[-1] += shape[axis] - sum(split)
        end = 0
        for out, v in zip(outs, split, strict=False):
            size = v if end + v < shape[axis] else shape[axis] - end
            out.shape = [*shape[:axis], size, *shape[axis + 1 :]]
            out.dtype, out.value = ins[0].dtype, None
            end += v

    def _slice(self, node: Any, ins: list[Tensor], outs: list[Tensor]) -> None:
        shape = ins[0].shape
        attrs = node.attrs
        if len(ins) == 1:
            starts, ends = list(attrs["starts"]), list(attrs["ends"])
            axes = attrs.get("axes")
            steps = attrs.get("steps")
        else:
            starts, ends = ins[1].values(), ins[2].values()
            axes = ins[3].values() if len(ins) >= 4 else None
            steps = ins[4].values() if len(ins) >= 5 else None
        rank = len(shape)
        axes = [_axis(int(a), rank) for a in (axes if axes is not None else range(rank))]
        steps = list(steps) if steps is not None else [1] * len(starts)
        out = list(shape)
        for i, a in enumerate(axes):
            dim = shape[a]
            s, e, st = int(starts[i]), int(ends[i]), int(steps[i])
            s = dim + s if s < 0 else s
            e = dim + e if e < 0 else e
            if st < 0:
                s, e = max(0, min(s, dim - 1)), max(-1, min(e, dim - 1))
                span = s - e
            else:
                s, e = max(0, min(s, dim)), max(0, min(e, dim))
                span = e - s
            out[a] = 0 if span <= 0 else ceil(span / abs(st))
        outs[0].shape, outs[0].dtype, outs[0].value = out, ins[0].dtype, None

    # -- MACs -----------------------------------------------------------------

    def _macs(self, node: Any, ins: list[Tensor], outs: list[Tensor]) -> int:
        op, attrs = node.op, node.attrs
        out = _volume(outs[0].shape) if outs else 0
        if op in _NPMATH:
            return out * _NPMATH[op]
        if op in _PW:
            return out * _PW[op]
        if op == "Sum":
            return out * (len(node.inputs) - 1)
        if op == "LRN":
            return out * (_DIV + _EXP + _ADD + int(attrs["size"]) * _MUL)
        if op in _COMPARE or op in ("Floor", "NonZero"):
            return out * _CMP
        if op in ("Conv", "ConvTranspose"):
            if len(outs) != 1 or len(ins) not in (2, 3):
                return 0
            return out * _volume(ins[1].shape[1:]) + (out if len(ins) > 2 else 0)
        if op in ("Gemm", "MatMul"):
            weight = ins[1].shape
            if op == "Gemm":
                macs = out * int(weight[-1] if attrs.get("transB", 0) > 0 else weight[-2])
            else:
                macs = out * int(weight[-2]) if len(weight) > 1 else out
            return macs + (out if len(ins) == 3 else 0)
        if op in ("MaxPool", "AveragePool"):
            kernel = list(attrs.get("kernel_shape") or (3, 3))
            return out * int(kernel[0]) * int(kernel[1] if len(kernel) == 2 else 1)
        if op == "GlobalAveragePool":
            return _volume(ins[0].shape) * _ADD + out * _DIV
        if op in _REDUCE:
            return _volume(ins[0].shape)
        if op == "BatchNormalization":
            return out * (_ADD + _SQRT + _DIV + _ADD + _MUL)
        if op == "LayerNormalization":
            shape = list(ins[0].shape)
            whole = _volume(shape)
            shape[_axis(attrs.get("axis", -1), len(shape))] = 1
            return whole * (3 * _MUL + 4 * _ADD) + _volume(shape) * (_ADD + _SQRT + _DIV)
        if op in ("Resize", "Upsample"):
            mode = attrs.get("mode")
            if mode is None:
                raise _Refused("no mode attribute, on which onnx-tool stops")
            return out * {"nearest": 0, "linear": 4, "cubic": 8}.get(mode, 1)
        if op in ("LSTM", "GRU"):
            x, w = ins[0].shape, ins[1].shape
            seq, batch = x[0], x[1]
            lstm = op == "LSTM"
            steps = _volume([batch, seq, w[1] // (4 if lstm else 3)])
            gates = (_volume(w) + _volume(ins[2].shape)) * int(batch) * int(seq)
            gates += _volume(ins[3].shape) * _ADD * int(batch) * int(seq)
            if lstm:
                cells = 4 * _ADD + 3 * _EXP + 2 * _TANH + _ADD + 3 * _MUL
            else:
                cells = 3 * _ADD + 2 * _EXP + _TANH + 2 * _ADD + 3 * _MUL
            return gates + steps * cells
        if op == "ReduceL2":
            return _volume(ins[0].shape) * (_ADD + _SQRT)
        if op == "Einsum":
            sides = _einsum(attrs)
            sizes = dict(zip(sides[0], ins[0].shape, strict=False))
            sizes.update(zip(sides[1], ins[1].shape, strict=False))
            return prod(sizes.values())
        if op in _NO_MACS:
            return 0
        raise _Refused(f"a {op}")


#: Ops onnx-tool counts 0 (their class has no profile of its own) and whose shapes are
#: reproduced.
_NO_MACS = frozenset(
    {"Identity", "Erf", "Dropout", "Transpose", "Reshape", "Flatten", "Concat", "Split",
     "Gather", "Pad", "Slice", "Shape", "Constant", "ConstantOfShape", "Unsqueeze", "Squeeze",
     "Cast", "Where", "Expand", "GatherND", "Tile", "Trilu", "ScatterND", "DepthToSpace",
     "ArgMax", "Range", "TopK", "GatherElements", "GridSample"}
)  # fmt: skip


def _einsum(attrs: dict[str, Any]) -> tuple[str, str, str]:
    """The letters of an Einsum of two operands, as onnx-tool splits its equation."""
    left, _, right = str(attrs["equation"]).partition("->")
    first, comma, second = left.partition(",")
    if not comma or not right:
        raise _Refused("an Einsum equation other than 'a,b->c'")
    return first.replace(" ", ""), second.replace(" ", ""), right.replace(" ", "")


def _binary(op: str, a: Tensor, b: Tensor, shape: list[int], dtype: str | None) -> list[Any]:
    x, y = a.values(), b.values()
    n = _volume(shape) if shape else 1
    if len(x) not in (1, n) or len(y) not in (1, n):
        raise _Refused("a broadcast of shape values")
    whole = dtype is not None and not dtype.startswith("float")
    result: list[Any] = []
    for i in range(n):
        p, q = x[i % len(x)], y[i % len(y)]
        if op in _COMPARISONS:
            result.append(_COMPARISONS[op](p, q))
        elif op in _ARITHMETIC:
            result.append(_ARITHMETIC[op](p, q))
        elif whole and q == 0:
            result.append(0)  # numpy's integer division and remainder by 0
        elif op == "Mod":
            result.append(p % q)
        elif whole and a.dtype == b.dtype:
            result.append(p // q)
        else:
            result.append(p / q)
    return result


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equal": lambda p, q: p == q,
    "Less": lambda p, q: p < q,
    "Greater": lambda p, q: p > q,
    "LessOrEqual": lambda p, q: p <= q,
    "GreaterOrEqual": lambda p, q: p >= q,
}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "Add": lambda p, q: p + q,
    "Sub": lambda p, q: p - q,
    "Mul": lambda p, q: p * q,
    "Max": max,
}


def _show(shape: list[Any]) -> str:
    """onnx-tool's InShape/OutShape cell: sizes joined by x, ``0`` for a scalar."""
    return "x".join(str(int(d)) for d in shape) if shape else "0"


def percent(part: int, total: int) -> str:
    """onnx-tool's percentage cell: the part over the total plus 1e-18, to 2 places."""
    return f"{part / (total + 1e-18):.2%}"


def _cell(count: int) -> str:
    """onnx-tool's Total cell: the count plus 1e-18 as a float, back to int, with commas."""
    return f"{int(count + 1e-18):,}"


_NOTES = {
    "Conv": "bias added per output element",
    "ConvTranspose": "output × Cout/groups × kernel, + bias",
    "Gemm": "bias added per output element",
    "MatMul": "output elements x inner size",
    "MaxPool": "kernel size per output element",
    "AveragePool": "kernel size per output element",
    "GlobalAveragePool": "1 per input + 4 per output element",
    "BatchNormalization": "31 per element",
    "LayerNormalization": "7 per element + 29 per row",
    "ReduceMean": "1 per input element",
    "Resize": "linear 4, cubic 8 per output element",
    "Upsample": "linear 4, cubic 8 per output element",
}


def rule(op: str) -> str:
    """onnx-tool's rule for an op's MACs, in a few words."""
    if op in _NOTES:
        return _NOTES[op]
    if op in _REDUCE:
        return "1 per input element"
    per = _NPMATH.get(op) or _PW.get(op) or (1 if op in _COMPARE or op == "Floor" else 0)
    return f"{per} per output element" if per else "onnx-tool's rule"


def profile(graph: Any, inputs: dict[str, tuple[int, ...]]) -> list[NodeRow]:
    """onnx-tool's rows for a decoded graph with its inputs of these shapes (batch first)."""
    return Profile(graph, inputs).run()


#: The ops ``onnx_tool.model_profile()`` leaves out of its rows and totals (NoMacsOps).
HIDDEN = frozenset(
    {"Identity", "Constant", "Shape", "Squeeze", "Unsqueeze", "Reshape", "ConstantOfShape",
     "Cast", "Pad", "Concat", "Slice", "Gather"}
)  # fmt: skip


def totals(rows: list[NodeRow], graph: Any) -> tuple[int, int, int, dict[str, str]]:
    """Forward MACs (summed in floating point, rounded, as onnx-tool does), memory,
    params, and the Total row as it prints them; then ``model_profile()``'s Total
    row, without the nodes it hides (their outputs, and the initializers only they
    take; the MACs are the same: those nodes count 0)."""
    macs = 0.0
    for row in rows:
        macs += row.macs
    forward = round(macs)
    memory = sum(r.memory for r in rows)
    params = sum(r.params for r in rows)
    printed = {"Forward_MACs": _cell(forward), "Memory": _cell(memory), "Params": _cell(params)}
    shown = [r for r in rows if r.op not in HIDDEN]
    inits = graph.initializers
    taken = {operand for r in shown for operand in graph.nodes[r.index].inputs if operand in inits}
    weights = {name: _volume(list(inits[name].dims)) for name in taken}
    brief_params = sum(weights.values())
    brief_memory = sum(r.outputs for r in shown) + sum(
        count * _ITEM[_TYPES[inits[name].data_type]] for name, count in weights.items()
    )
    printed["model_profile() Memory"] = _cell(brief_memory)
    printed["model_profile() Params"] = _cell(brief_params)
    return forward, memory, params, printed
