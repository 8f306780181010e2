"""The shipped networks: every keras.applications CNN and torchvision classifier.

Each family is one module (``keras_efficientnet``, ``torchvision_regnet``, ...)
holding one definition and its variants' table; :data:`FAMILIES` indexes them
so that a run imports only the family it builds. A test checks the index
against the modules' own tables.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from convcount.errors import ConvcountError
from convcount.model.graph import ModelReport

#: Family module -> the variants it defines (names after the framework prefix).
FAMILIES: dict[str, tuple[str, ...]] = {
    "keras_xception": ("xception",),
    "keras_vgg": ("vgg16", "vgg19"),
    "keras_resnet": (
        "resnet50",
        "resnet101",
        "resnet152",
        "resnet50v2",
        "resnet101v2",
        "resnet152v2",
    ),
    "keras_inceptionv3": ("inceptionv3",),
    "keras_inceptionresnetv2": ("inceptionresnetv2",),
    "keras_mobilenet": ("mobilenet",),
    "keras_mobilenetv2": ("mobilenetv2",),
    "keras_mobilenetv3": ("mobilenetv3small", "mobilenetv3large"),
    "keras_densenet": ("densenet121", "densenet169", "densenet201"),
    "keras_nasnet": ("nasnetlarge", "nasnetmobile"),
    "keras_efficientnet": tuple(f"efficientnetb{i}" for i in range(8)),
    "keras_efficientnetv2": (
        "efficientnetv2b0",
        "efficientnetv2b1",
        "efficientnetv2b2",
        "efficientnetv2b3",
        "efficientnetv2s",
        "efficientnetv2m",
        "efficientnetv2l",
    ),
    "keras_convnext": (
        "convnexttiny",
        "convnextsmall",
        "convnextbase",
        "convnextlarge",
        "convnextxlarge",
    ),
    "torchvision_alexnet": ("alexnet",),
    "torchvision_vgg": (
        "vgg11",
        "vgg13",
        "vgg16",
        "vgg19",
        "vgg11_bn",
        "vgg13_bn",
        "vgg16_bn",
        "vgg19_bn",
    ),
    "torchvision_resnet": (
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnext50_32x4d",
        "resnext101_32x8d",
        "resnext101_64x4d",
        "wide_resnet50_2",
        "wide_resnet101_2",
    ),
    "torchvision_densenet": ("densenet121", "densenet161", "densenet169", "densenet201"),
    "torchvision_googlenet": ("googlenet",),
    "torchvision_inception": ("inception_v3",),
    "torchvision_squeezenet": ("squeezenet1_0", "squeezenet1_1"),
    "torchvision_shufflenet": (
        "shufflenet_v2_x0_5",
        "shufflenet_v2_x1_0",
        "shufflenet_v2_x1_5",
        "shufflenet_v2_x2_0",
    ),
    "torchvision_mobilenetv2": ("mobilenet_v2",),
    "torchvision_mobilenetv3": ("mobilenet_v3_small", "mobilenet_v3_large"),
    "torchvision_mnasnet": ("mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"),
    "torchvision_efficientnet": (
        *(f"efficientnet_b{i}" for i in range(8)),
        "efficientnet_v2_s",
        "efficientnet_v2_m",
        "efficientnet_v2_l",
    ),
    "torchvision_regnet": tuple(
        f"regnet_{kind}_{size}"
        for kind, sizes in (
            ("y", ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf", "128gf")),
            ("x", ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
        )
        for size in sizes
    ),
    "torchvision_convnext": (
        "convnext_tiny",
        "convnext_small",
        "convnext_base",
        "convnext_large",
    ),
    "torchvision_vit": ("vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"),
    "torchvision_swin": ("swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b"),
    "torchvision_maxvit": ("maxvit_t",),
}

#: Names kept from convcount 1.x, and other common spellings.
ALIASES: dict[str, str] = {
    "mobilenet-v1": "keras/mobilenet",
    "mobilenet-v2": "keras/mobilenetv2",
    "xception": "keras/xception",
    "resnet50": "keras/resnet50",
    "vgg16": "keras/vgg16",
}

#: Smallest input Keras's constructors accept (``obtain_input_shape``'s min_size;
#: MobileNetV3's own check); 32 for every family not listed.
KERAS_MIN_SIZE: dict[str, int] = {
    "keras_xception": 71,
    "keras_inceptionv3": 75,
    "keras_inceptionresnetv2": 75,
}


def _framework(module: str) -> str:
    return module.split("_", 1)[0]


#: Every shipped name -> (family module, variant).
ZOO: dict[str, tuple[str, str]] = {
    f"{_framework(module)}/{variant}": (module, variant)
    for module, variants in FAMILIES.items()
    for variant in variants
}


def family(module: str) -> ModuleType:
    """A family's module (imported on first use)."""
    return importlib.import_module(f"convcount.model.zoo.{module}")


