"""The README's examples print what the README says they print."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import convcount

from .conftest import run

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _blocks() -> list[str]:
    return re.findall(r"```(?:\w*)\n(.*?)```", README, flags=re.S)


def test_the_flagship_table_in_the_readme_is_current() -> None:
    expected = next(b for b in _blocks() if b.startswith("separable 2-D"))
    actual = run("separable", "-k", "3", "-i", "10", "-o", "32").stdout

    def strip(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip().splitlines()]

    assert strip(actual) == strip(expected)


def test_commented_quiet_examples() -> None:
    checked = 0
    for line in README.splitlines():
        match = re.match(r"convcount (.*) -q\s+# (\d+)", line)
        if match:
            assert run(*shlex.split(match.group(1)), "-q").stdout == f"{match.group(2)}\n", line
            checked += 1
    assert checked >= 4


def test_every_command_example_runs() -> None:
    for line in README.splitlines():
        if line.startswith("convcount ") and "-k" in line and " K " not in line:
            args = shlex.split(line.split("#")[0])[1:]
            assert run(*args).exit_code == 0, line


def _transcripts() -> list[tuple[dict[str, str], list[str], str]]:
    """(environment, arguments, printed text) of each ``$ [VAR=N] convcount ...`` in a block."""
    found = []
    for block in _blocks():
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, printed = chunk.partition("\n")
            words = shlex.split(command)
            env = dict(w.split("=", 1) for w in words if "=" in w and w.split("=")[0].isupper())
            words = words[len(env) :]
            if words[:1] == ["convcount"]:
                found.append((env, words[1:], printed))
    return found


def test_error_examples() -> None:
    errors = [(args, text) for _, args, text in _transcripts() if text.startswith("convcount: ")]
    assert len(errors) >= 4
    for args, text in errors:
        result = run(*args)
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", text), args


def test_the_output_examples_are_current() -> None:
    shown = [(env, args, text) for env, args, text in _transcripts() if "COLUMNS" in env]
    assert len(shown) >= 2, "the README shows a table at a set width"
    for env, args, text in shown:
        result = run(*args, env=env)
        assert (result.exit_code, result.stdout) == (0, text), args


def test_the_exit_code_table_is_the_clis() -> None:
    from convcount.cli import EXIT_CODES

    section = README[README.index("### Exit codes") :]
    rows = re.findall(r"^\| (\d+) \| (.*) \|$", section, flags=re.M)[: len(EXIT_CODES)]
    assert [(int(code), text) for code, text in rows] == list(EXIT_CODES)


def test_python_api_example() -> None:
    r = convcount.conv(
        kernel_size=3, in_channels=3, out_channels=32, input_size=224, stride=2, padding="same"
    )
    assert f"# {(r.output_size, r.macs, r.flops)}" in README
    terms = [
        (t.name, t.formula, t.count)
        for t in convcount.separable(kernel_size=3, in_channels=10, out_channels=32).terms
    ]
    assert f"# {terms}" in README


def test_the_sweep_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    import subprocess
    import sys

    found = re.search(
        r"```sh\n(\{ echo layer.*?)```\n\nprints the first rows:\n\n```\n(.*?)```", README, re.S
    )
    assert found is not None, "the sweep example is missing from the README"
    script, shown = found.groups()
    bin_dir = Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout == shown


def test_the_zoo_table() -> None:
    rows = re.findall(r"\| `([\w/-]+)` \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|", README)
    assert len(rows) >= 10, "the README's table of shipped models is missing"
    for name, total, trainable, macs in rows:
        data = json.loads(run("model", name, "--json").stdout)
        numbers = (data["total_params"], data["trainable_params"], data["macs"])
        assert numbers == tuple(int(v.replace(",", "")) for v in (total, trainable, macs))
