"""`python benchmarks` says ok or missed for each target and fails when one is missed.

The benchmarks run here at toy sizes, with targets set out of reach and then
within reach: the point is the verdicts and the exit code, not the figures.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"
QUICK = {
    "startup.py": ["--rounds", "1", "--warmup", "0"],
    "throughput.py": ["--rows", "300", "--small", "100", "--repeat", "1", "--torch-sample", "0"],
    "models.py": ["--rounds", "1", "--models", "keras/mobilenet"],
    "onnx_files.py": ["--rounds", "1", "--megabytes", "1"],
    "files.py": [
        "--rounds",
        "1",
        "--files",
        str(Path(__file__).parent / "files" / "keras" / "shared.keras"),
    ],
}
OUT_OF_REACH = {
    "startup.py": [*QUICK["startup.py"], "--slowdown", "1000"],
    "throughput.py": [*QUICK["throughput.py"], "--min-rate", "1e12", "--max-memory-ratio", "0"],
}
WITHIN_REACH = {
    "throughput.py": [*QUICK["throughput.py"], "--min-rate", "1", "--max-memory-ratio", "1000"],
}


def run_all(extra: dict[str, list[str]]) -> int:
    """benchmarks/__main__.py's run_all over the scripts in ``extra``, with their arguments."""
    spec = importlib.util.spec_from_file_location("benchmarks_main", BENCHMARKS / "__main__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return int(module.run_all(tuple(extra), extra))


def test_a_missed_target_is_said_and_fails(capfd: pytest.CaptureFixture[str]) -> None:
    assert run_all(OUT_OF_REACH) == 1
    out = capfd.readouterr().out
    assert out.count("over target") == 3 + 1  # three start-up ratios and the memory ratio
    assert "below target: >= 1,000,000,000,000" in out
    assert " ok" not in out
    assert out.splitlines()[-1] == "below target: startup.py, throughput.py missed a target"


def test_every_target_met_is_ok(capfd: pytest.CaptureFixture[str]) -> None:
    assert run_all({"throughput.py": WITHIN_REACH["throughput.py"]}) == 0
    out = capfd.readouterr().out
    assert out.count("  ok: ") == 2 and "below" not in out and "over" not in out
    assert out.splitlines()[-1] == "every target met"


def test_the_model_benchmark_says_ok_or_over_target(capfd: pytest.CaptureFixture[str]) -> None:
    far = [*QUICK["models.py"], "--json-target", "0.001", "--table-target", "0.001"]
    assert run_all({"models.py": far}) == 1
    out = capfd.readouterr().out
    assert out.count("over target") == 2 and " ok" not in out
    near = [*QUICK["models.py"], "--json-target", "1000", "--table-target", "1000"]
    assert run_all({"models.py": near}) == 0
    out = capfd.readouterr().out
    assert out.count("(target <= 1000.0x: ok)") == 2


def test_the_model_file_benchmark_says_ok_or_over_target(
    capfd: pytest.CaptureFixture[str],
) -> None:
    far = [*QUICK["files.py"], "--json-target", "0.001", "--table-target", "0.001"]
    assert run_all({"files.py": far}) == 1
    out = capfd.readouterr().out
    assert out.count("over target") == 2 and " ok" not in out
    near = [*QUICK["files.py"], "--json-target", "1000", "--table-target", "1000"]
    assert run_all({"files.py": near}) == 0


def test_the_onnx_file_benchmark_says_ok_or_over_target(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """One run (each costs seconds): a target out of reach is said and fails."""
    assert run_all({"onnx_files.py": [*QUICK["onnx_files.py"], "--target", "0.001"]}) == 1
    out = capfd.readouterr().out
    assert out.count("(target <= 0.0x: over target)") == 1 and " ok" not in out
