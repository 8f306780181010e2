"""Capture what onnx-tool 1.0.1 prints for every ONNX fixture and a few hand-written graphs.

Run by hand; never imported by the package or collected by pytest. It writes
``tests/tools/onnx_tool.json``: for each graph, what

    m = onnx_tool.Model(proto)
    m.graph.shape_infer(); m.graph.profile(); m.graph.print_node_map()

prints: the Total row (Forward_MACs, Memory, Params as printed) and per node
its name, type, Forward_MACs, Memory, Params, InShape, OutShape and the three
percentages; and the Total
row of ``onnx_tool.model_profile()``, which leaves the nodes of its ``NoMacsOps``
out. Graphs of
more than 40 nodes keep the per-node numbers and a SHA-256 digest of the full
rows (names, types and shapes too), so that the file stays small.

The ONNX fixtures in ``tests/files/torch`` have their external weights stripped:
each is loaded with ``load_external_data=False`` and every external initializer
filled with zero bytes of its size. The hand-written graphs (``GRAPHS`` below,
built with ``onnx.helper``) hold the ops the torchvision exports lack. Setup:

    .venv/bin/pip install -e ".[test,frameworks]"
    .venv/bin/python tests/tools/capture_onnx_tool.py
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FILES = HERE.parent / "files" / "torch"
OUT = HERE / "onnx_tool.json"
#: Graphs with more nodes keep a digest of their rows instead of the rows.
FULL_ROWS = 40


def load(path: Path) -> Any:
    """An ONNX fixture with its stripped external weights filled with zeros."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            count = 1
            for d in tensor.dims:
                count *= d
            item = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
            del tensor.external_data[:]
            tensor.data_location = onnx.TensorProto.DEFAULT
            tensor.raw_data = bytes(count * item)
    return model


def profile(model: Any, shape: tuple[int, ...] | None = None) -> dict[str, Any]:
    """What onnx-tool prints for a ModelProto: the Total row and every node's row.

    ``shape``: the input's shape, for a graph whose input leaves sizes open (onnx-tool
    refuses it otherwise), given as onnx-tool's README says: a float32 array.
    """
    import numpy as np
    import onnx_tool

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = onnx_tool.Model(model)
        g = m.graph
        if shape is None:
            g.shape_infer()
        else:
            g.shape_infer({g.input[0]: np.zeros(shape, np.float32)})
        g.profile()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            g.print_node_map()
    # the Total row: its numbers, without the '_' and '100%' cells (zero weights make
    # onnx-tool add three sparsity columns, all '_' in this row)
    total = out.getvalue().strip().splitlines()[-1].split()
    assert total[0] == "Total", total
    total = [cell for cell in total[1:] if cell not in ("_", "100%")]
    # the FPercent, MPercent and PPercent cells of each node's row, as printed: counted
    # from the row's end (its last cells: Forward_MACs, FPercent, Memory, MPercent, Params,
    # PPercent, InShape, OutShape), past the sparsity columns zero weights add
    table = out.getvalue().strip().splitlines()
    cells = {line.split()[0]: line.split() for line in table[2:-1]}
    percents = {name: [row[-7], row[-5], row[-3]] for name, row in cells.items()}
    rows = [
        [
            name,
            node.op_type,
            int(node.macs[0]),
            int(node.memory),
            int(node.params),
            "x".join(map(str, node.inshape)),
            "x".join(map(str, node.outshape)),
            *percents[name],
        ]
        for name, node in g.nodemap.items()
    ]
    # onnx_tool.model_profile(): the same after a topological reordering, with the
    # nodes of NoMacsOps (Constant, Shape, Reshape, Concat, ...) left out of the
    # rows and of the totals; its rows come in a set's order, so only the totals
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hidden = onnx_tool.Model(model).graph
        hidden.graph_reorder_nodes()
        if shape is None:
            hidden.shape_infer()
        else:
            hidden.shape_infer({hidden.input[0]: np.zeros(shape, np.float32)})
        hidden.profile(exclude_ops=set(onnx_tool.NoMacsOps))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            hidden.print_node_map(exclude_ops=set(onnx_tool.NoMacsOps))
    brief = out.getvalue().strip().splitlines()[-1].split()
    brief = [cell for cell in brief[1:] if cell not in ("_", "100%")]
    record: dict[str, Any] = {
        "printed": {"Forward_MACs": total[0], "Memory": total[1], "Params": total[2]},
        "model_profile": {"Forward_MACs": brief[0], "Memory": brief[1], "Params": brief[2]},
        "macs": round(g.macs[0]),
        "memory": int(g.memory),
        "params": int(g.params),
        "nodes": len(rows),
        "digest": digest(rows),
    }
    if len(rows) <= FULL_ROWS:
        record["rows"] = rows
    else:
        record["figures"] = [r[2:5] for r in rows]
    return record


