"""Save Keras model files and what Keras says of them, into tests/files/keras/.

Run by hand, never imported by convcount nor collected by pytest::

    KERAS_BACKEND=torch .venv/bin/python tests/files/capture_keras_files.py
    KERAS_BACKEND=torch .venv/bin/python tests/files/capture_keras_files.py --only branches

It needs the 'frameworks' extra (torch 2.13.0 CPU, keras 3.15.1, and h5py, which
keras brings). What it writes, every file small enough to commit:

* ``applications/NAME.json.gz``: ``model.to_json()`` of every keras.applications
  model at its defaults, ``weights=None`` (built as tests/zoo/capture_keras.py
  builds them: NASNetMobile through ``nasnet.NASNet`` on torch; MobileNetV3
  at its true default, an open ``None x None`` input, read with ``-r 224``).
  Gzipped: the configurations compress 40-fold; the tests unzip them first.
* ``NAME.keras`` for a handful of them and every hand-written model: the file
  ``model.save`` writes, with the ``model.weights.h5`` member removed, except for
  the models of ``KEEP_WEIGHTS`` (a few KB), so that a custom layer's weights
  are counted from it.
* ``NAME.h5``: ``model.save(NAME.h5)`` (legacy HDF5, written by h5py; gzipped
  for the applications, as ``NAME.h5.gz``); except for ``KEEP_WEIGHTS``, a copy
  holding only the root group's attributes
  (``model_config``, ``keras_version``, ``backend``) and an empty
  ``model_weights`` group, written by h5py the same way.
* ``NAME.json``: ``model.to_json()`` of the hand-written models, and
  ``keras2_NAME.json``: the same configurations rewritten in Keras 2's form
  (``batch_input_shape``, list-style ``inbound_nodes``, ``class_name``
  "Functional"/"Sequential" with Keras 2's keys) by :func:`keras2`, since
  Keras 2 itself needs TensorFlow.
* ``truth.json.gz``: per model, what Keras says: ``count_params()``, the
  trainable and non-trainable weights, the MACs of one forward pass
  (``torch.utils.flop_counter.FlopCounterMode`` total FLOPs // 2, batch 1, a
  zero input, ``model(x, training=False)`` under ``torch.no_grad()``), the
  input size given with ``-r`` for open inputs, and every layer (nested
  models' layers too): name, class, output shape of each call, ``count_params()``
  and trainable parameters.

The big applications are quick with ``--meta`` (torch's meta device: shapes only,
every recorded figure depends on shapes alone); the .keras and .h5 files of the
handful need a second run on the CPU::

    KERAS_BACKEND=torch .venv/bin/python tests/files/capture_keras_files.py --meta
    KERAS_BACKEND=torch .venv/bin/python tests/files/capture_keras_files.py --only \
        MobileNetV2 ResNet50 InceptionResNetV2 ConvNeXtTiny EfficientNetB0

Every model is built after ``keras.backend.clear_session()``, so auto-generated
names are those of a fresh process.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import math
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")
if "--meta" in sys.argv:  # read when keras is first imported
    os.environ["KERAS_TORCH_DEVICE"] = "meta"
os.environ.setdefault("KERAS_TORCH_DEVICE", "cpu")

HERE = Path(__file__).resolve().parent
OUT = HERE / "keras"
sys.path.insert(0, str(HERE.parent / "zoo"))

from capture_keras import DEFAULTS, OPEN_INPUT, constructor  # noqa: E402

#: Applications also saved as .keras and .h5 (weights removed).
HANDFUL = ["MobileNetV2", "ResNet50", "InceptionResNetV2", "ConvNeXtTiny", "EfficientNetB0"]


# ---------------------------------------------------------------------------
# Hand-written models: what a user's own model has


def branches(keras: Any) -> Any:
    """Functional with branches: concat, add, multiply, BN without center/scale, pooling."""
    layers = keras.layers
    x = inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="stem")(x)
    x = layers.BatchNormalization(center=False, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    a = layers.Conv2D(8, 1, name="a1")(x)
    b = layers.Conv2D(8, 3, padding="same", dilation_rate=2, name="b3")(x)
    b = layers.BatchNormalization(scale=False, name="b_bn")(b)
    c = layers.MaxPooling2D(3, strides=1, padding="same", name="c_pool")(x)
    c = layers.SeparableConv2D(8, 3, padding="same", depth_multiplier=2, name="c_sep")(c)
    x = layers.Concatenate(name="cat")([a, b, c])
    y = layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    y = layers.Activation("swish", name="dw_act")(y)
    x = layers.Add(name="residual")([x, y])
    s = layers.GlobalAveragePooling2D(keepdims=True, name="se_pool")(x)
    s = layers.Conv2D(6, 1, activation="relu", name="se_reduce")(s)
    s = layers.Conv2D(24, 1, activation="sigmoid", name="se_expand")(s)
    x = layers.Multiply(name="se")([x, s])
    x = layers.Subtract(name="sub")([x, y])
    x = layers.ZeroPadding2D(((1, 0), (0, 1)), name="pad")(x)
    x = layers.AveragePooling2D(2, name="avg")(x)
    x = layers.Cropping2D(((1, 1), (0, 2)), name="crop")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dropout(0.3, name="drop")(x)
    outputs = layers.Dense(10, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="branches")


def shared(keras: Any) -> Any:
    """A layer and a sub-model reused: parameters once, MACs at every call."""
    layers = keras.layers
    inputs = keras.Input((24, 24, 8), name="x")
    conv = layers.Conv2D(8, 3, padding="same", name="shared_conv")
    block_in = keras.Input((24, 24, 8), name="block_in")
    h = layers.Conv2D(8, 1, name="block_conv")(block_in)
    h = layers.BatchNormalization(name="block_bn")(h)
    block = keras.Model(block_in, h, name="block")
    a = conv(inputs)
    b = conv(a)
    c = block(b)
    d = block(c)
    e = layers.Add(name="sum")([a, d])
    f = layers.GlobalMaxPooling2D(name="gmp")(e)
    dense = layers.Dense(8, name="shared_dense")
    g = dense(dense(f))
    outputs = layers.Dense(3, name="out")(g)
    return keras.Model(inputs, outputs, name="shared")


def nested(keras: Any) -> Any:
    """Sequential in Functional in Sequential, with frozen layers and a frozen sub-model."""
    layers = keras.layers
    stem = keras.Sequential(
        [
            keras.Input((40, 40, 3)),
            layers.Conv2D(8, 3, strides=2, name="stem_conv"),
            layers.BatchNormalization(name="stem_bn"),
            layers.Activation("relu", name="stem_relu"),
        ],
        name="stem",
    )
    inner_in = keras.Input((19, 19, 8), name="inner_in")
    h = layers.Conv2D(8, 3, padding="same", name="inner_conv", trainable=False)(inner_in)
    h = layers.Add(name="inner_add")([inner_in, h])
    inner = keras.Model(inner_in, h, name="inner")
    frozen_block = keras.Sequential(
        [
            keras.Input((19, 19, 8)),
            layers.Conv2D(4, 1, name="frozen_conv"),
            layers.BatchNormalization(name="frozen_bn"),
        ],
        name="frozen_block",
    )
    frozen_block.trainable = False
    middle_in = keras.Input((40, 40, 3), name="middle_in")
    m = stem(middle_in)
    m = inner(m)
    m = frozen_block(m)
    middle = keras.Model(middle_in, m, name="middle")
    return keras.Sequential(
        [
            keras.Input((40, 40, 3), name="outer_in"),
            middle,
            layers.GlobalAveragePooling2D(name="gap"),
            layers.Dense(5, name="logits"),
        ],
        name="nested",
    )


def conv1d(keras: Any) -> Any:
    """Sequences: Conv1D (causal, dilated), separable, depthwise, transposed, 1-D padding."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((50, 6), name="series"),
            layers.Conv1D(12, 5, padding="causal", dilation_rate=2, name="causal"),
            layers.ZeroPadding1D((2, 1), name="pad1"),
            layers.SeparableConv1D(16, 3, strides=2, depth_multiplier=2, name="sep1"),
            layers.DepthwiseConv1D(3, padding="same", depth_multiplier=2, name="dw1"),
            layers.MaxPooling1D(2, name="pool1"),
            layers.Cropping1D((1, 2), name="crop1"),
            layers.UpSampling1D(3, name="up1"),
            layers.Conv1DTranspose(8, 4, strides=2, padding="same", name="tconv1"),
            layers.AveragePooling1D(3, strides=2, padding="same", name="avg1"),
            layers.SpatialDropout1D(0.1, name="sdrop"),
            layers.LayerNormalization(name="ln"),
            layers.Dense(7, name="per_step"),
            layers.GlobalAveragePooling1D(name="gap1"),
            layers.Dense(2, use_bias=False, name="out"),
        ],
        name="conv1d",
    )


