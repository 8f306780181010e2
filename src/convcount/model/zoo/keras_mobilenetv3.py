"""keras.applications.MobileNetV3Small / Large, as keras/src/applications/mobilenet_v3.py
builds them.

What decides the counts:

* a block's output is ``_depth(filters * alpha)``; its expansion conv (every block
  but the first) has ``_depth(in_channels * expansion)`` filters, expansions being
  floats such as ``72.0 / 16``; the stem conv keeps 16 filters at every alpha;
* no conv in the body has a bias; the squeeze-and-excite convs (GlobalAveragePooling
  to 1x1, reduce to ``_depth(expanded * 0.25)``, expand back) do;
* ``minimalistic`` swaps 5x5 kernels for 3x3, hard-swish for ReLU and drops every
  squeeze-and-excite; hard-swish is an unnamed Activation, ReLU an unnamed ReLU, and
  hard-sigmoid the ops ``x + 3.0`` and ``* (1.0 / 6.0)`` around an unnamed ReLU(6.0),
  all with Keras's automatic names (``activation_3``, ``re_lu_5``, ``add_2``,
  ``multiply_2``); the Rescaling of ``include_preprocessing`` has no weights;
* a stride-2 depthwise conv is 'valid' after ZeroPadding2D(correct_pad(x, kernel));
* the last body conv has ``_depth(6 * channels)`` filters; with the head, pooling
  keeps the 1x1 map and a biased 1x1 Conv2D of 1024 (Small) or 1280 (Large) filters,
  grown to ``_depth(n * alpha)`` only when alpha > 1, comes before the 1x1 ``logits``
  conv.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import (
    KerasNames,
    Model,
    Option,
    Spec,
    correct_pad,
    keras_pooling,
    keras_rate,
    make_divisible,
)

# A block: (expansion, filters before alpha, kernel (0: the model's 5 or 3),
# stride, squeeze-and-excite, activation ("relu" or "act": the model's)).
Block = tuple[float, int, int, int, bool, str]

SMALL: tuple[Block, ...] = (
    (1, 16, 3, 2, True, "relu"),
    (72.0 / 16, 24, 3, 2, False, "relu"),
    (88.0 / 24, 24, 3, 1, False, "relu"),
    (4, 40, 0, 2, True, "act"),
    (6, 40, 0, 1, True, "act"),
    (6, 40, 0, 1, True, "act"),
    (3, 48, 0, 1, True, "act"),
    (3, 48, 0, 1, True, "act"),
    (6, 96, 0, 2, True, "act"),
    (6, 96, 0, 1, True, "act"),
    (6, 96, 0, 1, True, "act"),
)
LARGE: tuple[Block, ...] = (
    (1, 16, 3, 1, False, "relu"),
    (4, 24, 3, 2, False, "relu"),
    (3, 24, 3, 1, False, "relu"),
    (3, 40, 0, 2, True, "relu"),
    (3, 40, 0, 1, True, "relu"),
    (3, 40, 0, 1, True, "relu"),
    (6, 80, 3, 2, False, "act"),
    (2.5, 80, 3, 1, False, "act"),
    (2.3, 80, 3, 1, False, "act"),
    (2.3, 80, 3, 1, False, "act"),
    (6, 112, 3, 1, True, "act"),
    (6, 112, 3, 1, True, "act"),
    (6, 160, 0, 2, True, "act"),
    (6, 160, 0, 1, True, "act"),
    (6, 160, 0, 1, True, "act"),
)

MODELS = {
    "mobilenetv3small": Model(
        224,
        {"blocks": SMALL, "last_point": 1024},
        width=True,
        twin="torchvision/mobilenet_v3_small",
    ),
    "mobilenetv3large": Model(
        224,
        {"blocks": LARGE, "last_point": 1280},
        width=True,
        twin="torchvision/mobilenet_v3_large",
    ),
}
OPTIONS = (
    Option(
        "minimalistic", "bool", False, "3x3 kernels, ReLU and no squeeze-and-excite (minimalistic)"
    ),
    Option(
        "include_preprocessing",
        "bool",
        True,
        "the Rescaling layer in front (no parameters; include_preprocessing)",
    ),
)

SE_RATIO = 0.25


def _act(auto: KerasNames, x: str, function: str) -> str:
    """Keras's ``relu`` (an unnamed ReLU) or ``hard_swish`` (an unnamed Activation)."""
    return auto.net.act(
        x, function, name=auto.name("re_lu" if function == "relu" else "activation")
    )