def _squash(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def resolve(name: str) -> str | None:
    """The shipped model a name means (case-insensitive; aliases; a unique bare name)."""
    word = name.strip().lower()
    if word in ZOO:
        return word
    if word in ALIASES:
        return ALIASES[word]
    bare = [full for full in ZOO if full.split("/", 1)[1] == word]
    if len(bare) == 1:
        return bare[0]
    return None


def suggestions(name: str) -> list[str]:
    """Shipped names close to ``name`` (for a did-you-mean)."""
    word = name.strip().lower()
    bare = [full for full in ZOO if full.split("/", 1)[1] == word]
    if bare:
        return bare
    squashed: dict[str, list[str]] = {}
    for full in ZOO:
        squashed.setdefault(_squash(full.split("/", 1)[1]), []).append(full)
    for alias, full in ALIASES.items():
        squashed.setdefault(_squash(alias), []).append(full)
    target = _squash(word.split("/", 1)[-1])
    if target in squashed:
        return list(dict.fromkeys(squashed[target]))
    framework = word.split("/", 1)[0] if "/" in word else ""
    # The family members first: keras/mobilenetv3 means v3small or v3large, not v2.
    members = [k for k in squashed if k.startswith(target) and len(target) >= 3]
    if members:
        found = [f for k in sorted(members) for f in squashed[k]]
        same = [f for f in found if f.startswith(framework + "/")] if framework else []
        return list(dict.fromkeys(same or found))[:4]
    from difflib import get_close_matches  # only on the way to an error message

    close = get_close_matches(target, list(squashed), n=3, cutoff=0.75)
    return list(dict.fromkeys(full for c in close for full in squashed[c]))


def build_zoo(
    name: str,
    *,
    width_multiplier: str | None = None,
    resolution: tuple[int, ...] | None = None,
    options: Mapping[str, object] | None = None,
    convention: str | None = None,
    dtype: str = "float32",
) -> ModelReport:
    """Count a shipped model; ``name`` must be a key of :data:`ZOO`."""
    from convcount.model.zoo.common import KERAS_OPTIONS, TORCH_OPTIONS, Spec

    module_name, variant = ZOO[name]
    module = family(module_name)
    model = module.MODELS[variant]
    own = "keras" if module_name.startswith("keras_") else "torch"
    if convention is not None and convention != own:
        twin = f"; the closest {'Keras' if own == 'torch' else 'PyTorch'} model is {model.twin}"
        raise ConvcountError(
            "convention",
            f"--convention {convention}: {name} is built as "
            f"{'Keras' if own == 'keras' else 'torchvision'} builds it and is counted under "
            f"the {own} convention{twin if model.twin else ''}",
        )
    alpha = model.width_default
    if width_multiplier is not None:
        if not model.width:
            raise ConvcountError(
                "width_multiplier",
                f"--width-multiplier: {name} has no width multiplier "
                "(only the MobileNets and MNASNet do)",
            )
        alpha = parse_alpha(width_multiplier)
    size = model.resolution if resolution is None else resolution
    if isinstance(size, int):
        size = (size, size)
    if len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ConvcountError("resolution", f"--resolution: {name} takes a 2-D size (H or HxW)")
    smallest = KERAS_MIN_SIZE.get(module_name, 32)
    if own == "keras" and min(size) < smallest:
        raise ConvcountError(
            "resolution",
            f"--resolution {'x'.join(map(str, size))}: {name} needs at least "
            f"{smallest}x{smallest} (Keras refuses a smaller input)",
        )
    declared = {
        o.name: o for o in (*(KERAS_OPTIONS if own == "keras" else TORCH_OPTIONS), *module.OPTIONS)
    }
    values: dict[str, Any] = {o.name: o.default for o in declared.values()}
    for key, text in (options or {}).items():
        spec_option = declared.get(key)
        if spec_option is None:
            from difflib import get_close_matches  # only on the way to an error message

            close = get_close_matches(key, list(declared), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConvcountError(
                "option",
                f"--option {key}: {name} takes no such option{hint}; "
                f"it takes {', '.join(n for n, o in declared.items() if o.type != 'fixed')}",
            )
        values[key] = spec_option.parse(text)
    spec = Spec(name, variant, model, (size[0], size[1]), alpha, values, own, dtype)  # type: ignore[arg-type]  # own is keras or torch
    net = module.build(spec)
    return net.report()  # type: ignore[no-any-return]  # family modules are untyped to mypy


def parse_alpha(text: str) -> float:
    """A width multiplier as the framework receives it: a positive float from the text."""
    word = str(text).strip()
    try:
        value = float(word) if word.isascii() else -1.0  # float() reads "３" as 3
    except ValueError:
        value = -1.0
    if not (0 < value < 1000) or len(word) > 40:
        raise ConvcountError(
            "width_multiplier",
            f"--width-multiplier must be a positive number below 1000, got {text!r}",
        )
    return value


def listing(names: Iterable[str] | None = None) -> list[tuple[str, str, list[int], int, int, int]]:
    """Every shipped model (or those ``names``) at its defaults: name, framework, input
    shape, params, fixed, MACs."""
    rows = []
    for name in sorted(ZOO if names is None else names):
        report = build_zoo(name)
        rows.append(
            (
                name,
                name.split("/", 1)[0],
                list(report.output_shape(report.input)),
                report.total_params,
                report.non_trainable_params,
                report.macs,
            )
        )
    return rows
