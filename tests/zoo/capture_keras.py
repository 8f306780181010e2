"""Capture ground truth from the real keras.applications into tests/zoo/keras.json.

Run by hand, never imported by convcount nor collected by pytest::

    KERAS_BACKEND=torch .venv/bin/python tests/zoo/capture_keras.py
    KERAS_BACKEND=torch .venv/bin/python tests/zoo/capture_keras.py --only VGG16 --out /tmp/k.json
    KERAS_BACKEND=torch .venv/bin/python tests/zoo/capture_keras.py --list

It needs the 'frameworks' extra (torch 2.13.0 CPU, keras 3.15.1). Every model is
built with ``weights=None`` (nothing is downloaded). For each case it records
what Keras says: total, trainable and non-trainable parameters, the output shape,
every row of ``model.summary()`` (name, class, output shape without the batch,
``count_params()``, trainable parameters) and the MACs of one forward pass:
``torch.utils.flop_counter.FlopCounterMode`` total FLOPs // 2, at batch 1 on a
zero input, under ``torch.no_grad()`` with ``model(x, training=False)``. That
counter sees convolutions and matrix products only (not BatchNorm, activations,
pooling or additions), so ``macs`` is the multiply-accumulates of Conv*/Dense.
By default Keras puts its variables and the forward pass on torch's "meta"
device (``KERAS_TORCH_DEVICE=meta``): shapes only, no arithmetic, so the big
models take seconds; every recorded number depends on shapes alone, and
``--device cpu`` gives the same file (checked on a subset of the models).

``keras.backend.clear_session()`` runs before every build, so auto-generated
names (``input_layer``, ``re_lu_3``, ``add_5``, ``normalization``...) are those a
user sees in a fresh process: Keras numbers them per class across a session, and
clear_session() resets that count (checked: ConvNeXtTiny and InceptionV3 built in a
fresh process, and after MobileNetV3Small and InceptionV3 then clear_session(),
give the same names; without clear_session() they number on).

Each case records the rows of ``model.summary()``: ``model._operations``, the
layers and also the ops Keras applies to tensors (MobileNetV3's ``x + 3.0``,
ConvNeXt's ``inputs + x``), which share the per-class numbering (an ``ops.Add``
takes ``add_N`` like an ``Add`` layer); a nested Sequential row also lists its
layers. Every constructor is also tried one pixel below its minimum input size
(``rejected``), and a set at exactly that minimum.

A case's ``variant`` says what it is in convcount's terms: ``width_multiplier``
(the alpha passed, as a string), ``resolution`` (an int, ``[h, w]``, or null for
Keras's default size, listed under the top-level ``defaults``) and ``options``
(the other constructor arguments, plus ``channels`` when the input is not RGB).
The top-level ``options`` map lists, per model, the constructor arguments that
change what is recorded (parameter totals, MACs, output shape or the layer list).
Constructor calls that Keras refuses are kept under ``rejected`` with the error.

Two models are not built through their plain constructor:

* MobileNetV3Small/Large leave the input size open (``input_shape=None`` gives a
  ``(None, None, 3)`` input, and ``correct_pad`` then pads as for an even size).
  Their "default" cases pass ``input_shape=(224, 224, 3)`` explicitly, the size
  of the published weights, so that layer shapes are static.
* ``NASNetMobile`` raises on the torch backend ("not available with the torch
  backend at this time due to an outstanding bug", keras/src/applications/
  nasnet.py:384). Its cases are built with ``nasnet.NASNet`` and exactly the
  arguments NASNetMobile passes (nasnet.py:390-407); the graph then builds and
  runs on torch. ``--check-nasnet-mobile`` run on the jax backend (keras 3.15.1
  and jax from PyPI in a separate environment, no TensorFlow) builds the real
  ``NASNetMobile`` for those cases and compares everything but the MACs::

      KERAS_BACKEND=jax /tmp/jaxvenv/bin/python tests/zoo/capture_keras.py \\
          --check-nasnet-mobile
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "keras.json"

# Default input size of every constructor, from keras/src/applications/*.py (the
# ``default_size`` given to ``obtain_input_shape``); checked against the built
# model at run time. MobileNetV3 has none: 224 is the size of its weights.
DEFAULTS: dict[str, int] = {
    "Xception": 299,
    "VGG16": 224,
    "VGG19": 224,
    "ResNet50": 224,
    "ResNet101": 224,
    "ResNet152": 224,
    "ResNet50V2": 224,
    "ResNet101V2": 224,
    "ResNet152V2": 224,
    "InceptionV3": 299,
    "InceptionResNetV2": 299,
    "MobileNet": 224,
    "MobileNetV2": 224,
    "MobileNetV3Small": 224,
    "MobileNetV3Large": 224,
    "DenseNet121": 224,
    "DenseNet169": 224,
    "DenseNet201": 224,
    "NASNetLarge": 331,
    "NASNetMobile": 224,
    "EfficientNetB0": 224,
    "EfficientNetB1": 240,
    "EfficientNetB2": 260,
    "EfficientNetB3": 300,
    "EfficientNetB4": 380,
    "EfficientNetB5": 456,
    "EfficientNetB6": 528,
    "EfficientNetB7": 600,
    "EfficientNetV2B0": 224,
    "EfficientNetV2B1": 240,
    "EfficientNetV2B2": 260,
    "EfficientNetV2B3": 300,
    "EfficientNetV2S": 384,
    "EfficientNetV2M": 480,
    "EfficientNetV2L": 480,
    "ConvNeXtTiny": 224,
    "ConvNeXtSmall": 224,
    "ConvNeXtBase": 224,
    "ConvNeXtLarge": 224,
    "ConvNeXtXLarge": 224,
}
OPEN_INPUT = {"MobileNetV3Small", "MobileNetV3Large"}

# Constructor arguments that change a recorded quantity. ``input_shape`` covers
# the resolution (it changes VGG's parameters through Flatten, and every MAC
# count) and the number of channels (first convolution, preprocessing layers).
_HEAD = ["include_top", "pooling", "classes", "input_shape"]
OPTIONS: dict[str, list[str]] = (
    {name: list(_HEAD) for name in DEFAULTS}
    | {
        "MobileNet": ["alpha", "depth_multiplier", *_HEAD],
        "MobileNetV2": ["alpha", *_HEAD],
        "MobileNetV3Small": [
            "alpha",
            "minimalistic",
            *_HEAD,
            "include_preprocessing",
            "dropout_rate",
        ],
        "MobileNetV3Large": [
            "alpha",
            "minimalistic",
            *_HEAD,
            "include_preprocessing",
            "dropout_rate",
        ],
    }
    | {
        name: [*_HEAD, "include_preprocessing"]
        for name in DEFAULTS
        if name.startswith(("EfficientNetV2", "ConvNeXt"))
    }
)


@dataclass
class Case:
    """One constructor call: what to pass, and how convcount would name it."""

    constructor: str
    kwargs: dict[str, Any]
    width_multiplier: str | None = None
    resolution: int | list[int] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"keras/{self.constructor.lower()}"

    @property
    def input_hw(self) -> tuple[int, int]:
        shape = self.kwargs.get("input_shape")
        if shape is not None:
            return int(shape[0]), int(shape[1])
        size = DEFAULTS[self.constructor]
        return size, size

    @property
    def channels(self) -> int:
        shape = self.kwargs.get("input_shape")
        return 3 if shape is None else int(shape[2])

    def label(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.kwargs.items())
        return f"{self.constructor}({args})"


def make(
    constructor: str,
    *,
    alpha: str | None = None,
    resolution: int | tuple[int, int] | None = None,
    channels: int = 3,
    **options: Any,
) -> Case:
    """A case from convcount-style variant fields; ``options`` go to the constructor as is."""
    kwargs: dict[str, Any] = {}
    if alpha is not None:
        kwargs["alpha"] = float(alpha)
    if isinstance(resolution, tuple):
        height, width = resolution
    else:
        height = width = resolution or DEFAULTS[constructor]
    explicit = (
        resolution is not None
        or channels != 3
        or constructor in OPEN_INPUT
        or options.get("include_top") is False  # else Keras leaves (None, None, 3)
    )
    if explicit:
        kwargs["input_shape"] = [height, width, channels]
    kwargs.update(options)
    variant_options = dict(options)
    if channels != 3:
        variant_options["channels"] = channels
    return Case(
        constructor,
        kwargs,
        width_multiplier=alpha,
        resolution=list(resolution) if isinstance(resolution, tuple) else resolution,
        options=variant_options,
    )


# Families that get the pooling/classes/channels/non-square cases.
POOLING = [
    "VGG16",
    "Xception",
    "ResNet50",
    "ResNet50V2",
    "InceptionV3",
    "InceptionResNetV2",
    "MobileNet",
    "MobileNetV2",
    "MobileNetV3Small",
    "DenseNet121",
    "NASNetMobile",
    "EfficientNetB0",
    "EfficientNetV2B0",
    "ConvNeXtTiny",
]
CLASSES = [
    "VGG16",
    "Xception",
    "ResNet50",
    "ResNet50V2",
    "InceptionV3",
    "MobileNet",
    "MobileNetV2",
    "MobileNetV3Large",
    "DenseNet121",
    "NASNetMobile",
    "EfficientNetB0",
    "EfficientNetV2S",
    "ConvNeXtTiny",
]
ONE_CHANNEL = [
    "ResNet50",
    "MobileNetV3Small",
    "EfficientNetB0",
    "EfficientNetV2B0",
    "EfficientNetV2S",
    "ConvNeXtTiny",
]
NON_SQUARE: list[tuple[str, tuple[int, int]]] = [
    ("VGG16", (224, 160)),
    ("ResNet50", (240, 180)),
    ("InceptionV3", (299, 225)),
    ("MobileNetV2", (192, 256)),
    ("MobileNetV3Small", (225, 193)),
    ("DenseNet121", (225, 197)),
    ("EfficientNetB0", (225, 160)),
    ("ConvNeXtTiny", (225, 160)),
]
# Smallest input each constructor accepts (``obtain_input_shape``'s ``min_size``, or
# MobileNetV3's own check): every constructor is also tried one pixel below (Keras
# refuses: kept under ``rejected``), and these at exactly their minimum.
MIN_SIZE = {"Xception": 71, "InceptionV3": 75, "InceptionResNetV2": 75}
AT_MINIMUM = {
    "Xception",
    "VGG16",
    "ResNet50",
    "ResNet50V2",
    "InceptionV3",
    "InceptionResNetV2",
    "MobileNet",
    "MobileNetV2",
    "MobileNetV3Small",
    "DenseNet121",
    "NASNetMobile",
    "EfficientNetB0",
    "EfficientNetV2B0",
    "ConvNeXtTiny",
}
# Odd sizes matter: correct_pad, 'same' and ZeroPadding+'valid' disagree there.
EXTRA_ODD = {"ResNet50", "InceptionV3", "MobileNetV2", "NASNetMobile", "EfficientNetB0"}


def all_cases() -> list[Case]:
    """Every case, grouped by model in the order of DEFAULTS."""
    cases: list[Case] = []
    for ctor in DEFAULTS:
        cases.append(make(ctor))
        if ctor == "MobileNet":
            for alpha in ("0.25", "0.5", "0.75", "1.0"):
                cases += [make(ctor, alpha=alpha, resolution=r) for r in (128, 160, 192, 224)]
            cases += [
                make(ctor, resolution=197),
                make(ctor, resolution=225),
                make(ctor, alpha="0.5", resolution=225),
                make(ctor, alpha="0.6"),
                make(ctor, alpha="1.3", resolution=160),
                make(ctor, depth_multiplier=2),
                make(ctor, alpha="0.5", depth_multiplier=3, resolution=160),
            ]
        elif ctor == "MobileNetV2":
            for alpha in ("0.35", "0.5", "0.75", "1.0", "1.3", "1.4"):
                cases += [
                    make(ctor, alpha=alpha, resolution=r) for r in (96, 128, 160, 192, 224, 225)
                ]
            cases += [make(ctor, resolution=197), make(ctor, alpha="0.6", resolution=160)]
        elif ctor in OPEN_INPUT:
            for alpha in ("0.75", "1.0"):
                cases += [make(ctor, alpha=alpha, minimalistic=m) for m in (False, True)]
            cases += [
                make(ctor, alpha="0.5"),
                make(ctor, alpha="1.25"),
                make(ctor, alpha="0.75", minimalistic=True, resolution=160),
                make(ctor, include_preprocessing=False),
                make(ctor, dropout_rate=0.0),
                make(ctor, resolution=160),
                make(ctor, resolution=225),
            ]
        else:
            cases += [make(ctor, resolution=r) for r in (160, 225)]
            if ctor in EXTRA_ODD:
                cases.append(make(ctor, resolution=197))
        cases.append(make(ctor, include_top=False, pooling=None))
        if ctor in POOLING:
            cases += [make(ctor, include_top=False, pooling=p) for p in ("avg", "max")]
            cases.append(make(ctor, include_top=False, pooling="avg", resolution=225))
        if ctor in CLASSES:
            cases.append(make(ctor, classes=10))
        if ctor in ONE_CHANNEL:
            cases.append(make(ctor, channels=1))
        if ctor.startswith(("EfficientNetV2", "ConvNeXt")) and ctor.endswith(("B0", "S", "Tiny")):
            cases.append(make(ctor, include_preprocessing=False))
        cases += [make(ctor, resolution=size) for name, size in NON_SQUARE if name == ctor]
        smallest = MIN_SIZE.get(ctor, 32)
        cases += [make(ctor, resolution=(smallest, smallest - 1))]
        if ctor in AT_MINIMUM:
            cases.append(make(ctor, resolution=smallest))
    return cases


def constructor(name: str) -> Callable[..., Any]:
    """The keras.applications constructor; NASNetMobile through NASNet on torch."""
    import keras

    if name != "NASNetMobile" or keras.backend.backend() != "torch":
        return getattr(keras.applications, name)  # type: ignore[no-any-return]

    from keras.src.applications import nasnet

    def nasnet_mobile(input_shape: Any = None, include_top: bool = True, **kwargs: Any) -> Any:
        # The body of NASNetMobile (nasnet.py:390-407) without its torch check.
        if not include_top and input_shape is None:
            input_shape = (224, 224, 3)
        return nasnet.NASNet(
            input_shape,
            penultimate_filters=1056,
            num_blocks=4,
            stem_block_filters=32,
            skip_reduction=False,
            filter_multiplier=2,
            include_top=include_top,
            default_size=224,
            **{"name": "nasnet_mobile", **kwargs},
        )

    return nasnet_mobile


def build(case: Case) -> Any:
    import keras

    keras.backend.clear_session()
    gc.collect()
    kwargs = {
        key: tuple(value) if key == "input_shape" else value for key, value in case.kwargs.items()
    }
    return constructor(case.constructor)(weights=None, **kwargs)


def _size(weights: Iterable[Any]) -> int:
    return sum(math.prod(int(d) for d in w.shape) for w in weights)


def _shape(tensor: Any) -> list[int | None]:
    if isinstance(tensor, list | tuple):
        tensor = tensor[0]
    return [None if d is None else int(d) for d in tensor.shape[1:]]


def _row(operation: Any) -> list[Any]:
    """[name, class, output shape, params, trainable params] (+ the rows of a nested model)."""
    import keras

    if not isinstance(operation, keras.layers.Layer):  # an op on tensors: x + 3.0, a * b
        return [operation.name, f"ops.{type(operation).__name__}", _shape(operation.output), 0, 0]
    row = [
        operation.name,
        type(operation).__name__,
        _shape(operation.output),
        int(operation.count_params()),
        _size(operation.trainable_weights),
    ]
    inner = getattr(operation, "layers", None)
    if inner:  # ConvNeXt's Sequential stem and downsampling blocks
        row.append([_row(layer) for layer in inner])
    return row


def structure(model: Any) -> dict[str, Any]:
    """What Keras says of the built model (everything but the MACs)."""
    return {
        "total_params": int(model.count_params()),
        "trainable_params": _size(model.trainable_weights),
        "non_trainable_params": _size(model.non_trainable_weights),
        "output_shape": _shape(model.output),
        # model.summary()'s rows: every operation of the graph, layers and ops alike
        "layers": [_row(operation) for operation in model._operations],
    }


def macs(model: Any, case: Case) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    height, width = case.input_hw
    x = torch.zeros(1, height, width, case.channels, device=os.environ["KERAS_TORCH_DEVICE"])
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x, training=False)
    return int(counter.get_total_flops()) // 2


def capture(case: Case) -> dict[str, Any]:
    model = build(case)
    if case.kwargs.get("input_shape") is None:  # Keras chose the size: is it DEFAULTS'?
        built = tuple(model.input_shape[1:3])
        expected = (DEFAULTS[case.constructor],) * 2
        if built != expected:
            raise AssertionError(f"{case.constructor}: default input {built}, not {expected}")
    record = structure(model)
    height, width = case.input_hw
    return {
        "name": case.name,
        "constructor": case.constructor,
        "kwargs": case.kwargs,
        "variant": {
            "width_multiplier": case.width_multiplier,
            "resolution": case.resolution,
            "options": case.options,
        },
        "input_shape": [height, width, case.channels],
        "total_params": record["total_params"],
        "trainable_params": record["trainable_params"],
        "non_trainable_params": record["non_trainable_params"],
        "macs": macs(model, case),
        "output_shape": record["output_shape"],
        "layers": record["layers"],
    }


def dump(document: dict[str, Any]) -> str:
    """JSON with one case per block and one layer per line (diffable, ~1 line a layer)."""

    def compact(value: Any) -> str:
        return json.dumps(value, separators=(", ", ": "))

    lines = ["{"]
    head = [key for key in document if key not in ("cases", "rejected")]
    for key in head:
        lines.append(f'  "{key}": {json.dumps(document[key], indent=2)},'.replace("\n", "\n  "))
    lines.append('  "rejected": [')
    rejected = [f"    {compact(item)}" for item in document["rejected"]]
    lines.append(",\n".join(rejected))
    lines.append("  ],")
    lines.append('  "cases": [')
    blocks = []
    for case in document["cases"]:
        fields = [f'      "{k}": {compact(v)}' for k, v in case.items() if k != "layers"]
        layers = ",\n".join(f"        {compact(layer)}" for layer in case["layers"])
        fields.append(f'      "layers": [\n{layers}\n      ]')
        blocks.append("    {\n" + ",\n".join(fields) + "\n    }")
    lines.append(",\n".join(blocks))
    lines.append("  ]")
    lines.append("}")
    text = "\n".join(line for line in lines if line) + "\n"
    json.loads(text)  # the hand-made layout must still be JSON
    return text


def run(selected: list[Case], out: Path) -> None:
    import keras
    import torch

    cases: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    start = time.perf_counter()
    for index, case in enumerate(selected, 1):
        began = time.perf_counter()
        try:
            cases.append(capture(case))
            status = f"{cases[-1]['total_params']:>12,} params {cases[-1]['macs']:>15,} MACs"
        except Exception as error:  # Keras refusing a case is a result too
            message = f"{type(error).__name__}: {str(error).splitlines()[0]}"
            rejected.append(
                {
                    "name": case.name,
                    "constructor": case.constructor,
                    "kwargs": case.kwargs,
                    "variant": {
                        "width_multiplier": case.width_multiplier,
                        "resolution": case.resolution,
                        "options": case.options,
                    },
                    "error": message,
                }
            )
            status = f"REJECTED {message}"
        spent = time.perf_counter() - began
        print(
            f"[{index}/{len(selected)} {spent:5.1f}s] {case.label()}: {status}",
            file=sys.stderr,
            flush=True,
        )
    names = {case.constructor for case in selected}
    document = {
        "generated_by": "tests/zoo/capture_keras.py",
        "versions": {
            "keras": keras.__version__,
            "torch": torch.__version__.split("+")[0],
            "backend": keras.backend.backend(),
            "image_data_format": keras.backend.image_data_format(),
        },
        "macs": "torch.utils.flop_counter.FlopCounterMode total FLOPs // 2; one forward pass at "
        "batch 1 of a zero input, model(x, training=False) under torch.no_grad(); "
        "counts convolutions and matrix products only",
        "layers": "model._operations (the rows of model.summary()), in its order: [name, class "
        "(ops.X for an op on tensors, not a layer), output shape without batch, count_params(), "
        "trainable params], and for a nested model (Sequential) the rows of its layers",
        "defaults": {f"keras/{n.lower()}": s for n, s in DEFAULTS.items() if n in names},
        "options": {f"keras/{n.lower()}": o for n, o in OPTIONS.items() if n in names},
        "rejected": rejected,
        "cases": cases,
    }
    out.write_text(dump(document))
    total = time.perf_counter() - start
    print(f"{len(cases)} cases, {len(rejected)} rejected, {total:.0f}s -> {out}", file=sys.stderr)


def check_nasnet_mobile(path: Path) -> int:
    """Build the real NASNetMobile (on a backend that allows it) for every recorded case."""
    import keras

    if keras.backend.backend() == "torch":
        print("run this check with KERAS_BACKEND=jax (or tensorflow)", file=sys.stderr)
        return 2
    document = json.loads(path.read_text())
    failures = 0
    for recorded in document["cases"]:
        if recorded["constructor"] != "NASNetMobile":
            continue
        case = Case("NASNetMobile", recorded["kwargs"])
        actual = structure(build(case))
        diffs = [key for key, value in actual.items() if recorded[key] != value]
        failures += bool(diffs)
        print(f"{case.label()}: {'differs in ' + ', '.join(diffs) if diffs else 'same'}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--only",
        nargs="*",
        default=[],
        help="constructor names to capture (exact, e.g. MobileNetV2)",
    )
    parser.add_argument("--list", action="store_true", help="print the cases and stop")
    parser.add_argument(
        "--device", default="meta", help="torch device of the Keras variables (meta or cpu)"
    )
    parser.add_argument(
        "--check-nasnet-mobile",
        action="store_true",
        help="compare the NASNetMobile cases of --out with the real constructor",
    )
    args = parser.parse_args(argv)
    os.environ["KERAS_TORCH_DEVICE"] = args.device  # read when keras is first imported
    if args.check_nasnet_mobile:
        return check_nasnet_mobile(args.out)
    selected = [case for case in all_cases() if not args.only or case.constructor in args.only]
    if args.list:
        for case in selected:
            print(case.label())
        print(f"{len(selected)} cases", file=sys.stderr)
        return 0
    run(selected, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
