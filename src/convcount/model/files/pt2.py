"""torch.export archives (``torch.export.save``, ``.pt2``): read from ``models/model.json``.

The archive's ``models/model.json`` is the exported program: every aten op
with its arguments, every tensor's sizes, and a signature that tells which
graph inputs are parameters, which buffers and which the user's input. No
weight member is opened. Each op becomes a layer, named by the module path
the exporter records (``nn_module_stack``), or by the node's own name for
functional code outside any module.

* Parameters are the signature's parameters (trainable when their tensor
  ``requires_grad``), buffers its buffers: exactly the module's
  ``parameters()`` and ``buffers()``, each counted once, at the first op that
  takes it.
* MACs are ``FlopCounterMode``'s: convolutions (transposed ones on their input
  positions), ``linear``, ``mm``, ``addmm``, ``bmm``, ``baddbmm`` and
  ``matmul``; every other aten op counts 0, as it does for FlopCounterMode. An
  op outside ``torch.ops.aten`` (a custom or higher-order op) is uncounted.
  Attention (``scaled_dot_product_attention``) is uncounted: FlopCounterMode
  counts it on some devices and backends and not on others.
* Each op also carries what ran it (``origin``, for ``--count-as``): its
  innermost module's path and class from ``nn_module_stack``, whether that
  module has no child module, the module's own parameters, the function the
  code called (``torch_fn``) and a few operand sizes. Nothing convcount prints
  by default reads it.
"""

from __future__ import annotations

import json
from math import prod
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcount.errors import ConvcountError
from convcount.model.files.archive import Archive
from convcount.model.files.rows import Names, Row, build_report, check_options

if TYPE_CHECKING:
    from convcount.model.graph import ModelReport

