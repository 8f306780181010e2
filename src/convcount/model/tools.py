"""What other counters print for a network, and why each differs from FlopCounterMode.

convcount's own MACs are those ``torch.utils.flop_counter.FlopCounterMode``
counts (convolutions and matrix products, no bias). Other tools count other
things; each is one entry of :data:`TOOLS`, a function that reads a counted
network (any :class:`convcount.model.graph.ModelReport`) and returns what that
tool prints for the same network, per layer and in total, with the rule it
follows. The rules were read from each tool's source at the pinned version and
are checked against the tools themselves (``tests/tools/``):

* ``torchinfo`` 1.8.0, ``summary()``: per call of a leaf module that owns
  parameters, "mult-adds" = parameters (bias included) × output positions × batch
  for a class named ``*Conv*`` (transposed ones too: output positions), else
  parameters × batch (a Linear on a 3-D input counts once per example, not per
  position; a BatchNorm counts 2 per channel). Its "Forward/backward pass size"
  is 2 × the output bytes of those calls only; "Input size" is the input
  tensor's storage as Python's ``sys.getsizeof`` reports it (its bytes plus the
  storage object's 64 bytes); "Params size" the bytes of those modules'
  parameters; its "Estimated Total Size" their sum; MB are 10^6 bytes, printed
  to 2 decimals. A parameter a parent module uses itself (a layer scale, ViT's
  class token and position embedding, a relative position table,
  nn.MultiheadAttention's in_proj) and a Linear called through its weight
  (Swin's qkv and proj) are in no leaf call: neither mult-adds nor bytes.
* ``fvcore`` 0.1.5, ``FlopCountAnalysis``: per traced operator: convolutions and
  linear layers as FlopCounterMode (no bias), BatchNorm in eval mode 1 per
  input element (2 with its affine weight and bias), LayerNorm and GroupNorm 5
  per element (4 without affine), ``adaptive_avg_pool2d`` 1 per input element,
  2-D upsampling 1 (nearest) or 4 (bilinear) per output element. Every other
  operator (adds, multiplies, pooling, most activations, 1-D and 3-D pooling
  and upsampling) counts 0, and fvcore lists the ones it did not know as
  "unsupported": a convolution whose padding is a string (``padding="same"``)
  runs as ``aten::_convolution_mode``, one of them. ``torch.einsum`` (MaxViT's
  attention) counts what numpy's ``einsum_path`` prints as its "Optimized FLOP
  count" (2 × MACs + 1, to 4 digits) halved and floored: the figure depends on
  that rounding.
* ``ptflops`` 0.7.5 with ``backend="aten"``: FlopCounterMode's MACs plus the bias
  additions of convolutions and linear layers (``addmm``, also on the rows of a
  flattened 4-D input, and Swin's ``F.linear`` at every padded position) once per
  output element; everything else 0.

* ``ptflops`` 0.7.5 with ``backend="pytorch"`` (``ptflops-pytorch``): forward
  hooks on modules of the exact classes it maps (convolutions and Linear with
  their bias; BatchNorm 1 per input element, 2 with affine; LayerNorm 1, its hook
  asking for an ``affine`` it does not have; ReLU, ReLU6, ELU, LeakyReLU, GELU and
  pooling 1 per element; Upsample 1 per output element), averaged over the batch,
  plus functions it patches while the network runs (``F.relu``, ``F.gelu``,
  ``F.silu``, ``F.softmax``, the pooling functions: 1 per input element;
  ``F.interpolate``: 1 per output element), not averaged. A module whose forward
  calls a patched function counts twice (nn.ReLU, nn.GELU, every pooling module,
  nn.Upsample); operators (``+``, ``*``), ``torch.cat``, Hardswish, Sigmoid and
  the norms of other classes (torchvision's LayerNorm2d) count 0. It also patches
  ``torch.matmul``/``Tensor.matmul`` (input elements × the other's last size),
  ``mm``, ``bmm``, ``addmm``, and ``torch.mul``/``torch.add`` and their Tensor
  methods, but not ``F.linear``, the ``@``, ``*`` and ``+`` operators or
  ``torch.einsum``: Swin's attention counts its two ``Tensor.matmul`` (V2 only
  attention × v: q and k meet through ``@``) and ``F.softmax``, not its qkv and
  proj (``F.linear`` on their weights); MaxViT's counts only ``F.softmax``. Its
  parameters are all the network's.
* ``thop`` 0.1.1.post2209072238, ``profile()``: per call of a module whose exact
  class it registers: convolutions (transposed ones too) output elements ×
  Cin/groups × kernel, no bias; BatchNorm, LayerNorm and InstanceNorm 2 per input
  element, 4 with affine; AvgPool 1 per output element; AdaptiveAvgPool
  ``int((in/out sizes' product + 1) × output elements)`` in floating point;
  Linear in_features × output elements; Upsample nearest 1, linear 5, bilinear
  11 per output element; Softmax 3C - 1 per position; ReLU, ReLU6, LeakyReLU,
  max pooling and Dropout 0. A function counts nothing, and a module of a class
  it does not register counts nothing and loses its own parameters from the
  parameter total (LayerNorm2d's, ConvNeXt's layer_scale, the position tables of
  Swin's and MaxViT's attention), as does a module that never runs (Swin's qkv
  and proj Linears, called through their weights). Swin V2's cpb_mlp runs as
  modules and counts. It prints floats (``1824033792.0``).

A module that runs on a buffer (Swin V2's cpb_mlp on its relative coordinates)
runs once per forward whatever the batch: at a batch above 1 every tool here
counts it once, FlopCounterMode and convcount's own MACs (the ``flop_counter``
entry) too: :attr:`convcount.model.graph.ModelLayer.macs_once`.

How the PyTorch code runs each layer (which module class, or which function) is
:func:`torch_call`'s answer: a layer's ``call`` when the network says it (the
zoo marks torchvision's functional layers: ``F.relu`` in GoogLeNet's and
Inception's BasicConv2d, ``F.avg_pool2d``, ``F.adaptive_avg_pool2d``, ...), else
its kind's module class. A layer that stands for a module of several parts
is counted by what runs inside it (:data:`_COMPOSITES`): ``attention`` as
nn.MultiheadAttention (ptflops's own formula; thop nothing) or as MaxViT's
RelativePositionalMultiHeadAttention (projections as layers of their own),
``window_attention`` as torchvision's ShiftedWindowAttention (position table) or
ShiftedWindowAttentionV2 (continuous bias, its cpb_mlp folded in or as layers of
their own), ``patch_merging`` as PatchMerging, PatchMergingV2 or
``_patch_merging_pad``: the kind's default is torchvision's module for its
fields. Any other configuration (no position bias, another module class named
by ``call``) is refused by torchinfo, thop and ptflops-pytorch, naming the layer:
which of its parts run as modules cannot be known.

A torch.export file's ops carry the modules they ran in and the function called
(:attr:`convcount.model.graph.ModelLayer.origin`): :func:`_file_rows` reads them
as PyTorch ran them, an op in a leaf module of a ``torch.nn`` class a call of
that module (several ops one call, the module's own parameters), any other op a
function or operator of its innermost module's forward (``F.relu``,
``torch.cat``, ``+``); torchinfo counts leaf calls of any class
(:func:`_torchinfo_file`), fvcore and ptflops's aten backend the ops themselves.
An ONNX file or a state dict records no module classes: thop and
ptflops-pytorch refuse their layers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod
from typing import Any, NamedTuple

from convcount.errors import ConvcountError
from convcount.layers import DTYPE_BYTES

#: Extra bytes ``sys.getsizeof`` reports for a torch storage (torch 2.13): torchinfo
#: adds them to the input's bytes in its "Input size".
STORAGE_OVERHEAD_BYTES = 64

_CONVS = frozenset({"conv", "pointwise", "depthwise", "transpose"})
#: Kinds that are parameters their parent module uses itself (ConvNeXt's layer scale,
#: ViT's class token and position embedding): no module of their own.
_PARENT_PARAMETERS = frozenset({"layer_scale", "class_token", "position_embedding"})


class ToolLayer(NamedTuple):
    """One layer's figure under a tool."""

    name: str
    figure: int
    """The tool's MACs or FLOPs for this layer, at the batch size."""
    note: str = ""
    """Why the count differs from FlopCounterMode's, when it does."""
    extra: dict[str, Any] | None = None
    """A tool listing other rows than convcount's layers (onnx-tool: one per ONNX node):
    its own columns for the row (op, memory, params, shapes) and ``layer``, the
    convcount layer the row is (None: a node convcount folds away)."""


class ToolCount(NamedTuple):
    """What one tool prints for a network."""

    tool: str
    total: int
    """Its total (MACs, or what the tool calls FLOPs), at the batch size."""
    unit: str
    """What the tool calls the figure ("Total mult-adds", "flops", "MACs")."""
    layers: tuple[ToolLayer, ...]
    params: int | None
    """The parameters it reports, when it reports them."""
    memory: dict[str, int] | None
    """Its memory figures in bytes, when it reports them (torchinfo)."""
    printed: dict[str, str]
    """Its headline figures as it prints them."""
    counts: str
    """One line: what it counts that FlopCounterMode does not, or skips."""


