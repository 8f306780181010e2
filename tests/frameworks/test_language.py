"""The language's short forms against real Keras: the README's ResNet-style file of
inline tables and its EfficientNet-style stage table, and a U-Net whose up-blocks take
their skip connections from outside, at a non-square size. Each is built by hand in
Keras (named as convcount names the layers, '.' spelled '_') and compared in total
parameters, trainable parameters, MACs and every layer's parameters and shape."""

from __future__ import annotations

import math
from typing import Any

import pytest

from convcount.model import build_model
from convcount.model.language import parse_toml
from tests.test_language import UNET, readme_model

from .test_models import keras_figures, keras_layer_class

pytestmark = pytest.mark.frameworks


def _compare(keras: Any, torch: Any, built: Any, shape: tuple[int, ...], report: Any) -> None:
    theirs = keras_figures(keras, torch, built, shape)
    assert (report.total_params, report.trainable_params, report.macs) == (
        theirs["total"],
        theirs["trainable"],
        theirs["macs"],
    )
    # The hand-built Keras models name every layer with parameters as the file does;
    # Keras names the rest automatically (add_3, activation_5), the language by its
    # own rule: those are matched through the totals and the shapes of their neighbours.
    ours = {layer.name.replace(".", "_"): layer for layer in report.layers}
    counts = {
        n: layer.count_params() if isinstance(layer, keras_layer_class()) else 0
        for n, layer in theirs["layers"].items()
    }
    weighted = {n for n, c in counts.items() if c}
    assert sorted(n for n, layer in ours.items() if layer.params) == sorted(weighted)
    for name, keras_layer in theirs["layers"].items():
        if name in ours:
            assert ours[name].params == counts[name], name
            assert report.output_shape(ours[name].output) == tuple(keras_layer.output.shape[1:]), (
                name
            )
    assert report.output_shape(report.output) == tuple(built.output.shape[1:])


def test_the_readmes_inline_table_resnet_against_keras(keras: Any, torch: Any) -> None:
    layers = keras.layers
    keras.backend.clear_session()
    inputs = keras.Input((64, 48, 3))
    x = layers.Conv2D(64, 7, strides=2, padding="same", name="conv")(inputs)
    for stage, out, first_stride in (("layer1", 64, 1), ("layer2", 128, 2)):
        for i in range(2):
            stride = first_stride if i == 0 else 1
            name = f"{stage}_{i}_"
            block_in = x
            y = layers.Conv2D(out, 3, strides=stride, padding="same", name=name + "conv1")(x)
            y = layers.BatchNormalization(name=name + "bn1")(y)
            y = layers.Activation("relu")(y)
            y = layers.Conv2D(out, 3, padding="same", name=name + "conv2")(y)
            y = layers.BatchNormalization(name=name + "bn2")(y)
            if stride != 1 or block_in.shape[-1] != out:
                block_in = layers.Conv2D(out, 1, strides=stride, name=name + "down")(block_in)
            x = layers.Activation("relu")(layers.Add()([y, block_in]))
    x = layers.GlobalAveragePooling2D()(x)
    built = keras.Model(inputs, layers.Dense(10, name="dense")(x))
    report = build_model(
        parse_toml(readme_model("resnet-ish"), "resnet.toml"),
        "resnet.toml",
        resolution="64x48",
        options={"classes": "10"},
    )
    _compare(keras, torch, built, (64, 48, 3), report)


def test_the_readmes_stage_table_against_keras(keras: Any, torch: Any) -> None:
    layers = keras.layers
    keras.backend.clear_session()
    depth = 1.5
    stages = [(3, 1, 16, 1, 1), (3, 2, 24, 6, 2), (5, 2, 40, 6, 2)]
    inputs = keras.Input((40, 56, 3))
    x = layers.Conv2D(32, 3, strides=2, padding="same", name="stem")(inputs)
    for row, (kernel, n, out, expand, stride) in enumerate(stages, start=1):
        for i in range(math.ceil(n * depth)):
            name = f"block{row}_{i}_"
            block_in = x
            s = stride if i == 0 else 1
            y = x
            if expand != 1:
                y = layers.Conv2D(x.shape[-1] * expand, 1, use_bias=False, name=name + "expand")(y)
            y = layers.DepthwiseConv2D(
                kernel, strides=s, padding="same", use_bias=False, name=name + "dwconv"
            )(y)
            y = layers.Conv2D(out, 1, use_bias=False, name=name + "project")(y)
            x = layers.Add()([block_in, y]) if s == 1 and block_in.shape[-1] == out else y
    built = keras.Model(inputs, x)
    report = build_model(
        parse_toml(readme_model("efficientnet-ish"), "efficient.toml"),
        "efficient.toml",
        resolution="40x56",
        options={"depth": "1.5"},
    )
    _compare(keras, torch, built, (40, 56, 3), report)


def test_a_unet_taking_skips_from_outside_against_keras(keras: Any, torch: Any) -> None:
    layers = keras.layers
    keras.backend.clear_session()
    inputs = keras.Input((24, 16, 1))
    d1 = layers.Conv2D(8, 3, padding="same", name="down1_0_conv")(inputs)
    p1 = layers.MaxPooling2D()(d1)
    d2 = layers.Conv2D(16, 3, padding="same", name="down2_0_conv")(p1)
    p2 = layers.MaxPooling2D()(d2)
    u2 = layers.Concatenate()([layers.UpSampling2D()(p2), d2])
    u2 = layers.Conv2D(16, 3, padding="same", name="up2_0_conv")(u2)
    u1 = layers.Concatenate()([layers.UpSampling2D()(u2), d1])
    u1 = layers.Conv2D(8, 3, padding="same", name="up1_0_conv")(u1)
    built = keras.Model(inputs, u1)
    report = build_model(parse_toml(UNET, "unet.toml"), "unet.toml", resolution="24x16")
    _compare(keras, torch, built, (24, 16, 1), report)