_CONV = {"conv1d", "conv2d", "conv3d", "convolution", "_convolution"}
_TRANSPOSED = {"conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}
_MATMUL = {"mm", "addmm", "bmm", "baddbmm", "matmul"}
_UNCOUNTED = {"scaled_dot_product_attention", "einsum"}
_KINDS = {
    "linear": "dense",
    "batch_norm": "batchnorm",
    "_native_batch_norm_legit_no_training": "batchnorm",
    "layer_norm": "layer_norm",
    "max_pool1d": "max_pool",
    "max_pool2d": "max_pool",
    "max_pool3d": "max_pool",
    "avg_pool1d": "avg_pool",
    "avg_pool2d": "avg_pool",
    "avg_pool3d": "avg_pool",
    "adaptive_avg_pool1d": "adaptive_avg_pool",
    "adaptive_avg_pool2d": "adaptive_avg_pool",
    "adaptive_avg_pool3d": "adaptive_avg_pool",
    "adaptive_max_pool2d": "adaptive_max_pool",
    "add": "add",
    "add_": "add",
    "mul": "multiply",
    "mul_": "multiply",
    "cat": "concat",
    "flatten": "flatten",
    "view": "reshape",
    "reshape": "reshape",
    "permute": "permute",
    "dropout": "dropout",
    "dropout_": "dropout",
    "upsample_nearest2d": "upsampling",
    "upsample_bilinear2d": "upsampling",
    "channel_shuffle": "channel_shuffle",
    "mm": "matmul",
    "bmm": "matmul",
    "matmul": "matmul",
    "addmm": "dense",
    "baddbmm": "matmul",
}
_ACTIVATIONS = {
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "hardswish", "hardswish_", "hardsigmoid",
    "hardsigmoid_", "sigmoid", "sigmoid_", "silu", "silu_", "gelu", "tanh", "softmax",
    "_softmax", "log_softmax", "leaky_relu", "elu", "mish", "selu",
}  # fmt: skip


def read(path: Path, head: bytes, *, label: str, **options: Any) -> ModelReport:
    """Count a torch.export archive."""
    check_options(label, options)
    archive = Archive(path, label)
    try:
        member = archive.find("models/model.json")
        if member is None:
            raise ConvcountError("model", f"{label}: no models/model.json in the archive")
        data = archive.read(member)
    finally:
        archive.close()
    try:
        document = json.loads(data)
    except RecursionError:
        raise ConvcountError("model", f"{label}: models/model.json is nested too deep") from None
    except ValueError as error:
        raise ConvcountError("model", f"{label}: models/model.json is not JSON ({error})") from None
    try:
        return Program(document, label, options).report(path.stem)
    except ConvcountError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise ConvcountError(
            "model", f"{label}: models/model.json is not an exported program ({_what(error)})"
        ) from None


def _what(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no field {error}"
    return str(error)[:120] or type(error).__name__


class Program:
    """An exported program's graph, signature and tensors."""

    def __init__(self, document: Any, label: str, options: dict[str, Any]) -> None:
        self.label = label
        self.options = options
        module = document["graph_module"]
        self.graph = module["graph"]
        self.values: dict[str, Any] = self.graph["tensor_values"]
        self.weights: dict[str, tuple[str, str]] = {}  # graph input -> (role, state-dict name)
        self.user_inputs: list[str] = []
        for spec in module["signature"]["input_specs"]:
            (role, body), *_ = spec.items()
            arg = body["arg"].get("name") or body["arg"]["as_tensor"]["name"]
            if role == "parameter":
                self.weights[arg] = ("parameter", body["parameter_name"])
            elif role == "buffer":
                self.weights[arg] = ("buffer", body["buffer_name"])
            elif role == "user_input":
                self.user_inputs.append(arg)
        self.counted: set[str] = set()
        self.names = Names()
        self.producer: dict[str, str] = {}
        self.symbolic = False  # a size left open at export: its example value is used
        self.last_module = ""  # the module path of the op before
        self.strides: dict[str, tuple[int, ...]] = {}  # of permuted views only
        self.products = 0  # Tensor.matmul or @ seen in that module's call
        # the module tree: every module path an op ran in or a weight belongs to, and
        # each module's own parameters (local name -> [elements, trainable])
        paths: set[str] = set()
        for node in self.graph["nodes"]:
            for entry in _stack(node):
                paths.add(entry[0])
        self.own: dict[str, dict[str, list[int]]] = {}
        for arg, (role, qualified) in self.weights.items():
            module, _, local = qualified.rpartition(".")
            paths.add(module)
            if role == "parameter":
                trainable = int(self.values[arg].get("requires_grad", True) is not False)
                self.own.setdefault(module, {})[local] = [prod(self.sizes(arg)), trainable]
        parents = {""} if paths - {""} else set()
        for path in paths:
            parts = path.split(".")
            parents.update(".".join(parts[:n]) for n in range(1, len(parts)))
        self.leaves = paths - parents

    def sizes(self, name: str) -> tuple[int, ...]:
        """A tensor's sizes (symbolic sizes take the export's example value)."""
        meta = self.values[name]
        sizes = []
        for size in meta["sizes"]:
            if "as_int" in size:
                sizes.append(int(size["as_int"]))
            else:
                expr = size.get("as_expr") or {}
                hint = expr.get("hint") if isinstance(expr, dict) else None
                value = hint.get("as_int") if isinstance(hint, dict) else hint
                if not isinstance(value, int):
                    raise ConvcountError(
                        "model",
                        f"{self.label}: tensor {name!r} has a symbolic size and no example "
                        "value; export with fixed sizes",
                    )
                self.symbolic = True
                sizes.append(value)
        if len(sizes) > 32 or any(s < 0 for s in sizes):
            raise ValueError(f"tensor {name!r} has sizes {sizes}")
        return tuple(sizes)

    def report(self, name: str) -> ModelReport:
        if not self.user_inputs:
            raise ConvcountError("model", f"{self.label}: the program takes no tensor input")
        first = self.user_inputs[0]
        shape = self.sizes(first)
        if self.options.get("resolution") is not None:
            raise ConvcountError(
                "resolution",
                f"--resolution: a .pt2 file records every size at its example input "
                f"({'x'.join(map(str, shape[1:]))}); -r does not apply (export at the size "
                "you want)",
            )
        batch = shape[0] if shape and shape[0] > 0 else 1
        self.producer[first] = "input"
        self.names.add("input")
        rows = []
        for further in self.user_inputs[1:]:  # the first is the summary's input
            label = self.names.claim(further)
            self.producer[further] = label
            rows.append(Row(label, "input", (), self.sizes(further)[1:], macs=0, op="input"))
        for node in self.graph["nodes"]:
            row = self.node(node, batch)
            if row is not None:
                rows.append(row)
        notes: tuple[str, ...] = ()
        if self.symbolic:
            notes = (
                "the program leaves some sizes open: they are counted at the export's "
                f"example input ({'x'.join(map(str, shape[1:]))}), per example of its batch",
            )
        return build_report(
            self.label, name, shape[1:], self.unused(rows), self.options.get("dtype"), notes
        )

    def unused(self, rows: list[Row]) -> list[Row]:
        """Weights no op takes (BatchNorm's batch counter): added to their module's layer."""
        at = {row.name: i for i, row in reversed(list(enumerate(rows)))}
        for arg, (role, qualified) in self.weights.items():
            if arg in self.counted:
                continue
            size = prod(self.sizes(arg))
            module = qualified.rpartition(".")[0]
            if module not in at:
                at[module] = len(rows)
                rows.append(Row(module or qualified, "weights", (), None, op="weights"))
            i = at[module]
            if role == "buffer":
                rows[i] = rows[i]._replace(buffers=rows[i].buffers + size)
            elif self.values[arg].get("requires_grad", True) is False:
                rows[i] = rows[i]._replace(non_trainable=rows[i].non_trainable + size)
            else:
                rows[i] = rows[i]._replace(trainable=rows[i].trainable + size)
        return rows

    def node(self, node: dict[str, Any], batch: int) -> Row | None:
        target: str = node["target"]
        operands = [t for argument in node["inputs"] for t in _tensors(argument.get("arg") or {})]
        outputs = [t for out in node["outputs"] for t in _tensors(out)]
        if target in ("_operator.getitem", "operator.getitem"):
            for out in outputs:
                if operands:
                    self.producer[out] = self.producer.get(operands[0], "")
            return None
        trainable = non_trainable = buffers = 0
        for operand in operands:
            role = self.weights.get(operand)
            if role is None or operand in self.counted:
                continue
            self.counted.add(operand)
            size = prod(self.sizes(operand))
            if role[0] == "buffer":
                buffers += size
            elif self.values[operand].get("requires_grad", True) is False:
                non_trainable += size
            else:
                trainable += size
        op = target.rsplit(".", 2)[-2] if target.startswith("torch.ops.aten.") else ""
        shapes = {t: self.sizes(t) for t in operands if t in self.values}
        out_shape = self.sizes(outputs[0]) if outputs and outputs[0] in self.values else None
        flag = next(
            (a.get("arg") or {} for a in node["inputs"] if a.get("name") == "transposed"), {}
        )
        transposed = op in _TRANSPOSED or flag.get("as_bool") is True
        macs = self.macs(op, operands, shapes, out_shape, target, transposed=transposed)
        if macs is not None:
            macs //= batch
        name = self._name(node)
        for out in outputs:
            self.producer[out] = name
        sources = tuple(dict.fromkeys(self.producer[t] for t in operands if t in self.producer))
        kind = self._kind(op, operands, shapes, target)
        origin = self._origin(node, op, operands, shapes, batch)
        self._track_strides(node, op, operands, outputs, shapes)
        if op == "linear" and operands and not self._contiguous(operands[0], shapes):
            origin["strided"] = True  # aten.linear then runs matmul + add, not addmm
        if out_shape is not None:
            origin["out"] = list(out_shape)
        return Row(
            name,
            kind,
            sources,
            None if out_shape is None else out_shape[1:],
            trainable,
            buffers,
            macs,
            non_trainable,
            op=target.removeprefix("torch.ops.").removesuffix(".default"),
            origin=origin,
        )

    def _track_strides(
        self,
        node: dict[str, Any],
        op: str,
        operands: list[str],
        outputs: list[str],
        shapes: dict[str, tuple[int, ...]],
    ) -> None:
        """Strides of the views ``permute``, ``transpose`` and ``t`` make (every other
        op's output taken as contiguous): whether ``aten.linear`` gets a contiguous input."""
        if op not in ("permute", "transpose", "t") or not operands or not outputs:
            return
        source = operands[0]
        if source not in shapes:
            return
        strides = self.strides.get(source) or _row_major(shapes[source])
        ints = [
            a["arg"][k]
            for a in node["inputs"][1:]
            for k in ("as_int", "as_ints")
            if k in (a.get("arg") or {})
        ]
        rank = len(strides)
        if op == "permute" and ints and isinstance(ints[0], list):
            order = [d % rank for d in ints[0]]
        elif op in ("transpose", "t") and rank >= 2:
            first, second = (ints[0] % rank, ints[1] % rank) if len(ints) >= 2 else (0, 1)
            order = list(range(rank))
            order[first], order[second] = order[second], order[first]
        else:
            return
        self.strides[outputs[0]] = tuple(strides[d] for d in order)

    def _contiguous(self, name: str, shapes: dict[str, tuple[int, ...]]) -> bool:
        strides = self.strides.get(name)
        if strides is None or name not in shapes:
            return True
        expected = _row_major(shapes[name])
        return all(
            size == 1 or s == e for size, s, e in zip(shapes[name], strides, expected, strict=True)
        )

    def _origin(
        self,
        node: dict[str, Any],
        op: str,
        operands: list[str],
        shapes: dict[str, tuple[int, ...]],
        batch: int,
    ) -> dict[str, Any]:
        """The PyTorch code that ran an op, as the exporter recorded it: the innermost
        module (path, class, whether it has no child module, its own parameters) and the
        function called (``torch_fn``: ``function.relu`` is F.relu,
        ``builtin_function_or_method.relu`` torch.relu, ``method_descriptor.add`` a
        Tensor method or its operator)."""
        stack = _stack(node)
        path, cls = stack[-1] if stack else ("", "")
        metadata = node.get("metadata") or {}
        fn_id, _, fn = str(metadata.get("torch_fn") or "").partition(";")
        origin: dict[str, Any] = {
            "module": path,
            "class": cls,
            "leaf": path in self.leaves,
            "fn": fn,
            "fn_id": fn_id,
        }
        if path in self.own:
            origin["params"] = self.own[path]
        kind, _, name = fn.rpartition(".")
        if kind == "method_descriptor" and name in _OPERATOR_METHODS:
            form = _form(str(metadata.get("stack_trace") or ""), name)
            # the n-th product of a call of a module whose code is known
            if path != self.last_module:
                self.products = 0
            if name == "matmul":
                known = _KNOWN_PRODUCTS.get(cls, ())
                if not form and self.products < len(known):
                    form = known[self.products]
                self.products += 1
            if form:
                origin["form"] = form
        self.last_module = path
        # which arguments are weights (BatchNorm's and LayerNorm's affine ones, a bias)
        named = [
            str(a.get("name"))
            for a in node["inputs"]
            if any(t in self.weights for t in _tensors(a.get("arg") or {}))
        ]
        if named:
            origin["weights"] = named
        if any(a.get("name") == "bias" and _tensors(a.get("arg") or {}) for a in node["inputs"]):
            origin["bias"] = True  # a bias tensor, a parameter or computed (Swin V2's qkv)
        if batch != 1:
            origin["batch"] = batch
        if node["target"].endswith(".padding"):
            origin["padding"] = "string"  # conv2d.padding: padding="same" or "valid"
        data = [shapes[t] for t in operands if t in shapes and t not in self.weights]
        if data:
            origin["shapes"] = [list(s) for s in data[:2]]
        if op in ("softmax", "_softmax", "log_softmax"):
            dim = next(
                (
                    a["arg"]["as_int"]
                    for a in node["inputs"]
                    if a.get("name") == "dim" and "as_int" in (a.get("arg") or {})
                ),
                1,
            )
            if data:
                origin["dim_size"] = data[0][dim]
        if op in ("bmm", "baddbmm") and data and batch:
            origin["heads"] = data[0][0] // batch  # nn.MultiheadAttention: batch x heads
        if op == "scaled_dot_product_attention" and data and len(data[0]) == 4:
            origin["heads"] = data[0][1]
        return origin

    def macs(
        self,
        op: str,
        operands: list[str],
        shapes: dict[str, tuple[int, ...]],
        out: tuple[int, ...] | None,
        target: str,
        *,
        transposed: bool,
    ) -> int | None:
        """FlopCounterMode's count for one op, halved; None when it is not known."""
        if not target.startswith("torch.ops.aten.") or op in _UNCOUNTED:
            return None
        if op in _CONV or op in _TRANSPOSED:
            x, w = shapes[operands[0]], shapes[operands[1]]
            if transposed:
                return x[0] * prod(x[2:]) * prod(w)
            assert out is not None
            return prod(out) * prod(w[1:])
        if op == "linear":
            x, w = shapes[operands[0]], shapes[operands[1]]
            return prod(x) * w[0]
        if op in _MATMUL:
            first = 1 if op in ("addmm", "baddbmm") else 0
            a = shapes[operands[first]]
            assert out is not None
            return prod(out) * a[-1]
        return 0

    def _name(self, node: dict[str, Any]) -> str:
        stack = (node.get("metadata") or {}).get("nn_module_stack") or ""
        name = ""
        if stack:
            last = stack.split(";")[-1].split(",")
            if len(last) >= 2:
                name = last[1]
        if not name:
            name = str(node.get("name") or node["outputs"][0].get("as_tensor", {}).get("name", ""))
        return self.names.claim(name or "op")

    def _kind(
        self, op: str, operands: list[str], shapes: dict[str, tuple[int, ...]], target: str
    ) -> str:
        if op in _CONV:
            x, w = shapes.get(operands[0]), shapes.get(operands[1])
            if x is not None and w is not None and w[1] == 1 and x[1] > 1 and w[0] % x[1] == 0:
                return "depthwise"
            return "conv"
        if op in _TRANSPOSED:
            return "transpose"
        if op in _ACTIVATIONS:
            return "activation"
        return _KINDS.get(op, target.removeprefix("torch.ops.").removesuffix(".default"))


#: Tensor methods whose operator ``torch_fn`` records alike (``x.add(y)``, ``x + y``).
_OPERATOR_METHODS = {"add": "+", "mul": "*", "matmul": "@", "sub": "-", "div": "/"}


#: The products of a module's call whose code calls them in a helper function (no
#: stack trace line shows them): torchvision's shifted_window_attention runs
#: ``q.matmul(k...)`` and ``attn.matmul(v)``, V2 ``normalize(q) @ normalize(k)...``
#: then ``attn.matmul(v)``.
_KNOWN_PRODUCTS = {
    "torchvision.models.swin_transformer.ShiftedWindowAttention": ("method", "method"),
    "torchvision.models.swin_transformer.ShiftedWindowAttentionV2": ("operator", "method"),
}


def _form(trace: str, name: str) -> str:
    """Whether the source line a stack trace ends with calls the method (``x.matmul(``)
    or uses its operator (``@``); empty when it does not tell (no trace, or both)."""
    line = trace.rstrip().rpartition("\n")[2][-2000:]
    method = f".{name}(" in line
    operator = _OPERATOR_METHODS[name] in line.replace("**", "")
    if method != operator:
        return "method" if method else "operator"
    return ""


def _row_major(sizes: tuple[int, ...]) -> tuple[int, ...]:
    """A contiguous tensor's strides."""
    strides, step = [], 1
    for size in reversed(sizes):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def _stack(node: dict[str, Any]) -> list[tuple[str, str]]:
    """(module path, class) of each module an op runs in, outermost first."""
    stack = (node.get("metadata") or {}).get("nn_module_stack") or ""
    entries = []
    for entry in str(stack).split(";"):
        parts = entry.split(",")
        if len(parts) >= 3:
            entries.append((parts[1], parts[-1]))
    return entries


def _tensors(argument: dict[str, Any]) -> list[str]:
    """Tensor names in one argument or output (as_tensor, as_tensors, optional ones)."""
    if "as_tensor" in argument:
        return [argument["as_tensor"]["name"]]
    if "as_tensors" in argument:
        return [t["name"] for t in argument["as_tensors"]]
    if "as_optional_tensors" in argument:
        return [t["as_tensor"]["name"] for t in argument["as_optional_tensors"] if "as_tensor" in t]
    return []
