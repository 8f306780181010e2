"""The shipped models against keras.applications built for real (weights=None).

Totals and, layer by layer under the same names, parameters (trainable and
not) and output shapes, for the default models and scaled ones.
"""

from __future__ import annotations

from math import prod
from typing import Any

import pytest

from convcount.model import build_model, read_model

pytestmark = pytest.mark.frameworks

CASES = [
    ("mobilenet-v1", "MobileNet", {}, {}),
    ("mobilenet-v1", "MobileNet", {"width_multiplier": 0.5}, {"alpha": 0.5}),
    (
        "mobilenet-v1",
        "MobileNet",
        {"width_multiplier": 0.75, "resolution": 192},
        {"alpha": 0.75, "input_shape": (192, 192, 3)},
    ),
    ("mobilenet-v1", "MobileNet", {"resolution": 128}, {"input_shape": (128, 128, 3)}),
    ("mobilenet-v2", "MobileNetV2", {}, {}),
    (
        "mobilenet-v2",
        "MobileNetV2",
        {"width_multiplier": 0.5, "resolution": 160},
        {"alpha": 0.5, "input_shape": (160, 160, 3)},
    ),
    ("mobilenet-v2", "MobileNetV2", {"width_multiplier": 1.4}, {"alpha": 1.4}),
    (
        "mobilenet-v2",
        "MobileNetV2",
        {"width_multiplier": 0.35, "resolution": 96},
        {"alpha": 0.35, "input_shape": (96, 96, 3)},
    ),
    ("xception", "Xception", {}, {}),
    ("vgg16", "VGG16", {}, {}),
    ("resnet50", "ResNet50", {}, {}),
]


@pytest.mark.parametrize(("name", "application", "ours", "theirs"), CASES, ids=str)
def test_model_against_keras_applications(
    keras: Any, name: str, application: str, ours: dict[str, Any], theirs: dict[str, Any]
) -> None:
    spec, source = read_model(name)
    report = build_model(spec, source, **ours)
    built = getattr(keras.applications, application)(weights=None, **theirs)
    trainable = sum(prod(w.shape) for w in built.trainable_weights)
    assert (report.total_params, report.trainable_params) == (built.count_params(), trainable)
    layers = {layer.name: layer for layer in built.layers}
    matched = 0
    for layer in report.layers:
        keras_layer = layers.get(layer.name)
        if keras_layer is None:
            continue  # Keras numbers some auto-named layers per session
        matched += 1
        keras_trainable = sum(prod(w.shape) for w in keras_layer.trainable_weights)
        assert (layer.params, layer.trainable) == (keras_layer.count_params(), keras_trainable), (
            layer.name
        )
        assert report.output_shape(layer.output) == tuple(keras_layer.output.shape[1:]), layer.name
    assert matched >= 0.9 * len(report.layers)
