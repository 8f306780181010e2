"""Start-up of `convcount model` on the largest shipped networks, against `import typer`.

    python benchmarks/models.py              # 15 interleaved rounds
    python benchmarks/models.py --rounds 40

Each round runs `python -c "import typer"` and then, for each of the largest
networks of both zoos, `convcount model NAME --json` and the table (piped, so
the whole table is drawn), in turn, so that drift in the machine's speed
touches all of them alike. The median of each is compared with the median of
the bare import in the same run. Targets (issues 11, 12 and 18): `--json` within
2.0x and the table within 3.0x. Each figure ends in `ok` or `over target`, and
the exit code is 1 when one is missed.
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

MODELS = (
    "keras/nasnetlarge",
    "keras/efficientnetb7",
    "keras/convnextxlarge",
    "torchvision/regnet_y_128gf",
    "torchvision/efficientnet_v2_l",
    "torchvision/vit_h_14",
    "torchvision/swin_v2_b",
)
TARGETS = {"--json": 2.0, "table": 3.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--models", nargs="+", default=list(MODELS), help="shipped names to time")
    parser.add_argument("--json-target", type=float, default=TARGETS["--json"])
    parser.add_argument("--table-target", type=float, default=TARGETS["table"])
    args = parser.parse_args()
    targets = {"--json": args.json_target, "table": args.table_target}
    script = str(Path(sys.executable).with_name("convcount"))
    compileall.compile_dir(str(Path(convcount.__file__).parent), quiet=1)
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    commands: dict[str, list[str]] = {"import typer": [sys.executable, "-c", "import typer"]}
    for name in args.models:
        commands[f"{name} --json"] = [script, "model", name, "--json"]
        commands[f"{name} table"] = [script, "model", name]
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm the file cache, and check each runs
        subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=True)
    for _ in range(args.rounds):
        for label, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=True)
            times[label].append(time.perf_counter() - start)
    base = statistics.median(times["import typer"])
    print(f"python -c 'import typer': {base * 1000:.1f} ms (median of {args.rounds})")
    missed = 0
    for label, samples in times.items():
        if label == "import typer":
            continue
        target = targets["--json" if label.endswith("--json") else "table"]
        ratio = statistics.median(samples) / base
        verdict = "ok" if ratio <= target else "over target"
        missed += verdict != "ok"
        print(
            f"convcount model {label:<36} {statistics.median(samples) * 1000:7.1f} ms = "
            f"{ratio:4.2f}x  (target <= {target:.1f}x: {verdict})"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
