"""Capture ground truth from torchvision 0.29.1's classification models under torch 2.13.0.

Run by hand; never imported by the package or collected by pytest. It writes
``tests/zoo/torchvision.json``: for every classification builder that is a CNN,
parameters, buffers, MACs (``FlopCounterMode`` FLOPs // 2), the output shape and
one row per module, at the default weights' crop size, at other resolutions,
and with the builder options that change the counts (widths, num_classes,
auxiliary heads, reduced tails, ...). The transformer builders (ViT, Swin,
MaxViT) are captured under ``transformer_cases``: at their defaults, at other
input sizes (ViT's ``image_size`` and MaxViT's ``input_size`` given to the
builder) and with options (num_classes, representation_size, mlp_ratio, ...).

Setup, from the repository root (torch 2.13.0+cpu must already be in .venv; never
``pip install torch`` or ``torchvision`` there: an unpinned torch pulls a CUDA build):

    .venv/bin/pip download torchvision==0.29.1 --no-deps -d /work/tvwheel
    mkdir -p /work/tvsrc && cd /work/tvsrc \\
        && unzip -q -o /work/tvwheel/torchvision-0.29.1-*.whl && cd -
    .venv/bin/pip install pillow    # torchvision.transforms imports PIL

Run (about 2.5 minutes on an idle 2-core machine, 9 on a busy one; every model lives on the
meta device):

    .venv/bin/python tests/zoo/capture_torchvision.py --tvsrc /work/tvsrc

Options: ``--out PATH`` (default: torchvision.json beside this script),
``--only REGEX`` (capture only the case names that match, for debugging; the
file is then not written unless ``--out`` is given).

Two workarounds, neither of which changes a count:

* PyPI's torchvision wheel ships C ops built against another torch, so
  ``_C_stable.so`` fails to load and ``torchvision/_meta_registrations.py`` then
  dies on ``register_fake("torchvision::nms")``. The script defines the schemas
  of ``torchvision::nms`` and ``torchvision::qnms`` (no kernels) before the
  import; classification models never call them.
* ``regnet.BlockParams.from_init_params`` computes the stage widths with torch
  and calls ``.tolist()``, which a meta tensor cannot do; the script runs that
  one classmethod under ``torch.device("cpu")``.

Conventions of the JSON (see also ``notes`` in the file):

* ``macs``: total FLOPs of one forward pass at batch 1, eval mode, under
  ``torch.no_grad()``, as ``torch.utils.flop_counter.FlopCounterMode`` counts
  them (convolution, mm/addmm/bmm/..., attention), divided by 2. Bias additions,
  BatchNorm, activations, pooling and element-wise ops count 0.
* ``layers``: ``[name, class, output shape without batch, own params, own
  buffers, own MACs]`` for every module that owns parameters or buffers
  (``recurse=False``) and every leaf module, in the order of their first calls
  in the forward pass (modules that never run last, in ``named_modules()`` order). The
  output shape is that of the first call (first tensor of a tuple output);
  ``null`` when the module never runs (auxiliary heads in eval mode, or a module
  whose weights are used functionally). Own MACs: FlopCounterMode's count for
  the module minus those of its child modules, // 2; ``null`` if it never runs.
  Modules run more than once are listed in ``multi_call`` with every call's shape.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TORCH_VERSION = "2.13.0"
TORCHVISION_VERSION = "0.29.1"

# Builders the brief names, by family; the script checks list_models() against them.
CNN_FAMILIES: dict[str, list[str]] = {
    "alexnet": ["alexnet"],
    "vgg": [f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")],
    "resnet": ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"],
    "resnext": ["resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"],
    "wide_resnet": ["wide_resnet50_2", "wide_resnet101_2"],
    "densenet": ["densenet121", "densenet161", "densenet169", "densenet201"],
    "googlenet": ["googlenet"],
    "inception": ["inception_v3"],
    "squeezenet": ["squeezenet1_0", "squeezenet1_1"],
    "shufflenet": [f"shufflenet_v2_x{w}" for w in ("0_5", "1_0", "1_5", "2_0")],
    "mobilenet_v2": ["mobilenet_v2"],
    "mobilenet_v3": ["mobilenet_v3_small", "mobilenet_v3_large"],
    "mnasnet": ["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"],
    "efficientnet": [f"efficientnet_b{i}" for i in range(8)],
    "efficientnet_v2": ["efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"],
    "regnet_x": [],  # filled from list_models(): every regnet_x_*
    "regnet_y": [],  # every regnet_y_*
    "convnext": ["convnext_tiny", "convnext_small", "convnext_base", "convnext_large"],
}
TRANSFORMER_PREFIXES = ("vit_", "swin_", "maxvit_")
_KEEP_ALIVE: list[Any] = []

# Keyword arguments every build of a builder gets (besides weights=None): auxiliary
# heads as the DEFAULT weights have them, and no weight init (counts do not change).
BASE_KWARGS: dict[str, dict[str, Any]] = {
    # GoogLeNet_Weights num_params 6,624,904 exclude aux1/aux2 (the builder drops them
    # after loading); GoogLeNet() defaults to aux_logits=True, so pass False.
    "googlenet": {"aux_logits": False, "init_weights": False},
    # Inception_V3_Weights num_params 27,161,264 include AuxLogits.
    "inception_v3": {"aux_logits": True, "init_weights": False},
}
for _vgg in CNN_FAMILIES["vgg"]:
    BASE_KWARGS[_vgg] = {"init_weights": False}
# vit_h_14's DEFAULT (SWAG_E2E_V1) weights build it with image_size=518.
TRANSFORMER_DEFAULT_KWARGS: dict[str, dict[str, Any]] = {"vit_h_14": {"image_size": 518}}

NOTES = {
    "macs": "FlopCounterMode(display=False) total FLOPs // 2, batch 1, eval, torch.no_grad(), "
    "meta device; bias, BatchNorm, activations, pooling and element-wise ops count 0",
    "layers": "[qualified name, class, output shape without batch (first call, first tensor; "
    "null if never run), own params (recurse=False), own buffers (recurse=False), own MACs "
    "(FlopCounterMode count of the module minus its children's, // 2; null if never run)]; "
    "every module owning parameters or buffers plus every leaf, in the order of their first "
    "calls (modules that never run last, in named_modules() order)",
    "multi_call": "modules run more than once per forward: every call's output shape",
    "buffers": "numel of all buffers: BatchNorm running_mean/var plus 1 per num_batches_tracked",
    "input_shape": "[channels, height, width]; the batch is 1",
    "output_shape": "without batch",
    "ops_meta": "DEFAULT weights' meta['_ops'] (GFLOPS as torchvision prints it = GMACs)",
    "num_params_meta": "DEFAULT weights' meta['num_params']",
    "defaults": "the DEFAULT weights' transforms crop_size per builder (= default resolution)",
}


def import_torchvision(tvsrc: Path) -> Any:
    """Import torchvision from an unzipped wheel beside a torch it was not built for."""
    import torch

    sys.path.insert(0, str(tvsrc))
    # The wheel's C ops do not load beside this torch, and _meta_registrations then
    # fails on register_fake("torchvision::nms"): give the two ops a schema first.
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _KEEP_ALIVE.append(lib)  # the definitions last as long as the Library object

    import torchvision
    from torchvision.models import regnet

    # BlockParams.from_init_params computes the widths with torch and calls .tolist(),
    # impossible on meta tensors: run that classmethod on the CPU.
    original = regnet.BlockParams.from_init_params.__func__

    def from_init_params_on_cpu(cls: type, *args: Any, **kwargs: Any) -> Any:
        with torch.device("cpu"):
            return original(cls, *args, **kwargs)

    regnet.BlockParams.from_init_params = classmethod(from_init_params_on_cpu)
    return torchvision


@dataclass
class Case:
    name: str
    builder: str  # a builder name, or a class name when ``factory`` is a class
    kwargs: dict[str, Any]
    resolution: int | tuple[int, int]
    kind: str  # default | resolution | options | width
    width_multiplier: str | None = None
    resolution_variant: int | list[int] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    is_default: bool = False
    callable_path: str | None = None  # e.g. torchvision.models.MNASNet


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


def measure(torchvision: Any, case: Case) -> dict[str, Any]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    models = torchvision.models
    factory: Callable[..., Any]
    if case.callable_path is not None:
        factory = getattr(models, case.callable_path.rsplit(".", 1)[1])
    else:
        builder = models.get_model_builder(case.builder)

        def factory(**kw: Any) -> Any:
            return builder(weights=None, **kw)

    h, w = (
        (case.resolution, case.resolution) if isinstance(case.resolution, int) else case.resolution
    )
    with torch.device("meta"):
        model = factory(**case.kwargs)
    model.eval()

    names = {module: name for name, module in model.named_modules()}
    calls: dict[str, list[list[int] | None]] = {}

    def hook(module: Any, _inputs: Any, output: Any) -> None:
        calls.setdefault(names[module], []).append(shape_of(output))

    handles = [module.register_forward_hook(hook) for module in names]
    x = torch.empty(1, 3, h, w, device="meta")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = model(x)
    for handle in handles:
        handle.remove()

    total_flops = counter.get_total_flops()
    root = type(model).__name__
    inclusive: dict[str, int] = {}
    for tracker_name, per_op in counter.get_flop_counts().items():
        if tracker_name == "Global":
            continue
        qualified = "" if tracker_name == root else tracker_name.removeprefix(root + ".")
        inclusive[qualified] = sum(per_op.values())

    layers: list[list[Any]] = []
    for name, module in model.named_modules():
        own_params = sum(p.numel() for p in module.parameters(recurse=False))
        own_buffers = sum(b.numel() for b in module.buffers(recurse=False))
        children = [f"{name}.{c}" if name else c for c, _ in module.named_children()]
        if not (own_params or own_buffers or not children):
            continue
        ran = name in calls
        own_macs: int | None = None
        if ran:
            own_flops = inclusive.get(name, 0) - sum(inclusive.get(c, 0) for c in children)
            own_macs = own_flops // 2
        shape = calls[name][0] if ran else None
        layers.append([name, type(module).__name__, shape, own_params, own_buffers, own_macs])

    # In the order of the forward pass (first calls); modules that never run last.
    first_call = {name: index for index, name in enumerate(calls)}
    layers.sort(key=lambda row: first_call.get(row[0], len(first_call)))
    multi_call = {name: shapes for name, shapes in calls.items() if len(shapes) > 1}
    variant: dict[str, Any] = {
        "width_multiplier": case.width_multiplier,
        "resolution": case.resolution_variant,
        "options": case.options,
    }
    record: dict[str, Any] = {
        "name": case.name,
        "builder": case.builder,
        "kwargs": case.kwargs,
        "kind": case.kind,
        "variant": variant,
        "input_shape": [3, h, w],
        "total_params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "buffers": sum(b.numel() for b in model.buffers()),
        "num_params_meta": None,
        "ops_meta": None,
        "macs": total_flops // 2,
        "output_shape": shape_of(y),
    }
    if case.callable_path is not None:
        record["callable"] = case.callable_path
    if case.is_default:
        weights = models.get_model_weights(case.builder).DEFAULT
        record["weights"] = str(weights)
        record["num_params_meta"] = weights.meta["num_params"]
        record["ops_meta"] = weights.meta["_ops"]
        record["min_size_meta"] = list(weights.meta["min_size"])
    record["multi_call"] = multi_call
    record["layers"] = layers
    return record


def default_crop(torchvision: Any, builder: str) -> int:
    weights = torchvision.models.get_model_weights(builder).DEFAULT
    crop = weights.transforms.keywords["crop_size"]
    assert isinstance(crop, int), (builder, crop)
    return crop


def res_tag(resolution: int | tuple[int, int]) -> str:
    return str(resolution) if isinstance(resolution, int) else f"{resolution[0]}x{resolution[1]}"


def opt_tag(options: dict[str, Any]) -> str:
    return ",".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in options.items())


def build_cases(torchvision: Any, cnn: list[str], defaults: dict[str, int]) -> Iterator[Case]:
    def base(builder: str) -> dict[str, Any]:
        return dict(BASE_KWARGS.get(builder, {}))

    def options_of(kwargs: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in kwargs.items() if k != "init_weights"}

    # 1. every builder at its default resolution, default options
    for builder in cnn:
        kwargs = base(builder)
        yield Case(
            name=f"torchvision/{builder}",
            builder=builder,
            kwargs=kwargs,
            resolution=defaults[builder],
            kind="default",
            options=options_of(kwargs),
            is_default=True,
        )

    # 2. other resolutions: 160 and an odd 193 everywhere, 224 where the default differs,
    # non-square inputs and minimum sizes / ceil_mode edges for a few.
    extra: dict[str, list[int | tuple[int, int]]] = {
        "alexnet": [63, (192, 256)],
        "vgg16": [(192, 256)],
        "resnet50": [(192, 256), 225],
        "densenet121": [(192, 256), 29],
        "googlenet": [225, 15],
        "inception_v3": [75, (299, 401)],
        "squeezenet1_0": [225, 21],
        "squeezenet1_1": [225, 17],
        "shufflenet_v2_x1_0": [(192, 256)],
        "mobilenet_v2": [(192, 256), 1],
        "mobilenet_v3_large": [(192, 256)],
        "mnasnet1_0": [(192, 256)],
        "efficientnet_b0": [(192, 256)],
        "efficientnet_v2_s": [33],
        "regnet_y_400mf": [(192, 256)],
        "convnext_tiny": [(192, 256), 32],
    }
    for builder in cnn:
        sizes: list[int | tuple[int, int]] = [160, 193]
        if defaults[builder] != 224:
            sizes.append(224)
        sizes += extra.get(builder, [])
        for size in sizes:
            kwargs = base(builder)
            yield Case(
                name=f"torchvision/{builder}@{res_tag(size)}",
                builder=builder,
                kwargs=kwargs,
                resolution=size,
                kind="resolution",
                resolution_variant=size if isinstance(size, int) else list(size),
                options=options_of(kwargs),
            )

    def option_case(builder: str, extra_kwargs: dict[str, Any], kind: str = "options") -> Case:
        kwargs = {**base(builder), **extra_kwargs}
        width = extra_kwargs.get("width_mult")
        return Case(
            name=f"torchvision/{builder}[{opt_tag(extra_kwargs)}]",
            builder=builder,
            kwargs=kwargs,
            resolution=defaults[builder],
            kind=kind,
            width_multiplier=None if width is None else str(width),
            options={k: v for k, v in options_of(kwargs).items() if k != "width_mult"},
        )

    # 3. num_classes and auxiliary heads
    for builder in (
        "alexnet",
        "vgg11",
        "vgg11_bn",
        "resnet18",
        "resnet50",
        "densenet121",
        "googlenet",
        "inception_v3",
        "squeezenet1_0",
        "squeezenet1_1",
        "shufflenet_v2_x1_0",
        "mobilenet_v2",
        "mobilenet_v3_small",
        "mnasnet1_0",
        "efficientnet_b0",
        "efficientnet_v2_s",
        "regnet_x_400mf",
        "regnet_y_400mf",
        "convnext_tiny",
    ):
        yield option_case(builder, {"num_classes": 10})
    yield option_case("googlenet", {"aux_logits": True})
    yield option_case("googlenet", {"aux_logits": True, "num_classes": 10})
    yield option_case("inception_v3", {"aux_logits": False})

    # 4. widths
    for width in (0.35, 0.5, 0.75, 1.3, 1.4):
        yield option_case("mobilenet_v2", {"width_mult": width}, kind="width")
    for builder in ("mobilenet_v3_small", "mobilenet_v3_large"):
        for width in (0.5, 0.75, 1.25):
            yield option_case(builder, {"width_mult": width}, kind="width")
    # MNASNet's builders fix alpha (they call MNASNet(alpha, **kwargs)): use the class.
    for alpha in (0.35, 1.4, 1.75):
        yield Case(
            name=f"torchvision/MNASNet[alpha={alpha}]",
            builder="MNASNet",
            kwargs={"alpha": alpha},
            resolution=224,
            kind="width",
            width_multiplier=str(alpha),
            callable_path="torchvision.models.MNASNet",
        )

    # 5. other builder kwargs that change counts (or shapes and MACs only)
    more: list[tuple[str, dict[str, Any]]] = [
        ("mobilenet_v2", {"width_mult": 0.75, "round_nearest": 1}),
        ("mobilenet_v2", {"width_mult": 0.35, "round_nearest": 4}),
        # A custom inverted_residual_setting is another network: write it as a model file.
        ("mobilenet_v3_large", {"reduced_tail": True}),
        ("mobilenet_v3_large", {"dilated": True}),
        ("mobilenet_v3_large", {"reduced_tail": True, "dilated": True}),
        ("mobilenet_v3_small", {"reduced_tail": True}),
        ("mobilenet_v3_small", {"reduced_tail": True, "dilated": True}),
        ("mobilenet_v3_small", {"width_mult": 0.75, "reduced_tail": True}),
        ("resnet50", {"replace_stride_with_dilation": [False, True, True]}),
        ("resnet101", {"replace_stride_with_dilation": [False, False, True]}),
        ("resnet50", {"groups": 2, "width_per_group": 48}),
        ("resnet50", {"width_per_group": 96}),
        ("resnet18", {"zero_init_residual": True}),
        ("densenet121", {"bn_size": 2}),
        ("densenet121", {"memory_efficient": True, "drop_rate": 0.2}),
        ("regnet_y_400mf", {"stem_width": 16}),
        ("regnet_x_400mf", {"stem_width": 48}),
        ("convnext_tiny", {"stochastic_depth_prob": 0.0, "layer_scale": 0.5}),
        ("efficientnet_b0", {"stochastic_depth_prob": 0.0, "dropout": 0.0}),
        ("googlenet", {"transform_input": True}),
    ]
    for builder, kwargs in more:
        kind = "width" if "width_mult" in kwargs else "options"
        yield option_case(builder, kwargs, kind=kind)


def build_transformer_cases(transformers: list[str], defaults: dict[str, int]) -> Iterator[Case]:
    """Every transformer at its defaults, then held-out sizes and options.

    ViT and MaxViT are built for one input size (``image_size`` / ``input_size``
    given to the builder: convcount's --resolution); Swin takes any size.
    """
    for builder in transformers:
        kwargs = dict(TRANSFORMER_DEFAULT_KWARGS.get(builder, {}))
        yield Case(
            name=f"torchvision/{builder}",
            builder=builder,
            kwargs=kwargs,
            resolution=defaults[builder],
            kind="default",
            options={},
            is_default=True,
        )
    sized: list[tuple[str, int | tuple[int, int], dict[str, Any]]] = [
        ("vit_b_16", 384, {"image_size": 384}),
        ("vit_b_32", 160, {"image_size": 160}),
        ("vit_h_14", 224, {}),
        ("vit_l_16", 512, {"image_size": 512}),
        ("swin_t", 256, {}),
        ("swin_t", 193, {}),
        ("swin_t", (192, 256), {}),
        ("swin_s", 384, {}),
        ("swin_b", 32, {}),
        ("swin_v2_t", 224, {}),
        ("swin_v2_t", 161, {}),
        ("swin_v2_s", (256, 320), {}),
        ("swin_v2_b", 384, {}),
        ("maxvit_t", 448, {"input_size": (448, 448)}),
    ]
    for builder, size, kwargs in sized:
        yield Case(
            name=f"torchvision/{builder}@{res_tag(size)}",
            builder=builder,
            kwargs=kwargs,
            resolution=size,
            kind="resolution",
            resolution_variant=size if isinstance(size, int) else list(size),
        )
    optioned: list[tuple[str, dict[str, Any]]] = [
        ("vit_b_16", {"num_classes": 10}),
        ("vit_b_32", {"representation_size": 512}),
        ("vit_l_32", {"num_classes": 21843, "dropout": 0.1, "attention_dropout": 0.1}),
        ("swin_t", {"num_classes": 10}),
        ("swin_s", {"mlp_ratio": 3.0}),
        ("swin_v2_t", {"num_classes": 100, "mlp_ratio": 2.5}),
        ("swin_v2_b", {"num_classes": 10}),
        ("maxvit_t", {"num_classes": 10}),
        ("maxvit_t", {"expansion_ratio": 3.0, "squeeze_ratio": 0.5, "mlp_ratio": 2}),
    ]
    for builder, kwargs in optioned:
        base = dict(TRANSFORMER_DEFAULT_KWARGS.get(builder, {}))
        yield Case(
            name=f"torchvision/{builder}[{opt_tag(kwargs)}]",
            builder=builder,
            kwargs={**base, **kwargs},
            resolution=defaults[builder],
            kind="options",
            options=kwargs,
        )


def dump(document: dict[str, Any], path: Path) -> None:
    """Compact JSON (the committed form: about 5 MB)."""
    path.write_text(json.dumps(document, separators=(",", ":")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tvsrc", type=Path, default=Path("/work/tvsrc"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--only", default=None, help="regex on case names")
    args = parser.parse_args(argv)

    import torch

    torchvision = import_torchvision(args.tvsrc)
    if not torch.__version__.startswith(TORCH_VERSION):
        print(f"warning: torch {torch.__version__}, expected {TORCH_VERSION}", file=sys.stderr)
    if not torchvision.__version__.startswith(TORCHVISION_VERSION):
        print(f"warning: torchvision {torchvision.__version__}", file=sys.stderr)

    models = torchvision.models
    listed = models.list_models(module=models)
    families = {k: list(v) for k, v in CNN_FAMILIES.items()}
    families["regnet_x"] = sorted(n for n in listed if n.startswith("regnet_x_"))
    families["regnet_y"] = sorted(n for n in listed if n.startswith("regnet_y_"))
    cnn = [n for names in families.values() for n in names]
    transformers = sorted(n for n in listed if n.startswith(TRANSFORMER_PREFIXES))
    missing = sorted(set(listed) - set(cnn) - set(transformers))
    unknown = sorted(set(cnn) - set(listed))
    if missing or unknown:
        print(f"list_models() mismatch: not covered {missing}, not listed {unknown}")
        return 1
    family_of = {n: fam for fam, names in families.items() for n in names}
    defaults = {n: default_crop(torchvision, n) for n in cnn + transformers}

    pattern = re.compile(args.only) if args.only else None
    started = time.perf_counter()
    cases: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []

    def run(case: Case) -> dict[str, Any] | None:
        if pattern is not None and not pattern.search(case.name):
            return None
        t0 = time.perf_counter()
        try:
            record = measure(torchvision, case)
        except Exception as error:  # record and go on: the report lists failures
            failures.append({"name": case.name, "error": f"{type(error).__name__}: {error}"})
            print(f"FAIL {case.name}: {type(error).__name__}: {error}", file=sys.stderr)
            return None
        family = family_of.get(case.builder, "mnasnet")  # the MNASNet class cases
        record = {"name": record.pop("name"), "family": family, **record}
        print(
            f"{time.perf_counter() - t0:6.2f}s {case.name}: params {record['total_params']:,}"
            f" macs {record['macs']:,}",
            file=sys.stderr,
        )
        return record

    for case in build_cases(torchvision, cnn, defaults):
        record = run(case)
        if record is not None:
            cases.append(record)

    transformer_cases: list[dict[str, Any]] = []
    for builder in transformers:
        family_of[builder] = builder.split("_")[0]
    for case in build_transformer_cases(transformers, defaults):
        record = run(case)
        if record is not None:
            transformer_cases.append(record)

    elapsed = time.perf_counter() - started
    print(
        f"{len(cases)} CNN cases, {len(transformer_cases)} transformer cases,"
        f" {len(failures)} failures in {elapsed:.1f}s",
        file=sys.stderr,
    )

    out = args.out
    if out is None and pattern is None:
        out = HERE / "torchvision.json"
    if out is None:
        return 1 if failures else 0
    document = {
        "generator": "tests/zoo/capture_torchvision.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "notes": NOTES,
        "builders": {"cnn": cnn, "transformer": transformers},
        "defaults": {f"torchvision/{n}": defaults[n] for n in cnn + transformers},
        "failures": failures,
        "cases": cases,
        "transformer_cases": transformer_cases,
    }
    dump(document, out)
    print(f"wrote {out} ({out.stat().st_size:,} bytes)", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
