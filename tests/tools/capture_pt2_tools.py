"""Capture what other counting tools print for networks exported to torch.export ``.pt2``.

Run by hand; never imported by the package or collected by pytest. Each network is
built on the CPU in eval mode at batch 1, exported with
``torch.export.export(model, (x,))`` and saved to ``tests/tools/pt2/NAME.pt2``
without its weights (as ``tests/files/capture_torch.py`` saves its fixtures: only
``models/model.json`` and the weights' configuration are kept, and of the stack
traces only the source line of the ops a Tensor method or its operator ran:
``x.matmul(y)`` and ``x @ y`` are the same op otherwise); then
``capture_tools.measure`` runs FlopCounterMode, torchinfo, fvcore, ptflops (both
backends) and thop on the same module (nn.MultiheadAttention with its fused fast
path off: the path the export records). ``tests/tools/pt2.json`` holds the figures;
``test_pt2_tools.py`` compares ``--count-as`` on each saved file with them.

    .venv/bin/python tests/tools/capture_pt2_tools.py --tvsrc /work/tvsrc
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "pt2"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from capture_tools import dump, measure  # noqa: E402  (after the paths above)

from tests.tools.pt2_nets import HAND_NETS  # noqa: E402

#: torchvision builders at small sizes: name -> (builder, keyword arguments, resolution)
TORCHVISION: dict[str, tuple[str, dict[str, Any], int]] = {
    "resnet18": ("resnet18", {}, 64),
    "mobilenet_v3_small": ("mobilenet_v3_small", {}, 64),
    "efficientnet_b0": ("efficientnet_b0", {}, 64),
    "densenet121": ("densenet121", {}, 64),
    "googlenet": ("googlenet", {"aux_logits": False, "init_weights": False}, 64),
    "convnext_tiny": ("convnext_tiny", {}, 64),
    "shufflenet_v2_x0_5": ("shufflenet_v2_x0_5", {}, 64),
    "vit_b_32": ("vit_b_32", {"image_size": 64}, 64),
    "inception_v3": ("inception_v3", {"aux_logits": False, "init_weights": False}, 80),
    "mobilenet_v2": ("mobilenet_v2", {}, 64),
    "swin_t": ("swin_t", {}, 64),
    "swin_v2_t": ("swin_v2_t", {}, 64),
}


#: Tensor methods whose operators the file records alike: their source line is kept
#: (the last line of the op's stack trace), which tells ``x.matmul(y)`` from ``x @ y``.
OPERATOR_METHODS = ("add", "mul", "matmul", "sub", "div")


def save_pt2(model: Any, x: Any, path: Path) -> None:
    """torch.export.save without weights, sample inputs and stack traces, but the source
    line of the ops that a Tensor method or its operator may have run."""
    import io
    import zipfile

    import torch

    buffer = io.BytesIO()
    torch.export.save(torch.export.export(model, (x,)), buffer)
    keep = ("models/model.json", "data/weights/model_weights_config.json", "archive_format")
    with zipfile.ZipFile(buffer) as full, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in full.infolist():
            if not info.filename.endswith(keep):
                continue
            data = full.read(info)
            if info.filename.endswith("models/model.json"):
                document = json.loads(data)
                for node in document["graph_module"]["graph"]["nodes"]:
                    metadata = node.get("metadata", {})
                    trace = metadata.pop("stack_trace", None)
                    fn = str(metadata.get("torch_fn", "")).rpartition(".")[2]
                    if trace and fn in OPERATOR_METHODS:
                        metadata["stack_trace"] = trace.rstrip().rpartition("\n")[2]
                data = json.dumps(document).encode()
            out.writestr(info.filename, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tvsrc", type=Path, required=True)
    parser.add_argument("--only")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    import torch
    from capture_torchvision import import_torchvision  # type: ignore[import-not-found]

    torch.manual_seed(0)
    # torch.export records nn.MultiheadAttention's Python path (its projections, bmm
    # and softmax); under no_grad in eval the tools would see its fused fast path
    # instead (a different network to count): run them on the path the file records
    torch.backends.mha.set_fastpath_enabled(False)
    torchvision = import_torchvision(args.tvsrc)
    builds: dict[str, Any] = {}
    for name, (builder, kwargs, size) in TORCHVISION.items():

        def build(b: str = builder, k: dict[str, Any] = kwargs, s: int = size) -> Any:
            return torchvision.models.get_model(b, weights=None, **k), torch.rand(1, 3, s, s)

        builds[name] = build
    for name, make in HAND_NETS.items():
        builds[name] = make
    # the reader's own hand-written networks (tests/files/capture_torch.py), as "files_*"
    sys.path.insert(0, str(HERE.parent / "files"))
    from capture_torch import hand_models  # type: ignore[import-not-found]

    for name, (model, shape) in hand_models().items():
        builds[f"files_{name}"] = lambda m=model, s=shape: (m, torch.rand(*s))
    path = HERE / "pt2.json"
    records = json.loads(path.read_text())["cases"] if path.exists() else {}
    OUT.mkdir(exist_ok=True)
    for name, build in builds.items():
        if args.only and not re.search(args.only, name):
            continue
        model, x = build()
        model.eval()
        save_pt2(model, x, OUT / f"{name}.pt2")
        records[name] = measure(model, x)
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
    path.write_text(dump({"versions": versions, "cases": records}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
