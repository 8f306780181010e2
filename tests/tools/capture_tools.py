"""Capture what other counting tools print for torchvision models and hand-built networks.

Run by hand; never imported by the package or collected by pytest. It writes
``tests/tools/tools.json``: for each network, the figures of

* ``flop_counter``: ``torch.utils.flop_counter.FlopCounterMode`` total FLOPs // 2
  (convcount's own MACs);
* ``torchinfo`` 1.8.0: ``summary()``'s total, trainable params, total mult-adds,
  input size, forward/backward pass size and params size in bytes (and the MB
  lines it prints), and per leaf call: module path, class, output shape,
  params, mult-adds;
* ``fvcore`` 0.1.5: ``FlopCountAnalysis`` total, per module, per operator and the
  unsupported operators with their counts;
* ``ptflops`` 0.7.5: ``get_model_complexity_info`` MACs and params under both
  backends (``pytorch`` and ``aten``), and per module for the pytorch backend;
* ``thop`` 0.1.1: ``profile`` MACs and params (floats), per module.

Every tool runs on the CPU in eval mode at batch 1 (fvcore traces with
torch.jit and needs real tensors). Setup (torchvision as in
``tests/zoo/capture_torchvision.py``; the tools from the ``tools`` extra):

    .venv/bin/pip install -e ".[test,frameworks,tools]" pillow
    .venv/bin/python tests/tools/capture_tools.py --tvsrc /work/tvsrc

``--only REGEX`` captures only the matching cases (the file is then written only
with ``--out``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

sys.path.insert(0, str(HERE.parent / "zoo"))
sys.path.insert(0, str(HERE.parents[1]))  # the repository, for tests.tools.nets

from tests.tools.nets import NETS  # noqa: E402  (after the path above)

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


def tool_thop(model: Any, x: Any) -> dict[str, Any]:
    import thop

    with contextlib.redirect_stdout(io.StringIO()):
        macs, params, tree = thop.profile(model, inputs=(x,), verbose=False, ret_layer_info=True)

    per: dict[str, float] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for name, (ops, _params, children) in node.items():
            path = f"{prefix}.{name}" if prefix else name
            if children:
                walk(path, children)
            elif ops:
                per[path] = ops

    walk("", tree)
    return {"macs": macs, "params": params, "by_leaf_module": per}


def tool_flop_counter(model: Any, x: Any) -> dict[str, Any]:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(x)
    return {"macs": counter.get_total_flops() // 2}


def measure(model: Any, x: Any) -> dict[str, Any]:
    import torch

    model.eval()
    record: dict[str, Any] = {
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
    for name, net in NETS.items():
        cases[f"net/{name}"] = net.build
    records = {}
    for name, build in cases.items():
        if args.only and not re.search(args.only, name):
            continue
        model, x = build()
        records[name] = measure(model, x)
        print(name, records[name]["flop_counter"]["macs"], file=sys.stderr)
    import fvcore
    import ptflops
    import thop
    import torchinfo

    document = {
        "versions": {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "torchinfo": torchinfo.__version__,
            "fvcore": fvcore.__version__,
            "ptflops": getattr(ptflops, "__version__", "0.7.5"),
            "thop": thop.__version__,
        },
        "cases": records,
    }
    out = args.out or (None if args.only else HERE / "tools.json")
    if out is not None:
        out.write_text(dump(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
