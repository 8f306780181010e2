"""Other counters' figures for one layer: its PyTorch equivalent as a small network.

The counters of :mod:`convcount.model.tools` (torchinfo, fvcore, ptflops, thop)
are PyTorch tools: for ``convcount conv|depthwise|separable|transpose
--count-as`` they count the PyTorch module(s) the layer's table prints as its
PyTorch equivalent (:func:`convcount.frameworks.construction`), under either
convention, with the biases that convention gives:

* conv and depthwise: one ``nn.ConvNd`` (``groups=Cin`` for depthwise);
* separable: a depthwise ``nn.ConvNd`` then a 1x1 ``nn.ConvNd``;
* transpose: one ``nn.ConvTransposeNd``, Keras's ``valid``/``same`` rewritten as
  PyTorch's ``padding`` and ``output_padding`` (refused where no pair exists).

Keras's ``same`` with a stride above 1 and ``causal`` have no PyTorch padding
argument: the input is padded by hand (``F.pad``, Keras's split, the extra zero
at the end; ``causal``: d*(k-1) zeros on the left) before a ``padding=0``
convolution. ``F.pad`` is a function: no counter counts it.

:func:`layer_network` builds that network with :class:`convcount.model.graph.Net`
in the torch convention, so the counters' rules are the model command's,
unchanged. Batch 1: the layer commands count one example.
"""

from __future__ import annotations

from math import prod
from typing import Any, NamedTuple

from convcount.counting import Report
from convcount.errors import ConvcountError, flag
from convcount.frameworks import construction, torch_transpose_padding
from convcount.layers import Layer


class LayerNetwork(NamedTuple):
    """A layer's PyTorch equivalent, counted as a network."""

    report: Any
    """The :class:`convcount.model.graph.ModelReport` the counters read."""
    counted: str
    """The PyTorch code counted: the table's PyTorch line, after ``F.pad`` where the
    input is padded by hand."""


def _pads(layer: Layer) -> tuple[tuple[int, int], ...] | None:
    """Zeros (before, after) per dimension that PyTorch code must add by hand, or None
    where the convolution's own padding argument gives the output size."""
    assert layer.input_size is not None
    if layer.padding == "causal":
        return tuple(
            (d * (k - 1), 0) for k, d in zip(layer.kernel_size, layer.dilation, strict=True)
        )
    if layer.padding != "same" or layer.kind == "transpose" or max(layer.stride) == 1:
        return None
    pads = []
    for n, k, s in zip(layer.input_size, layer.effective_kernel, layer.stride, strict=True):
        # Keras (TensorFlow): total (ceil(n/s)-1)*s + k' - n, the extra zero at the end
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _check_extent(report: Report) -> None:
    """The networks' bound (every size, channel count and kernel at most 10^18)."""
    from convcount.model.graph import MAX_EXTENT

    layer = report.layer
    values: list[tuple[str, tuple[int, ...]]] = [
        ("input_size", layer.input_size or ()),
        ("in_channels", (layer.in_channels,)),
        ("out_channels", (layer.out_channels, layer.mid_channels)),
        ("kernel_size", layer.effective_kernel),
        ("stride", layer.stride),
        ("input_size", report.output_size or ()),
    ]
    for option, numbers in values:
        if max(numbers, default=0) > MAX_EXTENT:
            raise ConvcountError(
                option,
                f"--count-as counts a PyTorch network, whose sizes, channels and kernels "
                f"convcount bounds at 10^18; {flag(option)} (or the output size it gives) "
                "is larger",
            )


def layer_network(report: Report) -> LayerNetwork:
    """The layer's PyTorch equivalent as a one- or two-module network (see the module
    docstring); refused without an input size or where PyTorch has no equivalent."""
    from convcount.model.graph import Net

    layer = report.layer
    if layer.input_size is None:
        raise ConvcountError(
            "input_size",
            f"--count-as needs {flag('input_size')}: the counters run the layer on an input "
            f"of that size (e.g. {flag('input_size')} 32)",
        )
    _check_extent(report)
    if layer.dtype == "int8":
        raise ConvcountError(
            "dtype",
            f"--count-as: {flag('dtype')} int8: the counters run PyTorch's nn.Conv modules, "
            "which take floating-point tensors (float32, float16, bfloat16, float64)",
        )
    code = construction(layer).torch or ""  # never None: PyTorch has all four kinds
    geometry: dict[str, Any] = {"stride": layer.stride, "dilation": layer.dilation}
    pads = _pads(layer)
    if isinstance(layer.padding, tuple):
        geometry["padding"] = layer.padding
    elif layer.kind == "transpose":
        pair = torch_transpose_padding(layer)
        if pair is None:
            raise ConvcountError(
                "padding",
                f"--count-as: PyTorch has no ConvTranspose{layer.dims}d with Keras's "
                f"'{layer.padding}' output size here (no padding/output_padding pair gives it), "
                "so no PyTorch counter can count this layer",
            )
        geometry["padding"], geometry["output_padding"] = pair
    elif pads is None and layer.padding == "same":
        geometry["padding"] = "same"
    else:
        geometry["padding"] = (0,) * layer.dims
    if layer.kind == "transpose" and "output_padding" not in geometry:
        geometry["output_padding"] = layer.output_padding
    net = Net(
        f"{layer.kind} {layer.dims}-D",
        layer.input_size,
        layer.in_channels,
        convention="torch",
        dtype=layer.dtype,
    )
    if pads is not None:
        net.layer("zero_padding", name="pad", call="F.pad", padding=[list(p) for p in pads])
        # F.pad's order: the last dimension first, (before, after) each
        code = f"F.pad(x, ({', '.join(str(n) for p in reversed(pads) for n in p)})) + {code}"
    if layer.kind in ("separable", "depthwise"):
        separable = layer.kind == "separable"
        net.layer(
            "depthwise",
            name="depthwise",
            kernel_size=layer.kernel_size,
            depth_multiplier=layer.depth_multiplier or 1,
            bias=bool(layer.depthwise_bias if separable else layer.bias),
            **geometry,
        )
        if separable:  # then the 1x1 step
            net.layer(
                "conv",
                name="pointwise",
                out_channels=layer.out_channels,
                kernel_size=(1,) * layer.dims,
                bias=bool(layer.pointwise_bias),
            )
    else:
        net.layer(
            layer.kind,
            name=layer.kind,
            out_channels=layer.out_channels,
            kernel_size=layer.kernel_size,
            groups=layer.groups or 1,
            bias=bool(layer.bias),
            **geometry,
        )
    counted = net.report()
    # the equivalent is the same layer: its parameters, output and MACs are the layer's
    assert counted.total_params == report.total, (counted.total_params, report.total)
    assert counted.macs == report.macs, (counted.macs, report.macs)
    assert counted.output.spatial == report.output_size
    assert prod(counted.output.spatial) * counted.output.channels == report.output_elements
    return LayerNetwork(counted, code)
