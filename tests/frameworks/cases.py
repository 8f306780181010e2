"""Layer configurations and their construction in PyTorch and Keras.

A case is a dict of convcount options (the keyword arguments of
``convcount.make_layer``) plus ``kind``. The builders turn it into the real
framework layer the convention claims to match, and report what the framework
says: parameters, output spatial size and (PyTorch) MACs, or that it refuses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

Case = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What a framework (or convcount) says of a case."""

    refused: str | None = None
    params: int | None = None
    output_size: tuple[int, ...] | None = None
    macs: int | None = None


def random_case(rng: random.Random, convention: str, *, big: bool = False) -> Case:
    """A random configuration, legal or not, across every option convcount offers."""
    kind = rng.choice(["conv", "depthwise", "separable", "transpose"])
    dims = rng.choice([1, 2, 2, 3])
    kernel = tuple(rng.choice([1, 2, 3, 3, 4, 5]) for _ in range(dims))
    if rng.random() < 0.6:
        kernel = (kernel[0],) * dims
    channel_pool = (
        [1, 2, 3, 4, 6, 8, 12, 16, 7, 9, 15] if not big else [96, 255, 384, 513, 1000, 2048]
    )
    cin = rng.choice(channel_pool)
    case: Case = {
        "kind": kind,
        "kernel_size": list(kernel),
        "in_channels": cin,
        "dims": dims,
        "convention": convention,
    }
    if kind in ("conv", "transpose"):
        divisors = [g for g in range(1, cin + 1) if cin % g == 0]
        groups = rng.choice(divisors) if rng.random() < 0.5 else 1
        if rng.random() < 0.05:
            groups = rng.choice([2, 3, 5])  # maybe not a divisor: a refusal to check
        cout = groups * rng.choice([1, 2, 3, 5]) if rng.random() < 0.9 else rng.choice(channel_pool)
        case.update(out_channels=cout, groups=groups)
        if kind == "conv" and groups == cin and rng.random() < 0.3:
            case["out_channels"] = cin * rng.choice([1, 2])  # depthwise written as a grouped conv
    if kind in ("depthwise", "separable"):
        case["depth_multiplier"] = rng.choice([1, 1, 2, 3])
    if kind == "separable":
        case["out_channels"] = rng.choice(channel_pool)
        case["depthwise_bias"] = rng.random() < (0.2 if convention == "keras" else 0.7)
        case["pointwise_bias"] = rng.random() < 0.7
    else:
        case["bias"] = rng.random() < 0.7
    case["stride"] = [rng.choice([1, 1, 2, 3]) for _ in range(dims)]
    if rng.random() < 0.5:
        case["stride"] = [case["stride"][0]] * dims
    case["dilation"] = (
        [1] * dims if rng.random() < 0.6 else [rng.choice([1, 2, 3]) for _ in range(dims)]
    )
    size = [rng.choice([1, 2, 3, 5, 7, 8, 11, 16]) for _ in range(dims)]
    case["input_size"] = size
    roll = rng.random()
    if dims == 1 and roll < 0.1:
        case["padding"] = "causal"  # Keras's Conv1D only
    elif roll < 0.35:
        case["padding"] = "valid"
    elif roll < 0.7:
        case["padding"] = "same"
    else:
        case["padding"] = [rng.choice([0, 1, 2, 3]) for _ in range(dims)]
    if kind == "transpose" and rng.random() < 0.5:
        case["output_padding"] = [rng.choice([0, 0, 1, 2]) for _ in range(dims)]
    return case


def edge(kind: str, convention: str, **fields: Any) -> Case:
    """A hand-picked case: ``fields`` over small defaults (dims from input_size)."""
    dims = len(fields.get("input_size", [8, 8]))
    case: Case = {
        "kind": kind,
        "convention": convention,
        "dims": dims,
        "kernel_size": [3] * dims,
        "in_channels": 4,
        "stride": [1] * dims,
        "dilation": [1] * dims,
        "padding": "valid" if convention == "keras" else [0] * dims,
        "input_size": [8] * dims,
    }
    if kind in ("conv", "transpose"):
        case.update(out_channels=4, groups=1, bias=True)
    elif kind == "depthwise":
        case.update(depth_multiplier=1, bias=True)
    else:
        case.update(
            out_channels=4,
            depth_multiplier=1,
            depthwise_bias=convention == "torch",
            pointwise_bias=True,
        )
    case.update(fields)
    return case


def convcount_outcome(case: Case) -> Outcome:
    import convcount

    options = {k: v for k, v in case.items() if k != "kind"}
    try:
        report = convcount.count(convcount.make_layer(case["kind"], **options))
    except convcount.ConvcountError as error:
        return Outcome(refused=str(error))
    return Outcome(params=report.total, output_size=report.output_size, macs=report.macs)


# --- PyTorch ----------------------------------------------------------------------


