"""Writes the shipped reference models (src/convcount/models/*.toml).

Each follows the construction code of keras.applications layer by layer, with
Keras's layer names. The files are plain data and the place to read the model
format by example; test_model.py fails when they drift from this script, and
``pytest tests/test_model.py --overwrite`` rewrites them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODELS = Path(__file__).parent.parent / "src" / "convcount" / "models"
Layer = dict[str, Any]


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    return str(value)


def to_toml(header: dict[str, Any], comment: str, layers: list[Layer]) -> str:
    lines = [f"# {line}".rstrip() for line in comment.strip().splitlines()]
    lines += ["", "[model]"]
    lines += [f"{key} = {_value(value)}" for key, value in header.items()]
    for layer in layers:
        lines += ["", "[[layer]]"]
        lines += [f"{key} = {_value(value)}" for key, value in layer.items()]
    return "\n".join(lines) + "\n"


def _conv_bn_act(
    name: str, bn: str, act: str, activation: str = "relu6", **conv: Any
) -> list[Layer]:
    return [
        {"name": name, "kind": "conv", **conv},
        {"name": bn, "kind": "batchnorm"},
        {"name": act, "kind": "activation", "function": activation},
    ]


def mobilenet_v1() -> str:
    layers = _conv_bn_act(
        "conv1",
        "conv1_bn",
        "conv1_relu",
        kernel_size=3,
        out_channels=32,
        stride=2,
        padding="same",
        bias=False,
    )
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
    blocks += [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (filters, stride) in enumerate(blocks, start=1):
        if stride == 2:
            layers.append(
                {"name": f"conv_pad_{i}", "kind": "zero_padding", "padding": [[0, 1], [0, 1]]}
            )
        layers += [
            {
                "name": f"conv_dw_{i}",
                "kind": "depthwise",
                "kernel_size": 3,
                "stride": stride,
                "padding": "same" if stride == 1 else "valid",
                "bias": False,
            },
            {"name": f"conv_dw_{i}_bn", "kind": "batchnorm"},
            {"name": f"conv_dw_{i}_relu", "kind": "activation", "function": "relu6"},
        ]
        layers += _conv_bn_act(
            f"conv_pw_{i}",
            f"conv_pw_{i}_bn",
            f"conv_pw_{i}_relu",
            kernel_size=1,
            out_channels=filters,
            bias=False,
        )
    layers += [
        {"name": "global_average_pooling2d", "kind": "global_avg_pool", "keepdims": True},
        {"name": "dropout", "kind": "dropout", "rate": 0.001},
        {
            "name": "conv_preds",
            "kind": "conv",
            "kernel_size": 1,
            "out_channels": 1000,
            "padding": "same",
            "scale": False,
        },
        {"name": "reshape_2", "kind": "flatten"},
        {"name": "predictions", "kind": "activation", "function": "softmax"},
    ]
    comment = """
