"""The quickstart's first-run banner and its documented path to an admin request."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from nexios.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from examples.quickstart.app import create_app  # noqa: E402
from nexios_auth_di.cli import cli as main  # noqa: E402


def banner_curl(text: str) -> list[str]:
    """The banner's curl line, split as a shell would."""
    line = next(line for line in text.splitlines() if line.startswith("try: curl"))
    return shlex.split(line.removeprefix("try: "))


def test_first_run_prints_url_docs_and_curl(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """The first run names the URL, the docs URL and a curl line; once the users file
    exists (after the first registration) a restart stays quiet."""
    app = create_app("development", str(tmp_path))
    creds = {"username": "ada", "password": "correct horse"}
    with TestClient(app, base_url="https://testserver") as client:
        assert client.post("/auth/register", json=creds).status_code == 201
    err = capsys.readouterr().err
    assert "http://127.0.0.1:8000" in err
    assert "http://127.0.0.1:8000/docs" in err
    assert "-H Content-Type: application/json" in " ".join(banner_curl(err))
    create_app("development", str(tmp_path))
    assert "curl" not in capsys.readouterr().err


def test_banner_curl_line_and_docs_url_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """The banner's curl line, replayed as written, registers (201), and /docs answers 200."""
    app = create_app("development", str(tmp_path))
    argv = banner_curl(capsys.readouterr().err)
    url = next(a for a in argv if a.startswith("http://"))
    headers = dict([argv[argv.index("-H") + 1].split(": ", 1)])
    body = argv[argv.index("-d") + 1]
    with TestClient(app, base_url="https://testserver") as client:
        path = url.removeprefix("http://127.0.0.1:8000")
        assert client.post(path, content=body, headers=headers).status_code == 201
        assert client.get("/docs").status_code == 200


def test_documented_way_to_admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """README: register, log in, `nexios-auth user set-permissions ada admin`, then the same
    token opens /admin (403 before the grant)."""
    monkeypatch.chdir(tmp_path)
    app = create_app("development", str(tmp_path))
    creds = {"username": "ada", "password": "correct horse"}
    with TestClient(app, base_url="https://testserver") as client:
        assert client.post("/auth/register", json=creds).status_code == 201
        token = client.post("/auth/login", json=creds).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/admin", headers=headers).status_code == 403
        argv = ["user", "set-permissions", "ada", "admin", "--users-db", "example_users.sqlite3"]
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 0, result.output
        assert client.get("/admin", headers=headers).json() == {"admin": "ada"}


def test_set_permissions_help_names_the_grant() -> None:
    """`nexios-auth user set-permissions --help` exits 0 and says what it replaces."""
    result = CliRunner().invoke(main, ["user", "set-permissions", "--help"])
    assert result.exit_code == 0
    assert "PERMISSIONS" in result.output
