"""Export torchvision families and hand-written models to .pt2 and ONNX, with their truth.

Run by hand (never imported by the package or collected by pytest), from the
repository root, after the torchvision setup of ``tests/zoo/capture_torchvision.py``
(an unzipped torchvision 0.29.1 wheel in ``--tvsrc``) and with ``onnx`` and
``onnxscript`` installed (the ``test`` extra):

    .venv/bin/python tests/files/capture_torch.py --tvsrc /work/tvsrc

Every model is built on the CPU at a small resolution with its parameters and
buffers perturbed (so that no two initializers are equal and the exporters merge
none), in eval mode, and written three ways into ``tests/files/torch/``:

* ``NAME.pt2``: ``torch.export.save``; the weight, constant and sample-input
  members are dropped and ``stack_trace`` metadata removed (convcount reads only
  ``models/model.json`` and ``data/weights/model_weights_config.json``).
* ``NAME.dynamo.onnx``: ``torch.onnx.export(dynamo=True)``; its ``.onnx.data``
  (the weights) is not kept, node metadata and doc strings are dropped.
* ``NAME.pth``: ``torch.save(model.state_dict())`` without its storages (only
  ``data.pkl`` is read); written for the hand-written models in this release.
* ``NAME.legacy.onnx``: ``dynamo=False``; every initializer of more than 64 bytes
  is moved to an external file that is not kept (the tensors' dims and types stay).

``torch.json`` holds the truth of each case: from PyTorch, ``total_params``,
``trainable_params``, ``buffers``, ``macs`` (FlopCounterMode FLOPs // 2, batch 1,
no_grad, eval) and one row per module ``[name, class, output shape, own params,
own buffers, own MACs]`` (as in tests/zoo/torchvision.json); from the ``onnx``
package, for each ONNX file, ``params`` (elements of the floating-point
initializers that some node takes as an operand other than a setting: not Resize's
scales, Clip's bounds, ...) and ``shapes`` (every node output's shape, from the file's
value_info for dynamo exports and from ``onnx.shape_inference`` with data
propagation for legacy ones).

Options: ``--only REGEX`` (only matching case names; torch.json is then merged).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "torch"
sys.path.insert(0, str(HERE.parent / "zoo"))

# One small builder per torchvision CNN family, at a small resolution (the weights'
# sizes do not depend on it; the exports take seconds instead of minutes).
TORCHVISION: dict[str, tuple[str, dict[str, Any], int]] = {
    "alexnet": ("alexnet", {"num_classes": 10}, 224),  # legacy needs the 6x6 map
    "resnet18": ("resnet18", {}, 64),
    "resnext50_32x4d": ("resnext50_32x4d", {}, 64),
    "densenet121": ("densenet121", {}, 64),
    "googlenet": ("googlenet", {"aux_logits": False, "init_weights": False}, 64),
    "inception_v3": ("inception_v3", {"aux_logits": False, "init_weights": False}, 80),
    "squeezenet1_0": ("squeezenet1_0", {}, 64),
    "squeezenet1_1": ("squeezenet1_1", {}, 64),
    "shufflenet_v2_x0_5": ("shufflenet_v2_x0_5", {}, 64),
    "mobilenet_v2": ("mobilenet_v2", {}, 64),
    "mobilenet_v3_small": ("mobilenet_v3_small", {}, 64),
    "mnasnet0_5": ("mnasnet0_5", {}, 64),
    "efficientnet_b0": ("efficientnet_b0", {}, 64),
    "efficientnet_v2_s": ("efficientnet_v2_s", {}, 64),
    "regnet_x_400mf": ("regnet_x_400mf", {}, 64),
    "regnet_y_400mf": ("regnet_y_400mf", {}, 64),
    "convnext_tiny": ("convnext_tiny", {}, 64),
    # The legacy exporter cannot lower VGG's adaptive pooling below 224 px (where its
    # classifier alone is 400 MB to export): dynamo and .pt2 only; AlexNet covers the
    # same ops in a legacy export.
    "vgg11_bn": ("vgg11_bn", {"init_weights": False, "num_classes": 10}, 32),
}


def hand_models() -> dict[str, tuple[Any, tuple[int, ...]]]:
    """Small hand-written networks: 1-D, 3-D, transposed, grouped, matrix products."""
    import torch
    from torch import nn

    class Signal(nn.Module):  # 1-D convolutions and a Linear on a 3-D tensor
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(4, 16, 5, stride=2, padding=2)
            self.bn = nn.BatchNorm1d(16)
            self.dw = nn.Conv1d(16, 16, 3, padding=1, groups=16, bias=False)
            self.proj = nn.Linear(16, 24)
            self.head = nn.Linear(24, 5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.relu(self.bn(self.conv(x)))
            x = self.dw(x).transpose(1, 2)  # N, L, C
            x = torch.relu(self.proj(x))
            return self.head(x.mean(1))

    class Decoder(nn.Module):  # transposed, dilated and grouped convolutions, upsampling
        def __init__(self) -> None:
            super().__init__()
            self.down = nn.Conv2d(3, 8, 3, stride=2, padding=2, dilation=2)
            self.group = nn.Conv2d(8, 16, 3, padding=1, groups=4)
            self.up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
            self.up2 = nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1, groups=2, bias=False)
            self.mix = nn.Linear(4, 6)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.relu(self.down(x))
            x = torch.relu(self.group(x))
            x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
            x = self.up2(torch.relu(self.up(x)))
            return self.mix(x.permute(0, 2, 3, 1))  # a Linear on a 4-D tensor

    class Volume(nn.Module):  # 3-D convolutions
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv3d(2, 8, (3, 3, 3), padding=1)
            self.bn = nn.BatchNorm3d(8)
            self.pool = nn.MaxPool3d(2)
            self.conv2 = nn.Conv3d(8, 8, 1, bias=False)
            self.fc = nn.Linear(8 * 4 * 4 * 4, 3, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.pool(torch.relu(self.bn(self.conv(x))))
            return self.fc(torch.flatten(self.conv2(x), 1))

    class Products(nn.Module):  # matrix products of two activations
        def __init__(self) -> None:
            super().__init__()
            self.q = nn.Linear(12, 16)
            self.k = nn.Linear(12, 16, bias=False)
            self.out = nn.Linear(7, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            scores = torch.matmul(self.q(x), self.k(x).transpose(-1, -2))  # N, 7, 7
            return self.out(torch.softmax(scores, -1))

    return {
        "hand_signal": (Signal(), (1, 4, 40)),
        "hand_decoder": (Decoder(), (1, 3, 32, 32)),
        "hand_volume": (Volume(), (1, 2, 8, 8, 8)),
        "hand_products": (Products(), (1, 7, 12)),
    }


def shape_of(output: Any) -> list[int] | None:
    import torch

    if isinstance(output, torch.Tensor):
        return list(output.shape[1:])
    if isinstance(output, (tuple, list)):
        for item in output:
            shape = shape_of(item)
            if shape is not None:
                return shape
    return None


def perturb(model: Any) -> None:
    import torch

    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            if tensor.is_floating_point():
                noise = torch.randn(tensor.shape, generator=generator) * 0.01
                tensor.add_(noise.abs() if "running_var" in name else noise)


def truth(model: Any, x: Any) -> dict[str, Any]:
    """PyTorch's figures, as tests/zoo/capture_torchvision.py measures them."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    names = {module: name for name, module in model.named_modules()}
    calls: dict[str, list[list[int] | None]] = {}

    def hook(module: Any, _inputs: Any, output: Any) -> None:
        calls.setdefault(names[module], []).append(shape_of(output))

    handles = [module.register_forward_hook(hook) for module in names]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = model(x)
    for handle in handles:
        handle.remove()
    root = type(model).__name__
    inclusive: dict[str, int] = {}
    for tracker, per_op in counter.get_flop_counts().items():
        if tracker != "Global":
            qualified = "" if tracker == root else tracker.removeprefix(root + ".")
            inclusive[qualified] = sum(per_op.values())
    layers = []
    for name, module in model.named_modules():
        own_params = sum(p.numel() for p in module.parameters(recurse=False))
        own_buffers = sum(b.numel() for b in module.buffers(recurse=False))
        children = [f"{name}.{c}" if name else c for c, _ in module.named_children()]
        if not (own_params or own_buffers or not children):
            continue
        ran = name in calls
        macs = None
        if ran:
            macs = (inclusive.get(name, 0) - sum(inclusive.get(c, 0) for c in children)) // 2
        shape = calls[name][0] if ran else None
        layers.append([name, type(module).__name__, shape, own_params, own_buffers, macs])
    return {
        "input_shape": list(x.shape),
        "total_params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "buffers": sum(b.numel() for b in model.buffers()),
        "macs": counter.get_total_flops() // 2,
        "output_shape": shape_of(y),
        "layers": layers,
    }


