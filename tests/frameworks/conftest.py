"""Import the real frameworks once per process, or skip (never in CI)."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")


def _framework(name: str) -> ModuleType:
    """The module, or a skip with a reason; in CI (CI=true) a missing framework fails."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        if os.environ.get("CI"):
            raise RuntimeError(
                f"{name} must be installed in CI (pip install -e '.[test,frameworks]')"
            ) from error
        pytest.skip(
            f"{name} is not installed (pip install -e '.[frameworks]')", allow_module_level=True
        )
        raise  # unreachable: skip raises


@pytest.fixture(scope="session")
def torch() -> ModuleType:
    return _framework("torch")


@pytest.fixture(scope="session")
def keras() -> ModuleType:
    module = _framework("keras")
    assert module.backend.backend() == "torch", "the differential tests expect KERAS_BACKEND=torch"
    return module


#: The torchvision whose model code the zoo and the counters' figures follow.
TORCHVISION = "0.29.1"


@pytest.fixture(scope="session")
def torchvision(torch: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """torchvision's model code, beside a torch it was not built for.

    torchvision cannot be installed beside torch 2.13.0 (its wheel pins another
    torch), but its models are pure Python: the wheel is downloaded from PyPI
    (``pip download --no-deps``), or taken unzipped from ``CONVCOUNT_TVSRC``, and
    imported the way tests/zoo/capture_torchvision.py imports it.
    """
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    given = os.environ.get("CONVCOUNT_TVSRC")
    folder = Path(given) if given else tmp_path_factory.mktemp("torchvision")
    if not (folder / "torchvision").is_dir():
        wheels = tmp_path_factory.mktemp("wheel")
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q"]
        command += ["-d", str(wheels), f"torchvision=={TORCHVISION}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        found = sorted(wheels.glob("torchvision-*.whl"))
        if done.returncode or not found:
            message = f"torchvision {TORCHVISION} could not be downloaded: {done.stderr[-300:]}"
            if os.environ.get("CI"):
                raise RuntimeError(message)
            pytest.skip(message)
        with zipfile.ZipFile(found[0]) as wheel:
            wheel.extractall(folder)
    sys.path.insert(0, str(Path(__file__).parent.parent / "zoo"))
    from capture_torchvision import import_torchvision

    module: ModuleType = import_torchvision(folder)
    assert module.__version__.startswith(TORCHVISION), module.__version__
    return module