def digest(rows: list[list[Any]]) -> str:
    """SHA-256 of the rows, one per line, fields joined by tabs."""
    text = "\n".join("\t".join(map(str, row)) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------
# Hand-written graphs


def _model(nodes: list[Any], inputs: list[Any], outputs: list[Any], inits: list[Any]) -> Any:
    from onnx import helper

    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="t")


def _f(name: str, *dims: int) -> Any:
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.zeros(dims, dtype=np.float32), name)


def _i(name: str, values: list[int]) -> Any:
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def _io(name: str, *dims: int | str) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims))


def graph_decoder() -> Any:
    """ConvTranspose (bias, output_padding, grouped), Resize linear and nearest, Pad."""
    from onnx import helper as h

    nodes = [
        h.make_node("Conv", ["x", "w1", "b1"], ["c1"], "conv_g", group=4, pads=[1, 1, 1, 1]),
        h.make_node(
            "ConvTranspose",
            ["c1", "wt", "bt"],
            ["t1"],
            "up1",
            strides=[2, 2],
            pads=[1, 1, 1, 1],
            output_padding=[1, 1],
        ),
        h.make_node("ConvTranspose", ["t1", "wt2"], ["t2"], "up2", strides=[2, 2], group=2),
        h.make_node("Resize", ["t2", "", "scales"], ["r1"], "resize_lin", mode="linear"),
        h.make_node("Resize", ["r1", "", "scales"], ["r2"], "resize_near", mode="nearest"),
        h.make_node("Pad", ["r2", "pads"], ["p"], "pad", mode="constant"),
        h.make_node(
            "MaxPool", ["p"], ["m"], "pool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1
        ),
        h.make_node("AveragePool", ["m"], ["a"], "avg", kernel_shape=[2, 2], strides=[2, 2]),
        h.make_node("GlobalAveragePool", ["a"], ["y"], "gap"),
    ]
    import numpy as np
    from onnx import numpy_helper

    inits = [
        _f("w1", 8, 2, 3, 3), _f("b1", 8), _f("wt", 8, 6, 3, 3), _f("bt", 6),
        _f("wt2", 6, 2, 2, 2),
        numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
        _i("pads", [0, 0, 1, 2, 0, 0, 3, 0]),
    ]  # fmt: skip
    return _model(nodes, [_io("x", 1, 8, 9, 7)], [_io("y", 1, 4, 1, 1)], inits)


def graph_transformer() -> Any:
    """LayerNormalization, MatMul of two activations, Softmax, Erf-GELU, Pow/Sqrt/Div,
    Split and Concat, a weight shared by two MatMuls, Sub, Reshape and Transpose."""
    from onnx import helper as h

    nodes = [
        h.make_node("LayerNormalization", ["x", "g", "b"], ["n"], "ln", axis=-1),
        h.make_node("MatMul", ["n", "wq"], ["q"], "q"),
        h.make_node("MatMul", ["n", "wq"], ["k"], "k_shared"),
        h.make_node("Transpose", ["k"], ["kt"], "kt", perm=[0, 2, 1]),
        h.make_node("MatMul", ["q", "kt"], ["s"], "scores"),
        h.make_node("Softmax", ["s"], ["p"], "softmax", axis=-1),
        h.make_node("MatMul", ["p", "n"], ["o"], "mix"),
        h.make_node("Div", ["o", "sqrt2"], ["d"], "div"),
        h.make_node("Erf", ["d"], ["e"], "erf"),
        h.make_node("Add", ["e", "one"], ["e1"], "add1"),
        h.make_node("Mul", ["o", "e1"], ["m"], "mul"),
        h.make_node("Pow", ["m", "two"], ["sq"], "pow"),
        h.make_node("ReduceMean", ["sq", "axes"], ["ms"], "mean", keepdims=1),
        h.make_node("Sqrt", ["ms"], ["rms"], "sqrt"),
        h.make_node("Sub", ["m", "rms"], ["c"], "sub"),
        h.make_node("Split", ["c", "halves"], ["c0", "c1"], "split", axis=2),
        h.make_node("Tanh", ["c0"], ["t0"], "tanh"),
        h.make_node("Sigmoid", ["c1"], ["t1"], "sigmoid"),
        h.make_node("Concat", ["t0", "t1"], ["cat"], "concat", axis=2),
        h.make_node("Reshape", ["cat", "flat"], ["y"], "reshape"),
    ]
    import numpy as np
    from onnx import numpy_helper

    def scalar(name: str, value: float) -> Any:
        return numpy_helper.from_array(np.array(value, np.float32), name)

    inits = [
        _f("g", 16), _f("b", 16), _f("wq", 16, 16), scalar("sqrt2", 1.4142),
        scalar("one", 1.0), scalar("two", 2.0), _i("axes", [-1]), _i("halves", [6, 10]),
        _i("flat", [1, -1]),
    ]  # fmt: skip
    return _model(nodes, [_io("x", 1, 10, 16)], [_io("y", 1, 160)], inits)