def torch_module(torch: Any, case: Case, device: str = "cpu") -> Any:
    nn = torch.nn
    d = case["dims"]
    conv = getattr(nn, f"Conv{d}d")
    k, cin = tuple(case["kernel_size"]), case["in_channels"]
    stride, dilation = tuple(case["stride"]), tuple(case["dilation"])
    padding = case["padding"] if isinstance(case["padding"], str) else tuple(case["padding"])
    kind = case["kind"]
    if kind == "conv":
        return conv(
            cin,
            case["out_channels"],
            k,
            stride,
            padding,
            dilation,
            case["groups"],
            case["bias"],
            device=device,
        )
    if kind == "depthwise":
        mid = cin * case["depth_multiplier"]
        return conv(
            cin, mid, k, stride, padding, dilation, groups=cin, bias=case["bias"], device=device
        )
    if kind == "separable":
        mid = cin * case["depth_multiplier"]
        return nn.Sequential(
            conv(
                cin,
                mid,
                k,
                stride,
                padding,
                dilation,
                groups=cin,
                bias=case["depthwise_bias"],
                device=device,
            ),
            conv(mid, case["out_channels"], 1, bias=case["pointwise_bias"], device=device),
        )
    transposed = getattr(nn, f"ConvTranspose{d}d")
    output_padding = tuple(case.get("output_padding") or (0,) * d)
    return transposed(
        cin,
        case["out_channels"],
        k,
        stride,
        padding,
        output_padding,
        case["groups"],
        case["bias"],
        dilation,
        device=device,
    )


def torch_outcome(torch: Any, case: Case, *, device: str = "cpu") -> Outcome:
    """Build and run the layer; a refusal at either step is a refusal."""
    from torch.utils.flop_counter import FlopCounterMode

    try:
        module = torch_module(torch, case, device)
        x = torch.zeros(1, case["in_channels"], *case["input_size"], device=device)
        with FlopCounterMode(display=False) as counter:
            y = module(x)
    except (ValueError, RuntimeError, TypeError) as error:
        return Outcome(refused=f"{type(error).__name__}: {error}")
    if min(y.shape[2:]) < 1:
        # A transposed layer may compute an empty output; convcount refuses any
        # size below 1 (README, "Verified against the real frameworks").
        return Outcome(refused=f"PyTorch returns an empty output of {tuple(y.shape[2:])}")
    params = sum(p.numel() for p in module.parameters())
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return Outcome(params=params, output_size=tuple(y.shape[2:]), macs=flops // 2)


# --- Keras ------------------------------------------------------------------------


def keras_expressible(case: Case) -> bool:
    """Whether one Keras layer has these numbers (convcount notes the others)."""
    if case["kind"] in ("depthwise", "separable") and case["dims"] == 3:
        return False  # Keras has no DepthwiseConv3D / SeparableConv3D
    return not (case["kind"] == "separable" and case["depthwise_bias"])


def keras_layer(keras: Any, case: Case) -> Any:
    layers = keras.layers
    d, kind = case["dims"], case["kind"]
    common = {
        "kernel_size": tuple(case["kernel_size"]),
        "strides": tuple(case["stride"]),
        "padding": case["padding"] if isinstance(case["padding"], str) else tuple(case["padding"]),
        "dilation_rate": tuple(case["dilation"]),
    }
    if kind == "conv":
        return getattr(layers, f"Conv{d}D")(
            case["out_channels"], groups=case["groups"], use_bias=case["bias"], **common
        )
    if kind == "depthwise":
        return getattr(layers, f"DepthwiseConv{d}D")(
            depth_multiplier=case["depth_multiplier"], use_bias=case["bias"], **common
        )
    if kind == "separable":
        return getattr(layers, f"SeparableConv{d}D")(
            case["out_channels"],
            depth_multiplier=case["depth_multiplier"],
            use_bias=case["pointwise_bias"],
            **common,
        )
    extra = {}
    if case.get("output_padding") is not None:
        extra["output_padding"] = tuple(case["output_padding"])
    if case["groups"] != 1:
        extra["groups"] = case["groups"]  # Conv*DTranspose has no such argument: a refusal
    return getattr(layers, f"Conv{d}DTranspose")(
        case["out_channels"], use_bias=case["bias"], **common, **extra
    )


def keras_outcome(keras: Any, case: Case) -> Outcome:
    """Construct, build and ask compute_output_shape; a refusal at any step is one."""
    import warnings

    shape = (1, *case["input_size"], case["in_channels"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = keras_layer(keras, case)
            output = layer.compute_output_shape(shape)
            layer.build(shape)
    except (ValueError, TypeError, AttributeError) as error:
        # AttributeError: a transposed layer takes integer padding at construction,
        # then fails on it in compute_output_shape. Either way Keras refuses it.
        return Outcome(refused=f"{type(error).__name__}: {error}")
    spatial = tuple(int(v) for v in output[1:-1])
    if min(spatial) < 1:
        return Outcome(refused=f"output size {spatial} below 1")
    return Outcome(params=int(layer.count_params()), output_size=spatial)