def conv3d(keras: Any) -> Any:
    """Volumes: Conv3D, Conv3DTranspose, 3-D pooling, padding, cropping, upsampling."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((10, 12, 14, 2), name="volume"),
            layers.Conv3D(4, 3, padding="same", name="c3"),
            layers.ZeroPadding3D(1, name="pad3"),
            layers.Conv3D(6, (3, 2, 3), strides=(1, 2, 2), groups=2, name="c3g"),
            layers.MaxPooling3D(2, name="max3"),
            layers.Conv3DTranspose(5, 3, strides=2, name="t3"),
            layers.Cropping3D(((1, 0), (0, 1), (1, 1)), name="crop3"),
            layers.UpSampling3D((1, 2, 1), name="up3"),
            layers.AveragePooling3D(2, padding="same", name="avg3"),
            layers.BatchNormalization(name="bn3"),
            layers.GlobalMaxPooling3D(name="gmp3"),
            layers.Dense(3, name="out"),
        ],
        name="conv3d",
    )


def transposes(keras: Any) -> Any:
    """Decoder-like: Conv2DTranspose with output_padding, Resizing, bilinear upsampling."""
    layers = keras.layers
    x = inputs = keras.Input((9, 11, 16), name="code")
    x = layers.Conv2DTranspose(12, 3, strides=2, padding="same", name="t_same")(x)
    x = layers.Conv2DTranspose(8, 4, strides=2, padding="valid", name="t_valid")(x)
    x = layers.Conv2DTranspose(
        6, 3, strides=3, padding="valid", output_padding=1, use_bias=False, name="t_outpad"
    )(x)
    x = layers.Resizing(40, 50, name="resize")(x)
    x = layers.UpSampling2D(2, interpolation="bilinear", name="up")(x)
    x = layers.Rescaling(1 / 255.0, offset=-1, name="rescale")(x)
    outputs = layers.Conv2D(3, 1, activation="tanh", name="to_rgb")(x)
    return keras.Model(inputs, outputs, name="transposes")


def sequence(keras: Any) -> Any:
    """Dense on 3-D, LayerNormalization (RMS too), Permute, Reshape, Softmax, Normalization."""
    layers = keras.layers
    x = inputs = keras.Input((20, 16), name="tokens")
    x = layers.Normalization(name="norm")(x)
    x = layers.Dense(32, name="proj")(x)
    x = layers.LayerNormalization(rms_scaling=True, name="rms")(x)
    x = layers.Permute((2, 1), name="swap")(x)
    x = layers.Dense(10, name="mix")(x)
    x = layers.LayerNormalization(center=False, name="ln")(x)
    x = layers.Reshape((8, 40), name="fold")(x)
    x = layers.Softmax(name="soft")(x)
    x = layers.LeakyReLU(name="leaky")(x)
    outputs = layers.Dense(4, name="out")(x)
    return keras.Model(inputs, outputs, name="sequence")


def open_input(keras: Any) -> Any:
    """An input of open size (None x None): counted at -r 64x96."""
    layers = keras.layers
    x = inputs = keras.Input((None, None, 3), name="any_size")
    x = layers.Conv2D(8, 3, strides=2, padding="same", name="c1")(x)
    x = layers.DepthwiseConv2D(5, name="dw")(x)
    x = layers.Conv2D(16, 1, name="pw")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(4, name="out")(x)
    return keras.Model(inputs, outputs, name="open_input")


OPEN_SIZES = {"open_input": (64, 96)}

#: Hand-written models whose files keep their weights (a custom layer's size is read
#: from them); the others' are removed like the applications', to keep the bytes small.
KEEP_WEIGHTS = {"custom", "shared"}


def mlp(keras: Any) -> Any:
    """A flat input: Dense layers only."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((64,), name="pixels"),
            layers.Dense(32, activation="relu", name="hidden"),
            layers.Dropout(0.2, name="drop"),
            layers.BatchNormalization(name="bn"),
            layers.Dense(10, name="logits"),
        ],
        name="mlp",
    )


