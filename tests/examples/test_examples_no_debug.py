"""No example, and no app-building snippet in the docs, runs Nexios in debug mode: its
error page shows stack traces, every frame's locals and the request's headers (CWE-209,
OWASP ASVS V7.4.1)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    """An example module, loaded from its file (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _example_app(tmp_path: Path) -> Any:
    return _load("quickstart/app.py").create_app("development", str(tmp_path))


def _guide_app(tmp_path: Path) -> Any:
    return _load("guide_app.py").create_app()


def _multiworker_app(tmp_path: Path) -> Any:
    module = _load("multiworker_app.py")
    return module.build_app(module.build_container({}))


@pytest.mark.parametrize("build", [_example_app, _guide_app, _multiworker_app])
def test_example_apps_run_without_debug(build: Any, tmp_path: Path) -> None:
    """Each example builds its NexiosApp with debug=False."""
    assert build(tmp_path).debug is False


def test_doc_snippets_build_apps_without_debug() -> None:
    """Every app the docs build (``app = NexiosApp(...)`` in README.md or docs/*.md)
    passes ``debug=False``: readers copy snippets into servers."""
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    calls = [
        (doc.name, args)
        for doc in docs
        for args in re.findall(r"=\s*NexiosApp\(([^)]*)\)", doc.read_text())
    ]
    assert {"README.md", "guide.md"} <= {name for name, _ in calls}, calls
    assert all("debug=False" in args for _, args in calls), calls
