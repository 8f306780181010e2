"""Start-up time of convcount against a bare `import typer`, side by side in one run.

    python benchmarks/startup.py            # 40 interleaved rounds
    python benchmarks/startup.py --rounds 100

Each round runs every command once, in turn, so drift in the machine's speed
touches all of them alike; the median wall time of each is compared with the
median of `python -c "import typer"` in the same environment. Targets:
`--json` and `-q` at most 1.10x, the table at most 1.50x. Each prints `ok` or
`over target`, and the exit code is 1 when any target is missed.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import convcount

FLAGSHIP = ["separable", "-k", "3", "-i", "10", "-o", "32"]


def main() -> int:
    """Measure, print a verdict per target, and return 1 when any target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured rounds first")
    parser.add_argument(
        "--slowdown",
        type=float,
        default=1.0,
        help="multiply the measured ratios (to check that a miss is reported)",
    )
    args = parser.parse_args()
    script = str(Path(sys.executable).with_name("convcount"))
    # Installed packages have their bytecode compiled by pip; an editable
    # install (or PYTHONDONTWRITEBYTECODE) may not, so compile it here.
    compileall.compile_dir(str(Path(convcount.__file__).parent), quiet=1)
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    commands = {
        "import typer": [sys.executable, "-c", "import typer"],
        "--json": [script, *FLAGSHIP, "--json"],
        "-q": [script, *FLAGSHIP, "-q"],
        "table": [script, *FLAGSHIP],
    }
    targets = {"--json": 1.10, "-q": 1.10, "table": 1.50}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.warmup):  # warm the file cache
        for command in commands.values():
            subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=True)
    for _ in range(args.rounds):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=True)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["import typer"])
    print(f"python -c 'import typer': {base * 1000:.1f} ms (median of {args.rounds})")
    missed = 0
    for name, target in targets.items():
        median = statistics.median(times[name])
        ratio = median / base * args.slowdown
        print(f"convcount {' '.join(FLAGSHIP)} {name if name != 'table' else ''}".rstrip())
        status = verdict(ratio <= target, "over")
        print(f"    {median * 1000:.1f} ms = {ratio:.2f}x  {status}: <= {target:.2f}x")
        missed += ratio > target
    return 1 if missed else 0


def verdict(ok: bool, miss: str) -> str:
    """``ok``, or ``below target`` / ``over target``: how a figure stands against its target."""
    return "ok" if ok else f"{miss} target"


if __name__ == "__main__":
    sys.exit(main())