def custom(keras: Any) -> Any:
    """Custom layer classes: their weights are in the file (.keras, .h5), not in the JSON."""

    @keras.saving.register_keras_serializable(package="convcount_tests")
    class Scale(keras.layers.Layer):
        def build(self, input_shape: Any) -> None:
            self.gamma = self.add_weight(shape=(input_shape[-1],), name="gamma")
            self.steps = self.add_weight(shape=(), name="steps", trainable=False)

        def call(self, x: Any) -> Any:
            return x * self.gamma

    @keras.saving.register_keras_serializable(package="convcount_tests")
    class Mixer(keras.layers.Layer):
        def __init__(self, units: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.units = units
            self.inner = keras.layers.Dense(units)

        def build(self, input_shape: Any) -> None:
            self.inner.build(input_shape)

        def call(self, x: Any) -> Any:
            return self.inner(x)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return (*input_shape[:-1], self.units)

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "units": self.units}

    layers = keras.layers
    x = inputs = keras.Input((12, 12, 4), name="img")
    x = layers.Conv2D(6, 3, name="conv")(x)
    x = Scale(name="scale")(x)
    x = Mixer(5, name="mixer")(x)
    x = layers.Flatten(name="flat")(x)
    outputs = layers.Dense(2, name="out")(x)
    return keras.Model(inputs, outputs, name="custom")


