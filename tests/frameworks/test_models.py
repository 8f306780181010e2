"""Whole networks against the real frameworks, built live in CI.

A representative set of shipped Keras models (each family at a variant the
captured figures in tests/zoo/ do not hold the whole of: other widths, odd
resolutions, options) is built with keras.applications (weights=None) and
compared in total (parameters, trainable, non-trainable, MACs by
FlopCounterMode) and layer by layer (parameters and output shape under the
same names). Networks written in the model language are built by hand in Keras
and in PyTorch and compared the same way. Every shipped model is also checked
against the captured figures in tests/test_zoo.py.
"""

from __future__ import annotations

import tomllib
from math import prod
from typing import Any

import pytest

from convcount.model import build_model
from convcount.model.graph import ModelReport
from convcount.model.zoo import build_zoo

pytestmark = pytest.mark.frameworks

# (ours, keras constructor, width, resolution, options)
CASES: list[tuple[str, str, str | None, int | None, dict[str, Any]]] = [
    ("keras/mobilenet", "MobileNet", "0.5", 161, {}),
    ("keras/mobilenetv2", "MobileNetV2", "0.35", 97, {}),
    ("keras/mobilenetv2", "MobileNetV2", "1.3", 129, {"include_top": False, "pooling": "max"}),
    ("keras/mobilenetv3small", "MobileNetV3Small", "0.75", 193, {"minimalistic": True}),
    ("keras/mobilenetv3large", "MobileNetV3Large", None, 161, {"classes": 10}),
    ("keras/efficientnetb0", "EfficientNetB0", None, 129, {}),
    ("keras/efficientnetv2b0", "EfficientNetV2B0", None, 97, {"include_top": False}),
    ("keras/resnet50v2", "ResNet50V2", None, 97, {"pooling": "avg", "include_top": False}),
    ("keras/resnet50", "ResNet50", None, 65, {"classes": 7}),
    ("keras/densenet121", "DenseNet121", None, 65, {}),
    ("keras/inceptionv3", "InceptionV3", None, 139, {}),
    ("keras/xception", "Xception", None, 81, {}),
    ("keras/convnexttiny", "ConvNeXtTiny", None, 64, {}),
    ("keras/vgg16", "VGG16", None, 48, {"classes": 3}),
]


