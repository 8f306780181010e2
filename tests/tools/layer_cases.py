"""Single layers for ``--count-as`` on the layer commands: what each tool prints for
the layer's PyTorch equivalent, and the comparison with convcount's figures.

Shared by ``capture_layer_tools.py`` (which records the tools' figures for many
layers in ``layer_tools.json``), ``test_layer_tools.py`` (which compares
convcount with that record) and ``tests/frameworks/test_layer_tools_live.py``
(which runs the tools again in CI on a few layers). The PyTorch modules are
built from the code convcount prints as the layer's PyTorch equivalent (the
``counted`` field of ``--count-as``), and checked to be the layer: the same
parameters and output shape.
"""

from __future__ import annotations

import re
from typing import Any

#: Layers run live in CI (kind, fields as ``make_layer`` takes them): 1-, 2- and 3-D,
#: grouped, with and without bias, stride, padding, dilation, output_padding, both
#: conventions, Keras's padding that PyTorch writes with F.pad.
LIVE: list[tuple[str, dict[str, Any]]] = [
    ("conv", {"kernel_size": 3, "in_channels": 6, "out_channels": 8, "input_size": 9,
              "stride": 2, "padding": "same"}),
    ("conv", {"kernel_size": 3, "in_channels": 4, "out_channels": 6, "input_size": 12,
              "dims": 1, "padding": "causal", "dilation": 2, "bias": False}),
    ("conv", {"kernel_size": "3x2x3", "in_channels": 4, "out_channels": 8, "groups": 2,
              "input_size": "5x6x7", "stride": "2x1x2", "padding": "1x0x1",
              "convention": "torch", "bias": False}),
    ("conv", {"kernel_size": 4, "in_channels": 3, "out_channels": 5, "input_size": "10x11",
              "padding": "same", "dilation": 2, "dtype": "float64"}),
    ("depthwise", {"kernel_size": 3, "in_channels": 4, "depth_multiplier": 2,
                   "input_size": 11, "stride": 2}),
    ("depthwise", {"kernel_size": 3, "in_channels": 5, "input_size": 16, "dims": 1,
                   "padding": 2, "dilation": 2, "convention": "torch"}),
    ("separable", {"kernel_size": 3, "in_channels": 10, "out_channels": 32, "input_size": 32}),
    ("separable", {"kernel_size": 3, "in_channels": 3, "out_channels": 6, "input_size": 6,
                   "dims": 3, "depth_multiplier": 2, "padding": 1, "convention": "torch",
                   "pointwise_bias": False}),
    ("separable", {"kernel_size": 5, "in_channels": 4, "out_channels": 8, "input_size": 15,
                   "dims": 1, "stride": 2, "padding": "same", "depthwise_bias": True}),
    ("transpose", {"kernel_size": 3, "in_channels": 4, "out_channels": 6, "groups": 2,
                   "input_size": "5x6", "stride": 2, "padding": 1, "output_padding": 1,
                   "dilation": 2, "convention": "torch"}),
    ("transpose", {"kernel_size": 3, "in_channels": 4, "out_channels": 6,
                   "input_size": "7x9", "stride": 2, "padding": "same"}),
    ("transpose", {"kernel_size": "2x3x2", "in_channels": 3, "out_channels": 4,
                   "input_size": 4, "stride": "2x1x3", "bias": False}),
]  # fmt: skip

TOOL_KEYS = {
    "flop_counter": "flop_counter",
    "torchinfo": "torchinfo",
    "fvcore": "fvcore",
    "ptflops": "ptflops_aten",
    "ptflops-pytorch": "ptflops_pytorch",
    "thop": "thop",
}


def torchinfo_memory(captured: dict[str, Any]) -> dict[str, int]:
    """torchinfo's memory figures as ``--count-as`` records them, from a capture."""
    parts = ("input_bytes", "forward_backward_bytes", "param_bytes")
    memory = {part: captured[part] for part in parts}
    return {**memory, "total_bytes": sum(memory.values())}


def case_name(kind: str, fields: dict[str, Any]) -> str:
    """The case as the command line that counts it."""
    return " ".join([kind, *arguments(fields)])


def arguments(fields: dict[str, Any]) -> list[str]:
    """The fields as command-line options."""
    args: list[str] = []
    for name, value in fields.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            args.append(flag if value else f"--no-{flag[2:]}")
        else:
            args += [flag, str(value)]
    return args