def two_inputs(keras: Any) -> Any:
    """Two inputs: an image and a vector of features, joined after pooling."""
    layers = keras.layers
    image = keras.Input((32, 32, 3), name="image")
    meta = keras.Input((5,), name="meta")
    x = layers.Conv2D(8, 3, strides=2, name="conv")(image)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    m = layers.Dense(4, name="meta_dense")(meta)
    x = layers.Concatenate(name="join")([x, m])
    outputs = layers.Dense(2, name="out")(x)
    return keras.Model([image, meta], outputs, name="two_inputs")


def recurrent(keras: Any) -> Any:
    """Layers convcount does not count the MACs of, whose parameters their config gives."""
    layers = keras.layers
    x = inputs = keras.Input((12,), dtype="int32", name="ids")
    x = layers.Embedding(100, 16, name="embed")(x)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True), name="bilstm")(x)
    x = layers.GRU(6, return_sequences=True, name="gru")(x)
    x = layers.GRU(5, reset_after=False, return_sequences=True, name="gru_v1")(x)
    x = layers.SimpleRNN(4, name="rnn")(x)
    x = layers.PReLU(name="prelu")(x)
    outputs = layers.Dense(3, name="out")(x)
    return keras.Model(inputs, outputs, name="recurrent")


def operations(keras: Any) -> Any:
    """keras.ops on Keras tensors (no layers: operations in the config), two outputs."""
    ops, layers = keras.ops, keras.layers
    x = inputs = keras.Input((8, 8, 4), name="grid")
    a = x * 2.0
    b = ops.reshape(a, (-1, 64, 4))
    c = ops.matmul(ops.transpose(b, (0, 2, 1)), b)
    d = ops.mean(c, axis=-1)
    e = ops.sigmoid(a + x)
    f = layers.Dense(3, name="head")(d)
    return keras.Model(inputs, [f, e], name="operations")


