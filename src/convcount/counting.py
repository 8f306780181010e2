"""Pure counting: parameter terms, output sizes and multiply-accumulates.

Conventions (the ones fvcore, thop and ``torch.utils.flop_counter`` use):

* A MAC is one multiply-accumulate of a weight with an input value; bias
  additions are not MACs and are reported on their own as ``bias_adds``.
* FLOPs = 2 x MACs (what ``torch.utils.flop_counter`` prints).
* Everything is for a batch of one.
* A transposed layer applies its kernel once per INPUT position, so its MACs
  scale with the input size; its bias is added once per output position.
"""

from __future__ import annotations

from functools import lru_cache
from math import prod
from typing import NamedTuple

from convcount.errors import ConvcountError, flag
from convcount.layers import DTYPE_BYTES, Layer

#: Names of the terms, in the order they are listed.
TERM_NAMES = ("kernel", "bias", "depthwise", "depthwise_bias", "pointwise", "pointwise_bias")


class Term(NamedTuple):
    """One block of parameters: a kernel or a bias.

    A NamedTuple rather than a frozen dataclass: as immutable and about three
    times cheaper to create, which batch runs over millions of layers feel.
    """

    name: str
    """kernel, bias, depthwise, depthwise_bias, pointwise or pointwise_bias."""
    factors: tuple[int, ...]
    """The numbers whose product is the count, in formula order."""
    count: int  # type: ignore[assignment]  # shadows tuple.count on purpose: the domain's word
    """Number of parameters: the product of the factors."""
    macs: int | None = None
    """Multiply-accumulates: each weight once per position it is applied at
    (0 for a bias; None without an input size)."""
    bias_adds: int | None = None
    """Additions of this bias, once per output element (0 for a kernel)."""

    @property
    def formula(self) -> str:
        """The factors written out, e.g. ``3×3×10×1``."""
        return _formula(self.factors)

    @property
    def is_bias(self) -> bool:
        """Whether this is a bias (added, not multiplied)."""
        return self.name.endswith("bias")


@lru_cache(maxsize=4096)
def _formula(factors: tuple[int, ...]) -> str:
    # Cached: the same kernel shapes recur across a batch's layers.
    return "×".join(map(str, factors))


def _term(name: str, factors: tuple[int, ...], positions: int | None) -> Term:
    """A term applied at ``positions`` spatial positions (None: unknown)."""
    n = prod(factors)
    if positions is None:
        return Term(name, factors, n)
    if name.endswith("bias"):
        return Term(name, factors, n, 0, positions * n)
    return Term(name, factors, n, positions * n, 0)


class Report(NamedTuple):
    """Everything convcount knows about one layer.

    Immutable; a NamedTuple like :class:`Layer` and :class:`Term`, for speed.
    """

    layer: Layer
    """The layer counted."""
    terms: tuple[Term, ...]
    """The parameter blocks that are present, in order."""
    output_size: tuple[int, ...] | None
    """Spatial output size (None without an input size)."""
    total: int
    """Total number of parameters: the sum of the terms."""
    macs: int | None
    """Multiply-accumulates for one input, bias additions excluded."""
    bias_adds: int | None
    """Bias additions for one input."""

    def term(self, name: str) -> Term | None:
        """The term of that name, if the layer has it."""
        return next((t for t in self.terms if t.name == name), None)

    @property
    def flops(self) -> int | None:
        """2 x MACs."""
        return None if self.macs is None else 2 * self.macs

    @property
    def output_shape(self) -> tuple[int, ...] | None:
        """Output shape without the batch: channels last for keras, first for torch."""
        if self.output_size is None:
            return None
        if self.layer.convention == "keras":
            return (*self.output_size, self.layer.out_channels)
        return (self.layer.out_channels, *self.output_size)

    @property
    def output_elements(self) -> int | None:
        """Elements of the output activation."""
        if self.output_size is None:
            return None
        return prod(self.output_size) * self.layer.out_channels

    @property
    def param_bytes(self) -> int:
        """Bytes of the parameters at the layer's dtype."""
        return self.total * DTYPE_BYTES[self.layer.dtype]

    @property
    def output_bytes(self) -> int | None:
        """Bytes of the output activation at the layer's dtype."""
        elements = self.output_elements
        return None if elements is None else elements * DTYPE_BYTES[self.layer.dtype]