MobileNet v1 (Howard et al. 2017) as keras.applications.MobileNet builds it:
alpha 1.0, 224x224, with the 1000-class top. --width-multiplier scales every
convolution's filters by int(filters x alpha) (not the classifier's), as Keras
does; --resolution sets the input size.
"""
    header = {"name": "mobilenet-v1", "convention": "keras", "input": {"size": 224, "channels": 3}}
    return to_toml(header, comment, layers)


def mobilenet_v2() -> str:
    layers = [
        {
            "name": "Conv1",
            "kind": "conv",
            "kernel_size": 3,
            "out_channels": 32,
            "stride": 2,
            "padding": "same",
            "bias": False,
        },
        {"name": "bn_Conv1", "kind": "batchnorm"},
        {"name": "Conv1_relu", "kind": "activation", "function": "relu6"},
    ]
    blocks = [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6)]
    blocks += [(64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6)]
    blocks += [(160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6)]
    block_input = "Conv1_relu"
    channels = 32
    for block_id, (filters, stride, expansion) in enumerate(blocks):
        prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
        if block_id:
            layers += [
                {
                    "name": f"{prefix}expand",
                    "kind": "pointwise",
                    "expand": expansion,
                    "bias": False,
                },
                {"name": f"{prefix}expand_BN", "kind": "batchnorm"},
                {"name": f"{prefix}expand_relu", "kind": "activation", "function": "relu6"},
            ]
        if stride == 2:
            # imagenet_utils.correct_pad for the even sizes of a 224 input.
            layers.append(
                {"name": f"{prefix}pad", "kind": "zero_padding", "padding": [[0, 1], [0, 1]]}
            )
        layers += [
            {
                "name": f"{prefix}depthwise",
                "kind": "depthwise",
                "kernel_size": 3,
                "stride": stride,
                "padding": "same" if stride == 1 else "valid",
                "bias": False,
            },
            {"name": f"{prefix}depthwise_BN", "kind": "batchnorm"},
            {"name": f"{prefix}depthwise_relu", "kind": "activation", "function": "relu6"},
            {
                "name": f"{prefix}project",
                "kind": "pointwise",
                "out_channels": filters,
                "bias": False,
            },
            {"name": f"{prefix}project_BN", "kind": "batchnorm"},
        ]
        last = f"{prefix}project_BN"
        if channels == filters and stride == 1:
            layers.append({"name": f"{prefix}add", "kind": "add", "inputs": [block_input, last]})
            last = f"{prefix}add"
        block_input, channels = last, filters
    layers += [
        {
            "name": "Conv_1",
            "kind": "pointwise",
            "out_channels": 1280,
            "bias": False,
            "scale": "up",
        },
        {"name": "Conv_1_bn", "kind": "batchnorm"},
        {"name": "out_relu", "kind": "activation", "function": "relu6"},
        {"name": "global_average_pooling2d", "kind": "global_avg_pool"},
        {"name": "predictions", "kind": "dense", "units": 1000},
    ]
    comment = """