def keras_figures(keras: Any, torch: Any, built: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    from torch.utils.flop_counter import FlopCounterMode

    trainable = sum(prod(w.shape) for w in built.trainable_weights)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        built(torch.zeros((1, *shape)), training=False)
    # The rows of model.summary(): every layer and every op on tensors, the layers of a
    # nested Sequential (ConvNeXt's stem and downsampling blocks) in its place.
    rows: dict[str, Any] = {}
    for operation in built._operations:
        inner = getattr(operation, "layers", None)
        for row in inner if inner else [operation]:
            if type(row).__name__ != "InputLayer":
                rows[row.name] = row
    return {
        "total": built.count_params(),
        "trainable": trainable,
        "macs": counter.get_total_flops() // 2,
        "layers": rows,
    }


def assert_layers_match(report: ModelReport, layers: dict[str, Any]) -> None:
    """Every row of Keras's summary is one of ours, and nothing else: names, shapes, counts."""
    # Keras's torch backend refuses '.' in names: the hand-built ones spell it '_'
    ours = {layer.name.replace(".", "_"): layer for layer in report.layers}
    assert sorted(ours) == sorted(layers)
    for name, keras_layer in layers.items():
        params = keras_layer.count_params() if isinstance(keras_layer, keras_layer_class()) else 0
        keras_trainable = sum(prod(w.shape) for w in getattr(keras_layer, "trainable_weights", ()))
        assert (ours[name].params, ours[name].trainable) == (params, keras_trainable), name
        assert report.output_shape(ours[name].output) == tuple(keras_layer.output.shape[1:]), name


def keras_layer_class() -> type:
    import keras

    return keras.layers.Layer  # type: ignore[no-any-return]  # keras is untyped


@pytest.mark.parametrize(
    ("name", "constructor", "width", "resolution", "options"),
    CASES,
    ids=[f"{c[0]}-{c[2]}-{c[3]}-{c[4]}" for c in CASES],
)
def test_zoo_against_keras_applications(
    keras: Any,
    torch: Any,
    name: str,
    constructor: str,
    width: str | None,
    resolution: int | None,
    options: dict[str, Any],
) -> None:
    keras.backend.clear_session()  # Keras numbers auto-named layers per session
    kwargs = dict(options)
    if width is not None:
        kwargs["alpha"] = float(width)
    shape = (resolution, resolution, 3)
    built = getattr(keras.applications, constructor)(weights=None, input_shape=shape, **kwargs)
    theirs = keras_figures(keras, torch, built, shape)
    report = build_zoo(
        name,
        width_multiplier=width,
        resolution=(resolution, resolution),
        options={k: str(v).lower() for k, v in options.items()},
    )
    assert (report.total_params, report.trainable_params, report.macs) == (
        theirs["total"],
        theirs["trainable"],
        theirs["macs"],
    )
    assert_layers_match(report, theirs["layers"])


USER_MODEL_TEMPLATE = """
[model]
name = "decoder"
input = { size = 16, channels = 3 }

[params]
width = 8

[blocks.sep]
params = { out = 8, stride = 1 }
[[blocks.sep.layer]]
kind = "depthwise"
name = "dw"
kernel_size = 3
stride = "= stride"
padding = PAD
bias = false
[[blocks.sep.layer]]
kind = "batchnorm"
name = "bn"
[[blocks.sep.layer]]
kind = "conv"
name = "pw"
kernel_size = 1
out_channels = "= out"
[[blocks.sep.layer]]
kind = "add"
name = "add"
inputs = ["input", "pw"]
when = "= stride == 1 and block_in_channels == out"

[[layer]]
kind = "conv"
name = "stem"
kernel_size = 3
stride = 2
padding = PAD
out_channels = "= width"
[[layer]]
block = "sep"
name = "b"
repeat = 2
first = { stride = 2 }
out = "= 2 * width"
[[layer]]
kind = "transpose"
name = "up"
kernel_size = 3
stride = 2
padding = PAD UPEXTRA
out_channels = "= width"
[[layer]]
kind = "upsampling"
name = "upsample"
size = 2
interpolation = "bilinear"
[[layer]]
kind = "pointwise"
name = "mix"
out_channels = 4
[[layer]]
kind = "global_avg_pool"
name = "gap"
[[layer]]
kind = "dense"
name = "head"
units = 5
"""
# Keras writes 'same'; PyTorch pads 1 (and a transposed layer adds output_padding 1)
USER_MODEL = USER_MODEL_TEMPLATE.replace("PAD UPEXTRA", "PAD").replace("PAD", '"same"')
USER_MODEL_TORCH = USER_MODEL_TEMPLATE.replace("PAD UPEXTRA", "1\noutput_padding = 1").replace(
    "PAD", "1"
)


def test_a_model_file_against_keras_built_by_hand(keras: Any, torch: Any) -> None:
    layers = keras.layers
    keras.backend.clear_session()
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
    for i, stride in enumerate((2, 1)):
        block_in = x
        y = layers.DepthwiseConv2D(
            3, strides=stride, padding="same", use_bias=False, name=f"b_{i}_dw"
        )(x)
        y = layers.BatchNormalization(name=f"b_{i}_bn")(y)
        y = layers.Conv2D(16, 1, name=f"b_{i}_pw")(y)
        x = layers.Add(name=f"b_{i}_add")([block_in, y]) if stride == 1 and i > 0 else y
    x = layers.Conv2DTranspose(8, 3, strides=2, padding="same", name="up")(x)
    x = layers.UpSampling2D(2, interpolation="bilinear", name="upsample")(x)
    x = layers.Conv2D(4, 1, name="mix")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(5, name="head")(x)
    built = keras.Model(inputs, outputs)
    theirs = keras_figures(keras, torch, built, (16, 16, 3))
    report = build_model(tomllib.loads(USER_MODEL), "decoder.toml")
    assert (report.total_params, report.trainable_params, report.macs) == (
        theirs["total"],
        theirs["trainable"],
        theirs["macs"],
    )
    assert_layers_match(report, theirs["layers"])


def test_a_model_file_against_pytorch_built_by_hand(torch: Any) -> None:
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    class Sep(nn.Module):
        def __init__(self, cin: int, stride: int) -> None:
            super().__init__()
            self.dw = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
            self.bn = nn.BatchNorm2d(cin)
            self.pw = nn.Conv2d(cin, 16, 1)
            self.residual = stride == 1 and cin == 16

        def forward(self, x: Any) -> Any:
            y = self.pw(self.bn(self.dw(x)))
            return x + y if self.residual else y

    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, 2, 1),
        Sep(8, 2),
        Sep(16, 1),
        nn.ConvTranspose2d(16, 8, 3, 2, 1, output_padding=1),
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.Conv2d(8, 4, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 5),
    ).eval()
    report = build_model(tomllib.loads(USER_MODEL_TORCH), "decoder.toml", convention="torch")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = net(torch.zeros(1, 3, 16, 16))
    assert report.total_params == sum(p.numel() for p in net.parameters())
    assert report.buffers == sum(b.numel() for b in net.buffers())
    assert report.macs == counter.get_total_flops() // 2
    assert list(report.output_shape(report.output)) == list(out.shape[1:])
