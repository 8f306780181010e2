"""Every benchmark in one command: `python benchmarks` (from the repository root).

Runs startup.py and then throughput.py with their defaults; each prints its
figures as ratios measured side by side in the same run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

if __name__ == "__main__":
    for script in ("startup.py", "throughput.py"):
        print(f"$ python benchmarks/{script}", flush=True)
        subprocess.run([sys.executable, str(HERE / script)], check=True)