def _block(
    auto: KerasNames,
    x: str,
    block_id: int,
    block: Block,
    alpha: float,
    kernel: int,
    act: str,
    se: bool,
) -> str:
    net = auto.net
    expansion, filters, own_kernel, stride, has_se, which = block
    filters = make_divisible(filters * alpha, 8)
    kernel = own_kernel or kernel
    function = act if which == "act" else "relu"
    shortcut = x
    infilters = net.channels(x)
    expanded = make_divisible(infilters * expansion, 8)
    prefix = "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = net.conv(x, expanded, 1, 1, "same", bias=False, name=f"{prefix}expand")
        x = net.bn(x, name=f"{prefix}expand_bn")
        x = _act(auto, x, function)
    if stride == 2:
        pad = correct_pad(net, x, kernel)
        x = net.layer("zero_padding", x, name=f"{prefix}depthwise_pad", padding=pad)
    x = net.depthwise(
        x,
        kernel,
        stride,
        "same" if stride == 1 else "valid",
        bias=False,
        name=f"{prefix}depthwise",
    )
    x = net.bn(x, name=f"{prefix}depthwise_bn")
    x = _act(auto, x, function)
    if se and has_se:
        x = _se_block(auto, x, expanded, prefix)
    x = net.conv(x, filters, 1, 1, "same", bias=False, name=f"{prefix}project")
    x = net.bn(x, name=f"{prefix}project_bn")
    if stride == 1 and infilters == filters:
        x = net.add(shortcut, x, name=f"{prefix}add")
    return x


def _se_block(auto: KerasNames, inputs: str, filters: int, prefix: str) -> str:
    net = auto.net
    x = net.layer("global_avg_pool", inputs, name=f"{prefix}squeeze_excite_avg_pool", keepdims=True)
    squeezed = make_divisible(filters * SE_RATIO, 8)
    x = net.conv(x, squeezed, 1, 1, "same", name=f"{prefix}squeeze_excite_conv")
    x = net.act(x, "relu", name=f"{prefix}squeeze_excite_relu")
    x = net.conv(x, filters, 1, 1, "same", name=f"{prefix}squeeze_excite_conv_1")
    # hard_sigmoid: ReLU(6.0)(x + 3.0) * (1.0 / 6.0), two ops on tensors around a layer
    x = net.layer("rescaling", x, name=auto.name("add"), offset=3.0)
    x = net.act(x, "relu6", name=auto.name("re_lu"))
    x = net.layer("rescaling", x, name=auto.name("multiply"), scale=1.0 / 6.0)
    return net.multiply(inputs, x, name=f"{prefix}squeeze_excite_mul")


def build(spec: Spec) -> Net:
    net = spec.net()
    alpha = spec.alpha
    minimalistic = spec.option("minimalistic")
    kernel, act = (3, "relu") if minimalistic else (5, "hard_swish")
    dropout = keras_rate(spec, "dropout_rate", 0.2)
    auto = KerasNames(net)
    x = "input"
    if spec.option("include_preprocessing"):
        x = net.layer("rescaling", x, name="rescaling", scale=1.0 / 127.5, offset=-1.0)
    x = net.conv(x, 16, 3, 2, "same", bias=False, name="conv")
    x = net.bn(x, name="conv_bn")
    x = _act(auto, x, act)
    for block_id, block in enumerate(spec.args["blocks"]):
        x = _block(auto, x, block_id, block, alpha, kernel, act, not minimalistic)
    last_conv = make_divisible(net.channels(x) * 6, 8)
    last_point: int = spec.args["last_point"]
    if alpha > 1.0:
        last_point = make_divisible(last_point * alpha, 8)
    x = net.conv(x, last_conv, 1, 1, "same", bias=False, name="conv_1")
    x = net.bn(x, name="conv_1_bn")
    x = _act(auto, x, act)
    if not spec.option("include_top"):
        keras_pooling(net, x, spec)
        return net
    classes = spec.option("classes")
    x = net.layer("global_avg_pool", x, name="global_average_pooling2d", keepdims=True)
    x = net.conv(x, last_point, 1, 1, "same", name="conv_2")
    x = _act(auto, x, act)
    if dropout > 0:
        x = net.layer("dropout", x, name="dropout", rate=dropout)
    x = net.conv(x, classes, 1, 1, "same", name="logits")
    x = net.layer("flatten", x, name="flatten")
    net.act(x, "softmax", name="predictions")
    return net