def equivalent(counted: str) -> Any:
    """The PyTorch module that ``counted`` (``F.pad(x, (...)) + nn.Conv2d(...) + ...``)
    writes: ``body`` holds the modules, ``forward`` pads first where it says so."""
    import torch.nn.functional as F  # PyTorch's own spelling, as printed
    from torch import nn

    parts = counted.split(" + ")
    pad: tuple[int, ...] | None = None
    if parts[0].startswith("F.pad("):
        numbers = re.fullmatch(r"F\.pad\(x, \(([\d, ]+)\)\)", parts.pop(0))
        assert numbers, counted
        pad = tuple(int(n) for n in numbers.group(1).split(","))
    modules = [eval(code, {"nn": nn}) for code in parts]  # convcount's own output

    class Equivalent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(*modules)

        def forward(self, x: Any) -> Any:
            return self.body(F.pad(x, pad) if pad else x)

    return Equivalent()


def measure(model: Any, x: Any) -> dict[str, Any]:
    """What each tool prints for ``model`` on ``x`` (batch 1), as compared below."""
    import torch

    from tests.tools.capture_tools import (
        tool_flop_counter,
        tool_fvcore,
        tool_ptflops,
        tool_thop,
        tool_torchinfo,
    )

    model.eval()
    with torch.no_grad():
        info = tool_torchinfo(model, x)
        fvcore = tool_fvcore(model, x)
        thop = tool_thop(model, x)
        return {
            "params": sum(p.numel() for p in model.parameters()),
            "output_shape": list(model(x).shape[1:]),
            "flop_counter": tool_flop_counter(model, x),
            "torchinfo": {
                key: info[key]
                for key in (
                    "total_params",
                    "trainable_params",
                    "total_mult_adds",
                    "input_bytes",
                    "forward_backward_bytes",
                    "param_bytes",
                    "printed",
                )
            }
            # per leaf call, in order: mult-adds of those that own parameters
            | {"layers": [layer[4] for layer in info["layers"] if layer[3]]},
            "fvcore": {
                "total": fvcore["total"],
                "by_leaf_module": fvcore["by_leaf_module"],
            },
            "ptflops_aten": tool_ptflops(model, x, "aten"),
            "ptflops_pytorch": tool_ptflops(model, x, "pytorch"),
            "thop": thop,
        }


def compare(records: dict[str, dict[str, Any]], quiet: list[int], truth: dict[str, Any]) -> None:
    """convcount's records (one per tool, as ``--count-as TOOL --json`` prints them) and
    the totals of ``--count-as all -q`` against what the tools printed."""
    assert records["flop_counter"]["total"] == truth["flop_counter"]["macs"]
    assert records["flop_counter"]["params"] == truth["params"]

    info, expected = records["torchinfo"], truth["torchinfo"]
    assert info["total"] == expected["total_mult_adds"]
    assert info["params"] == expected["total_params"]
    assert info["memory"] == torchinfo_memory(expected)
    assert info["printed"] == expected["printed"]
    # per module (the pad is a function: torchinfo lists nothing for it)
    assert [r["figure"] for r in info["layers"] if r["name"] != "pad"] == expected["layers"]

    fv = records["fvcore"]
    assert fv["total"] == truth["fvcore"]["total"]
    assert [r["figure"] for r in fv["layers"] if r["figure"]] == list(
        truth["fvcore"]["by_leaf_module"].values()
    )

    for tool in ("ptflops", "ptflops-pytorch"):
        key = TOOL_KEYS[tool]
        assert (records[tool]["total"], records[tool]["params"]) == (
            truth[key]["macs"],
            truth[key]["params"],
        ), tool

    th = records["thop"]
    assert (th["total"], th["params"]) == (truth["thop"]["macs"], truth["thop"]["params"])
    assert th["printed"] == {
        "MACs": repr(float(truth["thop"]["macs"])),
        "params": repr(float(truth["thop"]["params"])),
    }
    assert [r["figure"] for r in th["layers"] if r["figure"]] == list(
        truth["thop"]["by_leaf_module"].values()
    )

    assert quiet == [
        truth["flop_counter"]["macs"],
        expected["total_mult_adds"],
        truth["fvcore"]["total"],
        truth["ptflops_aten"]["macs"],
        truth["ptflops_pytorch"]["macs"],
        truth["thop"]["macs"],
    ]
