"""Every benchmark in one command: `python benchmarks` (from the repository root).

Runs startup.py, throughput.py, models.py, files.py and onnx_files.py with their
defaults; each prints its figures as ratios measured side by side in the same run, and `ok`, `below
target` or `over target` for each target. All always run; the exit code is 1 when any
missed a target (or failed), and a last line says which.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

SCRIPTS = ("startup.py", "throughput.py", "models.py", "files.py", "onnx_files.py")


def run_all(scripts: tuple[str, ...] = SCRIPTS, extra: dict[str, list[str]] | None = None) -> int:
    """Run each benchmark in turn; 1 if any of them missed a target."""
    missed = []
    for script in scripts:
        args = (extra or {}).get(script, [])
        print(f"$ python benchmarks/{script}{''.join(' ' + a for a in args)}", flush=True)
        if subprocess.run([sys.executable, str(HERE / script), *args], check=False).returncode:
            missed.append(script)
    if missed:
        print(f"below target: {', '.join(missed)} missed a target")
        return 1
    print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(run_all())
