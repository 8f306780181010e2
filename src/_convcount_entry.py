"""The ``convcount`` command's entry point: Ctrl-C is handled before convcount loads.

A module outside the package on purpose: Python runs a package's
``__init__`` before any module inside it, and loading convcount (typer above
all) is most of a run's time. Python's own handler would meanwhile turn a
Ctrl-C into KeyboardInterrupt's traceback from whatever was loading; this
one, in place before anything of convcount is imported, ends the run at once
with exit code 130, nothing written. :func:`convcount.cli.main` replaces it
with the handler of a running command. ``python -m convcount`` imports this
module first thing too (see ``convcount/__init__.py``).
"""

import _signal  # type: ignore[import-not-found]  # signal's C half: loaded at start-up, so free
from os import _exit


def _interrupted(signum: int, frame: object) -> None:
    _exit(130)  # convcount.errors.EXIT_INTERRUPTED: nothing of the run is written yet


try:  # noqa: SIM105  # contextlib.suppress would load contextlib first
    _signal.signal(_signal.SIGINT, _interrupted)
except ValueError:  # imported outside the main thread: signals are the main thread's
    pass


def main() -> None:
    """Run the command line (the console script's entry point)."""
    from convcount.cli import main as run

    run()
