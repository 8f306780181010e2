"""What `convcount model` reads (issue 15): --list and --kinds refuse the options of
one model; a file that cannot be read for permission says so; a directory is never
a model file, so it never shadows a shipped name; a file that does gets a notice
naming a spelling that means the shipped model (zoo:NAME)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from convcount.model import load_model, resolve_source
from convcount.model.zoo import ZOO

from .conftest import assert_usage_error, run

FLATTEN = '[model]\ninput = { size = 8, channels = 3 }\n\n[[layer]]\nkind = "flatten"\n'


@pytest.mark.parametrize("what", ["--list", "--kinds"])
@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["-r", "160"], "-r/--resolution does not apply to {what}"),
        (["-a", "0.5"], "-a/--width-multiplier does not apply to {what}"),
        (["-O", "classes=10"], "-O/--option does not apply to {what}"),
        (["-b", "0"], "-b/--batch-size does not apply to {what}"),
        (["-b", "8"], "-b/--batch-size does not apply to {what}"),
        (["--convention", "torch"], "--convention does not apply to {what}"),
        (["--dtype", "float16"], "--dtype does not apply to {what}"),
        (["-d", "1"], "-d/--depth does not apply to {what}"),
        (["--only", "conv"], "--only does not apply to {what}"),
        (["--match", "conv*"], "--match does not apply to {what}"),
        (["--range", "1:3"], "--range does not apply to {what}"),
        (
            ["-a", "2", "-r", "3", "-b", "4"],
            "-a/--width-multiplier, -r/--resolution and -b/--batch-size do not apply to {what}",
        ),
    ],
)
def test_list_and_kinds_refuse_the_options_of_one_model(
    what: str, options: list[str], named: str
) -> None:
    for fmt in ([], ["--json"], ["-q"]):
        assert_usage_error(run("model", what, *options, *fmt), named.format(what=what))


def test_list_and_kinds_alone_still_answer() -> None:
    assert run("model", "--kinds", "-q").exit_code == 0
    listed = run("model", "--list", "-q")
    assert listed.exit_code == 0 and listed.stdout.split() == sorted(ZOO)
    assert_usage_error(run("model", "--list", "--kinds"), "give one")


# --- files that cannot be read -------------------------------------------------------------


def _denied(monkeypatch: Any, denied: Path, method: str) -> None:
    """Make ``denied`` behave as for a user without the right (tests may run as root,
    for whom chmod denies nothing)."""
    real = getattr(Path, method)

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == denied or denied in self.parents:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, method, refuse)


def test_a_file_in_a_folder_that_cannot_be_searched_is_not_called_missing(
    tmp_path: Path, monkeypatch: Any
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "m.toml").write_text(FLATTEN)
    _denied(monkeypatch, folder, "stat")
    assert_usage_error(
        run("model", str(folder / "m.toml")),
        f"'{folder / 'm.toml'}': cannot be read (permission denied)",
    )


def test_a_file_that_cannot_be_opened_says_permission_denied(
    tmp_path: Path, monkeypatch: Any
) -> None:
    path = tmp_path / "m.toml"
    path.write_text(FLATTEN)
    _denied(monkeypatch, path, "open")
    assert_usage_error(run("model", str(path)), f"{path}: cannot be read (permission denied)")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file whatever its mode")
def test_permission_denied_for_real(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(FLATTEN)
    path.chmod(0)
    assert_usage_error(run("model", str(path)), "cannot be read (permission denied)")
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "m.toml").write_text(FLATTEN)
    folder.chmod(0)
    try:
        assert_usage_error(run("model", str(folder / "m.toml")), "permission denied")
    finally:
        folder.chmod(0o755)


# --- a file or a shipped model ------------------------------------------------------------


@pytest.mark.parametrize("name", ["keras/mobilenet", "torchvision/resnet18", "vgg16"])
def test_a_directory_never_shadows_a_shipped_model(
    name: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).mkdir(parents=True)
    result = run("model", name, "--json")
    assert (result.exit_code, result.stderr) == (0, "")
    expected = json.loads(run("model", f"zoo:{name}", "--json").stdout)
    assert json.loads(result.stdout)["total_params"] == expected["total_params"] > 0
    assert resolve_source(name).path is None


def test_a_directory_that_is_no_shipped_name_is_refused(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    assert_usage_error(run("model", "models"), "'models' is a directory, not a model file")


@pytest.mark.parametrize("name", ["keras/mobilenet", "vgg16", "KERAS/VGG16"])
def test_a_file_shadowing_a_shipped_model_names_the_spelling_for_the_shipped_one(
    name: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    shipped = resolve_source(name).shipped
    assert shipped in ZOO
    params = load_model(shipped).total_params  # before the file exists
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(FLATTEN)
    result = run("model", name, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total_params"] == 0  # the file was read
    assert result.stderr == (
        f"convcount: reading the file {name!r}; for the shipped model of that name, "
        f"write zoo:{shipped}\n"
    )
    # The spelling the notice gives means the shipped model, file or not.
    suggested = run("model", f"zoo:{shipped}", "--json")
    assert (suggested.exit_code, suggested.stderr) == (0, "")
    assert json.loads(suggested.stdout)["total_params"] == params > 0
    # And ./NAME is the file, without a notice.
    explicit = run("model", f"./{name}", "-q")
    assert (explicit.exit_code, explicit.stdout, explicit.stderr) == (0, "0\n", "")


def test_zoo_prefix_never_reads_a_file(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zoo:x.toml").write_text(FLATTEN)
    assert_usage_error(run("model", "zoo:x.toml"), "no shipped model is named 'x.toml'")
    assert_usage_error(run("model", "zoo:resnet-50"), "did you mean keras/resnet50")
