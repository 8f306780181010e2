"""Throughput and memory of `convcount batch`, side by side in one run.

    python benchmarks/throughput.py            # 1,000,000 layers (and 10,000 for memory)
    python benchmarks/throughput.py --rows 200000

Generates seeded JSON Lines layers (mixed kinds, about half with an input size
and stride/padding), runs `convcount batch FILE > /dev/null` on them, and
prints:

* layers per second end to end (target: 100,000 or more on this machine),
* the rate of counting the same layers with PyTorch modules on the meta device
  (parameters, and a forward pass under FlopCounterMode for sized layers),
  when torch is installed, on a sample,
* peak resident memory (largest process of the run, workers included) of the
  full run against a 10,000-line run (target: within 1.2x).

Each target line ends in `ok`, `below target` or `over target`, and the exit
code is 1 when any target is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KINDS = ("conv", "depthwise", "separable", "transpose")
WIDTHS = (
    8,
    16,
    24,
    32,
    40,
    48,
    64,
    80,
    96,
    112,
    128,
    160,
    192,
    256,
    320,
    384,
    512,
    576,
    768,
    960,
    1024,
)


def generate(rows: int, seed: int) -> list[dict[str, Any]]:
    """Layers as a sweep produces them: realistic kernels, widths and resolutions."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for _ in range(rows):
        kind = rng.choice(KINDS)
        cin = rng.choice(WIDTHS)
        row: dict[str, Any] = {
            "layer": kind,
            "kernel_size": rng.choice((1, 3, 3, 5, 7)),
            "in_channels": cin,
        }
        if kind == "depthwise":
            row["depth_multiplier"] = rng.choice((1, 1, 2))
        else:
            row["out_channels"] = rng.choice(WIDTHS)
        if kind == "separable" and rng.random() < 0.3:
            row["convention"] = "torch"
        if kind == "conv" and rng.random() < 0.3:
            row["groups"] = rng.choice((1, 2, 4, 8))
            row["out_channels"] = row["groups"] * rng.choice((8, 16, 32))
        if rng.random() < 0.5:
            row["input_size"] = rng.choice((7, 14, 28, 56, 112, 224))
            row["stride"] = rng.choice((1, 2))
            if row.get("convention") == "torch":
                row["padding"] = row["kernel_size"] // 2  # PyTorch's 'same' needs stride 1
            else:
                row["padding"] = rng.choice(("valid", "same"))
        out.append(row)
    return out


def write(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def run_batch(path: Path, convcount: str) -> tuple[float, int, int]:
    """(seconds, exit code, peak RSS in KiB of the largest process) of one run."""
    code = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "with open('/dev/null', 'w') as sink:\n"
        "    done = subprocess.run(sys.argv[1:], stdout=sink)\n"
        "elapsed = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(elapsed, done.returncode, peak)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, convcount, "batch", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


def torch_rate(rows: list[dict[str, Any]]) -> float | None:
    """Layers per second counted with PyTorch modules on the meta device."""
    try:
        import torch
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        return None
    nn = torch.nn

    def module(row: dict[str, Any]) -> Any:
        k, cin = row["kernel_size"], row["in_channels"]
        stride = row.get("stride", 1)
        padding = row["padding"] if isinstance(row.get("padding"), int) else 0
        if row.get("padding") == "same":
            padding = k // 2
        if row["layer"] == "conv":
            return nn.Conv2d(
                cin,
                row["out_channels"],
                k,
                stride,
                padding,
                groups=row.get("groups", 1),
                device="meta",
            )
        if row["layer"] == "depthwise":
            return nn.Conv2d(
                cin, cin * row["depth_multiplier"], k, stride, padding, groups=cin, device="meta"
            )
        if row["layer"] == "separable":
            return nn.Sequential(
                nn.Conv2d(cin, cin, k, stride, padding, groups=cin, device="meta"),
                nn.Conv2d(cin, row["out_channels"], 1, device="meta"),
            )
        return nn.ConvTranspose2d(cin, row["out_channels"], k, stride, device="meta")

    start = time.perf_counter()
    for row in rows:
        layer = module(row)
        sum(p.numel() for p in layer.parameters())
        if "input_size" in row:
            x = torch.zeros(
                1, row["in_channels"], row["input_size"], row["input_size"], device="meta"
            )
            with FlopCounterMode(display=False) as counter:
                layer(x)
            counter.get_total_flops()
    return len(rows) / (time.perf_counter() - start)


def main() -> int:
    """Measure, print a verdict per target, and return 1 when any target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--min-rate", type=float, default=100_000, help="target layers/s")
    parser.add_argument(
        "--max-memory-ratio", type=float, default=1.20, help="target peak RSS, big / small run"
    )
    parser.add_argument("--small", type=int, default=10_000, help="rows of the memory baseline run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median is printed")
    parser.add_argument("--torch-sample", type=int, default=5_000)
    args = parser.parse_args()
    convcount = shutil.which("convcount") or str(Path(sys.executable).with_name("convcount"))

    with tempfile.TemporaryDirectory() as tmp:
        rows = generate(args.rows, seed=1)
        big, small = Path(tmp) / "big.jsonl", Path(tmp) / "small.jsonl"
        write(rows, big)
        write(rows[: args.small], small)
        unique = len({json.dumps(r, sort_keys=True) for r in rows})
        print(
            f"input: {args.rows:,} layers ({unique / args.rows:.0%} distinct), "
            f"{big.stat().st_size / 1e6:.0f} MB"
        )

        runs = [run_batch(big, convcount) for _ in range(args.repeat)]
        smalls = [run_batch(small, convcount) for _ in range(args.repeat)]
        assert all(code == 0 for _, code, _ in runs + smalls), "convcount batch failed"
        seconds = statistics.median(s for s, _, _ in runs)
        rate = args.rows / seconds
        rate_ok = rate >= args.min_rate
        print(
            f"convcount batch: {rate:,.0f} layers/s ({seconds:.2f} s, median of {args.repeat})"
            f"  {verdict(rate_ok, 'below')}: >= {args.min_rate:,.0f}"
        )

        measured = torch_rate(rows[: args.torch_sample]) if args.torch_sample else None
        if measured is None:
            print("PyTorch (meta device): not installed or not asked for")
        else:
            print(
                f"PyTorch modules on the meta device: {measured:,.0f} layers/s"
                f"  ->  convcount is {rate / measured:,.0f}x"
            )

        peak_big = statistics.median(p for _, _, p in runs)
        peak_small = statistics.median(p for _, _, p in smalls)
        ratio = peak_big / peak_small
        memory_ok = ratio <= args.max_memory_ratio
        print(
            f"peak RSS: {peak_big / 1024:.1f} MiB for {args.rows:,} rows"
            f" vs {peak_small / 1024:.1f} MiB for {args.small:,}: {ratio:.2f}x"
            f"  {verdict(memory_ok, 'over')}: <= {args.max_memory_ratio:.2f}x"
        )
    return 0 if rate_ok and memory_ok else 1


def verdict(ok: bool, miss: str) -> str:
    """``ok``, or ``below target`` / ``over target``: how a figure stands against its target."""
    return "ok" if ok else f"{miss} target"


if __name__ == "__main__":
    del resource  # imported for the child process's code; kept here to document it
    sys.exit(main())