MobileNetV2 (Sandler et al. 2018) as keras.applications.MobileNetV2 builds it:
alpha 1.0, 224x224, with the 1000-class top. Residual additions name their two
inputs. --width-multiplier rounds scaled filters to multiples of 8
(channel_divisor), as Keras's _make_divisible does; the expansion convolutions
follow their input's channels. The last 1280-filter convolution scales only
up (scale = "up": Keras scales it for alpha > 1 alone), and the stride-2
paddings are those of even input sizes.
"""
    header = {
        "name": "mobilenet-v2",
        "convention": "keras",
        "channel_divisor": 8,
        "input": {"size": 224, "channels": 3},
    }
    return to_toml(header, comment, layers)


def xception() -> str:
    def sep(name: str, filters: int, act: str | None) -> list[Layer]:
        out: list[Layer] = []
        if act:
            out.append({"name": f"{name}_act", "kind": "activation", "function": "relu"})
        out += [
            {
                "name": name,
                "kind": "separable",
                "kernel_size": 3,
                "out_channels": filters,
                "padding": "same",
                "pointwise_bias": False,
            },
            {"name": f"{name}_bn", "kind": "batchnorm"},
        ]
        return out

    layers = _conv_bn_act(
        "block1_conv1",
        "block1_conv1_bn",
        "block1_conv1_act",
        "relu",
        kernel_size=3,
        out_channels=32,
        stride=2,
        bias=False,
    )
    layers += _conv_bn_act(
        "block1_conv2",
        "block1_conv2_bn",
        "block1_conv2_act",
        "relu",
        kernel_size=3,
        out_channels=64,
        bias=False,
    )
    x = "block1_conv2_act"
    residuals = 0

    def residual(block: int, filters: int, source: str) -> list[Layer]:
        conv = "conv2d" if residuals == 0 else f"conv2d_{residuals}"
        bn = "batch_normalization" if residuals == 0 else f"batch_normalization_{residuals}"
        return [
            {
                "name": conv,
                "kind": "pointwise",
                "out_channels": filters,
                "stride": 2,
                "bias": False,
                "input": source,
            },
            {"name": bn, "kind": "batchnorm"},
        ]

    adds = 0
    for block, filters, first_act in ((2, 128, False), (3, 256, True), (4, 728, True)):
        main = sep(f"block{block}_sepconv1", filters, None)
        if first_act:
            main = [
                {
                    "name": f"block{block}_sepconv1_act",
                    "kind": "activation",
                    "function": "relu",
                    "input": x,
                },
                *main,
            ]
        else:
            main[0]["input"] = x
        main += sep(f"block{block}_sepconv2", filters, "act")
        main.append(
            {
                "name": f"block{block}_pool",
                "kind": "max_pool",
                "pool_size": 3,
                "stride": 2,
                "padding": "same",
            }
        )
        res = residual(block, filters, x)
        residuals += 1
        add = "add" if adds == 0 else f"add_{adds}"
        adds += 1
        layers += [
            *res,
            *main,
            {"name": add, "kind": "add", "inputs": [f"block{block}_pool", res[-1]["name"]]},
        ]
        x = add
    for block in range(5, 13):
        main: list[Layer] = []
        for i in (1, 2, 3):
            main += sep(f"block{block}_sepconv{i}", 728, "act")
        main[0]["input"] = x
        add = f"add_{adds}"
        adds += 1
        layers += [*main, {"name": add, "kind": "add", "inputs": [main[-1]["name"], x]}]
        x = add
    res = residual(13, 1024, x)
    residuals += 1
    main = sep("block13_sepconv1", 728, "act") + sep("block13_sepconv2", 1024, "act")
    main[0]["input"] = x
    main.append(
        {"name": "block13_pool", "kind": "max_pool", "pool_size": 3, "stride": 2, "padding": "same"}
    )
    add = f"add_{adds}"
    layers += [
        *res,
        *main,
        {"name": add, "kind": "add", "inputs": ["block13_pool", res[-1]["name"]]},
    ]
    layers += [
        {
            "name": "block14_sepconv1",
            "kind": "separable",
            "kernel_size": 3,
            "out_channels": 1536,
            "padding": "same",
            "pointwise_bias": False,
        },
        {"name": "block14_sepconv1_bn", "kind": "batchnorm"},
        {"name": "block14_sepconv1_act", "kind": "activation", "function": "relu"},
        {
            "name": "block14_sepconv2",
            "kind": "separable",
            "kernel_size": 3,
            "out_channels": 2048,
            "padding": "same",
            "pointwise_bias": False,
        },
        {"name": "block14_sepconv2_bn", "kind": "batchnorm"},
        {"name": "block14_sepconv2_act", "kind": "activation", "function": "relu"},
        {"name": "avg_pool", "kind": "global_avg_pool"},
        {"name": "predictions", "kind": "dense", "units": 1000},
    ]
    comment = """
Xception (Chollet 2017) as keras.applications.Xception builds it: 299x299,
with the 1000-class top. Each residual branch (a strided 1x1 convolution and
its batch normalization) takes the block's input by name, and an add joins it
to the main path. Keras's SeparableConv2D(use_bias=False) has no bias at all.
"""
    header = {"name": "xception", "convention": "keras", "input": {"size": 299, "channels": 3}}
    return to_toml(header, comment, layers)


def vgg16() -> str:
    layers: list[Layer] = []
    for block, (filters, convs) in enumerate(
        ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), start=1
    ):
        for i in range(1, convs + 1):
            layers.append(
                {
                    "name": f"block{block}_conv{i}",
                    "kind": "conv",
                    "kernel_size": 3,
                    "out_channels": filters,
                    "padding": "same",
                }
            )
        layers.append(
            {"name": f"block{block}_pool", "kind": "max_pool", "pool_size": 2, "stride": 2}
        )
    layers += [
        {"name": "flatten", "kind": "flatten"},
        {"name": "fc1", "kind": "dense", "units": 4096},
        {"name": "fc2", "kind": "dense", "units": 4096},
        {"name": "predictions", "kind": "dense", "units": 1000},
    ]
    comment = """
