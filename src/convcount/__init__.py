"""convcount: parameters, output sizes and MACs of convolution layers, exactly as
Keras and PyTorch count them, without importing either.

>>> import convcount
>>> convcount.separable(kernel_size=3, in_channels=10, out_channels=32).total
442
"""

import sys

if sys.argv[:1] == ["-m"]:
    # `python -m convcount`: Python sets argv[0] to "-m" while it finds
    # convcount/__main__.py, after running this file. The console script's
    # entry module is imported first here too, so that a Ctrl-C while
    # convcount loads ends quietly with 130 instead of a traceback.
    import _convcount_entry  # noqa: F401  # imported for its effect

from typing import TYPE_CHECKING, Any

from convcount.counting import Report, Term, count
from convcount.errors import ConvcountError
from convcount.layers import Layer, make_layer

if TYPE_CHECKING:
    from convcount.model import ModelLayer, ModelReport, Net, Tensor, summarize

__version__ = "2.0.0"

__all__ = [
    "ConvcountError",
    "Layer",
    "ModelLayer",
    "ModelReport",
    "Net",
    "Report",
    "Tensor",
    "Term",
    "__version__",
    "conv",
    "count",
    "depthwise",
    "make_layer",
    "separable",
    "summarize",
    "transpose",
]

#: Whole networks, from convcount.model, imported on first use (start-up stays fast).
_MODEL_NAMES = ("ModelLayer", "ModelReport", "Net", "Tensor", "summarize")


def __getattr__(name: str) -> Any:
    if name in _MODEL_NAMES:
        import convcount.model

        return getattr(convcount.model, name)
    raise AttributeError(f"module 'convcount' has no attribute {name!r}")


Ints = int | str | tuple[int, ...] | list[int]
Padding = int | str | tuple[int, ...] | list[int]


def conv(
    *,
    kernel_size: Ints,
    in_channels: int,
    out_channels: int,
    groups: int = 1,
    bias: bool = True,
    dims: int | None = None,
    convention: str = "keras",
    input_size: Ints | None = None,
    stride: Ints | None = None,
    padding: Padding | None = None,
    dilation: Ints | None = None,
    dtype: str = "float32",
) -> Report:
    """A standard or grouped convolution: K*(Cin/g)*Cout weights + Cout bias."""
    return count(make_layer("conv", **_given(locals())))


def depthwise(
    *,
    kernel_size: Ints,
    in_channels: int,
    depth_multiplier: int = 1,
    bias: bool = True,
    dims: int | None = None,
    convention: str = "keras",
    input_size: Ints | None = None,
    stride: Ints | None = None,
    padding: Padding | None = None,
    dilation: Ints | None = None,
    dtype: str = "float32",
) -> Report:
    """A depthwise convolution: K*Cin*m weights + Cin*m bias."""
    return count(make_layer("depthwise", **_given(locals())))


def separable(
    *,
    kernel_size: Ints,
    in_channels: int,
    out_channels: int,
    depth_multiplier: int = 1,
    depthwise_bias: bool | None = None,
    pointwise_bias: bool | None = None,
    dims: int | None = None,
    convention: str = "keras",
    input_size: Ints | None = None,
    stride: Ints | None = None,
    padding: Padding | None = None,
    dilation: Ints | None = None,
    dtype: str = "float32",
) -> Report:
    """A depthwise step then a 1x1 conv: K*Cin*m + Cin*m*Cout weights.

    Biases follow ``convention`` unless given: Keras has one (on the
    pointwise output), two PyTorch convs have both.
    """
    return count(make_layer("separable", **_given(locals())))


def transpose(
    *,
    kernel_size: Ints,
    in_channels: int,
    out_channels: int,
    groups: int = 1,
    bias: bool = True,
    dims: int | None = None,
    convention: str = "keras",
    input_size: Ints | None = None,
    stride: Ints | None = None,
    padding: Padding | None = None,
    dilation: Ints | None = None,
    output_padding: Ints | None = None,
    dtype: str = "float32",
) -> Report:
    """A transposed convolution: K*Cin*(Cout/g) weights + Cout bias."""
    return count(make_layer("transpose", **_given(locals())))


def _given(arguments: dict[str, object]) -> dict[str, object]:
    return {name: value for name, value in arguments.items() if value is not None}
