"""Capture what other counting tools print for torchvision models and hand-built networks.

Run by hand; never imported by the package or collected by pytest. For each
network it records the figures of

* ``flop_counter``: ``torch.utils.flop_counter.FlopCounterMode`` total FLOPs // 2
  (convcount's own MACs);
* ``torchinfo`` 1.8.0: ``summary()``'s total, trainable params, total mult-adds,
  input size, forward/backward pass size and params size in bytes (and the MB
  lines it prints), and per leaf call: module path, class, output shape,
  params, mult-adds;
* ``fvcore`` 0.1.5: ``FlopCountAnalysis`` total, per module, per operator and the
  unsupported operators with their counts;
* ``ptflops`` 0.7.5: ``get_model_complexity_info`` MACs and params under both
  backends (``pytorch`` and ``aten``);
* ``thop`` 0.1.1: ``profile`` MACs and params (floats), per module (the ones with
  MACs, and the ones with parameters).

For the windowed transformers (Swin, MaxViT, and a hand-built network of their
modules on odd sizes) it also records ptflops's pytorch backend per module: each
module hook's figure (what its per-layer table prints), and apart each patched
function's and tensor operation's count, given to the innermost module running
when it was called. Their larger variants keep only the totals.

Every tool runs on the CPU in eval mode at batch 1 (``net/windowed@batch2``: 2)
(fvcore traces with torch.jit and needs real tensors). Setup (torchvision as in
``tests/zoo/capture_torchvision.py``; the tools from the ``tools`` extra):

    .venv/bin/pip install -e ".[test,frameworks,tools]" pillow
    .venv/bin/python tests/tools/capture_tools.py --tvsrc /work/tvsrc

It writes ``tests/tools/tools.json``, and ``tests/tools/windowed.json`` for the
windowed transformers. ``--only REGEX`` captures only the matching cases (the
files are then written only with ``--out``, one file of what was captured, or
with ``--merge``: the other cases kept as they are).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: Where the windowed transformers' figures go (the others: tools.json).
WINDOWED_FILE = HERE / "windowed.json"

sys.path.insert(0, str(HERE.parent / "zoo"))
sys.path.insert(0, str(HERE.parents[1]))  # the repository, for tests.tools.nets

from tests.tools.nets import NETS, TORCHVISION_NETS  # noqa: E402  (after the path above)

TORCHVISION = {
    # builder: resolution (small models at their default crop; a few odd sizes)
    "resnet18": 224,
    "resnet50": 224,
    "resnext50_32x4d": 224,
    "wide_resnet50_2": 160,
    "mobilenet_v2": 224,
    "mobilenet_v3_small": 224,
    "mobilenet_v3_large": 193,
    "efficientnet_b0": 224,
    "densenet121": 224,
    "googlenet": 224,
    "inception_v3": 299,
    "squeezenet1_0": 224,
    "squeezenet1_1": 160,
    "shufflenet_v2_x0_5": 224,
    "mnasnet0_5": 224,
    "regnet_x_400mf": 224,
    "regnet_y_400mf": 224,
    "vgg11_bn": 224,
    "alexnet": 224,
    "convnext_tiny": 224,
    "efficientnet_v2_s": 160,
    # a transformer: nn.MultiheadAttention, the class token and position embedding
    "vit_b_32": 224,
}

#: Windowed transformers, as (builder, resolution, per layer): swin_t at 256 pads its
#: windows (64 = 9 windows of 7 and 1 position), swin_v2_t at 224 pads only its last
#: stage. The larger variants, deeper and wider stacks of the same modules, keep only
#: every tool's totals (the file stays small).
WINDOWED = (
    ("swin_t", 224, True),
    ("swin_t", 256, True),
    ("swin_s", 224, False),
    ("swin_b", 224, False),
    ("swin_v2_t", 256, True),
    ("swin_v2_t", 224, True),
    ("swin_v2_s", 256, False),
    ("swin_v2_b", 256, False),
    ("maxvit_t", 224, True),
)
#: The per-layer and per-module entries of a record, by tool.
PER_LAYER = {
    "torchinfo": ("layers",),
    "fvcore": ("by_leaf_module",),
    "thop": ("by_leaf_module", "params_by_leaf_module"),
    "ptflops_pytorch": ("by_module", "functional"),
}


def totals_only(record: dict[str, Any]) -> dict[str, Any]:
    """A record without its per-layer and per-module entries."""
    for tool, keys in PER_LAYER.items():
        for key in keys:
            record[tool].pop(key, None)
    return record


def tool_torchinfo(model: Any, x: Any) -> dict[str, Any]:
    import torchinfo

    names = {id(m): n for n, m in model.named_modules()}
    stats = torchinfo.summary(model, input_data=x, verbose=0, device="cpu")
    printed = str(stats)
    lines = {
        key: line.split(":", 1)[1].strip()
        for line in printed.splitlines()
        for key in (
            "Total params",
            "Trainable params",
            "Non-trainable params",
            # "(Units.GIGABYTES)" on Python 3.11+, "(G)" before
            *(f"Total mult-adds (Units.{u}BYTES)" for u in ("MEGA", "GIGA", "TERA")),
            *(f"Total mult-adds ({u})" for u in "MGT"),
            "Input size (MB)",
            "Forward/backward pass size (MB)",
            "Params size (MB)",
            "Estimated Total Size (MB)",
        )
        if line.startswith(key + ":")
    }
    layers = [
        [
            names.get(id(info.module), info.var_name),
            info.class_name,
            list(info.output_size[1:]),
            info.num_params,
            info.macs,
            bool(info.is_recursive),
        ]
        for info in stats.summary_list
        if info.is_leaf_layer
    ]
    return {
        "total_params": stats.total_params,
        "trainable_params": stats.trainable_params,
        "total_mult_adds": stats.total_mult_adds,
        "input_bytes": stats.total_input,
        "forward_backward_bytes": stats.total_output_bytes,
        "param_bytes": stats.total_param_bytes,
        "printed": lines,
        "layers": layers,
    }


def tool_fvcore(model: Any, x: Any) -> dict[str, Any]:
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    by_module = analysis.by_module()
    leaves = {n for n, m in model.named_modules() if not any(m.children())}
    return {
        "total": analysis.total(),
        "by_operator": dict(analysis.by_operator()),
        "by_leaf_module": {n: v for n, v in by_module.items() if n in leaves and v},
        "unsupported_ops": dict(analysis.unsupported_ops()),
    }


def tool_ptflops(model: Any, x: Any, backend: str) -> dict[str, Any]:
    import ptflops

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        macs, params = ptflops.get_model_complexity_info(
            model,
            tuple(x.shape[1:]),
            as_strings=False,
            print_per_layer_stat=False,
            backend=backend,
            input_constructor=lambda _shape: x,
        )
    return {"macs": macs, "params": params}


def tool_ptflops_per_module(model: Any, x: Any) -> dict[str, Any]:
    """ptflops's pytorch backend per module: its module hooks' figures (what its per-layer
    table prints, divided by the batch) and, apart, the patched functions' and tensor
    operations' counts, each given to the innermost module running when it was called."""
    import torch
    from ptflops import pytorch_engine

    names = {id(m): n for n, m in model.named_modules()}
    stack: list[str] = []
    functional: dict[str, int] = {}
    hooks: dict[str, int] = {}

    class Recorder(list):  # type: ignore[type-arg]
        def __init__(self, original: list[Any]) -> None:
            super().__init__()
            self.original = original

        def append(self, flops: Any) -> None:
            self.original.append(flops)
            where = stack[-1] if stack else ""
            functional[where] = functional.get(where, 0) + int(flops)

    def reroute(collector: list[Any]) -> None:
        recorder = Recorder(collector)
        for owner in (torch.nn.functional, torch, torch.Tensor):
            for value in list(vars(owner).values()):
                if isinstance(value, pytorch_engine.torch_function_wrapper):
                    value.collector = recorder
                if not isinstance(value, types.FunctionType):
                    continue
                for cell in value.__closure__ or ():
                    inner = cell.cell_contents
                    if isinstance(inner, pytorch_engine.torch_function_wrapper):
                        inner.collector = recorder

    original_patch = (pytorch_engine.patch_functional, pytorch_engine.patch_tensor_ops)

    def patch_functional(collector: list[Any]) -> None:
        original_patch[0](collector)
        reroute(collector)

    def patch_tensor_ops(collector: list[Any]) -> None:
        original_patch[1](collector)
        reroute(collector)

    def record(flops_model: Any, *_args: Any, **_kwargs: Any) -> None:
        batch = flops_model.__batch_counter__
        for name, module in flops_model.named_modules():
            if pytorch_engine.is_supported_instance(module) and module.__flops__:
                hooks[name] = module.__flops__ / batch

    def pre(module: Any, _args: Any) -> None:
        stack.append(names.get(id(module), "?"))

    def post(_module: Any, _args: Any, _out: Any) -> None:
        stack.pop()

    handles = [
        torch.nn.modules.module.register_module_forward_pre_hook(pre),
        torch.nn.modules.module.register_module_forward_hook(post),
    ]
    saved = (pytorch_engine.print_model_with_flops,)
    pytorch_engine.patch_functional = patch_functional
    pytorch_engine.patch_tensor_ops = patch_tensor_ops
    pytorch_engine.print_model_with_flops = record
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            macs, params = pytorch_engine.get_flops_pytorch(
                model, tuple(x.shape[1:]), input_constructor=lambda _shape: x
            )
    finally:
        pytorch_engine.patch_functional, pytorch_engine.patch_tensor_ops = original_patch
        pytorch_engine.print_model_with_flops = saved[0]
        for handle in handles:
            handle.remove()
    # functions the network's own forward calls (outside any submodule) belong to ""
    return {"macs": macs, "params": params, "by_module": hooks, "functional": functional}