def graph_shapes() -> Any:
    """A shape computation (Shape, Gather, Unsqueeze, Concat, Reshape), BatchNormalization,
    Flatten, Gemm without bias, Clip with Constant bounds, LeakyRelu, Cast, Expand."""
    from onnx import TensorProto
    from onnx import helper as h

    nodes = [
        h.make_node("Conv", ["x", "w"], ["c"], "conv", strides=[2, 2]),
        h.make_node("BatchNormalization", ["c", "s", "bb", "mu", "var"], ["bn"], "bn"),
        h.make_node(
            "Constant", [], ["lo"], "lo", value=h.make_tensor("v", TensorProto.FLOAT, [], [0.0])
        ),
        h.make_node(
            "Constant", [], ["hi"], "hi", value=h.make_tensor("v", TensorProto.FLOAT, [], [6.0])
        ),
        h.make_node("Clip", ["bn", "lo", "hi"], ["r"], "relu6"),
        h.make_node("LeakyRelu", ["r"], ["lr"], "leaky", alpha=0.1),
        h.make_node("Shape", ["lr"], ["shape"], "shape"),
        h.make_node("Gather", ["shape", "zero"], ["n"], "gather", axis=0),
        h.make_node("Unsqueeze", ["n", "axis0"], ["n1"], "unsqueeze"),
        h.make_node("Concat", ["n1", "minus1"], ["target"], "cat_shape", axis=0),
        h.make_node("Reshape", ["lr", "target"], ["flat"], "reshape"),
        h.make_node("Gemm", ["flat", "wf"], ["g"], "fc", transB=1),
        h.make_node("Cast", ["g"], ["g64"], "cast", to=TensorProto.DOUBLE),
        h.make_node("Cast", ["g64"], ["g32"], "cast_back", to=TensorProto.FLOAT),
        h.make_node("Expand", ["g32", "big"], ["ex"], "expand"),
        h.make_node("Flatten", ["ex"], ["y"], "flatten", axis=1),
        h.make_node("Identity", ["y"], ["out"], "identity"),
    ]
    inits = [
        _f("w", 4, 3, 3, 3), _f("s", 4), _f("bb", 4), _f("mu", 4), _f("var", 4),
        _scalar_i("zero", 0), _i("axis0", [0]),
        _i("minus1", [-1]), _f("wf", 5, 4 * 3 * 3), _i("big", [3, 1, 5]),
    ]  # fmt: skip
    return _model(nodes, [_io("x", 1, 3, 7, 7)], [_io("out", 3, 5)], inits)


def _scalar_i(name: str, value: int) -> Any:
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(value, np.int64), name)


def graph_unregistered() -> Any:
    """GlobalMaxPool: an op onnx-tool 1.0.1 registers no class for (it stops)."""
    from onnx import helper as h

    nodes = [
        h.make_node("Relu", ["x"], ["r"], "relu"),
        h.make_node("GlobalMaxPool", ["r"], ["y"], "gmax"),
    ]
    return _model(nodes, [_io("x", 1, 4, 5, 5)], [_io("y", 1, 4, 1, 1)], [])


