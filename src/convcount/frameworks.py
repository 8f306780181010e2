"""The layer written as each framework would construct it, and porting notes.

Pure string building: nothing here imports a framework. Where a framework
has no layer with the same numbers, the code is ``None`` and a note says why;
where a geometry argument has no exact equivalent, a note says so.
"""

from __future__ import annotations

from typing import NamedTuple

from convcount.layers import Layer


class Construction(NamedTuple):
    """How the layer is built in Keras and in PyTorch."""

    keras: str | None
    """Keras 3 code, or None when Keras has no such layer."""
    torch: str | None
    """PyTorch code, or None when PyTorch has no such layer."""
    notes: tuple[str, ...]
    """What a person porting the layer should know."""


def _num(values: tuple[int, ...], *, tuple_always: bool = False) -> str:
    """``3`` for a uniform value, ``(3, 5)`` otherwise (or always, if asked)."""
    if len(set(values)) == 1 and not (tuple_always and len(values) > 1):
        return str(values[0])
    return "(" + ", ".join(map(str, values)) + ")"


def _args(*parts: str | None) -> str:
    return ", ".join(p for p in parts if p)


def _call(name: str, *parts: str | None) -> str:
    """``name(a, b, ...)`` leaving out the parts that are None."""
    return f"{name}({_args(*parts)})"


def _kw(name: str, values: tuple[int, ...] | None, default: int) -> str | None:
    if values is None or all(v == default for v in values):
        return None
    return f"{name}={_num(values)}"


def construction(layer: Layer) -> Construction:
    """Keras and PyTorch code for ``layer``, with porting notes."""
    notes: list[str] = []
    keras = _keras(layer, notes)
    torch = _torch(layer, notes)
    return Construction(keras=keras, torch=torch, notes=tuple(notes))


# ---------------------------------------------------------------------------
# Keras


def _keras_padding(layer: Layer, notes: list[str]) -> tuple[str | None, str | None]:
    """(padding argument, ZeroPadding layer to put in front) for Keras."""
    padding = layer.padding
    if isinstance(padding, str):
        return (None, None) if padding == "valid" else (f'padding="{padding}"', None)
    if not any(padding):
        return None, None
    if layer.kind == "transpose":
        notes.append(
            f"Keras: no exact equivalent of PyTorch's padding={_num(padding)} "
            "on a transposed layer (it crops the output); crop with a Cropping layer"
        )
        return None, None
    return None, f"keras.layers.ZeroPadding{layer.dims}D({_num(padding)})"


def _keras(layer: Layer, notes: list[str]) -> str | None:
    d = layer.dims
    kernel = _num(layer.kernel_size, tuple_always=True)
    strides = _kw("strides", layer.stride, 1)
    dilation = _kw("dilation_rate", layer.dilation, 1)
    padding, zero_pad = _keras_padding(layer, notes)
    if layer.kind in ("conv", "transpose") and strides and dilation:
        notes.append("Keras: a strided Conv or ConvTranspose cannot also be dilated")
    bias = None if layer.bias in (True, None) else "use_bias=False"
    mult = layer.depth_multiplier or 1
    multiplier = f"depth_multiplier={mult}" if mult != 1 else None
    geometry = (strides, padding, dilation)
    code: str
    if layer.kind == "conv":
        groups = f"groups={layer.groups}" if layer.groups != 1 else None
        code = _call(
            f"keras.layers.Conv{d}D", str(layer.out_channels), kernel, *geometry, groups, bias
        )
    elif layer.kind == "transpose":
        if layer.groups != 1:
            notes.append("Keras: Conv*DTranspose has no groups argument")
            return None
        op = None
        if layer.output_padding is not None or isinstance(layer.padding, tuple):
            # PyTorch's missing output_padding is 0, and Keras's explicit 0 differs from its None.
            values = layer.output_padding or (0,) * d
            op = f"output_padding={_num(values)}"
            if any(o >= s for o, s in zip(values, layer.stride, strict=True)):
                notes.append("Keras: output_padding must be smaller than the stride")
        code = _call(
            f"keras.layers.Conv{d}DTranspose", str(layer.out_channels), kernel, *geometry, op, bias
        )
    elif layer.kind == "depthwise":
        if d == 3:
            notes.append(
                "Keras has no DepthwiseConv3D; a Conv3D with groups=in_channels "
                "has the same numbers"
            )
            groups = f"groups={layer.in_channels}"
            code = _call(
                "keras.layers.Conv3D", str(layer.out_channels), kernel, *geometry, groups, bias
            )
        else:
            code = _call(f"keras.layers.DepthwiseConv{d}D", kernel, *geometry, multiplier, bias)
    else:
        pw_bias = None if layer.pointwise_bias else "use_bias=False"
        if d == 3 or layer.depthwise_bias:
            why = (
                "Keras has no SeparableConv3D"
                if d == 3
                else "Keras's SeparableConv has no depthwise bias"
            )
            notes.append(f"{why}; written as a depthwise step then a 1x1 Conv{d}D")
            dw_bias = None if layer.depthwise_bias else "use_bias=False"
            if d == 3:
                groups = f"groups={layer.in_channels}"
                depthwise = _call(
                    "keras.layers.Conv3D",
                    str(layer.mid_channels),
                    kernel,
                    *geometry,
                    groups,
                    dw_bias,
                )
            else:
                depthwise = _call(
                    f"keras.layers.DepthwiseConv{d}D", kernel, *geometry, multiplier, dw_bias
                )
            one = _num((1,) * d, tuple_always=True)
            pointwise = _call(f"keras.layers.Conv{d}D", str(layer.out_channels), one, pw_bias)
            code = f"{depthwise} + {pointwise}"
        else:
            code = _call(
                f"keras.layers.SeparableConv{d}D",
                str(layer.out_channels),
                kernel,
                *geometry,
                multiplier,
                pw_bias,
            )
    return f"{zero_pad} + {code}" if zero_pad else code