def tool_thop(model: Any, x: Any) -> dict[str, Any]:
    import thop

    with contextlib.redirect_stdout(io.StringIO()):
        macs, params, tree = thop.profile(model, inputs=(x,), verbose=False, ret_layer_info=True)

    per: dict[str, float] = {}
    params_per: dict[str, float] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for name, (ops, params, children) in node.items():
            path = f"{prefix}.{name}" if prefix else name
            if children:
                walk(path, children)
            else:
                if ops:
                    per[path] = ops
                if params:
                    params_per[path] = params

    walk("", tree)
    return {
        "macs": macs,
        "params": params,
        "by_leaf_module": per,
        "params_by_leaf_module": params_per,
    }


def tool_flop_counter(model: Any, x: Any) -> dict[str, Any]:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(x)
    return {"macs": counter.get_total_flops() // 2}


def measure(model: Any, x: Any, per_module: bool = False) -> dict[str, Any]:
    import torch

    model.eval()
    record: dict[str, Any] = {
        "batch": int(x.shape[0]),
        "input_shape": list(x.shape[1:]),
        "params": sum(p.numel() for p in model.parameters()),
        "buffers": sum(b.numel() for b in model.buffers()),
    }
    with torch.no_grad():
        record["flop_counter"] = tool_flop_counter(model, x)
        record["torchinfo"] = tool_torchinfo(model, x)
        record["fvcore"] = tool_fvcore(model, x)
        record["ptflops_pytorch"] = tool_ptflops(model, x, "pytorch")
        record["ptflops_aten"] = tool_ptflops(model, x, "aten")
        record["thop"] = tool_thop(model, x)
        if per_module:
            detail = tool_ptflops_per_module(model, x)
            assert detail["macs"] == record["ptflops_pytorch"]["macs"], detail["macs"]
            record["ptflops_pytorch"]["by_module"] = detail["by_module"]
            record["ptflops_pytorch"]["functional"] = detail["functional"]
    return record


def dump(document: dict[str, Any]) -> str:
    """The document as JSON with one line per case (small, and diffs read per case)."""
    cases = sorted(document["cases"].items())
    lines = ["{", f'"versions": {json.dumps(document["versions"], sort_keys=True)},', '"cases": {']
    for number, (name, record) in enumerate(cases, start=1):
        comma = "," if number < len(cases) else ""
        body = json.dumps(record, sort_keys=True, separators=(",", ":"))
        lines.append(f"{json.dumps(name)}: {body}{comma}")
    return "\n".join([*lines, "}", "}"]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tvsrc", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the files' other cases and replace only the ones captured",
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    import torch
    from capture_torchvision import import_torchvision

    torch.manual_seed(0)
    torchvision = import_torchvision(args.tvsrc)
    cases: dict[str, Callable[[], tuple[Any, Any]]] = {}
    for builder, size in TORCHVISION.items():

        def build(builder: str = builder, size: int = size) -> tuple[Any, Any]:
            model = torchvision.models.get_model(builder, weights=None)
            return model, torch.rand(1, 3, size, size)

        cases[f"torchvision/{builder}@{size}"] = build
    detailed = set()
    totals = set()
    for builder, size, per_layer in WINDOWED:

        def build_windowed(builder: str = builder, size: int = size) -> tuple[Any, Any]:
            model = torchvision.models.get_model(builder, weights=None)
            return model, torch.rand(1, 3, size, size)

        cases[f"torchvision/{builder}@{size}"] = build_windowed
        (detailed if per_layer else totals).add(f"torchvision/{builder}@{size}")
    for name, net in NETS.items():
        cases[f"net/{name}"] = net.build
    for name, net in TORCHVISION_NETS.items():
        cases[f"net/{name}"] = net.build
        detailed.add(f"net/{name}")

        def build_batch(build: Callable[[], tuple[Any, Any]] = net.build) -> tuple[Any, Any]:
            model, x = build()
            return model, x.repeat(2, 1, 1, 1)

        # at batch 2: what runs once per forward (Swin V2's cpb_mlp) does not double
        cases[f"net/{name}@batch2"] = build_batch
        detailed.add(f"net/{name}@batch2")
    records = {}
    for name, build in cases.items():
        if args.only and not re.search(args.only, name):
            continue
        model, x = build()
        records[name] = measure(model, x, per_module=name in detailed)
        if name in totals:
            totals_only(records[name])
        print(name, records[name]["flop_counter"]["macs"], file=sys.stderr)
    import fvcore
    import ptflops
    import thop
    import torchinfo

    versions = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "torchinfo": torchinfo.__version__,
        "fvcore": fvcore.__version__,
        "ptflops": getattr(ptflops, "__version__", "0.7.5"),
        "thop": thop.__version__,
    }
    if args.out is not None:
        args.out.write_text(dump({"versions": versions, "cases": records}))
        return 0
    if args.only and not args.merge:
        return 0
    # the windowed transformers (Swin, MaxViT, the hand-built one of their modules)
    # in a file of their own, so that each stays small
    windowed = detailed | totals
    for path, mine in ((HERE / "tools.json", False), (WINDOWED_FILE, True)):
        captured = {k: v for k, v in records.items() if (k in windowed) == mine}
        kept = json.loads(path.read_text())["cases"] if args.merge and path.exists() else {}
        path.write_text(dump({"versions": versions, "cases": {**kept, **captured}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