def attention(keras: Any) -> Any:
    """Keras's MultiHeadAttention, self and cross: parameters from the config."""
    layers = keras.layers
    x = inputs = keras.Input((10, 16), name="tokens")
    y = layers.Dense(12, name="memory")(x)
    x = layers.MultiHeadAttention(2, 8, name="self_attention")(x, x)
    x = layers.MultiHeadAttention(
        3, 4, value_dim=5, use_bias=False, output_shape=6, name="cross_attention"
    )(x, y)
    outputs = layers.Dense(2, name="out")(layers.GlobalAveragePooling1D(name="pool")(x))
    return keras.Model(inputs, outputs, name="attention")


def sequences(keras: Any) -> Any:
    """Recurrent and attention layers in each of Keras's code paths on the torch backend:
    fused or generic loops (unroll, recurrent dropout, a mask), attention
    over some axes, with dropout, key apart from value, a tuple output_shape, called by
    keyword, and a recurrent layer as a model output."""
    layers = keras.layers
    ids = keras.Input((9,), dtype="int32", name="ids")
    grid = keras.Input((6, 5, 8), name="grid")
    memory = keras.Input((7, 10), name="memory")
    x = layers.Embedding(40, 8, mask_zero=True, name="embed")(ids)
    x = layers.LSTM(6, return_sequences=True, name="masked_lstm")(x)
    x = layers.Dropout(0.1, name="drop")(x)
    x = layers.GRU(5, return_sequences=True, name="masked_gru")(x)
    x = layers.LSTM(4, unroll=True, return_sequences=True, name="unrolled")(x)
    x = layers.Dense(10, name="widen")(x)
    t = layers.Reshape((9, 10), name="unmask")(x)
    t = layers.LSTM(5, return_sequences=True, name="plain_lstm")(t)
    t = layers.LSTM(5, recurrent_dropout=0.2, go_backwards=True, return_sequences=True,
                    name="dropped_lstm")(t)  # fmt: skip
    t = layers.Bidirectional(
        layers.GRU(3, return_sequences=True),
        backward_layer=layers.SimpleRNN(3, go_backwards=True, return_sequences=True),
        merge_mode="sum",
        name="mixed",
    )(t)
    t = layers.MultiHeadAttention(2, 4, name="fused")(t, t)
    c = layers.MultiHeadAttention(3, 4, value_dim=5, output_shape=(2, 6), dropout=0.1,
                                  name="cross")(t, memory, memory)  # fmt: skip
    k = layers.MultiHeadAttention(2, 3, name="by_keyword")(query=t, value=memory)
    g = layers.MultiHeadAttention(2, 4, value_dim=3, attention_axes=(2,), name="rows")(grid, grid)
    h = layers.MultiHeadAttention(1, 4, attention_axes=(1, 2), name="both_axes")(grid, grid)
    pooled = layers.Concatenate(name="join")(
        [
            layers.GlobalAveragePooling1D(name="pool_k")(k),
            layers.GlobalAveragePooling2D(name="pool_g")(g),
            layers.GlobalAveragePooling2D(name="pool_h")(h),
        ]
    )
    last = layers.Bidirectional(layers.LSTM(4), name="last")(layers.Reshape((9, 12))(c))
    return keras.Model([ids, grid, memory], [pooled, last], name="sequences")


def preprocess(keras: Any) -> Any:
    """Augmentation and cropping in the model, TimeDistributed, normalisation over axes."""
    layers = keras.layers
    x = inputs = keras.Input((36, 40, 3), name="photo")
    x = layers.RandomFlip(name="flip")(x)
    x = layers.RandomRotation(0.1, name="rotate")(x)
    x = layers.CenterCrop(32, 30, name="center")(x)
    x = layers.Conv2D(4, 3, name="conv")(x)
    x = layers.LayerNormalization(axis=[1, 2, 3], name="ln_all")(x)
    x = layers.BatchNormalization(axis=1, name="bn_rows")(x)
    x = layers.Reshape((30, 28 * 4), name="rows")(x)
    x = layers.Masking(name="mask")(x)
    x = layers.TimeDistributed(layers.Dense(6), name="per_row")(x)
    x = layers.TimeDistributed(layers.Dropout(0.1), name="per_row_drop")(x)
    outputs = layers.Dense(2, name="out")(layers.Flatten(name="flat")(x))
    return keras.Model(inputs, outputs, name="preprocess")


