"""The Python way in: convcount.Net, summarize, and the README's script.

The figures of the README's network are compared with PyTorch in
tests/frameworks/test_api.py; these tests check the API itself: it is
importable from convcount without loading a framework or rich, every kind is
reachable through ``net.layer``, and ``summarize`` prints what the CLI prints.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import convcount
from convcount import ConvcountError, Net, summarize
from convcount.model import graph, load_file
from convcount.model.kinds import KINDS, REQUIRED

from .conftest import run

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_script() -> str:
    section = README[README.index("### Networks in Python") :]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]


def run_readme_script() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the README's own example, run as a user would
        exec(compile(readme_script(), "README.md", "exec"), {"__name__": "readme"})
    return out.getvalue()


def test_the_readme_script_prints_what_its_comment_says() -> None:
    printed = run_readme_script().splitlines()
    assert f"# {printed[0]}" in readme_script()
    assert printed[1].startswith("tiny_unet · input 3×97×75 · torch convention")


def test_the_readme_script_imports_no_framework_and_no_rich() -> None:
    code = (
        readme_script()
        + "\nimport sys\nprint(sorted(m for m in ('torch', 'keras', 'numpy', 'rich', 'tensorflow')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines()[-1] == "[]"


def test_importing_convcount_does_not_load_the_model_package() -> None:
    code = "import convcount, sys; print('convcount.model' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
    assert convcount.Net is graph.Net
    with pytest.raises(AttributeError, match="no attribute 'Nett'"):
        _ = convcount.Nett  # type: ignore[attr-defined]  # the missing name is the point


def test_the_net_docstring_example_runs() -> None:
    failures, tried = doctest.testmod(graph, raise_on_error=False, report=True)[:2]
    assert tried >= 5
    assert failures == 0


def sample(kind: str, field: Any) -> object:
    """A legal value for a required field, from its type."""
    return {
        "int": 2,
        "ints": 1,
        "shape": [-1],
        "choice": field.choices[0] if field.choices else None,
        "pads": 1,
        "layer": "input",
    }[field.type]


#: Inputs tried in turn: a 2-D map, a token sequence, MaxViT's windows x tokens.
INPUTS = ((8, 8), (16,), (1, 4))


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_is_reachable_through_layer(kind: str) -> None:
    spec = KINDS[kind]
    fields = {f.name: sample(kind, f) for f in spec.fields if f.default is REQUIRED}
    if kind in ("conv", "pointwise"):
        fields["out_channels"] = 4
    if kind == "resize":
        fields["scale_factor"] = 2
    if kind == "cropping":
        fields["cropping"] = 1
    if kind == "input":  # another input of the network: every size given
        fields["shape"] = [4, 4]
    refusals = []
    for size in INPUTS:
        net = Net("all", size, 4, convention="torch")
        first = net.conv("input", 4, 1, name="first")
        x = ["input", first] if spec.joins else first
        try:
            name = net.layer(kind, x, name="it", **fields)
        except ConvcountError as error:  # this kind needs another input: the next one
            refusals.append(str(error))
            continue
        assert name == "it"
        assert net.report().layers[-1].kind == kind
        return
    pytest.fail(f"{kind} refused every input: {refusals}")


def test_summarize_prints_what_the_cli_prints() -> None:
    path = ROOT / "examples" / "deeplab_head.toml"
    report = load_file(path)
    for fmt, flags in (("json", ["--json"]), ("csv", ["--format", "csv"]), ("table", [])):
        cli = run("model", str(path), *flags, env={"COLUMNS": ""})
        assert cli.exit_code == 0, cli.stderr
        assert summarize(report, fmt) == cli.stdout, fmt
    assert summarize(report, "plain") == f"{report.total_params}\n"
    wide = run("model", str(path), "--batch-size", "8", "--json").stdout
    assert summarize(report, "json", batch_size=8) == wide


def test_summarize_and_net_refuse_bad_arguments() -> None:
    report = Net("x", 8, 1).report()
    with pytest.raises(ConvcountError, match="format: must be one of table, json, csv, plain"):
        summarize(report, "yaml")
    with pytest.raises(ConvcountError, match="batch_size: must be at least 1"):
        summarize(report, batch_size=0)
    with pytest.raises(ConvcountError, match="convention: must be keras or torch"):
        Net("x", 8, 1, convention="pytorch")  # type: ignore[arg-type]  # what a user might type
    with pytest.raises(ConvcountError, match="sizes must be whole numbers"):
        Net("x", (8.5, 8), 1)  # type: ignore[arg-type]  # the refusal is the point
    with pytest.raises(ConvcountError, match="sizes and channels must be at most"):
        Net("x", (2**70,), 1)
    with pytest.raises(ConvcountError, match="dtype: must be one of"):
        Net("x", 8, 1, dtype="float128")
    with pytest.raises(ConvcountError, match=r"layer 'c': input: no earlier layer is named 'nope'"):
        Net("x", 8, 1).conv("nope", 4, 3, name="c")


def test_a_bad_layer_says_what_the_readme_says() -> None:
    net = Net("tiny_unet", (97, 75), 3, convention="torch")
    a = net.conv("input", 8, 3, 2, name="a")
    with pytest.raises(ConvcountError) as error:
        net.concat("input", a, name="up0.cat")
    assert str(error.value) in README.replace("\n", " ")
