"""What every family definition shares: the spec it builds from, options, rounding.

A family module (``keras_resnet.py``, ``torchvision_regnet.py``, ...) defines
``MODELS`` (variant name -> :class:`Model`: default resolution, whether it
takes a width multiplier, its own arguments), ``OPTIONS`` (the constructor
options it accepts beyond width and resolution) and ``build(spec) -> Net``.
Channel arithmetic follows the framework's own code, float operations
included, so that every width multiplier rounds exactly as the framework does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from itertools import count
from typing import Any, NamedTuple

from convcount.errors import ConvcountError
from convcount.layers import Convention
from convcount.model.graph import Net


class Model(NamedTuple):
    """One shipped variant of a family."""

    resolution: int | tuple[int, int]
    """Default input size (the framework's default, or its weights' crop size)."""
    args: Mapping[str, Any] = {}
    """The family's own arguments for this variant (depths, widths, ...)."""
    width: bool = False
    """Whether ``--width-multiplier`` applies (the constructor has alpha / width_mult)."""
    twin: str | None = None
    """The closest model of the other framework, named when a convention is refused."""
    width_default: float = 1.0
    """The constructor's own width (mnasnet0_5 is 0.5)."""


class Option(NamedTuple):
    """A constructor option given as ``--option NAME=VALUE``."""

    name: str
    type: str
    """bool, int, number (a positive float), choice, neutral (accepted and ignored:
    it changes no count), or fixed (the builder passes it itself and refuses it)."""
    default: object
    doc: str
    choices: tuple[str, ...] = ()

    def parse(self, text: object) -> object:
        """The option's value from the command line's text (or a Python value)."""
        if self.type == "neutral":
            return text
        if self.type == "fixed":
            raise ConvcountError("option", f"--option {self.name}: {self.doc}")
        if self.type == "bool":
            if isinstance(text, bool):
                return text
            word = str(text).strip().lower()
            if word in ("true", "yes", "1", "on"):
                return True
            if word in ("false", "no", "0", "off"):
                return False
            raise ConvcountError(
                "option", f"--option {self.name} must be true or false, got {text!r}"
            )
        if self.type == "number":
            word = str(text).strip()
            try:
                value = float(word)
            except ValueError:
                value = -1.0
            if not 0 < value < 1000 or len(word) > 40:
                raise ConvcountError(
                    "option",
                    f"--option {self.name} must be a positive number below 1000, got {text!r}",
                )
            return value
        if self.type == "int":
            word = str(text).strip()
            if not (word.isascii() and word.isdigit()) or len(word) > 9 or int(word) < 1:
                raise ConvcountError(
                    "option", f"--option {self.name} must be a positive integer, got {text!r}"
                )
            return int(word)
        word = str(text).strip().lower()
        if word not in self.choices:
            raise ConvcountError(
                "option",
                f"--option {self.name} must be one of {', '.join(self.choices)}, got {text!r}",
            )
        return None if word == "none" else word


KERAS_OPTIONS = (
    Option("include_top", "bool", True, "the classifier head (include_top)"),
    Option(
        "pooling",
        "choice",
        None,
        "the pooling without the head: none, avg or max",
        ("none", "avg", "max"),
    ),
    Option("classes", "int", 1000, "classes of the head"),
    Option("channels", "int", 3, "input channels (the last of input_shape)"),
    *(
        Option(name, "neutral", None, "accepted; changes no count")
        for name in ("weights", "classifier_activation", "dropout_rate", "drop_connect_rate")
    ),
)
TORCH_OPTIONS = (
    Option("num_classes", "int", 1000, "classes of the classifier"),
    *(
        Option(name, "neutral", None, "accepted; changes no count")
        for name in (
            "weights",
            "progress",
            "dropout",
            "drop_rate",
            "zero_init_residual",
            "memory_efficient",
            "transform_input",
            "init_weights",
            "stochastic_depth_prob",
        )
    ),
)


class Spec(NamedTuple):
    """Everything a family's ``build`` needs for one model."""

    name: str
    """The shipped name, e.g. keras/resnet50."""
    variant: str
    """The key in the family's MODELS, e.g. resnet50."""
    model: Model
    size: tuple[int, int]
    """Input height and width."""
    alpha: float
    """The width multiplier as the framework receives it (a Python float)."""
    options: Mapping[str, Any] = {}
    convention: Convention = "keras"
    dtype: str = "float32"

    @property
    def args(self) -> Mapping[str, Any]:
        """The variant's own arguments."""
        return self.model.args

    def option(self, name: str) -> Any:
        """A constructor option's value (its default when not given)."""
        return self.options[name]

    def net(self) -> Net:
        """An empty network with this spec's input (3 channels, or Keras's ``channels``)."""
        return Net(
            self.name,
            self.size,
            self.options.get("channels", 3),
            convention=self.convention,
            dtype=self.dtype,
            source=self.name,
            width_multiplier=self.alpha,
        )


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Keras's and torchvision's ``_make_divisible``, float arithmetic and all.

    Rounds to the nearest multiple of ``divisor`` (at least ``min_value``,
    default ``divisor``) and adds one more step when rounding lost over 10%.
    """
    if min_value is None:
        min_value = divisor
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def correct_pad(net: Net, x: str, kernel: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras's ``imagenet_utils.correct_pad``: the zeros before a stride-2 'valid' conv.

    ((k//2 - adjust_h, k//2), (k//2 - adjust_w, k//2)) with adjust = 1 on even sizes.
    """
    h, w = net.shape(x).spatial
    c = kernel // 2
    return ((c - (1 - h % 2), c), (c - (1 - w % 2), c))