USER: dict[str, Callable[[Any], Any]] = {
    f.__name__: f
    for f in (
        branches,
        shared,
        nested,
        conv1d,
        conv3d,
        transposes,
        sequence,
        open_input,
        mlp,
        sequences,
        custom,
        two_inputs,
        recurrent,
        operations,
        attention,
        preprocess,
    )
}


# ---------------------------------------------------------------------------
# What Keras says


def _size(weights: Any) -> int:
    return sum(math.prod(int(d) for d in w.shape) for w in weights)


def _shape(tensor: Any) -> list[int | None]:
    return [None if d is None else int(d) for d in tensor.shape[1:]]


def layers(model: Any) -> list[list[Any]]:
    """[name, class, [output shape per call], count_params(), trainable] of every layer,
    a nested model's own layers in its place."""
    import keras

    rows: list[list[Any]] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            rows += layers(layer)
            continue
        if isinstance(layer, keras.layers.InputLayer):
            continue
        shapes = [_shape(node.outputs[0]) for node in layer._inbound_nodes]
        rows.append(
            [
                layer.name,
                type(layer).__name__,
                shapes,
                int(layer.count_params()),
                _size(layer.trainable_weights),
            ]
        )
    return rows


def macs(model: Any, size: tuple[int, ...] | None) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    xs = []
    for tensor in model.inputs:
        shape = list(tensor.shape[1:])
        if size is not None and None in shape:
            shape[: len(size)] = size
        dtype = getattr(torch, str(tensor.dtype))
        xs.append(torch.zeros(1, *shape, dtype=dtype, device=os.environ["KERAS_TORCH_DEVICE"]))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(xs if len(xs) > 1 else xs[0], training=False)
    return int(counter.get_total_flops()) // 2


def truth(model: Any, size: tuple[int, ...] | None = None, twin: Any = None) -> dict[str, Any]:
    """What Keras says of a model; ``twin``: the same model built at ``size`` (for shapes)."""
    return {
        "total_params": int(model.count_params()),
        "trainable_params": _size(model.trainable_weights),
        "non_trainable_params": _size(model.non_trainable_weights),
        "macs": macs(model, size),
        "resolution": None if size is None else list(size),
        "layers": layers(twin if twin is not None else model),
    }


# ---------------------------------------------------------------------------
# Files


def strip_keras(path: Path) -> None:
    """Remove the weights member of a .keras archive (deflating the rest)."""
    with zipfile.ZipFile(path) as source:
        members = {
            info.filename: source.read(info)
            for info in source.infolist()
            if info.filename != "model.weights.h5"
        }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            target.writestr(name, data)


def strip_h5(path: Path) -> None:
    """Keep only the root attributes (and an empty model_weights group) of a legacy .h5."""
    import h5py

    with h5py.File(path, "r") as source:
        attributes = dict(source.attrs)
    path.unlink()
    with h5py.File(path, "w") as target:
        for key, value in attributes.items():
            target.attrs[key] = value
        target.create_group("model_weights")


def keras2(config: dict[str, Any]) -> dict[str, Any]:
    """A Keras 3 configuration in Keras 2's form: batch_input_shape, list-style nodes."""

    def layer(raw: dict[str, Any]) -> dict[str, Any]:
        out = {"class_name": raw["class_name"], "config": dict(raw["config"])}
        if "name" in raw:
            out["name"] = raw["name"]
        cfg = out["config"]
        if raw["class_name"] == "InputLayer":
            cfg["batch_input_shape"] = cfg.pop("batch_shape")
        for key in ("layers",):
            if key in cfg:
                cfg[key] = [layer(item) for item in cfg[key]]
        if "input_layers" in cfg:
            for key in ("input_layers", "output_layers"):
                value = cfg[key]
                if value and isinstance(value[0], str):
                    cfg[key] = [value]
        if "inbound_nodes" in raw:
            nodes = []
            for node in raw["inbound_nodes"]:
                entries = []

                def walk(value: Any, entries: list[Any] = entries) -> None:
                    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
                        entries.append([*value["config"]["keras_history"], {}])
                    elif isinstance(value, list):
                        for item in value:
                            walk(item, entries)

                walk(node["args"])
                # Tensors given by keyword go in the first entry's kwargs, as
                # [name, node, index]; with no positional tensor, the first of them
                # is the entry (tf.keras: MultiHeadAttention(query=q, value=v)).
                named: dict[str, Any] = {}
                for key, value in (node.get("kwargs") or {}).items():
                    found: list[Any] = []
                    walk(value, found)
                    if len(found) == 1:
                        named[key] = found[0][:3]
                if named and not entries:
                    first = next(iter(named))
                    entries.append([*named.pop(first), {}])
                if entries:
                    entries[0][3] = named
                nodes.append(entries)
            out["inbound_nodes"] = nodes
        return out

    converted = layer(config)
    converted["keras_version"] = "2.15.0"
    converted["backend"] = "tensorflow"
    return converted


