"""The README's "In your own container" snippet runs as written and serves a request."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from nexios.testclient import TestClient

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "### In your own container"
#: the first fenced python block of a section
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def section_snippet() -> str:
    """The python block under the heading, before the next heading of any level."""
    text = README.read_text(encoding="utf-8")
    start = text.index(HEADING) + len(HEADING)
    following = re.search(r"^#", text[start:], re.MULTILINE)
    section = text[start : start + following.start()] if following else text[start:]
    match = PYTHON_BLOCK.search(section)
    assert match is not None, f"no python block under {HEADING!r}"
    return match.group(1)


def test_readme_composition_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Executing the README snippet as written gives an app whose composed container
    authenticates a bearer token through the snippet's own Database.load_user."""
    monkeypatch.chdir(tmp_path)  # the development profile keeps its SQLite file in the cwd
    monkeypatch.setenv("NEXIOS_AUTH_SQLITE_PATH", str(tmp_path / "auth.sqlite3"))
    namespace: dict[str, Any] = {"__name__": "readme_composition"}
    exec(compile(section_snippet(), str(README), "exec"), namespace)
    container, app = namespace["container"], namespace["app"]
    token = container.auth.token_service().create_access_token("ada")
    with TestClient(app, base_url="https://testserver") as client:
        response = client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.json() == {"id": "ada"}
        assert client.get("/me").status_code == 401
