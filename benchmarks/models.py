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
import sys
from pathlib import Path

from timing import report, run_rounds

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
    times = run_rounds(commands, args.rounds, env)
    missed = report(
        times,
        lambda label: targets["--json" if label.endswith("--json") else "table"],
        prefix="convcount model ",
        width=36,
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
