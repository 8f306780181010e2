"""keras.applications.ConvNeXtTiny..XLarge, as keras/src/applications/convnext.py builds them.

One definition over MODEL_CONFIGS (depths and projection dims). What decides the counts:

* ``include_preprocessing`` adds a Normalization whose mean and variance are given as
  constants: no weights, so the option never changes a count;
* the stem is a 4x4 stride-4 'valid' Conv2D (biased) and a LayerNormalization; each
  later stage starts with a LayerNormalization and a 2x2 stride-2 Conv2D. Keras wraps
  both pairs in Sequential layers (``{name}_stem``, ``{name}_downsampling_block_{i}``):
  here the inner layers stand on their own, under their own Keras names;
* a block: 7x7 'same' Conv2D with ``groups = channels`` and a bias, LayerNormalization,
  Dense(4C) and Dense(C) at every position (biased), GELU, LayerScale (C values) and
  the residual sum (an op, not a layer); drop_path_rate is 0, so the stochastic depth
  is an identity Activation;
* with the head: GlobalAveragePooling2D, LayerNormalization, Dense(classes); without
  it, the optional pooling is still followed by a LayerNormalization (2C weights).
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import KerasNames, Model, Option, Spec, keras_pooling

#: Variant -> (Keras model name, depths, projection_dims, torchvision twin).
CONFIGS: dict[str, tuple[str, tuple[int, ...], tuple[int, ...], str | None]] = {
    "convnexttiny": ("convnext_tiny", (3, 3, 9, 3), (96, 192, 384, 768), "convnext_tiny"),
    "convnextsmall": ("convnext_small", (3, 3, 27, 3), (96, 192, 384, 768), "convnext_small"),
    "convnextbase": ("convnext_base", (3, 3, 27, 3), (128, 256, 512, 1024), "convnext_base"),
    "convnextlarge": ("convnext_large", (3, 3, 27, 3), (192, 384, 768, 1536), "convnext_large"),
    "convnextxlarge": ("convnext_xlarge", (3, 3, 27, 3), (256, 512, 1024, 2048), None),
}
MODELS = {
    variant: Model(
        224,
        {"name": name, "depths": depths, "dims": dims},
        twin=None if twin is None else f"torchvision/{twin}",
    )
    for variant, (name, depths, dims, twin) in CONFIGS.items()
}
OPTIONS = (
    Option(
        "include_preprocessing",
        "bool",
        True,
        "the constant Normalization in front (no parameters; include_preprocessing)",
    ),
)


def _block(auto: KerasNames, inputs: str, dim: int, name: str) -> str:
    net = auto.net
    x = net.conv(inputs, dim, 7, 1, "same", groups=dim, name=f"{name}_depthwise_conv")
    x = net.layer("layer_norm", x, name=f"{name}_layernorm")
    x = net.dense(x, 4 * dim, name=f"{name}_pointwise_conv_1")
    x = net.act(x, "gelu", name=f"{name}_gelu")
    x = net.dense(x, dim, name=f"{name}_pointwise_conv_2")
    x = net.layer("layer_scale", x, name=f"{name}_layer_scale")
    x = net.layer("identity", x, name=f"{name}_identity")
    # ``inputs + layer(x)``: an op, not a layer, auto-named add, add_1, ...
    return net.add(inputs, x, name=auto.name("add"))


def build(spec: Spec) -> Net:
    net = spec.net()
    name: str = spec.args["name"]
    depths: tuple[int, ...] = spec.args["depths"]
    dims: tuple[int, ...] = spec.args["dims"]
    auto = KerasNames(net)
    x = "input"
    if spec.option("include_preprocessing") and net.input.channels == 3:  # as Keras decides
        x = net.layer("normalization", x, name=f"{name}_prestem_normalization", constant=True)
    for i, (depth, dim) in enumerate(zip(depths, dims, strict=True)):
        if i == 0:
            x = net.conv(x, dim, 4, 4, "valid", name=f"{name}_stem_conv")
            x = net.layer("layer_norm", x, name=f"{name}_stem_layernorm")
        else:
            x = net.layer("layer_norm", x, name=f"{name}_downsampling_layernorm_{i - 1}")
            x = net.conv(x, dim, 2, 2, "valid", name=f"{name}_downsampling_conv_{i - 1}")
        for j in range(depth):
            x = _block(auto, x, dim, f"{name}_stage_{i}_block_{j}")
    if spec.option("include_top"):
        x = net.layer("global_avg_pool", x, name=f"{name}_head_gap")
        x = net.layer("layer_norm", x, name=f"{name}_head_layernorm")
        net.dense(x, spec.option("classes"), name=f"{name}_head_dense")
        return net
    x = keras_pooling(net, x, spec, named=False)
    # Keras normalises the features even without pooling (auto-named in a fresh session).
    net.layer("layer_norm", x, name="layer_normalization")
    return net
