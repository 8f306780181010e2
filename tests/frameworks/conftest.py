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
