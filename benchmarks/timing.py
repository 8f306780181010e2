"""Side-by-side timing shared by the start-up benchmarks of whole networks and files.

Every round runs each command once, in turn, so that a machine's slow moments
fall on all of them alike; medians are then compared with the first command's
(a bare ``python -c "import typer"``).
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable


def run_rounds(
    commands: dict[str, list[str]], rounds: int, env: dict[str, str]
) -> dict[str, list[float]]:
    """Seconds per run of each command, ``rounds`` times, after one warm-up run each
    (which also checks that every command succeeds)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=True)
    for _ in range(rounds):
        for label, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=True)
            times[label].append(time.perf_counter() - start)
    return times


def report(
    times: dict[str, list[float]],
    target_of: Callable[[str], float | None],
    *,
    prefix: str = "",
    width: int = 36,
) -> int:
    """Print each command's median and its ratio to the first command's, with a verdict
    where ``target_of(label)`` gives a target; the number of targets missed."""
    base_label, *labels = times
    base = statistics.median(times[base_label])
    print(f"python -c '{base_label}': {base * 1000:.1f} ms (median of {len(times[base_label])})")
    missed = 0
    for label in labels:
        median = statistics.median(times[label])
        ratio = median / base
        line = f"{prefix}{label:<{width}} {median * 1000:7.1f} ms = {ratio:4.2f}x"
        target = target_of(label)
        if target is not None:
            verdict = "ok" if ratio <= target else "over target"
            missed += verdict != "ok"
            line += f"  (target <= {target:.1f}x: {verdict})"
        print(line)
    return missed
