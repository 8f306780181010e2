"""completions/ holds the scripts Typer generates; they must not drift from the app."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

COMPLETIONS = Path(__file__).parent.parent / "completions"
SHELLS = {
    "bash": "convcount.bash",
    "zsh": "convcount.zsh",
    "fish": "convcount.fish",
    "powershell": "convcount.ps1",
}


def generate(shell: str, **extra: str) -> str:
    env = {**os.environ, "_CONVCOUNT_COMPLETE": f"source_{shell}", **extra}
    done = subprocess.run(
        [sys.executable, "-m", "convcount"], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_completion_script_is_current(shell: str, overwrite: bool) -> None:
    path = COMPLETIONS / SHELLS[shell]
    script = generate(shell)
    assert "_CONVCOUNT_COMPLETE" in script
    if overwrite:
        path.write_text(script, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == script, (
        f"run pytest --overwrite to regenerate {path}"
    )


def _complete(words: str, cword: int) -> list[str]:
    env = {
        **os.environ,
        "_CONVCOUNT_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    done = subprocess.run(
        [sys.executable, "-m", "convcount"], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.split()


def test_the_scripts_complete_commands_options_and_values() -> None:
    assert "separable" in _complete("convcount se", 1)
    assert "--depth-multiplier" in _complete("convcount separable --dep", 2)
    assert _complete("convcount conv --convention ", 3) == ["keras", "torch"]
    assert "--depth-multiplier" not in _complete("convcount conv --de", 2)
    assert _complete("convcount transpose --count-as t", 3) == ["torchinfo", "thop"]


def test_zsh_completion_texts_keep_their_apostrophes() -> None:
    env = {
        **os.environ,
        "_CONVCOUNT_COMPLETE": "complete_zsh",
        "_TYPER_COMPLETE_ARGS": "convcount conv --pad",
    }
    done = subprocess.run(
        [sys.executable, "-m", "convcount"], capture_output=True, text=True, env=env, check=True
    )
    # The script runs `eval $(...)`: the words are joined by spaces, then parsed
    # with the shell's quoting, which shlex's POSIX mode follows (zsh without RC_QUOTES).
    words = shlex.split(" ".join(done.stdout.split()))
    assert words[0] == "_arguments"
    assert "Keras's rules" in words[1] and "(PyTorch's)" in words[1], words