def fresh(keras: Any) -> None:
    keras.backend.clear_session()
    gc.collect()


def capture_user(keras: Any, name: str, build: Callable[[Any], Any]) -> dict[str, Any]:
    fresh(keras)
    model = build(keras)
    size = OPEN_SIZES.get(name)
    twin = None
    if size is not None:
        # The same model at a fixed size, for the layers' shapes (same names: fresh session).
        fixed = keras.models.clone_model(
            model, input_tensors=keras.Input((*size, model.input_shape[-1]))
        )
        twin = fixed
    record = truth(model, size, twin)
    config = json.loads(model.to_json())
    (OUT / f"{name}.json").write_text(model.to_json())
    (OUT / f"keras2_{name}.json").write_text(json.dumps(keras2(config)))
    model.save(OUT / f"{name}.keras")
    model.save(OUT / f"{name}.h5")
    if name not in KEEP_WEIGHTS:
        strip_keras(OUT / f"{name}.keras")
        strip_h5(OUT / f"{name}.h5")
    return record


def capture_application(keras: Any, ctor: str) -> dict[str, Any]:
    fresh(keras)
    model = constructor(ctor)(weights=None)
    size = (224, 224) if ctor in OPEN_INPUT else None
    twin = None
    if size is not None:
        fresh(keras)
        twin = constructor(ctor)(weights=None, input_shape=(224, 224, 3))
        fresh(keras)
        model = constructor(ctor)(weights=None)
    record = truth(model, size, twin)
    text = model.to_json()
    applications = OUT / "applications"
    applications.mkdir(exist_ok=True)
    (applications / f"{ctor}.json.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    if ctor in HANDFUL and os.environ["KERAS_TORCH_DEVICE"] != "meta":
        model.save(OUT / f"{ctor}.keras")
        strip_keras(OUT / f"{ctor}.keras")
        h5 = OUT / f"{ctor}.h5"
        model.save(h5)
        strip_h5(h5)
        # The architecture attribute is stored as it is (660 KB for InceptionResNetV2).
        (OUT / f"{ctor}.h5.gz").write_bytes(gzip.compress(h5.read_bytes(), mtime=0))
        h5.unlink()
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="model names to capture")
    parser.add_argument(
        "--meta",
        action="store_true",
        help="variables on torch's meta device (shapes only: fast for the big applications; "
        ".keras and .h5 files need the default, cpu)",
    )
    args = parser.parse_args(argv)
    import keras

    OUT.mkdir(exist_ok=True)
    path = OUT / "truth.json.gz"
    document: dict[str, Any] = (
        json.loads(gzip.decompress(path.read_bytes())) if path.exists() else {}
    )
    document.setdefault("models", {})
    import torch

    document["versions"] = {"keras": keras.__version__, "torch": torch.__version__.split("+")[0]}
    wanted = set(args.only)
    for name, build in USER.items():
        if not wanted or name in wanted:
            document["models"][name] = capture_user(keras, name, build)
            print(name, document["models"][name]["total_params"], file=sys.stderr)
    for ctor in DEFAULTS:
        if not wanted or ctor in wanted:
            document["models"][ctor] = capture_application(keras, ctor)
            print(ctor, document["models"][ctor]["total_params"], file=sys.stderr)
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
