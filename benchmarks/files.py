"""Model files with their weights: `convcount model FILE` against `import typer`.

    python benchmarks/files.py              # 15 interleaved rounds
    python benchmarks/files.py --rounds 40
    python benchmarks/files.py --files my.keras other.h5

The files are made once (with Keras, KERAS_BACKEND=torch, from the 'frameworks'
extra) and kept in the temporary directory: keras.applications.ResNet50 with
its weights (25.6 million, ~100 MB) saved as `.keras` and as legacy `.h5`.
Each round runs `python -c "import typer"` and then, for each file, `convcount
model FILE --json` and the table, in turn, so that drift in the machine's speed
touches all of them alike. Target (issue 17): a 100 MB `.keras` summarised
within 2.0x the bare import (`--json`; the table within 3.0x, as for the zoo).
Each figure ends in `ok` or `over target`; the exit code is 1 when one is missed.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import convcount

TARGETS = {"--json": 2.0, "table": 3.0}
MAKE = """
import sys
import keras
model = keras.applications.ResNet50(weights=None)
model.save(sys.argv[1])
model.save(sys.argv[2])
"""


def files() -> list[Path]:
    """The benchmark's model files, made with Keras when they are not there yet."""
    folder = Path(tempfile.gettempdir()) / "convcount-benchmark-files"
    folder.mkdir(exist_ok=True)
    made = [folder / "resnet50.keras", folder / "resnet50.h5"]
    if not all(path.exists() for path in made):
        print(f"making {', '.join(map(str, made))} with Keras (once)", flush=True)
        env = {**os.environ, "KERAS_BACKEND": "torch", "KERAS_TORCH_DEVICE": "cpu"}
        subprocess.run(
            [sys.executable, "-c", MAKE, *map(str, made)],
            env=env,
            check=True,
            stderr=subprocess.DEVNULL,
        )
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json-target", type=float, default=TARGETS["--json"])
    parser.add_argument("--table-target", type=float, default=TARGETS["table"])
    parser.add_argument(
        "--files", nargs="+", type=Path, help="model files to time instead of the made ones"
    )
    args = parser.parse_args()
    targets = {"--json": args.json_target, "table": args.table_target}
    paths = args.files or files()
    script = str(Path(sys.executable).with_name("convcount"))
    compileall.compile_dir(str(Path(convcount.__file__).parent), quiet=1)
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    commands: dict[str, list[str]] = {"import typer": [sys.executable, "-c", "import typer"]}
    for path in paths:
        size = f"{path.name} ({path.stat().st_size / 1e6:.0f} MB)"
        commands[f"{size} --json"] = [script, "model", str(path), "--json"]
        commands[f"{size} table"] = [script, "model", str(path)]
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
            f"convcount model {label:<32} {statistics.median(samples) * 1000:7.1f} ms = "
            f"{ratio:4.2f}x  (target <= {target:.1f}x: {verdict})"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
