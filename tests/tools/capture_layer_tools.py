"""Capture what torchinfo, fvcore, ptflops (both backends) and thop print for single
layers' PyTorch equivalents, for ``--count-as`` on the layer commands.

Run by hand; never imported by the package or collected by pytest. It draws
layers at random (seeded: the same file every run) over the four kinds, 1-, 2-
and 3-D, both conventions, groups, depth multipliers, biases, stride, padding
(Keras's valid, same and causal; PyTorch's zeros and "same"), dilation,
output_padding and four dtypes; builds the PyTorch module(s) convcount prints as
the layer's equivalent (``tests/tools/layer_cases.py``); runs every tool on it
and writes ``tests/tools/layer_tools.json``. Setup: the ``frameworks`` extra.

    .venv/bin/python tests/tools/capture_layer_tools.py [--cases 200]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the repository, for tests.tools

from tests.tools.layer_cases import case_name, equivalent, measure  # noqa: E402


def draw(rng: random.Random) -> tuple[str, dict[str, Any]]:
    """One layer's fields, some of which convcount will refuse (those are skipped)."""
    kind = rng.choice(["conv", "depthwise", "separable", "transpose"])
    dims = rng.choice([1, 2, 2, 3])
    convention = rng.choice(["keras", "torch"])
    top = 3 if dims == 3 else 5

    def spatial(low: int, high: int) -> str:
        return "x".join(str(rng.randint(low, high)) for _ in range(dims))

    fields: dict[str, Any] = {
        "kernel_size": spatial(1, top),
        "in_channels": rng.randint(1, 8),
        "dims": dims,
        "convention": convention,
        "input_size": spatial(3, 7 if dims == 3 else 14),
    }
    if kind != "depthwise":
        fields["out_channels"] = rng.randint(1, 8)
    if kind in ("conv", "transpose") and rng.random() < 0.4:
        groups = rng.choice([2, 3])
        fields["groups"] = groups
        fields["in_channels"] = groups * rng.randint(1, 3)
        fields["out_channels"] = groups * rng.randint(1, 3)
    if kind in ("depthwise", "separable") and rng.random() < 0.5:
        fields["depth_multiplier"] = rng.randint(2, 3)
    if rng.random() < 0.5:
        fields["stride"] = spatial(1, 3)
    if rng.random() < 0.3:
        fields["dilation"] = spatial(1, 2)
    if convention == "keras":
        choices = ["valid", "same"] + (["causal"] if kind == "conv" and dims == 1 else [])
        fields["padding"] = rng.choice(choices)
    else:
        fields["padding"] = rng.choice([spatial(0, 2), spatial(0, 2), "same", "valid"])
    if kind == "transpose" and rng.random() < 0.4:
        fields["output_padding"] = spatial(0, 1)
    for name in ("depthwise_bias", "pointwise_bias") if kind == "separable" else ("bias",):
        if rng.random() < 0.5:
            fields[name] = rng.random() < 0.5
    if rng.random() < 0.3:
        fields["dtype"] = rng.choice(["float64", "float16", "bfloat16"])
    return kind, fields


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--out", type=Path, default=HERE / "layer_tools.json")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    import fvcore
    import ptflops
    import thop
    import torch
    import torchinfo

    from convcount.counting import count
    from convcount.errors import ConvcountError
    from convcount.layers import make_layer
    from convcount.model.layer_tools import layer_network

    torch.manual_seed(0)
    rng = random.Random(19)
    cases: dict[str, Any] = {}
    while len(cases) < args.cases:
        kind, fields = draw(rng)
        try:
            report = count(make_layer(kind, **fields))
            network = layer_network(report)
        except ConvcountError:
            continue
        dtype = getattr(torch, fields.get("dtype", "float32"))
        shape = [report.layer.in_channels, *(report.layer.input_size or ())]
        model = equivalent(network.counted).to(dtype)
        truth = measure(model, torch.rand(1, *shape, dtype=dtype))
        cases[case_name(kind, fields)] = {
            "kind": kind,
            "fields": fields,
            "counted": network.counted,
            "truth": truth,
        }
        print(len(cases), case_name(kind, fields), file=sys.stderr)
    document = {
        "versions": {
            "torch": torch.__version__,
            "torchinfo": torchinfo.__version__,
            "fvcore": fvcore.__version__,
            "ptflops": getattr(ptflops, "__version__", "0.7.5"),
            "thop": thop.__version__,
            "python": sys.version.split()[0],
        },
        "cases": cases,
    }
    lines = ["{", f'"versions": {json.dumps(document["versions"], sort_keys=True)},', '"cases": {']
    for number, (name, record) in enumerate(sorted(cases.items()), start=1):
        comma = "," if number < len(cases) else ""
        body = json.dumps(record, sort_keys=True, separators=(",", ":"))
        lines.append(f"{json.dumps(name)}: {body}{comma}")
    args.out.write_text("\n".join([*lines, "}", "}"]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