VGG16 (Simonyan and Zisserman 2014) as keras.applications.VGG16 builds it:
224x224, with the 1000-class top. Keras folds each ReLU into its Conv2D and
Dense layers, so there are no activation layers here either.
"""
    header = {"name": "vgg16", "convention": "keras", "input": {"size": 224, "channels": 3}}
    return to_toml(header, comment, layers)


def resnet50() -> str:
    layers: list[Layer] = [
        {"name": "conv1_pad", "kind": "zero_padding", "padding": [[3, 3], [3, 3]]},
        {"name": "conv1_conv", "kind": "conv", "kernel_size": 7, "out_channels": 64, "stride": 2},
        {"name": "conv1_bn", "kind": "batchnorm"},
        {"name": "conv1_relu", "kind": "activation", "function": "relu"},
        {"name": "pool1_pad", "kind": "zero_padding", "padding": [[1, 1], [1, 1]]},
        {"name": "pool1_pool", "kind": "max_pool", "pool_size": 3, "stride": 2},
    ]
    x = "pool1_pool"
    for stage, (filters, blocks, stride) in enumerate(
        ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)), start=2
    ):
        for block in range(1, blocks + 1):
            name = f"conv{stage}_block{block}"
            step = stride if block == 1 else 1
            if block == 1:
                layers += [
                    {
                        "name": f"{name}_0_conv",
                        "kind": "pointwise",
                        "out_channels": 4 * filters,
                        "stride": step,
                        "input": x,
                    },
                    {"name": f"{name}_0_bn", "kind": "batchnorm"},
                ]
                shortcut = f"{name}_0_bn"
            else:
                shortcut = x
            layers += [
                {
                    "name": f"{name}_1_conv",
                    "kind": "pointwise",
                    "out_channels": filters,
                    "stride": step,
                    "input": x,
                },
                {"name": f"{name}_1_bn", "kind": "batchnorm"},
                {"name": f"{name}_1_relu", "kind": "activation", "function": "relu"},
                {
                    "name": f"{name}_2_conv",
                    "kind": "conv",
                    "kernel_size": 3,
                    "out_channels": filters,
                    "padding": "same",
                },
                {"name": f"{name}_2_bn", "kind": "batchnorm"},
                {"name": f"{name}_2_relu", "kind": "activation", "function": "relu"},
                {"name": f"{name}_3_conv", "kind": "pointwise", "out_channels": 4 * filters},
                {"name": f"{name}_3_bn", "kind": "batchnorm"},
                {"name": f"{name}_add", "kind": "add", "inputs": [shortcut, f"{name}_3_bn"]},
                {"name": f"{name}_out", "kind": "activation", "function": "relu"},
            ]
            x = f"{name}_out"
    layers += [
        {"name": "avg_pool", "kind": "global_avg_pool"},
        {"name": "predictions", "kind": "dense", "units": 1000},
    ]
    comment = """
ResNet-50 (He et al. 2015) as keras.applications.ResNet50 builds it: 224x224,
with the 1000-class top. The first block of each stage has a projection
shortcut (a strided 1x1 convolution and its batch normalization); the others
add their input back. Keras's ResNet convolutions keep their biases.
"""
    header = {"name": "resnet50", "convention": "keras", "input": {"size": 224, "channels": 3}}
    return to_toml(header, comment, layers)


GENERATORS = {
    "mobilenet-v1": mobilenet_v1,
    "mobilenet-v2": mobilenet_v2,
    "resnet50": resnet50,
    "vgg16": vgg16,
    "xception": xception,
}


def write_all() -> None:
    MODELS.mkdir(exist_ok=True)
    for name, generate in GENERATORS.items():
        (MODELS / f"{name}.toml").write_text(generate(), encoding="utf-8")


if __name__ == "__main__":
    write_all()