def output_length(
    transposed: bool,
    length: int,
    kernel: int,
    stride: int,
    padding: str | int,
    output_padding: int | None,
) -> int:
    """Output length along one spatial axis (``kernel`` already dilated: k').

    Convolution (L in, s stride):
      integer padding p (PyTorch): floor((L + 2p - k') / s) + 1
      'valid': floor((L - k') / s) + 1;  'same' and 'causal': ceil(L / s)
    Transposed, PyTorch (integer padding p): (L-1)*s - 2p + k' + output_padding.
    Transposed, Keras, without output_padding: 'valid' (L-1)*s + max(k', s),
    'same' L*s; with output_padding op: (L-1)*s + k' + op ('valid') or
    (L-1)*s + k' % 2 + op ('same').
    """
    if not transposed:
        if padding in ("same", "causal"):  # causal: d*(k-1) zeros on the left alone
            return (length - 1) // stride + 1
        pad = 0 if padding == "valid" else int(padding)
        return (length + 2 * pad - kernel) // stride + 1
    if padding == "valid":
        return (length - 1) * stride + (
            max(kernel, stride) if output_padding is None else kernel + output_padding
        )
    if padding == "same":
        if output_padding is None:
            return length * stride
        return (length - 1) * stride + kernel % 2 + output_padding
    return (length - 1) * stride - 2 * int(padding) + kernel + (output_padding or 0)


def output_size(layer: Layer) -> tuple[int, ...]:
    """Spatial output size; raises ConvcountError where it would be below 1."""
    assert layer.input_size is not None
    dims = layer.dims
    padding = layer.padding
    pads: tuple[str | int, ...] = (padding,) * dims if isinstance(padding, str) else padding
    transposed = layer.kind == "transpose"
    sizes = tuple(
        [
            output_length(transposed, length, d * (k - 1) + 1, s, p, op)
            for length, k, d, s, p, op in zip(
                layer.input_size,
                layer.kernel_size,
                layer.dilation,
                layer.stride,
                pads,
                layer.output_padding or (None,) * dims,
                strict=True,
            )
        ]
    )
    if min(sizes) < 1:
        raise ConvcountError(
            "input_size",
            f"{flag('input_size')} {'x'.join(map(str, layer.input_size))} is too small for this "
            f"layer: the output would be {'x'.join(map(str, sizes))} "
            "(every size must be at least 1)",
        )
    return sizes


def count(layer: Layer) -> Report:
    """Break the layer's parameters into terms and, given an input size, its cost.

    Weights: conv K*(Cin/g)*Cout; depthwise K*Cin*m; separable K*Cin*m then
    1*Cin*m*Cout; transposed K*Cin*(Cout/g). A bias has one value per output
    channel of its step.
    """
    k = layer.kernel_size
    cin, cout = layer.in_channels, layer.out_channels
    out = output_size(layer) if layer.input_size is not None else None
    p_out = prod(out) if out is not None else None
    p_in = prod(layer.input_size) if layer.input_size is not None else None

    terms: list[Term] = []
    if layer.kind == "conv":
        g = layer.groups or 1
        terms.append(_term("kernel", (*k, cin // g, cout), p_out))
        if layer.bias:
            terms.append(_term("bias", (cout,), p_out))
    elif layer.kind == "transpose":
        g = layer.groups or 1
        terms.append(_term("kernel", (*k, cin, cout // g), p_in))
        if layer.bias:
            terms.append(_term("bias", (cout,), p_out))
    elif layer.kind == "depthwise":
        terms.append(_term("kernel", (*k, cin, layer.depth_multiplier or 1), p_out))
        if layer.bias:
            terms.append(_term("bias", (cout,), p_out))
    else:
        mid = layer.mid_channels
        terms.append(_term("depthwise", (*k, cin, layer.depth_multiplier or 1), p_out))
        if layer.depthwise_bias:
            terms.append(_term("depthwise_bias", (mid,), p_out))
        terms.append(_term("pointwise", (*(1,) * layer.dims, mid, cout), p_out))
        if layer.pointwise_bias:
            terms.append(_term("pointwise_bias", (cout,), p_out))
    return report(layer, tuple(terms), out)


def report(layer: Layer, terms: tuple[Term, ...], output_size: tuple[int, ...] | None) -> Report:
    """A Report whose totals are the sums of its terms."""
    total = macs = bias_adds = 0
    for term in terms:
        total += term.count
        macs += term.macs or 0
        bias_adds += term.bias_adds or 0
    if output_size is None:
        return Report(layer, terms, None, total, None, None)
    return Report(layer, terms, output_size, total, macs, bias_adds)