def save_pt2(model: Any, x: Any, path: Path) -> None:
    import torch

    program = torch.export.export(model, (x,))
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    keep = ("models/model.json", "data/weights/model_weights_config.json", "archive_format")
    with zipfile.ZipFile(buffer) as full, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in full.infolist():
            if not info.filename.endswith(keep):
                continue
            data = full.read(info)
            if info.filename.endswith("models/model.json"):
                document = json.loads(data)
                for node in document["graph_module"]["graph"]["nodes"]:
                    node.get("metadata", {}).pop("stack_trace", None)
                data = json.dumps(document).encode()
            out.writestr(info.filename, data)


def save_state_dict(model: Any, path: Path) -> None:
    """torch.save of the state dict, its storages (data/0, data/1, ...) dropped."""
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    with zipfile.ZipFile(buffer) as full, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in full.infolist():
            if "/data/" not in info.filename:
                out.writestr(info.filename, full.read(info))


FLOAT_TYPES = {1, 10, 11, 16}  # FLOAT, FLOAT16, DOUBLE, BFLOAT16
# Operand positions that are settings, not weights (Resize's scales, Clip's bounds, ...).
SETTINGS = {
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
    "ConstantOfShape": {0},
    "Range": {0, 1, 2},
}


def onnx_truth(model: Any, legacy: bool) -> dict[str, Any]:
    import onnx

    weights: set[str] = set()
    for node in model.graph.node:
        settings = SETTINGS.get(node.op_type, set())
        weights.update(name for i, name in enumerate(node.input) if i not in settings)
    params = 0
    for tensor in model.graph.initializer:
        if tensor.data_type in FLOAT_TYPES and tensor.name in weights:
            count = 1
            for d in tensor.dims:
                count *= d
            params += count
    if legacy:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    known = {}
    for value in [*model.graph.value_info, *model.graph.output, *model.graph.input]:
        dims = value.type.tensor_type.shape.dim
        known[value.name] = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]
    shapes = {}
    for node in model.graph.node:
        for output in node.output:
            if output in known:
                shapes[output] = known[output]
    return {"params": params, "shapes": shapes, "nodes": len(model.graph.node)}