class _Row(NamedTuple):
    """A layer with its input tensors, as the rules read it."""

    name: str
    kind: str
    inputs: tuple[Any, ...]
    output: Any
    params: int
    macs: int
    config: dict[str, Any]
    runs: bool = True
    call: str = ""
    op: str = ""
    """What the layer is in a model file (empty for the zoo and the model language)."""
    batched: bool = True
    """False for a layer computed once per forward whatever the batch
    (:attr:`convcount.model.graph.ModelLayer.batched`)."""
    macs_once: int = 0
    """Of ``macs``, those computed once per forward whatever the batch."""
    module: str = ""
    """The module path that ran it (a torch.export file), for parameters kept once."""
    part: str = ""
    """In a torch.export file: the module whose call this op is a later part of (its
    first op stands for the whole call); empty otherwise."""
    origin: dict[str, Any] | None = None


def _rows(report: Any, *, calls: bool = True) -> list[_Row]:
    """The report's layers as the rules read them. A torch.export file's ops are read
    through the modules that ran them (:func:`_file_rows`); ``calls``: a leaf module's
    ops as one call of it (for the tools that hook modules), else op by op."""
    rows = _layer_rows(report)
    if any(getattr(layer, "origin", None) for layer in report.layers):
        origins = [getattr(layer, "origin", None) for layer in report.layers]
        return _file_rows(rows, origins, calls=calls)
    return rows


def _layer_rows(report: Any) -> list[_Row]:
    tensors: dict[str, Any] = {"input": report.input}
    rows = []
    for layer in report.layers:
        config = getattr(layer, "config", None) or {}
        ins = tuple(tensors[name] for name in layer.inputs if name in tensors)
        macs = layer.macs if layer.macs is not None else 0
        runs = bool(getattr(layer, "runs", True))
        call = str(getattr(layer, "call", "") or "")
        row = _Row(layer.name, layer.kind, ins, layer.output, layer.params, macs, dict(config))
        op = str(getattr(layer, "op", "") or "")
        batched = bool(getattr(layer, "batched", True))
        once = int(getattr(layer, "macs_once", 0) or 0)
        rows.append(row._replace(runs=runs, call=call, op=op, batched=batched, macs_once=once))
        tensors[layer.name] = layer.output
    return rows


#: Functions of torch.nn.functional that are builtins (``torch_fn`` says
#: ``builtin_function_or_method``, as for ``torch.X``): called as F.X.
_BUILTIN_FUNCTIONAL = frozenset(
    {"gelu", "avg_pool2d", "avg_pool3d", "linear", "hardtanh", "upsample", "pad"}
    | {f"adaptive_{p}_pool{d}d" for p in ("avg", "max") for d in (1, 2, 3)}
)
#: Tensor methods that ``torch_fn`` records for their operators too (``x + y`` and
#: ``x.add(y)`` are both ``method_descriptor.add``): read as the operator, the usual form.
_OPERATORS = {
    "add": "+",
    "add_": "+=",
    "__add__": "+",
    "__iadd__": "+=",
    "mul": "*",
    "mul_": "*=",
    "__mul__": "*",
    "sub": "-",
    "__sub__": "-",
    "div": "/",
    "__truediv__": "/",
    "matmul": "@",
    "__matmul__": "@",
}
#: Activation ops of a file, by the function the registry's ``activation`` kind names.
_FILE_ACTIVATIONS = {
    "relu": "relu",
    "relu_": "relu",
    "relu6": "relu6",
    "hardtanh": "relu6",
    "hardtanh_": "relu6",
    "gelu": "gelu",
    "silu": "silu",
    "silu_": "silu",
    "hardswish": "hard_swish",
    "hardswish_": "hard_swish",
    "hardsigmoid": "hard_sigmoid",
    "hardsigmoid_": "hard_sigmoid",
    "sigmoid": "sigmoid",
    "sigmoid_": "sigmoid",
    "softmax": "softmax",
    "_softmax": "softmax",
    "tanh": "tanh",
    "leaky_relu": "leaky_relu",
    "elu": "elu",
    "mish": "mish",
    "selu": "selu",
}


#: A product the file records as ``method_descriptor.matmul`` without a source line
#: that tells ``x @ y`` (ptflops-pytorch: 0) from ``x.matmul(y)`` (counted).
_EITHER_PRODUCT = "@ or Tensor.matmul"


def _file_call(origin: dict[str, Any], op: str) -> str:
    """The function or operator a file's op was called as, from its ``torch_fn``."""
    kind, _, name = str(origin.get("fn") or "").rpartition(".")
    if kind == "function":
        return f"F.{name}"
    if kind == "builtin_function_or_method":
        return f"F.{name}" if name in _BUILTIN_FUNCTIONAL else f"torch.{name}"
    if kind in ("method_descriptor", "wrapper_descriptor"):
        if origin.get("form") == "method":  # the source line calls x.matmul(...)
            return f"Tensor.{name}"
        if name == "matmul" and not origin.get("form"):
            return _EITHER_PRODUCT  # x @ y or x.matmul(y): the file does not tell
        # x + y or x.add(y): read as the operator, the usual form
        return _OPERATORS.get(name, f"Tensor.{name}")
    # no function recorded: refused by the tools that hook modules and functions
    return ""


def _file_config(row: _Row, origin: dict[str, Any]) -> dict[str, Any]:
    """A file's op described with the registry's fields the rules read."""
    config = dict(row.config)
    op = row.op.removeprefix("aten.").split(".")[0]
    if row.kind == "activation":
        config["function"] = _FILE_ACTIVATIONS.get(op, op)
    if op.startswith("upsample_"):
        mode = op.removeprefix("upsample_")[:-2]  # nearest, linear, bilinear, bicubic, ...
        config["interpolation"] = "bilinear" if mode.endswith("linear") else mode
    if origin.get("padding"):
        config["padding"] = "same"
    for key in ("dim_size", "heads"):
        if key in origin:
            config[key] = origin[key]
    return config


def _file_rows(
    rows: list[_Row], origins: Sequence[dict[str, Any] | None], *, calls: bool
) -> list[_Row]:
    """A torch.export file's ops as PyTorch ran them.

    An op inside a leaf module of torch.nn (a module with no child module, of a class
    ``torch.nn.modules.*``) is a call of that module: its first op stands for the
    whole call (the module's own parameters, the call's MACs, the last op's output),
    the others are parts of it. Any other op is a function or operator its innermost
    module's forward called (``F.relu``, ``torch.cat``, ``+``), with the parameters
    that op first used (a parent module's own, a custom leaf module's).
    """
    out: list[_Row] = []
    index = 0
    while index < len(rows):
        row, origin = rows[index], origins[index]
        if not origin:
            out.append(row)
            index += 1
            continue
        module, cls = str(origin["module"]), str(origin["class"])
        short = cls.rpartition(".")[2]
        row = row._replace(module=module, origin=origin, config=_file_config(row, origin))
        hooked = origin.get("leaf") or short in _CALLED_WITH_CHILDREN
        if not (hooked and cls.startswith("torch.nn.modules.")):
            out.append(row._replace(call=_file_call(origin, row.op)))
            index += 1
            continue
        end = index + 1
        while end < len(rows) and _same_call(origin, origins[end], short):
            end += 1
        call = f"nn.{short}"
        if not calls:
            out.extend(
                r._replace(module=module, origin=o, call=call, config=_file_config(r, o or {}))
                for r, o in zip(rows[index:end], origins[index:end], strict=True)
            )
            index = end
            continue
        part = rows[index:end]
        own = origin.get("params") or {}
        inputs = row.inputs
        if short == "MultiheadAttention":
            inputs = _attention_input(origin, row)
            heads = next((o["heads"] for o in origins[index:end] if o and "heads" in o), 1)
            qkv_bias = "in_proj_bias" in own
            row = row._replace(config={**row.config, "heads": heads, "qkv_bias": qkv_bias})
        out.append(
            row._replace(
                call=call,
                inputs=inputs,
                output=part[-1].output,
                params=sum(int(count) for count, _trainable in own.values()),
                macs=sum(p.macs for p in part),
            )
        )
        out.extend(
            p._replace(call=call, part=module, module=module, params=0, macs=0) for p in part[1:]
        )
        index = end
    return out


#: torch.nn classes with child modules whose forward the tools hook as one call
#: (nn.MultiheadAttention's out_proj never runs as a module).
_CALLED_WITH_CHILDREN = frozenset({"MultiheadAttention"})


def _same_call(first: dict[str, Any], origin: dict[str, Any] | None, short: str) -> bool:
    """Whether an op belongs to the same call of a leaf module as ``first``."""
    if not origin or origin["module"] != first["module"]:
        return False
    # every op of nn.MultiheadAttention's forward (F.multi_head_attention_forward and
    # the transposes around it), or of a custom leaf module's; any other torch.nn
    # module's call is one function (a second call of it is another function call)
    torch_nn = str(first["class"]).startswith("torch.nn.modules.")
    return (
        short == "MultiheadAttention" or not torch_nn or origin.get("fn_id") == first.get("fn_id")
    )


def _attention_input(origin: dict[str, Any], row: _Row) -> tuple[Any, ...]:
    """nn.MultiheadAttention's query as (tokens, embedding): batch first, as ViT runs it."""
    from convcount.model.graph import Tensor

    shapes = origin.get("shapes") or []
    if not shapes or len(shapes[0]) != 3:
        return row.inputs
    tokens, dim = int(shapes[0][1]), int(shapes[0][2])
    return (Tensor((tokens,), dim, (1,), (1,)),)