# ---------------------------------------------------------------------------
# PyTorch


def _torch_geometry(layer: Layer, notes: list[str]) -> tuple[str | None, str | None]:
    """(padding argument, output_padding argument) for PyTorch."""
    padding = layer.padding
    if isinstance(padding, tuple):
        op = None
        if layer.output_padding is not None:
            op = _kw("output_padding", layer.output_padding, 0)
        return _kw("padding", padding, 0), op
    if padding == "causal":
        notes.append(
            "PyTorch: no causal padding; pad d*(k-1) zeros on the left "
            "(F.pad(x, (d*(k-1), 0))) before this padding=0 Conv1d"
        )
        return None, None
    if layer.kind != "transpose":
        if padding == "valid":
            return None, None
        if max(layer.stride) == 1:
            return 'padding="same"', None
        notes.append(
            "PyTorch: padding='same' needs stride 1; pad the input by hand "
            "(Keras pads (k'-1) split with the extra zero at the end)"
        )
        return None, None
    pair = torch_transpose_padding(layer)
    if pair is None:
        notes.append(
            "PyTorch: no padding/output_padding pair gives Keras's 'same' output size here"
        )
        return None, None
    return _kw("padding", pair[0], 0), _kw("output_padding", pair[1], 0)


def torch_transpose_padding(layer: Layer) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """PyTorch's (padding, output_padding) for a transposed layer with Keras's string
    padding, giving the same output size; None where no legal pair does."""
    padding = layer.padding
    pads: list[int] = []
    output_pads: list[int] = []
    for axis in range(layer.dims):
        k = layer.effective_kernel[axis]
        s = layer.stride[axis]
        given = None if layer.output_padding is None else layer.output_padding[axis]
        if padding == "valid":
            pads.append(0)
            output_pads.append(max(k, s) - k if given is None else given)
            continue
        wanted = s - k % 2 if given is None else given
        pad = max(-((k % 2 - k + wanted) // 2), 0)
        pads.append(pad)
        output_pads.append(2 * pad + k % 2 - k + wanted)
    legal = all(
        0 <= op < max(s, d)
        for op, s, d in zip(output_pads, layer.stride, layer.dilation, strict=True)
    )
    return (tuple(pads), tuple(output_pads)) if legal else None


def _torch(layer: Layer, notes: list[str]) -> str:
    d = layer.dims
    kernel = _num(layer.kernel_size)
    stride = _kw("stride", layer.stride, 1)
    dilation = _kw("dilation", layer.dilation, 1)
    padding, output_padding = _torch_geometry(layer, notes)
    bias = None if layer.bias in (True, None) else "bias=False"
    cin, cout = str(layer.in_channels), str(layer.out_channels)
    if layer.kind == "conv":
        groups = f"groups={layer.groups}" if layer.groups != 1 else None
        return _call(f"nn.Conv{d}d", cin, cout, kernel, stride, padding, dilation, groups, bias)
    if layer.kind == "transpose":
        groups = f"groups={layer.groups}" if layer.groups != 1 else None
        return _call(
            f"nn.ConvTranspose{d}d",
            *(cin, cout, kernel, stride, padding, output_padding, groups, bias, dilation),
        )
    groups = f"groups={layer.in_channels}"
    if layer.kind == "depthwise":
        return _call(f"nn.Conv{d}d", cin, cout, kernel, stride, padding, dilation, groups, bias)
    dw_bias = None if layer.depthwise_bias else "bias=False"
    pw_bias = None if layer.pointwise_bias else "bias=False"
    mid = str(layer.mid_channels)
    depthwise = _call(f"nn.Conv{d}d", cin, mid, kernel, stride, padding, dilation, groups, dw_bias)
    return f"{depthwise} + {_call(f'nn.Conv{d}d', mid, cout, '1', pw_bias)}"
