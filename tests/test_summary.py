"""Model summaries: memory at a batch size, connected-to, notes that apply, records."""

from __future__ import annotations

import json
from math import prod
from typing import Any, NamedTuple

import pytest

from convcount.summary import connected_to, has_batchnorm, memory, model_record

from .conftest import run


class Tensor(NamedTuple):
    spatial: tuple[int, ...]
    channels: int


class Layer(NamedTuple):
    name: str
    kind: str
    inputs: tuple[str, ...]
    output: Tensor
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    buffers: int = 0
    macs_once: int = 0

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable

    def macs_at(self, batch_size: int) -> int:
        return (self.macs - self.macs_once) * batch_size + self.macs_once


class Report(NamedTuple):
    """A hand-built report with only the attributes the summary may read."""

    name: str
    input: Tensor
    layers: tuple[Layer, ...]
    dtype: str = "float16"
    convention: str = "torch"
    receptive_field: tuple[tuple[int, ...], str] | None = None

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable for layer in self.layers)

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def macs_at(self, batch_size: int) -> int:
        return sum(layer.macs_at(batch_size) for layer in self.layers)

    def output_shape(self, tensor: Tensor) -> tuple[int, ...]:
        return (tensor.channels, *tensor.spatial)


NET = Report(
    name="net",
    input=Tensor((8, 8), 3),
    layers=(
        Layer("stem", "conv", ("input",), Tensor((8, 8), 4), trainable=112, macs=6912),
        Layer("bn", "batchnorm", ("stem",), Tensor((8, 8), 4), trainable=8, buffers=9),
        Layer("skip", "pointwise", ("stem",), Tensor((8, 8), 4), trainable=20, macs=1024),
        Layer("sum", "add", ("bn", "skip"), Tensor((8, 8), 4)),
        Layer("flat", "flatten", ("sum",), Tensor((), 256)),
    ),
)


def test_memory_follows_its_definitions() -> None:
    m = memory(NET, batch_size=5)
    element = 2  # float16
    assert m.input_bytes == 5 * 8 * 8 * 3 * element
    outputs = sum(prod(layer.output.spatial) * layer.output.channels for layer in NET.layers)
    assert m.activation_bytes == 5 * outputs * element
    assert m.forward_backward_bytes == 2 * m.activation_bytes
    assert (m.trainable_param_bytes, m.non_trainable_param_bytes) == (140 * element, 0)
    assert m.param_bytes == 140 * element
    assert m.buffer_bytes == 9 * element
    total = m.input_bytes + m.forward_backward_bytes + m.param_bytes + m.buffer_bytes
    assert m.total_bytes == total


def test_batch_size_scales_macs_and_activations_not_parameters() -> None:
    one, many = model_record(NET, 1), model_record(NET, 32)
    assert many["macs"] == 32 * one["macs"] and many["flops"] == 2 * many["macs"]
    assert [layer["macs"] for layer in many["layers"]] == [
        32 * layer["macs"] for layer in one["layers"]
    ]
    assert many["activation_bytes"] == 32 * one["activation_bytes"]
    assert many["param_bytes"] == one["param_bytes"] and many["batch_size"] == 32


def test_what_runs_once_per_forward_counts_once_at_any_batch() -> None:
    layers = list(NET.layers)
    layers[0] = layers[0]._replace(macs_once=912)  # as if computed on a buffer
    net = NET._replace(layers=tuple(layers))
    one, many = model_record(net, 1), model_record(net, 32)
    assert one["macs"] == NET.macs
    assert many["macs"] == 32 * (NET.macs - 912) + 912
    assert many["layers"][0]["macs"] == 32 * (6912 - 912) + 912


def test_connected_to_only_where_the_input_is_not_the_layer_before() -> None:
    assert connected_to(NET) == [(), (), ("stem",), ("bn", "skip"), ()]


def test_the_model_table_shows_connections_memory_and_units() -> None:
    from convcount.render import model_view

    text = model_view(NET, None, batch_size=5).text()
    header = text.splitlines()[1]
    assert "non-trainable" not in header  # no layer has any
    assert "connected to" in header
    lines = text.splitlines()
    add = next(i for i, line in enumerate(lines) if line.startswith("4  sum"))
    assert lines[add].endswith("  bn") and lines[add + 1].strip() == "skip"  # its inputs
    assert lines[add - 1].endswith("  stem")  # a branch from an earlier layer
    assert "buffers" in text
    for figure in ("total memory", "forward/backward", "activations", "batch 5"):
        assert figure in text
    big = run("model", "torchvision/resnet50").stdout
    assert "4,089,184,256  4.09 G" in big and "25,557,032  25.6 M" in big


@pytest.mark.parametrize(
    ("model", "note"),
    [
        ("keras/mobilenet", "Keras counts BatchNormalization's moving mean and variance"),
        ("torchvision/resnet50", "PyTorch keeps BatchNorm's running statistics as buffers"),
        ("torchvision/vgg16", None),
    ],
)
def test_the_batchnorm_note_only_where_it_applies(model: str, note: str | None) -> None:
    text = run("model", model).stdout
    assert text.count("BatchNorm") == (0 if note is None else 1)
    assert note is None or note in text


def test_the_torch_note_only_where_it_applies() -> None:
    from convcount.render import model_view

    assert has_batchnorm(NET)
    assert "running statistics as buffers" in model_view(NET).text()
    plain = NET._replace(layers=NET.layers[:1])
    assert not has_batchnorm(plain)
    assert "BatchNorm" not in model_view(plain).text()


def test_model_json_figures() -> None:
    data: dict[str, Any] = json.loads(
        run("model", "torchvision/resnet50", "-b", "4", "--json").stdout
    )
    assert data["batch_size"] == 4
    assert data["input_bytes"] == 4 * 224 * 224 * 3 * 4
    assert data["param_bytes"] == data["total_params"] * 4
    assert data["trainable_param_bytes"] + data["non_trainable_param_bytes"] == data["param_bytes"]
    assert data["buffer_bytes"] == data["buffers"] * 4 > 0
    assert data["macs"] == 4 * 4_089_184_256
    assert data["layers"][0]["index"] == 1