def _elements(tensor: Any) -> int:
    return int(prod(tensor.spatial)) * int(tensor.channels)


def _sizes(tensor: Any) -> list[int]:
    """A tensor's sizes without the batch, channels first."""
    return [int(tensor.channels), *map(int, tensor.spatial)]


def _positions(tensor: Any) -> int:
    return int(prod(tensor.spatial))


def _weights(row: _Row) -> int:
    """Weights of a convolution or dense layer, from its MACs: params minus them is bias."""
    if row.kind == "transpose":
        per = _positions(row.inputs[0])
    elif row.kind == "dense":
        per = _positions(row.output) if row.output.spatial else 1
    else:
        per = _positions(row.output)
    return row.macs // per if per else 0


def _bias(row: _Row) -> int:
    """Bias values of a convolution or dense layer (0 when it has none)."""
    if row.origin is not None and row.op:
        # a file's op: whether it takes a bias (its module's parameters are counted
        # at its first call only)
        biased = bool(row.origin.get("bias")) or row.op.startswith("aten.addmm")
        return int(row.output.channels) if biased else 0
    return row.params - _weights(row)


def _torch_only(report: Any, tool: str) -> None:
    if report.convention != "torch":
        raise ConvcountError(
            "count_as",
            f"--count-as: torchinfo, fvcore, ptflops and thop count PyTorch modules, and "
            f"{report.name} follows the keras convention (a model file can be counted with "
            "--convention torch)",
        )


# ---------------------------------------------------------------------------
# torchinfo


def _torchinfo_modules(row: _Row) -> list[tuple[int, int, bool, bool]]:
    """(parameters, output elements per example, conv-like, batched) of each leaf module
    call (not batched: a module on a buffer, run once per forward)."""
    if row.params == 0 or row.kind in _PARENT_PARAMETERS or not row.runs:
        # a parameter of its parent module, not a leaf call
        return []
    out = _elements(row.output)
    if row.kind in _COMPOSITE_KINDS:
        return _torchinfo_composite(row)
    if row.kind == "separable":
        config = row.config
        cin = _elements(row.inputs[0]) // max(_positions(row.inputs[0]), 1)
        mult = int(config.get("depth_multiplier", 1))
        kernel = prod(config.get("kernel_size", (1,)))
        dw_out = cin * mult * _positions(row.output)
        dw = kernel * cin * mult + (cin * mult if config.get("depthwise_bias", True) else 0)
        return [(dw, dw_out, True, row.batched), (row.params - dw, out, True, row.batched)]
    return [(row.params, out, row.kind in _CONVS or row.kind == "separable", row.batched)]


def _torchinfo_file(
    rows: list[_Row], batch_size: int, width: int
) -> tuple[list[ToolLayer], int, int, int]:
    """torchinfo on a torch.export file's ops: per call of a leaf module (any class, no
    child module) that owns parameters, each parameter named ``weight`` or ``bias`` ×
    the batch (× the output positions for a class named ``*Conv*``), one named
    otherwise with ``weight`` or ``bias`` in it × the output's first two sizes; twice
    its output's bytes. A module called twice counts twice, its parameter bytes once."""
    layers: list[ToolLayer] = []
    total = output_bytes = leaf_params = 0
    seen: set[str] = set()
    index = 0
    while index < len(rows):
        row, origin = rows[index], rows[index].origin
        own = (origin or {}).get("params") or {}
        if origin is not None and not origin.get("class"):
            raise ConvcountError(
                "count_as",
                f"--count-as torchinfo: layer '{row.name}' ({row.op}): the file does not "
                "record the module it ran in (no nn_module_stack), so whether it is a "
                "leaf module's call is unknown",
            )
        if origin is None or not origin.get("leaf") or not own:
            note = "a parent module's own parameter: in no leaf call" if row.params else ""
            layers.append(ToolLayer(row.name, 0, note))
            index += 1
            continue
        short = str(origin["class"]).rpartition(".")[2]
        end = index + 1
        while end < len(rows) and _same_call(origin, rows[end].origin, short):
            end += 1
        # the output's full sizes at the export's batch (its first size need not be
        # the batch: a Linear on Swin's windows), scaled to batch_size
        last = rows[end - 1]
        sizes = list((last.origin or {}).get("out") or [1, *_sizes(last.output)])
        batch = int((last.origin or {}).get("batch", 1) or 1)
        count = 0
        for name, (size, _trainable) in own.items():
            if name in ("weight", "bias"):
                count += size * (prod(sizes[:1] + sizes[2:]) if "Conv" in short else sizes[0])
            elif "weight" in name or "bias" in name:
                count += size * prod(sizes[:2])
        count = count * batch_size // batch
        total += count
        output_bytes += 2 * prod(sizes) * batch_size // batch * width
        if row.module not in seen:
            seen.add(row.module)
            leaf_params += sum(int(size) for size, _trainable in own.values())
        conv = "Conv" in short
        note = "parameters × output positions" if conv else "parameters once per example"
        layers.append(ToolLayer(row.name, count, f"{short}: {note}"))
        layers.extend(
            ToolLayer(r.name, 0, f"part of {row.module}'s call") for r in rows[index + 1 : end]
        )
        index = end
    return layers, total, output_bytes, leaf_params


def _torchinfo_composite(row: _Row) -> list[tuple[int, int, bool, bool]]:
    """The leaf calls inside a module of several parts: its own parameters (a position
    table, a logit scale, nn.MultiheadAttention's in_proj) are not a leaf's, and its
    Linears called through their weights are no calls."""
    call = _composite_call(row, "torchinfo")
    if call in ("PatchMerging", "PatchMergingV2"):
        # norm (LayerNorm) and reduction (Linear) are leaf modules
        norm = 2 * (
            4 * int(row.inputs[0].channels) if call == "PatchMerging" else row.output.channels
        )
        normed = _patch_merging_normed(row, call)
        linear = row.params - norm
        return [(norm, normed, False, True), (linear, _elements(row.output), False, True)]
    if call == "ShiftedWindowAttentionV2" and row.config.get("bias_mlp"):
        # cpb_mlp's Linear(2, 512) and Linear(512, heads, no bias), once per forward
        table, hidden, heads = _bias_table(row), 512, int(row.config["heads"])
        return [
            (3 * hidden, table * hidden, False, False),
            (hidden * heads, table * heads, False, False),
        ]
    return []


def _composite_call(row: _Row, tool: str) -> str:
    """The module a layer of several parts stands for, refused when not known."""
    call = torch_call(row)
    if _COMPOSITES.get(call, ("", None))[0] != row.kind or not _COMPOSITES[call][1](row.config):
        _refuse_unknown(row._replace(config={**row.config, "activation": None}), tool, call)
    return call


def torchinfo(report: Any, batch_size: int = 1) -> ToolCount:
    """torchinfo 1.8.0's ``summary()`` figures (see the module docstring)."""
    _torch_only(report, "torchinfo")
    width = DTYPE_BYTES[report.dtype]
    layers: list[ToolLayer] = []
    total = 0
    output_bytes = 0
    leaf_params = 0
    rows = _rows(report, calls=False)
    if any(row.origin for row in rows):
        layers, total, output_bytes, leaf_params = _torchinfo_file(rows, batch_size, width)
        rows = []
    for row in rows:
        count = 0
        for params, out, conv, batched in _torchinfo_modules(row):
            # a module on a buffer (Swin V2's cpb_mlp) runs once, its output's batch 1
            batch = batch_size if batched else 1
            positions = out // max(row.output.channels, 1) if conv else 1
            count += params * batch * positions
            output_bytes += 2 * batch * out * width
            leaf_params += params
        total += count
        note = _torchinfo_note(row, count, batch_size if row.batched else 1)
        layers.append(ToolLayer(row.name, count, note))
    input_bytes = batch_size * _elements(report.input) * width + STORAGE_OVERHEAD_BYTES
    # "Params size" sums leaf modules only: a parameter a parent module owns itself
    # (ConvNeXt's layer_scale, Swin's position table) is in the total but not in the
    # bytes. A module that never runs (an auxiliary head in eval mode, the Linears
    # Swin's attention calls through their weights) is not in it either.
    param_bytes = width * leaf_params
    memory = {
        "input_bytes": input_bytes,
        "forward_backward_bytes": output_bytes,
        "param_bytes": param_bytes,
        "total_bytes": input_bytes + output_bytes + param_bytes,
    }
    printed = {
        "Total params": f"{report.total_params:,}",
        "Trainable params": f"{report.trainable_params:,}",
        "Non-trainable params": f"{report.total_params - report.trainable_params:,}",
        _torchinfo_units(total)[0]: _torchinfo_units(total)[1],
        "Input size (MB)": _megabytes(input_bytes),
        "Forward/backward pass size (MB)": _megabytes(output_bytes),
        "Params size (MB)": _megabytes(param_bytes),
        "Estimated Total Size (MB)": _megabytes(memory["total_bytes"]),
    }
    return ToolCount(
        "torchinfo",
        total,
        "Total mult-adds",
        tuple(layers),
        report.total_params,
        memory,
        printed,
        "every parameter of a layer as mult-adds: a convolution's (bias included) at each "
        "output position, any other layer's (Linear, BatchNorm, LayerNorm) once per "
        "example; no attention products; its memory counts only the outputs of layers "
        "that own parameters",
    )