def graph_pointwise() -> Any:
    """1-D Conv, ConvTranspose and pooling, more activations and elementwise ops, the
    comparisons, Sin and Cos (which convcount does not count), InstanceNormalization,
    Slice, Gather, Tile and Squeeze of activations, an equal Split, Resize by sizes, Sum,
    Min, Max, Where, ReduceSum and ReduceMax."""
    from onnx import TensorProto
    from onnx import helper as h

    nodes = [
        h.make_node("Conv", ["x", "w"], ["c"], "conv1d", pads=[1, 1], strides=[2]),
        h.make_node("ConvTranspose", ["c", "wt"], ["t"], "deconv1d", strides=[2]),
        h.make_node("MaxPool", ["t"], ["mp"], "pool1d", kernel_shape=[2], strides=[2]),
        h.make_node("InstanceNormalization", ["mp", "s", "b"], ["n"], "inorm"),
        h.make_node("Exp", ["n"], ["e"], "exp"),
        h.make_node("Sin", ["e"], ["si"], "sin"),
        h.make_node("Cos", ["si"], ["co"], "cos"),
        h.make_node("Log", ["co"], ["l"], "log"),
        h.make_node("Neg", ["l"], ["ng"], "neg"),
        h.make_node("Abs", ["ng"], ["ab"], "abs"),
        h.make_node("Reciprocal", ["ab"], ["rc"], "reciprocal"),
        h.make_node("HardSigmoid", ["rc"], ["hs"], "hardsigmoid"),
        h.make_node("Elu", ["hs"], ["el"], "elu"),
        h.make_node("Softplus", ["el"], ["sp"], "softplus"),
        h.make_node("PRelu", ["sp", "slope"], ["pr"], "prelu"),
        h.make_node("Sum", ["pr", "el", "hs"], ["sm"], "sum"),
        h.make_node("Min", ["sm", "pr"], ["mn"], "min"),
        h.make_node("Max", ["mn", "half"], ["mx"], "max"),
        h.make_node("Greater", ["mx", "half"], ["gt"], "greater"),
        h.make_node("Less", ["mx", "half"], ["lt"], "less"),
        h.make_node("Equal", ["mx", "half"], ["eq"], "equal"),
        h.make_node("Not", ["eq"], ["ne"], "not"),
        h.make_node("Where", ["gt", "mx", "half"], ["wh"], "where"),
        h.make_node("Floor", ["wh"], ["fl"], "floor"),
        h.make_node("Ceil", ["fl"], ["ce"], "ceil"),
        h.make_node("Round", ["ce"], ["ro"], "round"),
        h.make_node("Slice", ["ro", "st", "en", "ax"], ["sl"], "slice"),
        h.make_node("Split", ["sl"], ["s0", "s1", "s2"], "split3", axis=1, num_outputs=3),
        h.make_node("Gather", ["s0", "idx"], ["ga"], "gather", axis=2),
        h.make_node("Unsqueeze", ["ga", "axis2"], ["un"], "unsqueeze"),
        h.make_node("Tile", ["un", "reps"], ["ti"], "tile"),
        h.make_node("Squeeze", ["ti", "axis2"], ["sq"], "squeeze"),
        h.make_node("ReduceSum", ["sq", "axis1"], ["rs"], "reducesum", keepdims=0),
        h.make_node("ReduceMax", ["s1", "axis2"], ["rm"], "reducemax", keepdims=1),
        h.make_node("Dropout", ["rm"], ["dr"], "dropout"),
        h.make_node("Resize", ["dr", "", "", "sizes"], ["rz"], "resize_sizes", mode="cubic"),
        h.make_node("Cast", ["rz"], ["y"], "cast", to=TensorProto.FLOAT16),
        h.make_node("Identity", ["rs"], ["z"], "identity"),
    ]
    import numpy as np
    from onnx import numpy_helper

    def scalar(name: str, value: float) -> Any:
        return numpy_helper.from_array(np.array(value, np.float32), name)

    inits = [
        _f("w", 6, 3, 3), _f("wt", 6, 4, 2), _f("s", 4), _f("b", 4), _f("slope", 4, 1),
        scalar("half", 0.5), _i("st", [1]), _i("en", [-1]), _i("ax", [2]),
        _scalar_i("idx", 1), _i("axis2", [2]), _i("reps", [1, 1, 3]), _i("axis1", [1]),
        _i("sizes", [1, 1, 4]),
    ]  # fmt: skip
    outputs = [
        h.make_tensor_value_info("y", TensorProto.FLOAT16, [1, 1, 4]),
        _io("z", 1, 3), _io("s2", 1, 1, 8),
    ]  # fmt: skip
    return _model(nodes, [_io("x", 1, 3, 20)], outputs, inits)


