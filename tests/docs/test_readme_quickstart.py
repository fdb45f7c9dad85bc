"""The README's Quick start runs exactly as written (extracted from README.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from nexios.testclient import TestClient

README = Path(__file__).resolve().parents[2] / "README.md"


def _quick_start() -> str:
    text = README.read_text()
    section = text[text.index("## Quick start") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "the Quick start has no python block"
    return match.group(1)


def test_quick_start_runs_and_guards_its_routes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snippet builds an app whose /me and /admin answer 401 anonymous and 200 with
    a token for its user."""
    monkeypatch.chdir(tmp_path)  # the development profile's SQLite file lands here
    monkeypatch.setenv("NEXIOS_AUTH_SQLITE_PATH", str(tmp_path / "auth.sqlite3"))
    namespace: dict[str, Any] = {}
    exec(compile(_quick_start(), "README.md#quick-start", "exec"), namespace)
    app, container = namespace["app"], namespace["container"]
    token = container.token_service().create_access_token("ada")
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/me").status_code == 401
        assert client.get("/admin").status_code == 401
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/me", headers=auth).json() == {"id": "ada"}
        assert client.get("/admin", headers=auth).status_code == 200


def _testing_snippet() -> str:
    text = README.read_text()
    section = text[text.index("## Testing your app") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "Testing your app has no python block"
    return match.group(1)


def test_readme_testing_snippet_runs_against_the_quick_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The testing snippet's stand-in user passes the Quick start's
    ``permission_required(["admin","moderator"])`` (an ``is_admin`` flag would get 403)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEXIOS_AUTH_SQLITE_PATH", str(tmp_path / "auth.sqlite3"))
    namespace: dict[str, Any] = {}
    exec(compile(_quick_start(), "README.md#quick-start", "exec"), namespace)
    exec(compile(_testing_snippet(), "README.md#testing-your-app", "exec"), namespace)
    assert namespace["root"].has_permission("admin")