def _torchinfo_note(row: _Row, count: int, batch_size: int) -> str:
    if count == row.macs * batch_size:
        return ""
    if row.kind in _COMPOSITE_KINDS:
        return "leaf modules inside only" if count else "no leaf module call owns parameters"
    if row.kind in _CONVS:
        return "bias × output positions added"
    if row.kind == "dense":
        return "parameters once per example"
    if row.macs == 0:
        return "parameters counted as mult-adds"
    return "parameters × output positions"


def _torchinfo_units(total: int) -> tuple[str, str]:
    # torchinfo's to_readable: T from 1e12, G from 1e9, else M; an integral value
    # prints without decimals, any other with two. The unit is its enum `Units(str,
    # Enum)` in an f-string, which Python 3.11 and later (convcount's Pythons) print
    # as the member's name: "Total mult-adds (Units.MEGABYTES): 0.40" (Python 3.10
    # printed "(M)").
    limit, unit = next(
        (
            (limit, unit)
            for limit, unit in ((10**12, "TERABYTES"), (10**9, "GIGABYTES"))
            if total >= limit
        ),
        (10**6, "MEGABYTES"),
    )
    value = total / limit
    text = f"{int(value):,d}" if value.is_integer() else f"{value:,.2f}"
    return f"Total mult-adds (Units.{unit})", text


def _megabytes(count: int) -> str:
    return f"{count / 1e6:0.2f}"


# ---------------------------------------------------------------------------
# fvcore


def _fvcore_layer(row: _Row, batch_size: int) -> tuple[int, str]:
    kind, config = row.kind, row.config
    dims = len(row.inputs[0].spatial) if row.inputs else 0
    if not row.runs:
        return 0, "never runs"
    if isinstance(config.get("padding"), str) and kind in ("conv", "depthwise", "separable"):
        # nn.ConvNd(padding="same" or "valid") traces as aten::_convolution_mode, an
        # operator fvcore does not know: 0, listed as unsupported (a separable's 1x1
        # step, padded with numbers, still counts)
        pointwise = 0
        if kind == "separable":
            mid = int(row.inputs[0].channels) * int(config.get("depth_multiplier", 1))
            pointwise = _positions(row.output) * mid * int(row.output.channels)
        return pointwise * batch_size, "aten::_convolution_mode (string padding): unsupported"
    if kind in _CONVS or kind in ("dense", "separable"):
        return row.macs * batch_size, ""
    if kind in ("aten.group_norm", "aten.instance_norm"):
        kind = "layer_norm"  # a file's op: 5 per element, 4 without affine
    if kind == "batchnorm":
        affine = _affine(row)
        return _elements(row.inputs[0]) * batch_size * (2 if affine else 1), (
            "batch_norm: 2 per element" if affine else "batch_norm: 1 per element"
        )
    if kind == "layer_norm":
        affine = _affine(row)
        return _elements(row.inputs[0]) * batch_size * (5 if affine else 4), (
            "layer_norm: 5 per element" if affine else "layer_norm: 4 per element"
        )
    if kind in ("adaptive_avg_pool", "global_avg_pool") and dims == 2:
        if config.get("method") == "mean":
            return 0, "mean: unsupported"
        return _elements(row.inputs[0]) * batch_size, "adaptive_avg_pool2d: 1 per input element"
    if kind == "upsampling" and dims == 2:
        bilinear = config.get("interpolation") == "bilinear"
        per = 4 if bilinear else 1
        return _elements(row.output) * batch_size * per, (
            f"upsample_{'bilinear' if bilinear else 'nearest'}2d: {per} per output element"
        )
    if kind == "patch_merging" and config.get("reduction", True) and config.get("norm") != "none":
        # its LayerNorm, affine: 5 per element of the 4C concatenation or of the output
        call = "PatchMergingV2" if config.get("norm") == "after" else "PatchMerging"
        normed = _patch_merging_normed(row, call) * batch_size
        return row.macs * batch_size + 5 * normed, "+ its layer_norm: 5 per element"
    if kind == "attention" and torch_call(row) == "RelativePositionalMultiHeadAttention":
        # two torch.einsum products, each counted from numpy's einsum_path: its
        # "Optimized FLOP count" (2 x MACs + 1) printed to 4 digits, halved, floored
        half = row.macs * batch_size // 2
        return 2 * _einsum_path_macs(half), "einsum: numpy's FLOP count to 4 digits / 2"
    return _macs_at(row, batch_size), ""


def _affine(row: _Row) -> bool:
    """Whether a norm has its affine weight (a file's op: whether it takes one)."""
    if row.origin is not None and row.op:
        return "weight" in row.origin.get("weights", ())
    return row.params > 0