def graph_extras() -> Any:
    """Einsum of two activations, Trilu, DepthToSpace, ArgMax, ScatterND, ReduceL2, Range,
    QuantizeLinear and DequantizeLinear, GridSample, NonZero."""
    import numpy as np
    from onnx import TensorProto, numpy_helper
    from onnx import helper as h

    nodes = [
        h.make_node("Conv", ["x", "w"], ["c"], "conv"),
        h.make_node("DepthToSpace", ["c"], ["d"], "d2s", blocksize=2),
        h.make_node("Reshape", ["d", "rows"], ["r"], "rows"),
        h.make_node("Einsum", ["r", "r"], ["e"], "einsum", equation="bij,bkj->bik"),
        h.make_node("Trilu", ["e"], ["t"], "trilu", upper=0),
        h.make_node("ScatterND", ["t", "where", "updates"], ["sc"], "scatter"),
        # onnx-tool reads ReduceL2's axes attribute only: the operand is ignored
        h.make_node("ReduceL2", ["sc", "axis2"], ["l2"], "l2", keepdims=1),
        h.make_node("ArgMax", ["sc"], ["am"], "argmax", axis=1, keepdims=0),
        h.make_node("Range", ["zero", "ten", "one"], ["rg"], "range"),
        h.make_node("QuantizeLinear", ["c", "qs", "qz"], ["q"], "quantize"),
        h.make_node("DequantizeLinear", ["q", "qs", "qz"], ["dq"], "dequantize"),
        h.make_node("GridSample", ["dq", "grid"], ["gs"], "grid_sample"),
        h.make_node("NonZero", ["gs"], ["nz"], "nonzero"),
    ]
    inits = [
        _f("w", 8, 3, 1, 1), _i("rows", [1, 12, 12]),
        _i("where", [[0, 1]]), _f("updates", 1, 12), _scalar_i("zero", 0),
        _scalar_i("ten", 10), _scalar_i("one", 1), _i("axis2", [2]),
        numpy_helper.from_array(np.array(0.1, np.float32), "qs"),
        numpy_helper.from_array(np.array(128, np.uint8), "qz"), _f("grid", 1, 4, 5, 2),
    ]  # fmt: skip
    outputs = [
        _io("l2", 1, 1, 1),
        h.make_tensor_value_info("am", TensorProto.INT64, [1, 12]),
        h.make_tensor_value_info("rg", TensorProto.INT64, [10]),
        h.make_tensor_value_info("nz", TensorProto.INT64, [4, 160]),
    ]
    return _model(nodes, [_io("x", 1, 3, 6, 3)], outputs, inits)


def graph_two_inputs() -> Any:
    """Two graph inputs (the second a mask): onnx-tool takes both as they are declared."""
    from onnx import helper as h

    nodes = [
        h.make_node("Mul", ["x", "mask"], ["m"], "masked"),
        h.make_node("MatMul", ["m", "w"], ["y0"], "proj"),
        h.make_node("Softmax", ["y0"], ["y"], "softmax", axis=-1),
    ]
    inputs = [_io("x", 1, 8, 16), _io("mask", 1, 1, 16)]
    return _model(nodes, inputs, [_io("y", 1, 8, 4)], [_f("w", 16, 4)])


def graph_recurrent() -> Any:
    """LSTM and GRU (with biases), TopK and GatherElements."""
    from onnx import TensorProto
    from onnx import helper as h

    nodes = [
        h.make_node("LSTM", ["x", "lw", "lr", "lb"], ["y", "yh", "yc"], "lstm", hidden_size=16),
        h.make_node("Squeeze", ["y", "axis1"], ["ys"], "squeeze"),
        h.make_node("GRU", ["ys", "gw", "gr", "gb"], ["g", "gh"], "gru", hidden_size=12),
        h.make_node("TopK", ["gh", "k"], ["top", "where"], "topk", axis=-1),
        h.make_node("GatherElements", ["gh", "where"], ["picked"], "pick", axis=2),
    ]
    inits = [
        _f("lw", 1, 64, 8), _f("lr", 1, 64, 16), _f("lb", 1, 128), _i("axis1", [1]),
        _f("gw", 1, 36, 16), _f("gr", 1, 36, 12), _f("gb", 1, 72), _i("k", [3]),
    ]  # fmt: skip
    outputs = [
        _io("g", 5, 1, 1, 12), _io("top", 1, 1, 3), _io("picked", 1, 1, 3),
        _io("yc", 1, 1, 16), h.make_tensor_value_info("where", TensorProto.INT64, [1, 1, 3]),
    ]  # fmt: skip
    return _model(nodes, [_io("x", 5, 1, 8)], outputs, inits)