def keras_rate(spec: Spec, name: str, default: float) -> float:
    """A Keras rate option (``dropout_rate``...): no count changes, but Keras leaves a
    layer out when it is 0."""
    value = spec.options.get(name)
    if value is None:
        return default
    try:
        rate = float(str(value).strip())
    except ValueError:
        rate = -1.0
    if not 0 <= rate < 1:
        raise ConvcountError(
            "option", f"--option {name} must be a number from 0 to below 1, got {value!r}"
        )
    return rate


def keras_top(
    net: Net,
    x: str,
    spec: Spec,
    *,
    dropout: float = 0.0,
    name: str = "predictions",
    pool: str | None = "avg_pool",
    named_pooling: bool = True,
) -> str:
    """Keras's usual ending: global average pooling and Dense(classes), or `pooling`.

    ``pool`` names the head's pooling (None: Keras's automatic name, the
    constructor leaves it unnamed); ``named_pooling`` is :func:`keras_pooling`'s.
    """
    if spec.option("include_top"):
        x = net.layer("global_avg_pool", x, name=pool or "global_average_pooling2d")
        if dropout:
            x = net.layer("dropout", x, name="top_dropout", rate=dropout)
        return net.dense(x, spec.option("classes"), name=name)
    return keras_pooling(net, x, spec, named=named_pooling)


def keras_pooling(net: Net, x: str, spec: Spec, *, named: bool = True) -> str:
    """``pooling`` without the head: none, avg or max.

    Named ``avg_pool``/``max_pool`` where the constructor names them, else with
    Keras's automatic names (the first of their class in every constructor).
    """
    pooling = spec.option("pooling")
    if pooling == "avg":
        return net.layer(
            "global_avg_pool", x, name="avg_pool" if named else "global_average_pooling2d"
        )
    if pooling == "max":
        return net.layer("global_max_pool", x, name="max_pool" if named else "global_max_pooling2d")
    return x


class KerasNames:
    """Keras's Inception ``conv2d_bn`` and unnamed layers, with Keras's automatic names.

    Keras names an unnamed layer after its class, numbered per class in
    creation order within the session: ``conv2d``, ``conv2d_1``, ...
    """

    def __init__(self, net: Net) -> None:
        self.net = net
        self.numbers: defaultdict[str, count[int]] = defaultdict(count)

    def name(self, base: str) -> str:
        number = next(self.numbers[base])
        return f"{base}_{number}" if number else base

    def conv_bn(
        self,
        x: str,
        filters: int,
        kernel: int | tuple[int, int],
        stride: int = 1,
        padding: str = "same",
        name: str | None = None,
    ) -> str:
        net = self.net
        conv = name or self.name("conv2d")
        x = net.conv(x, filters, kernel, stride, padding, bias=False, name=conv)
        x = net.bn(x, scale=False, name=f"{name}_bn" if name else self.name("batch_normalization"))
        return net.act(x, "relu", name=f"{name}_ac" if name else self.name("activation"))

    def pool(self, kind: str, x: str, stride: int, padding: str = "valid") -> str:
        base = "max_pooling2d" if kind == "max_pool" else "average_pooling2d"
        return self.net.layer(
            kind, x, name=self.name(base), pool_size=3, stride=stride, padding=padding
        )

    def avg_pool(self, x: str) -> str:
        """An Inception branch's pooling: AveragePooling2D(3, 1, 'same')."""
        return self.pool("avg_pool", x, 1, "same")

    def max_pool(self, x: str) -> str:
        """An Inception reduction's pooling: MaxPooling2D(3, 2, 'valid')."""
        return self.pool("max_pool", x, 2)


def keras_se(net: Net, x: str, name: str, filters: int, input_filters: int, se_ratio: float) -> str:
    """Keras EfficientNet (v1 and v2)'s squeeze-and-excite over ``filters`` channels,
    reduced from the block's input: the two 1x1 convs carry their activations."""
    filters_se = max(1, int(input_filters * se_ratio))
    se = net.layer("global_avg_pool", x, name=f"{name}se_squeeze")
    se = net.layer("reshape", se, name=f"{name}se_reshape", shape=(1, 1, filters))
    se = net.layer(
        "conv",
        se,
        name=f"{name}se_reduce",
        out_channels=filters_se,
        kernel_size=1,
        padding="same",
        activation="swish",
    )
    se = net.layer(
        "conv",
        se,
        name=f"{name}se_expand",
        out_channels=filters,
        kernel_size=1,
        padding="same",
        activation="sigmoid",
    )
    return net.multiply(x, se, name=f"{name}se_excite")