def _einsum_path_macs(macs: int) -> int:
    """fvcore's einsum count: ``floor(float(f"{2 * macs + 1:.3e}") / 2)``."""
    return int(float(f"{2 * macs + 1:.3e}") // 2)


def fvcore(report: Any, batch_size: int = 1) -> ToolCount:
    """fvcore 0.1.5's ``FlopCountAnalysis(...).total()`` (see the module docstring)."""
    _torch_only(report, "fvcore")
    layers = []
    for row in _rows(report, calls=False):
        count, note = _fvcore_layer(row, batch_size if row.batched else 1)
        layers.append(ToolLayer(row.name, count, note))
    total = sum(layer.figure for layer in layers)
    return ToolCount(
        "fvcore",
        total,
        "flops",
        tuple(layers),
        None,
        None,
        {"total": f"{total:,}"},
        "BatchNorm (2 per element), LayerNorm (5), 2-D adaptive average pooling (1 per "
        "input element) and 2-D upsampling (nearest 1, bilinear 4 per output element) "
        "beside convolutions and matrix products; no bias; adds, multiplies, pooling, "
        'activations, means and convolutions with padding="same" are unsupported and '
        "count 0",
    )


# ---------------------------------------------------------------------------
# ptflops, aten backend


def _ptflops_aten_layer(row: _Row, batch_size: int) -> tuple[int, str]:
    if not row.runs:
        return 0, "never runs"
    macs = _macs_at(row, batch_size)
    if row.kind in _CONVS and _bias(row):
        return macs + _out_elements(row) * batch_size, "bias added per output element"
    if row.kind == "separable":
        config = row.config
        adds = 0
        if config.get("pointwise_bias", True):
            adds += _elements(row.output)
        if config.get("depthwise_bias", True):
            cin = row.inputs[0].channels
            adds += cin * int(config.get("depth_multiplier", 1)) * _positions(row.output)
        return macs + adds * batch_size, "bias added per output element" if adds else ""
    if row.kind == "dense" and _bias(row) and (row.origin or {}).get("strided"):
        # a file's linear on a permuted view runs as matmul + add_: no addmm, no bias
        return macs, "a permuted input: matmul + add, the bias not counted"
    if row.kind == "dense" and _bias(row):
        # linear runs as addmm over the positions flattened into rows: one bias add
        # per output element, at every position
        return macs + _out_elements(row) * batch_size, "addmm: bias added per output"
    if row.kind == "window_attention":
        # F.linear on qkv's and proj's weights and biases: addmm at every padded position
        config = row.config
        per = (3 if config.get("qkv_bias", True) else 0) + (
            1 if config.get("proj_bias", True) else 0
        )
        adds = _padded_positions(row) * per * int(row.inputs[0].channels) * batch_size
        if config.get("bias_mlp") and config.get("position_bias") == "continuous":
            adds += _bias_table(row) * int(config.get("bias_hidden", 512))  # once
        return macs + adds, "addmm: qkv and proj biases added per padded position" if adds else ""
    return macs, ""


def _out_elements(row: _Row) -> int:
    """A layer's output elements per example (a file's op: from its full sizes, whose
    first need not be the batch: nn.MultiheadAttention's tokens)."""
    if row.origin is not None and row.origin.get("out") is not None:
        return int(prod(row.origin["out"])) // int(row.origin.get("batch", 1) or 1)
    return _elements(row.output)


def _macs_at(row: _Row, batch_size: int) -> int:
    """A layer's MACs for ``batch_size`` examples (what runs once per forward, once)."""
    return (row.macs - row.macs_once) * batch_size + row.macs_once


def _padded_positions(row: _Row) -> int:
    """Positions of a window attention's map padded to whole windows."""
    windows = (int(n) for n in row.config["window"])
    return prod(-(-int(n) // w) * w for n, w in zip(row.inputs[0].spatial, windows, strict=True))


def ptflops_aten(report: Any, batch_size: int = 1) -> ToolCount:
    """ptflops 0.7.5's ``get_model_complexity_info(..., backend="aten")`` MACs."""
    _torch_only(report, "ptflops")
    layers = []
    for row in _rows(report, calls=False):
        count, note = _ptflops_aten_layer(row, batch_size if row.batched else 1)
        layers.append(ToolLayer(row.name, count, note))
    total = sum(layer.figure for layer in layers)
    return ToolCount(
        "ptflops",
        total,
        "MACs",
        tuple(layers),
        report.total_params,
        None,
        {"MACs": f"{total:,}", "params": f"{report.total_params:,}"},
        "the bias additions of convolutions and linear layers, one per output element; "
        "everything else as FlopCounterMode",
    )


# ---------------------------------------------------------------------------
# How PyTorch code runs each layer: the module class hooked, or the function called

#: The module class of each activation function (torch convention).
_ACTIVATION_CLASSES = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "selu": "SELU",
    "gelu": "GELU",
    "swish": "SiLU",
    "silu": "SiLU",
    "sigmoid": "Sigmoid",
    "hard_sigmoid": "Hardsigmoid",
    "hard_swish": "Hardswish",
    "tanh": "Tanh",
    "softmax": "Softmax",
    "mish": "Mish",
    "linear": "Identity",
}

#: The module class (``nn.`` + name, ``{d}`` the spatial dimensions) or the call
#: (an operator, ``torch.``/``Tensor.`` function) each kind stands for by default.
_KIND_CALLS = {
    "conv": "nn.Conv{d}d",
    "pointwise": "nn.Conv{d}d",
    "depthwise": "nn.Conv{d}d",
    "separable": "nn.Conv{d}d",  # two of them: depthwise, then 1x1
    "transpose": "nn.ConvTranspose{d}d",
    "dense": "nn.Linear",
    "batchnorm": "nn.BatchNorm{d}d",
    "layer_norm": "nn.LayerNorm",
    "dropout": "nn.Dropout",
    "identity": "nn.Identity",
    "max_pool": "nn.MaxPool{d}d",
    "avg_pool": "nn.AvgPool{d}d",
    "adaptive_avg_pool": "nn.AdaptiveAvgPool{d}d",
    "adaptive_max_pool": "nn.AdaptiveMaxPool{d}d",
    "global_avg_pool": "nn.AdaptiveAvgPool{d}d",
    "global_max_pool": "nn.AdaptiveMaxPool{d}d",
    "flatten": "nn.Flatten",
    "zero_padding": "nn.ZeroPad{d}d",
    "upsampling": "nn.Upsample",
    "stochastic_depth": "StochasticDepth",
    "channel_shuffle": "nn.ChannelShuffle",
    "add": "+",
    "multiply": "*",
    "concat": "torch.cat",
    "split": "Tensor.chunk",
    "permute": "Tensor.permute",
    "reshape": "Tensor.reshape",
    # a parameter its parent block multiplies in (ConvNeXt's CNBlock): `*`
    "layer_scale": "*",
    # parameters of the parent module, joined by torch.cat and `+` (ViT's class
    # token and position embedding), and the class token's slice x[:, 0]
    "class_token": "torch.cat",
    "position_embedding": "+",
    "select_token": "Tensor.__getitem__",
    # Swin V2's relative coordinates: a buffer its attention module reads
    "relative_coords": "self.relative_coords_table",
    # MaxViT's modules that only move values (no parameters, nothing counted)
    "window_partition": "WindowPartition",
    "window_departition": "WindowDepartition",
    "swap_axes": "SwapAxes",
}

#: Modules of several parts (torchvision's, or torch's nn.MultiheadAttention) that
#: one layer stands for, by the call that names them: the kind, and which
#: configurations of it that module runs. thop and ptflops's pytorch backend count
#: them by what runs inside (:func:`_composite`).
_COMPOSITES: dict[str, tuple[str, Callable[[dict[str, Any]], bool]]] = {
    "nn.MultiheadAttention": (
        "attention",
        lambda c: bool(c.get("projections", True)) and c.get("position_bias", "none") == "none",
    ),
    # MaxViT: to_qkv and merge are dense layers of their own around this one
    "RelativePositionalMultiHeadAttention": (
        "attention",
        lambda c: (
            not c.get("projections", True)
            and c.get("position_bias") == "table"
            and c.get("value_dim") in (None, c.get("head_dim"))
        ),
    ),
    "ShiftedWindowAttention": ("window_attention", lambda c: c.get("position_bias") == "table"),
    "ShiftedWindowAttentionV2": (
        "window_attention",
        lambda c: c.get("position_bias") == "continuous" and c.get("bias_hidden", 512) == 512,
    ),
    "PatchMerging": (
        "patch_merging",
        lambda c: bool(c.get("reduction", True)) and c.get("norm") in (None, "before"),
    ),
    "PatchMergingV2": (
        "patch_merging",
        lambda c: bool(c.get("reduction", True)) and c.get("norm") == "after",
    ),
    "_patch_merging_pad": ("patch_merging", lambda c: not c.get("reduction", True)),
}
_COMPOSITE_KINDS = frozenset(kind for kind, _fits in _COMPOSITES.values())
#: What each of them builds, for the message refusing a layer that does not fit.
_COMPOSITE_FIT = {
    "nn.MultiheadAttention": "projections = true, position_bias = none",
    "RelativePositionalMultiHeadAttention": (
        "projections = false, position_bias = table, value_dim = head_dim"
    ),
    "ShiftedWindowAttention": "position_bias = table",
    "ShiftedWindowAttentionV2": "position_bias = continuous, bias_hidden = 512",
    "PatchMerging": "reduction = true, norm = before",
    "PatchMergingV2": "reduction = true, norm = after",
    "_patch_merging_pad": "reduction = false",
}


def torch_call(layer: Any) -> str:
    """How PyTorch code runs ``layer`` (a ModelLayer or a row of it).

    The layer's own ``call`` when it has one: a function (``F.relu``,
    ``F.avg_pool2d``, ...) or a module class other than its kind's
    (``LayerNorm2d``); else the default: a call of its kind's module class
    (``nn.Conv2d``, ``nn.ReLU``, ``nn.AdaptiveAvgPool2d``: the class's name with
    ``nn.``), an operator for add and multiply (``+``, ``*``), ``Tensor.mean`` for a
    global average pool whose ``method`` is mean. A model file in the torch
    convention is read this way: every layer a module call of its kind's class.
    """
    call = str(getattr(layer, "call", "") or "")
    if call:
        return call
    kind = layer.kind
    config = getattr(layer, "config", None) or {}
    if kind == "activation":
        return "nn." + _ACTIVATION_CLASSES.get(str(config.get("function", "relu")), "Identity")
    if kind == "global_avg_pool" and config.get("method") == "mean":
        return "Tensor.mean"
    if kind in _COMPOSITE_KINDS:
        # torchvision's module for the configuration, when it has one
        return next((c for c, (k, fits) in _COMPOSITES.items() if k == kind and fits(config)), "")
    pattern = _KIND_CALLS.get(kind)
    if pattern is None:
        return ""
    inputs = getattr(layer, "inputs", ())
    first = inputs[0] if inputs and not isinstance(inputs[0], str) else None
    tensor = first if first is not None else layer.output
    dims = max(len(tensor.spatial), 1)
    return pattern.replace("{d}", str(dims))


def _base(call: str) -> str:
    """A module class without ``nn.`` and its dimensions: ``nn.MaxPool2d`` -> ``MaxPool``."""
    name = call.removeprefix("nn.")
    return name[:-2] if name[-2:] in ("1d", "2d", "3d") else name


def _module_of(name: str) -> str:
    """The module path of a layer: a second call ``relu#2`` is module ``relu``."""
    return name.split("#", 1)[0]


def _refuse_unknown(row: _Row, tool: str, call: str) -> None:
    activation = row.config.get("activation")
    if activation not in (None, "linear") and row.kind != "activation":
        # PyTorch has no fused activation: which module or function runs it is unknown
        raise ConvcountError(
            "count_as",
            f"--count-as {tool}: layer '{row.name}' carries activation {activation!r}, "
            "which a PyTorch network runs as a layer of its own (write it as one)",
        )
    if row.op and not row.call:
        raise ConvcountError(
            "count_as",
            f"--count-as {tool}: layer '{row.name}' comes from a model file ({row.op}) "
            f"that does not record the PyTorch module or function {tool} would hook (an "
            "ONNX file or a state dict; a torch.export .pt2 file records them)",
        )
    if row.kind in _COMPOSITE_KINDS and _COMPOSITES.get(call, ("", None))[0] != row.kind:
        known = "; ".join(
            f"{c} ({_COMPOSITE_FIT[c]})"
            for c, (kind, _f) in _COMPOSITES.items()
            if kind == row.kind
        )
        what = f", call {call!r}" if call else ""
        raise ConvcountError(
            "count_as",
            f"--count-as {tool}: layer '{row.name}' (kind {row.kind}{what}): {tool}'s figure "
            "depends on which of its parts run as modules, known only for these modules "
            f"(and the fields that build them): {known}",
        )
    if call in _COMPOSITES and not _COMPOSITES[call][1](row.config):
        raise ConvcountError(
            "count_as",
            f"--count-as {tool}: layer '{row.name}' says call {call!r}, which does not build "
            f"this {row.kind} (see the kind's fields: {_COMPOSITE_FIT[call]})",
        )
    if not call:
        raise ConvcountError(
            "count_as",
            f"--count-as {tool}: {tool}'s figure for layer '{row.name}' (kind {row.kind}) "
            "is not reproduced",
        )


def _input_elements(row: _Row) -> int:
    """A layer's first input's elements per example (a file's op: from its full sizes,
    whose first need not be the batch: Swin's windows)."""
    shapes = (row.origin or {}).get("shapes")
    if shapes:
        return int(prod(shapes[0])) // int((row.origin or {}).get("batch", 1) or 1)
    return _elements(row.inputs[0]) if row.inputs else _elements(row.output)


# ---------------------------------------------------------------------------
# thop

#: Module classes thop 0.1.1 registers (``register_hooks``), without dimensions;
#: it counts 0 for the ones not in :data:`_THOP_RULES`.
_THOP_REGISTERED = frozenset(
    {
        "Conv",
        "ConvTranspose",
        "BatchNorm",
        "LayerNorm",
        "InstanceNorm",
        "PReLU",
        "Softmax",
        "ReLU",
        "ReLU6",
        "LeakyReLU",
        "MaxPool",
        "AdaptiveMaxPool",
        "AvgPool",
        "AdaptiveAvgPool",
        "Linear",
        "Dropout",
        "Upsample",
        "ZeroPad2d",
        "PixelShuffle",
    }
)


def _thop_layer(row: _Row, batch_size: int) -> tuple[int, int, str]:
    """(thop's count, the parameters it keeps, why) for one layer."""
    if row.kind == "input":  # a further input of the network: no module, nothing counted
        return 0, 0, ""
    call = torch_call(row)
    _refuse_unknown(row, "thop", call)
    if not row.batched:
        batch_size = 1  # computed once per forward: thop's hook sees no batch
    if call in _COMPOSITES and call != "nn.MultiheadAttention":
        return _thop_composite(row, call, batch_size)
    count, keeps, note = _thop_module(row, call, batch_size)
    return count, row.params if keeps else 0, note


def _thop_module(row: _Row, call: str, batch_size: int) -> tuple[int, bool, str]:
    """(thop's count, whether it keeps the parameters, why) for a layer run as one module."""
    if not call.startswith("nn."):
        if row.params:
            return 0, False, f"{call}: not a registered module, parameters dropped"
        return 0, False, "" if row.macs == 0 else f"{call}: a function, not counted"
    base = _base(call)
    if base == "ZeroPad":
        base = call.removeprefix("nn.")
    if base not in _THOP_REGISTERED:
        if row.params:
            return 0, False, f"{call}: not registered, parameters dropped"
        return 0, False, ""
    if not row.runs:
        return 0, False, "never runs: no parameters"
    out = _out_elements(row) * batch_size
    if base in ("Conv", "ConvTranspose"):
        if row.kind == "separable":
            return row.macs * batch_size, True, ""
        if row.kind == "transpose":
            # counted at the output positions: Cin/groups x kernel per output element
            per_in = _positions(row.inputs[0])
            count = row.macs * _positions(row.output) // per_in if per_in else 0
            return count * batch_size, True, "output elements x Cin/groups x kernel"
        return row.macs * batch_size, True, ""
    if base == "Linear":
        return row.macs * batch_size, True, ""
    if base in ("BatchNorm", "LayerNorm", "InstanceNorm"):
        per = 4 if row.params else 2
        return _input_elements(row) * batch_size * per, True, f"{per} per input element"
    if base == "AvgPool":
        return out, True, "1 per output element"
    if base == "AdaptiveAvgPool":
        sizes = row.inputs[0].spatial if row.inputs else ()
        outs = row.output.spatial or (1,) * len(sizes)
        kernel = 1.0
        for size, out_size in zip(sizes, outs, strict=False):
            kernel *= float(size) / float(out_size)
        return int((kernel + 1) * out), True, "(in/out size + 1) per output element"
    if base == "Upsample":
        dims = len(row.output.spatial)
        # linear 5, bilinear 11; trilinear: thop warns and counts 0
        bilinear = row.config.get("interpolation") == "bilinear"
        per = {1: 5, 2: 11}.get(dims, 0) if bilinear else 1
        return out * per, True, f"{per} per output element"
    if base == "Softmax":
        channels = int(row.config.get("dim_size") or row.output.channels)
        return out // channels * (3 * channels - 1), True, "3C - 1 per position"
    return 0, True, ""


def _thop_composite(row: _Row, call: str, batch_size: int) -> tuple[int, int, str]:
    """thop on a torchvision module of several parts: only its registered children count,
    and only those that run as modules keep their parameters."""
    if not row.runs:
        return 0, 0, "never runs: no parameters"
    if call == "_patch_merging_pad":
        return 0, 0, ""
    if call in ("PatchMerging", "PatchMergingV2"):
        # children norm (nn.LayerNorm, affine: 4 per input element) and reduction (nn.Linear)
        normed = _patch_merging_normed(row, call)
        count = (4 * normed + row.macs) * batch_size
        return count, row.params, "LayerNorm 4 per element + Linear"
    if call == "ShiftedWindowAttentionV2" and row.config.get("bias_mlp"):
        # its cpb_mlp (nn.Linear(2, 512), nn.ReLU, nn.Linear(512, heads)) runs as
        # modules once per forward; qkv and proj are called through their weights
        table, hidden, heads = _bias_table(row), 512, int(row.config["heads"])
        return (
            table * hidden * (2 + heads),
            3 * hidden + hidden * heads,
            "only its cpb_mlp modules run: their MACs and parameters",
        )
    # ShiftedWindowAttention(V2): qkv and proj never run as modules (F.linear on their
    # weights); RelativePositionalMultiHeadAttention: its products are torch.einsum
    return 0, 0, f"{call}: not registered, its Linears never called, parameters dropped"


def _patch_merging_normed(row: _Row, call: str) -> int:
    """Elements PatchMerging's LayerNorm reads: the 4C concatenation (V1) or the output (V2)."""
    if call == "PatchMerging":
        return _positions(row.output) * 4 * int(row.inputs[0].channels)
    return _elements(row.output)


def _bias_table(row: _Row) -> int:
    """Relative positions of a window: (2M-1)(2N-1)."""
    wh, ww = row.config["window"]
    return (2 * int(wh) - 1) * (2 * int(ww) - 1)


def thop(report: Any, batch_size: int = 1) -> ToolCount:
    """thop 0.1.1's ``profile()`` MACs and parameters (see the module docstring)."""
    _torch_only(report, "thop")
    layers = []
    params: dict[str, int] = {}
    for row in _rows(report):
        if row.part:
            layers.append(ToolLayer(row.name, 0, f"part of {row.part}'s call"))
            continue
        count, kept, note = _thop_layer(row, batch_size)
        if kept:
            # a module called twice counts its parameters once
            module = row.module if row.origin else _module_of(row.name)
            params[module] = max(params.get(module, 0), kept)
        layers.append(ToolLayer(row.name, count, note))
    total = sum(layer.figure for layer in layers)
    kept = sum(params.values())
    return ToolCount(
        "thop",
        total,
        "MACs",
        tuple(layers),
        kept,
        None,
        {"MACs": repr(float(total)), "params": repr(float(kept))},
        "per call of a module whose exact class it registers: convolutions without bias "
        "(transposed ones at the output positions), BatchNorm and LayerNorm 2 per element "
        "(4 with affine), average pooling, Linear, upsampling (nearest 1, bilinear 11); "
        "functions and other modules count 0 and their parameters are dropped",
    )


# ---------------------------------------------------------------------------
# ptflops, pytorch backend

#: Functions ptflops 0.7.5 patches to count their input's elements (interpolate:
#: the output's), and the module classes whose forward calls one of them.
_PTFLOPS_FUNCTIONS = frozenset(
    {
        "F.relu",
        "F.prelu",
        "F.elu",
        "F.relu6",
        "F.gelu",
        "F.silu",
        "F.softmax",
        "F.interpolate",
        "F.upsample",
        *(f"F.{p}{d}d" for p in ("avg_pool", "max_pool") for d in (1, 2, 3)),
        *(f"F.adaptive_{p}{d}d" for p in ("avg_pool", "max_pool") for d in (1, 2, 3)),
    }
)
_PTFLOPS_FORWARD = {
    "ReLU": "F.relu",
    "PReLU": "F.prelu",
    "ELU": "F.elu",
    "GELU": "F.gelu",
    "SiLU": "F.silu",
    "Softmax": "F.softmax",
    "Upsample": "F.interpolate",
    "MaxPool": "F.max_pool",
    "AvgPool": "F.avg_pool",
    "AdaptiveMaxPool": "F.adaptive_max_pool",
    "AdaptiveAvgPool": "F.adaptive_avg_pool",
}
#: Module classes ptflops hooks that count their output's (activations) or input's
#: (pooling, normalisation) elements.
_PTFLOPS_ELEMENTS = frozenset(
    {"ReLU", "PReLU", "ELU", "LeakyReLU", "ReLU6", "GELU"}
    | {"MaxPool", "AvgPool", "AdaptiveMaxPool", "AdaptiveAvgPool"}
)


class _PtflopsCount(NamedTuple):
    """ptflops's pytorch backend on one layer: per example, and per forward."""

    module: int
    """Its module hooks' count for one example."""
    functional: int
    """Its patched functions' and tensor operations' count for one example."""
    note: str
    module_once: int = 0
    """Module hooks that count once per forward whatever the batch."""
    functional_once: int = 0
    """Patched functions called once per forward whatever the batch."""


def _ptflops_pytorch_layer(row: _Row) -> _PtflopsCount:
    """What ptflops's pytorch backend counts for one layer."""
    if row.kind == "input":  # a further input of the network: no module, nothing counted
        return _PtflopsCount(0, 0, "")
    call = torch_call(row)
    _refuse_unknown(row, "ptflops-pytorch", call)
    if call == _EITHER_PRODUCT:
        raise ConvcountError(
            "count_as",
            f"--count-as ptflops-pytorch: layer '{row.name}' is a product the file records "
            "without the source line that tells x @ y (which ptflops does not count) from "
            "x.matmul(y) (which it counts); export keeping stack traces "
            "(torch.export.save does), with the product in a module's forward",
        )
    if not row.runs:
        return _PtflopsCount(0, 0, "never runs")
    if call in _COMPOSITES and call != "nn.MultiheadAttention":
        count = _ptflops_composite(row, call)
    elif call in _PTFLOPS_TENSOR_OPS and row.origin:
        count = _ptflops_tensor_op(row, call)
    else:
        count = _ptflops_module(row, call)
    if not row.batched:
        # a buffer's descendant: computed once per forward, not per example
        return count._replace(
            module=0,
            functional=0,
            module_once=count.module + count.module_once,
            functional_once=count.functional + count.functional_once,
        )
    return count


def _ptflops_module(row: _Row, call: str) -> _PtflopsCount:
    """ptflops's pytorch backend on a layer run as one module or function."""
    into = _input_elements(row)
    function = call
    module = 0
    note = ""
    if call.startswith("nn."):
        base = _base(call)
        function = _PTFLOPS_FORWARD.get(base, "")
        if function and base not in ("SiLU", "Softmax", "Upsample"):
            function += call[-2:] if "Pool" in base else ""
        if base in ("Conv", "ConvTranspose", "Linear"):
            # its hook adds the bias whatever aten.linear runs as
            hooked = row._replace(origin={**row.origin, "strided": False}) if row.origin else row
            module, _ = _ptflops_aten_layer(hooked, 1)
            note = "bias added per output element" if module != row.macs else ""
        elif base in _PTFLOPS_ELEMENTS:
            module = into
            note = "1 per element"
        elif base in ("BatchNorm", "InstanceNorm", "GroupNorm"):
            module = into * (2 if row.params else 1)
            note = f"{2 if row.params else 1} per element"
        elif base == "LayerNorm":
            module = into  # its hook asks for `affine`, which LayerNorm does not have
            note = "1 per element"
        elif base == "Upsample":
            module = _elements(row.output)
            note = "1 per output element"
        elif base == "MultiheadAttention":
            module = _ptflops_attention(row)
            note = "its attention formula"
    functional = 0
    if function in _PTFLOPS_FUNCTIONS:
        resizes = function in ("F.interpolate", "F.upsample")
        functional = _out_elements(row) if resizes else into
        note = f"{note} + {function}: 1 per element" if note else f"{function}: 1 per element"
    if _base(call) == "Upsample":
        # its hook reads the first example's output only: once per forward
        return _PtflopsCount(0, functional, note, module_once=module)
    return _PtflopsCount(module, functional, note)


#: Tensor operations ptflops 0.7.5 patches (not their operators ``@``, ``+``, ``*``).
_PTFLOPS_TENSOR_OPS = frozenset(
    {"torch.matmul", "Tensor.matmul", "torch.mm", "Tensor.mm", "torch.bmm", "Tensor.bmm"}
    | {"torch.addmm", "Tensor.addmm", "torch.baddbmm"}
    | {"torch.mul", "Tensor.mul", "torch.add", "Tensor.add"}
)


def _ptflops_tensor_op(row: _Row, call: str) -> _PtflopsCount:
    """A patched tensor operation in a file, from its operands' sizes, per example:
    products as the first operand's elements × the second's last size (plus the
    added tensor's elements for addmm), ``torch.add``/``torch.mul`` as the
    operands' sizes matched from the left."""
    origin = row.origin or {}
    shapes = [list(map(int, shape)) for shape in origin.get("shapes") or []]
    batch = int(origin.get("batch", 1)) or 1
    if call in ("torch.add", "torch.mul", "Tensor.add", "Tensor.mul"):
        if len(shapes) < 2:
            count = prod(shapes[0]) if shapes else 1
        else:
            a, b = shapes[0], shapes[1]
            count = prod(
                max(a[i] if i < len(a) else 1, b[i] if i < len(b) else 1)
                for i in range(max(len(a), len(b)))
            )
    else:
        count = row.macs * batch
        if call.endswith(("addmm", "baddbmm")) and shapes:
            count += prod(shapes[0])
    return _PtflopsCount(0, count // batch, f"{call}: patched")


def _ptflops_composite(row: _Row, call: str) -> _PtflopsCount:
    """ptflops's pytorch backend on a torchvision module of several parts: the hooks of
    its children that run as modules, and the functions and tensor operations it patches
    (``F.softmax``, ``Tensor.matmul``; not ``F.linear``, ``@``, ``torch.einsum``, ``*``)."""
    if call == "_patch_merging_pad":
        return _PtflopsCount(0, 0, "")
    if call in ("PatchMerging", "PatchMergingV2"):
        # children norm (nn.LayerNorm: 1 per input element) and reduction (nn.Linear)
        linear = row.macs + (_elements(row.output) if row.config.get("bias") else 0)
        return _PtflopsCount(
            _patch_merging_normed(row, call) + linear, 0, "LayerNorm 1 per element + Linear"
        )
    heads = int(row.config["heads"])
    if call == "RelativePositionalMultiHeadAttention":
        # F.softmax over every head's tokens x tokens; the products are torch.einsum
        tokens = int(row.output.spatial[-1])
        groups = _positions(row.output) // tokens
        note = "F.softmax: 1 per element; its products are torch.einsum, not counted"
        return _PtflopsCount(0, groups * heads * tokens * tokens, note)
    # shifted_window_attention: q and k, attention and v multiplied by Tensor.matmul (V2
    # multiplies q and k with `@`, not patched), then F.softmax over the scores; qkv
    # and proj run as F.linear, not patched
    wh, ww = (int(n) for n in row.config["window"])
    padded = _padded_positions(row)
    tokens, channels = wh * ww, int(row.inputs[0].channels)
    products = padded * tokens * channels  # one of the two products
    softmax = padded * heads * tokens
    if call == "ShiftedWindowAttention":
        note = "Tensor.matmul x 2 + F.softmax; qkv and proj are F.linear, not counted"
        return _PtflopsCount(0, 2 * products + softmax, note)
    note = "Tensor.matmul (attention x v) + F.softmax; q @ k and F.linear not counted"
    if not row.config.get("bias_mlp"):
        return _PtflopsCount(0, products + softmax, note)
    # its cpb_mlp modules, once per forward: Linear(2, 512) with bias, nn.ReLU (its hook
    # and F.relu), Linear(512, heads) without
    table, hidden = _bias_table(row), 512
    mlp = table * (3 * hidden + hidden * heads)
    return _PtflopsCount(
        0,
        products + softmax,
        f"{note} + its cpb_mlp",
        module_once=mlp + table * hidden,
        functional_once=table * hidden,
    )


def _ptflops_attention(row: _Row) -> int:
    """ptflops's hook for nn.MultiheadAttention (self-attention, batch first), one example."""
    tokens = _positions(row.inputs[0])
    dim = int(row.inputs[0].channels)
    heads = int(row.config["heads"])
    flops = tokens * dim  # scaling q
    flops += 3 * tokens * dim * dim  # the q, k, v projections
    if row.config.get("qkv_bias", True):
        flops += 3 * tokens * dim
    flops += heads * (2 * tokens * tokens * (dim // heads) + tokens * tokens)
    return flops + tokens * dim * (dim + 1)  # the output projection, bias always


def ptflops_pytorch(report: Any, batch_size: int = 1) -> ToolCount:
    """ptflops 0.7.5's ``get_model_complexity_info(..., backend="pytorch")`` MACs."""
    _torch_only(report, "ptflops")
    layers = []
    # Module hooks count the whole batch and ptflops divides their sum by it (in
    # floating point); the patched functions count the whole batch, undivided.
    # A hook that sees one example per forward (nn.Upsample reads ``output[0]``; the
    # modules on a buffer, Swin V2's cpb_mlp) does not scale with the batch and its
    # share is divided.
    modules = 0
    functions = 0
    for row in _rows(report):
        if row.part:
            layers.append(ToolLayer(row.name, 0, f"part of {row.part}'s call"))
            continue
        count = _ptflops_pytorch_layer(row)
        modules += count.module * batch_size + count.module_once
        functions += count.functional * batch_size + count.functional_once
        note = count.note
        if count.module_once and batch_size > 1:
            once = "the first example's output" if row.batched else "once per forward"
            note += f", {once} / {batch_size}"
        figure = (
            count.module
            + count.module_once // batch_size
            + count.functional * batch_size
            + count.functional_once
        )
        layers.append(ToolLayer(row.name, figure, note))
    total = int(modules / batch_size + functions)
    return ToolCount(
        "ptflops-pytorch",
        total,
        "MACs",
        tuple(layers),
        report.total_params,
        None,
        {"MACs": f"{total:,}", "params": f"{report.total_params:,}"},
        "module hooks: convolutions and Linear with their bias, BatchNorm 2 per element, "
        "LayerNorm 1, ReLU/GELU and pooling 1 per element, upsampling 1 per output "
        "element; plus patched functions (F.relu, F.gelu, F.silu, F.softmax, pooling, "
        "interpolate; nn.ReLU, nn.GELU and pooling modules count twice) and Tensor.matmul; "
        "adds, multiplies, sigmoid, F.linear and einsum count 0",
    )


# ---------------------------------------------------------------------------
# FlopCounterMode (convcount's own figure)


def flop_counter(report: Any, batch_size: int = 1) -> ToolCount:
    """``torch.utils.flop_counter.FlopCounterMode``'s total FLOPs // 2: convcount's MACs."""
    # what runs once per forward (Swin V2's bias MLP on a buffer) counts once
    layers = tuple(ToolLayer(layer.name, layer.macs_at(batch_size) or 0) for layer in report.layers)
    total = sum(layer.figure for layer in layers)
    return ToolCount(
        "flop_counter",
        total,
        "MACs",
        layers,
        report.total_params,
        None,
        {"MACs": f"{total:,}", "FLOPs": f"{2 * total:,}"},
        "convolutions and matrix products only, without bias (convcount's own MACs)",
    )


# ---------------------------------------------------------------------------
# onnx-tool (its rules: convcount.model.onnxtool)


def onnx_tool(report: Any, batch_size: int = 1) -> ToolCount:
    """onnx-tool 1.0.1's ``Model(file).graph.profile()`` table (see
    :mod:`convcount.model.onnxtool`): one row per ONNX node."""
    source = getattr(report, "file_graph", None)
    if source is None:
        raise ConvcountError(
            "count_as",
            f"--count-as onnx-tool: onnx-tool counts an ONNX file, and {report.name} is not "
            "one (export the network with torch.onnx.export and count the file)",
        )
    from convcount.model.onnxtool import percent, profile, rule, totals

    # onnx-tool counts the file at its own input shapes (what it prints for it), their
    # first axis times the batch given; convcount's layers are per example of that axis
    examples = (source.inputs[0][1][:1] or (1,))[0] * batch_size
    shapes = {
        name: (shape[0] * batch_size, *shape[1:]) if shape else () for name, shape in source.inputs
    }
    rows = profile(source.graph, shapes)
    macs = {layer.name: layer.macs_at(examples) or 0 for layer in report.layers}
    forward, memory, params, printed = totals(rows, source.graph)
    layers = []
    for row in rows:
        layer = source.layers[row.index]
        ours = macs.get(layer, 0) if layer is not None else 0
        note = rule(row.op) if row.macs != ours else ""
        extra = {
            "op": row.op,
            "memory": row.memory,
            "params": row.params,
            "in_shape": row.inshape,
            "out_shape": row.outshape,
            # each figure's share of the total, as its FPercent, MPercent, PPercent cells
            "FPercent": percent(row.macs, forward),
            "MPercent": percent(row.memory, memory),
            "PPercent": percent(row.params, params),
            "layer": layer,
        }
        layers.append(ToolLayer(row.name, row.macs, note, extra))

    return ToolCount(
        "onnx-tool",
        forward,
        "Forward_MACs",
        tuple(layers),
        params,
        {"memory_bytes": memory},
        printed,
        "every ONNX node: convolutions and Gemm with their bias adds, every activation, "
        "elementwise op, pooling, norm and reduction at its instruction cost per element "
        "(Relu 1, Div 4, Sigmoid 32, Softmax 36, BatchNorm 31, ...); its params are every "
        "initializer (integer shapes too) and its memory the outputs' and initializers' bytes",
    )


#: Every tool convcount reproduces, by the name ``--count-as`` takes.
TOOLS: dict[str, Callable[[Any, int], ToolCount]] = {
    "flop_counter": flop_counter,
    "torchinfo": torchinfo,
    "fvcore": fvcore,
    "ptflops": ptflops_aten,
    "ptflops-pytorch": ptflops_pytorch,
    "thop": thop,
    "onnx-tool": onnx_tool,
}

#: The version of each tool whose rules are reproduced (the figures depend on it).
TOOL_VERSIONS = {
    "flop_counter": "(torch 2.13)",
    "torchinfo": "1.8.0",
    "fvcore": "0.1.5",
    "ptflops": "0.7.5 aten",
    "ptflops-pytorch": "0.7.5",
    "thop": "0.1.1.post2209072238",
    "onnx-tool": "1.0.1",
}

#: Names people type for the same tools.
TOOL_ALIASES = {
    "flopcounter": "flop_counter",
    "ptflops-aten": "ptflops",
    "ptflops_aten": "ptflops",
    "ptflops_pytorch": "ptflops-pytorch",
    "default": "flop_counter",
    "onnx_tool": "onnx-tool",
    "onnxtool": "onnx-tool",
}


def tool_names(given: str) -> list[str]:
    """The tools ``--count-as`` names: one, or every one for ``all`` (FlopCounterMode first)."""
    name = TOOL_ALIASES.get(given.strip().lower(), given.strip().lower())
    if name == "all":
        return list(TOOLS)
    if name not in TOOLS:
        from convcount.errors import clip, did_you_mean

        known = ", ".join([*TOOLS, "all"])
        raise ConvcountError(
            "count_as",
            f"--count-as: no counter {clip(given)!r}"
            + did_you_mean(given, (*TOOLS, "all"), as_field=False)
            + f"; one of {known}",
        )
    return [name]


#: Ops whose MACs a file leaves unknown that every tool here counts 0 on the CPU
#: (torch 2.13, float32): FlopCounterMode and ptflops's aten backend see the fused
#: CPU kernel of ``F.scaled_dot_product_attention``, which neither counts; fvcore
#: lists it as unsupported; the module-hooking tools never see it.
ZERO_FOR_EVERY_TOOL = frozenset({"aten.scaled_dot_product_attention"})


def unreproduced(uncounted: dict[str, int]) -> dict[str, int]:
    """The uncounted ops (:attr:`ModelReport.uncounted`) whose count under some tool
    is not known: all but :data:`ZERO_FOR_EVERY_TOOL`."""
    return {op: n for op, n in uncounted.items() if op not in ZERO_FOR_EVERY_TOOL}


def count_as(report: Any, tool: str, batch_size: int = 1) -> ToolCount:
    """What ``tool`` prints for ``report`` at ``batch_size`` (see :data:`TOOLS`)."""
    (name,) = tool_names(tool)
    return TOOLS[name](report, batch_size)


def peak_activation(report: Any, batch_size: int = 1) -> tuple[int, str]:
    """Most bytes of layer outputs alive at once in inference, and the layer where it peaks.

    Layers run in the network's order; the input and each output stay alive from
    the moment they are written until their last reader has run (the network's
    output until the end); a layer that does not run in inference holds nothing. A
    layer's inputs and its output are alive together
    while it runs. Bytes at the model's dtype, for ``batch_size`` examples.
    """
    width = DTYPE_BYTES[report.dtype] * batch_size
    # a head that does not run in inference (an auxiliary classifier) holds nothing
    layers: Sequence[Any] = [layer for layer in report.layers if getattr(layer, "runs", True)]
    last_use: dict[str, int] = {}
    for index, layer in enumerate(layers):
        for name in layer.inputs:
            last_use[name] = index
    if layers:
        last_use[layers[-1].name] = len(layers)
    alive = _elements(report.input) * width
    live: dict[str, int] = {"input": alive}
    peak, where = alive, "input"
    for index, layer in enumerate(layers):
        size = _elements(layer.output) * width
        live[layer.name] = size
        alive += size
        if alive > peak:
            peak, where = alive, layer.name
        for name in {*layer.inputs, layer.name}:
            if last_use.get(name, -1) <= index and name in live:
                alive -= live.pop(name)
    return peak, where


def tool_record(result: ToolCount, *, layers: bool = True) -> dict[str, Any]:
    """One tool's figures as JSON (its per-layer figures too, unless ``layers`` is False)."""
    record: dict[str, Any] = {
        "tool": result.tool,
        "version": TOOL_VERSIONS[result.tool],
        "unit": result.unit,
        "total": result.total,
        "params": result.params,
        "memory": result.memory,
        "printed": result.printed,
        "counts": result.counts,
    }
    if layers:
        record["layers"] = [
            {"name": r.name, "figure": r.figure, "note": r.note, **(r.extra or {})}
            for r in result.layers
        ]
    return record


def tools_csv(records: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[object]]]:
    """Tool records (without layers) as CSV: one row per tool; ``memory.*`` and
    ``printed.*`` columns for every key any tool has."""
    memory = list(dict.fromkeys(k for r in records for k in (r["memory"] or {})))
    printed = list(dict.fromkeys(k for r in records for k in r["printed"]))
    header = ["tool", "version", "unit", "total", "params", "counts"]
    header += [f"memory.{k}" for k in memory] + [f"printed.{k}" for k in printed]
    rows = [
        [r[k] for k in ("tool", "version", "unit", "total", "params", "counts")]
        + [(r["memory"] or {}).get(k) for k in memory]
        + [r["printed"].get(k) for k in printed]
        for r in records
    ]
    return header, rows
