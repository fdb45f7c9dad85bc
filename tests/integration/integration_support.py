"""Processes for the integration tests: uvicorn workers and a redis-server we own.

Every process is started by id and stopped by id (its own process group for uvicorn,
whose ``--workers`` mode forks children), always in a ``finally``.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from support.uvicorn import REPO, Worker

__all__ = ["Worker", "example_app"]


def example_app() -> ModuleType:
    """``examples/multiworker_app.py`` as a module (the repo root is not on sys.path)."""
    name = "examples.multiworker_app"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "examples" / "multiworker_app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
