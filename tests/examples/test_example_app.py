"""The README's example app: its flows in-process, and served by real uvicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from nexios.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from examples.app import create_app  # noqa: E402


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(create_app("development", str(tmp_path))) as c:
        yield c


def login(client: TestClient, username: str, password: str = "correct horse") -> dict[str, str]:
    client.post("/auth/register", json={"username": username, "password": password})
    r = client.post("/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_readme_walkthrough(client):
    """register -> login -> /me works exactly as the README's curl lines show."""
    r = client.post("/auth/register", json={"username": "ada", "password": "correct horse"})
    assert r.status_code == 201
    assert client.get("/me").status_code == 401
    headers = login(client, "ada")
    me = client.get("/me", headers=headers).json()
    assert me["username"] == "ada"
    assert me["auth"] == "jwt"
    assert client.get("/", headers=headers).json() == {"hello": "ada"}
    assert client.get("/").json() == {"hello": "stranger"}


def test_notes_are_private_to_their_author(client):
    """The object-level policy lets the author read a note and refuses everyone else."""
    ada, bob = login(client, "ada"), login(client, "bob")
    note = client.post("/notes", json={"text": "hi"}, headers=ada).json()["id"]
    assert client.get(f"/notes/{note}", headers=ada).json()["text"] == "hi"
    assert client.get(f"/notes/{note}", headers=bob).status_code == 403
    assert client.get(f"/notes/{note}").status_code == 401


def test_admin_needs_the_permission(client):
    """A freshly registered user is not an admin: 403, and anonymous gets 401."""
    assert client.get("/admin", headers=login(client, "ada")).status_code == 403
    assert client.get("/admin").status_code == 401


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_demo_command_serves_under_uvicorn(tmp_path: Path):
    """`nox -s demo` runs `uvicorn --factory examples.app:create_app`: it must boot and
    answer a real HTTP login round trip."""
    port = free_port()
    env = {**os.environ, "EXAMPLE_DATA_DIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "examples.app:create_app",
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
            time.sleep(0.2)
        creds = {"username": "ada", "password": "correct horse"}
        assert httpx.post(base + "/auth/register", json=creds).status_code == 201
        token = httpx.post(base + "/auth/login", json=creds).json()["access_token"]
        me = httpx.get(base + "/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["username"] == "ada"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