def strip_onnx(model: Any, legacy: bool, path: Path) -> None:
    import onnx
    from onnx.external_data_helper import convert_model_to_external_data

    for node in model.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    model.graph.doc_string = ""
    if legacy:
        convert_model_to_external_data(
            model, all_tensors_to_one_file=True, location=path.name + ".data", size_threshold=64
        )
        with tempfile.TemporaryDirectory() as scratch:
            onnx.save(model, Path(scratch) / path.name)  # writes the weights beside it
            path.write_bytes((Path(scratch) / path.name).read_bytes())
    else:
        onnx.save(model, path)


def export_onnx(model: Any, x: Any, name: str, legacy: bool, **kw: Any) -> dict[str, Any]:
    import onnx
    import torch

    suffix = "legacy" if legacy else "dynamo"
    path = OUT / f"{name}.{suffix}.onnx"
    with tempfile.TemporaryDirectory() as scratch:
        full = Path(scratch) / path.name
        torch.onnx.export(model, (x,), str(full), dynamo=not legacy, **kw)
        loaded = onnx.load(str(full), load_external_data=False)
    record = onnx_truth(loaded, legacy)
    strip_onnx(loaded, legacy, path)
    record["bytes"] = path.stat().st_size
    return record


def capture(name: str, model: Any, x: Any, dynamic: bool) -> dict[str, Any]:
    import torch

    perturb(model)
    model.eval()
    record = {"name": name, **truth(model, x)}
    save_pt2(model, x, OUT / f"{name}.pt2")
    save_state_dict(model, OUT / f"{name}.pth")
    record["onnx"] = {}
    for exporter in ("dynamo", "legacy"):
        try:
            record["onnx"][exporter] = export_onnx(model, x, name, exporter == "legacy")
        except Exception as error:  # an exporter that cannot export this model
            print(name, exporter, "failed:", str(error)[:200], file=sys.stderr)
    if dynamic:  # the batch and the spatial sizes left open
        batch = torch.export.Dim("batch")
        height, width = torch.export.Dim("h", min=32), torch.export.Dim("w", min=32)
        record["onnx"]["dynamo_dynamic"] = export_onnx(
            model,
            x,
            name + "_dynamic",
            legacy=False,
            dynamic_shapes=({0: batch, 2: height, 3: width},),
        )
        record["onnx"]["legacy_dynamic"] = export_onnx(
            model,
            x,
            name + "_dynamic",
            legacy=True,
            input_names=["x"],
            dynamic_axes={"x": {0: "batch", 2: "h", 3: "w"}},
        )
    print(name, record["total_params"], record["macs"], file=sys.stderr)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tvsrc", type=Path, required=True)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    import torch
    from capture_torchvision import import_torchvision

    torchvision = import_torchvision(args.tvsrc)
    torch.manual_seed(0)
    OUT.mkdir(exist_ok=True)
    truth_path = HERE / "torch.json"
    cases: dict[str, Any] = {}
    if args.only and truth_path.exists():
        cases = {c["name"]: c for c in json.loads(truth_path.read_text())["cases"]}
    pattern = re.compile(args.only)
    for name, (builder, kwargs, size) in TORCHVISION.items():
        if pattern.search(name):
            model = torchvision.models.get_model(builder, weights=None, **kwargs)
            x = torch.randn(1, 3, size, size)
            cases[name] = capture(name, model, x, dynamic=name == "resnet18")
            cases[name]["builder"] = builder
            cases[name]["kwargs"] = kwargs
    for name, (model, shape) in hand_models().items():
        if pattern.search(name):
            cases[name] = capture(name, model, torch.randn(*shape), dynamic=False)
    document = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "notes": __doc__,
        "cases": sorted(cases.values(), key=lambda c: c["name"]),
    }
    truth_path.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