def graph_mask() -> Any:
    """An attention mask the way exporters build one: token ids through an embedding
    (Gather), ConstantOfShape of a computed shape, Range, Equal, Where, Expand."""
    from onnx import TensorProto
    from onnx import helper as h

    nodes = [
        h.make_node("Gather", ["embedding", "ids"], ["emb"], "embed"),
        h.make_node("Shape", ["ids"], ["ids_shape"], "shape"),
        h.make_node("Gather", ["ids_shape", "one"], ["seq"], "seq"),
        h.make_node("Unsqueeze", ["seq", "axis0"], ["seq1"], "seq1"),
        h.make_node("Concat", ["seq1", "seq1"], ["square"], "square", axis=0),
        h.make_node(
            "ConstantOfShape",
            ["square"],
            ["zeros"],
            "zeros",
            value=h.make_tensor("v", TensorProto.FLOAT, [1], [0.0]),
        ),
        h.make_node("Range", ["zero", "eight", "step"], ["pos"], "positions"),
        h.make_node("Unsqueeze", ["pos", "axis0"], ["row"], "row"),
        h.make_node("Unsqueeze", ["pos", "axis1"], ["col"], "col"),
        h.make_node("Less", ["row", "col"], ["future"], "future"),
        h.make_node("Where", ["future", "neg", "zeros"], ["mask"], "mask"),
        h.make_node("Expand", ["mask", "target"], ["mask4"], "expand"),
        h.make_node("MatMul", ["emb", "wq"], ["q"], "q"),
        h.make_node("Transpose", ["q"], ["qt"], "qt", perm=[0, 2, 1]),
        h.make_node("MatMul", ["q", "qt"], ["s"], "scores"),
        h.make_node("Add", ["s", "mask4"], ["sm"], "masked"),
        h.make_node("Softmax", ["sm"], ["p"], "softmax", axis=-1),
    ]
    import numpy as np
    from onnx import numpy_helper

    inits = [
        _f("embedding", 50, 16), _scalar_i("one", 1), _i("axis0", [0]), _i("axis1", [1]),
        _scalar_i("zero", 0), _scalar_i("eight", 8), _scalar_i("step", 1),
        numpy_helper.from_array(np.array(-1e9, np.float32), "neg"), _i("target", [1, 8, 8]),
        _f("wq", 16, 16),
    ]  # fmt: skip
    ids = h.make_tensor_value_info("ids", TensorProto.INT64, [1, 8])
    return _model(nodes, [ids], [_io("p", 1, 8, 8)], inits)


GRAPHS: dict[str, Callable[[], Any]] = {
    "graph/recurrent": graph_recurrent,
    "graph/mask": graph_mask,
    "graph/two_inputs": graph_two_inputs,
    "graph/extras": graph_extras,
    "graph/pointwise": graph_pointwise,
    "graph/unregistered": graph_unregistered,
    "graph/decoder": graph_decoder,
    "graph/transformer": graph_transformer,
    "graph/shapes": graph_shapes,
}


def main() -> None:
    import onnx
    import onnx_tool

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--graphs-only", action="store_true", help="keep the files' captures, redo the graphs"
    )
    args = parser.parse_args()
    cases: dict[str, Any] = {}
    if args.graphs_only:
        old = json.loads(OUT.read_text())["cases"]
        cases = {k: v for k, v in old.items() if k.startswith("file/")}
    for path in sorted(FILES.glob("*.onnx")) if not args.graphs_only else ():
        # the open sizes of the dynamic exports: batch 1, 224 x 224 (-r 224)
        shape = (1, 3, 224, 224) if "_dynamic" in path.name else None
        cases[f"file/{path.name}"] = profile(load(path), shape)
        print(path.name, cases[f"file/{path.name}"]["printed"], file=sys.stderr)
    out = HERE.parent / "files" / "onnx"
    for name, build in GRAPHS.items():
        model = build()
        onnx.checker.check_model(model)
        try:
            cases[name] = profile(model)
        except NotImplementedError as error:
            cases[name] = {"error": f"NotImplementedError: {error}"}
        print(name, cases[name].get("printed", cases[name].get("error")), file=sys.stderr)
        # the graphs are written beside the fixtures, for convcount to read
        out.mkdir(exist_ok=True)
        onnx.save(model, str(out / f"{name.split('/')[1]}.onnx"))
    versions = {"onnx_tool": onnx_tool.VERSION, "onnx": onnx.__version__}
    lines = ",\n".join(
        f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in cases.items()
    )
    OUT.write_text(f'{{\n"versions": {json.dumps(versions)},\n"cases": {{\n{lines}\n}}\n}}\n')


if __name__ == "__main__":
    main()
