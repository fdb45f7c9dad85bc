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

from examples.quickstart.app import create_app  # noqa: E402


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


def test_api_keys_write_notes_only_with_the_scope(client):
    """The demo's POST /notes names "notes:write": a key holding it writes notes, a key
    without it is refused (403), and both still read /me (least privilege)."""
    headers = login(client, "ada")

    def key(scopes: list[str]) -> dict[str, str]:
        body = {"password": "correct horse", "scopes": scopes}
        made = client.post("/auth/api-keys", json=body, headers=headers)
        assert made.status_code == 201, made.text
        return {"X-API-Key": made.json()["key"]}

    writer, reader = key(["notes:write"]), key([])
    assert client.post("/notes", json={"text": "hi"}, headers=writer).status_code == 201
    assert client.post("/notes", json={"text": "hi"}, headers=reader).status_code == 403
    assert client.get("/me", headers=reader).status_code == 200


def test_admin_needs_the_permission(client):
    """A freshly registered user is not an admin: 403, and anonymous gets 401."""
    assert client.get("/admin", headers=login(client, "ada")).status_code == 403
    assert client.get("/admin").status_code == 401


#: (id, body bytes, content type, expected status, rule): malformed POST /notes bodies
MALFORMED_NOTES = [
    ("not json", b"{not json", "application/json", 400, "RFC 8259: parse, never crash"),
    ("json array", b"[1, 2]", "application/json", 400, "shape check: one object"),
    ("json null", b"null", "application/json", 400, "shape check: one object"),
    ("text is a number", b'{"text": 5}', "application/json", 400, "type check"),
    ("text is a list", b'{"text": ["a"]}', "application/json", 400, "type check"),
    ("text missing", b"{}", "application/json", 400, "required field"),
    ("text empty", b'{"text": ""}', "application/json", 400, "required field"),
    ("empty body", b"", "application/json", 400, "required field"),
    ("unknown field", b'{"text": "x", "owner": "bob"}', "application/json", 400,
     "OWASP mass assignment: unknown fields refused"),
    ("duplicate key", b'{"text": "a", "text": "b"}', "application/json", 400,
     "RFC 8259 §4: ambiguous duplicate names refused"),
    ("text too long", b'{"text": "' + b"a" * 10_001 + b'"}', "application/json", 400,
     "field size limit"),
    ("body over 64 KiB", b'{"text": "' + b"a" * 70_000 + b'"}', "application/json", 413,
     "OWASP DoS: bounded body"),
    ("invalid utf-8", b'{"text": "\xff"}', "application/json", 400, "RFC 8259 §8.1 UTF-8"),
    ("lone surrogate", b'{"text": "\\ud800"}', "application/json", 400, "Unicode scalar values"),
    ("deep nesting", b"[" * 30_000 + b"]" * 30_000, "application/json", 400,
     "CWE-674 uncontrolled recursion"),
    ("NaN", b'{"text": NaN}', "application/json", 400, "RFC 8259: no NaN"),
    ("text/plain", b'{"text": "hi"}', "text/plain", 415, "CSRF: simple requests refused"),
    ("form", b"text=hi", "application/x-www-form-urlencoded", 415, "CSRF: simple requests"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "body", "ctype", "status", "rule"),
    MALFORMED_NOTES,
    ids=[m[0] for m in MALFORMED_NOTES],
)
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_malformed_note_is_a_clear_4xx_never_a_debug_page(
    client: TestClient, case: str, body: bytes, ctype: str, status: int, rule: str, accept: str
) -> None:
    """A logged-in user's malformed POST /notes is a 4xx JSON error: never a 500, never a
    traceback, and never the debug page with other users' notes and headers in it."""
    headers = login(client, "ada")
    client.post("/notes", json={"text": "secret of ada"}, headers=headers)
    headers |= {"Content-Type": ctype, "Accept": accept}
    response = client.post("/notes", content=body, headers=headers)
    assert response.status_code == status, (rule, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), rule
    text = response.text
    for leak in ("Traceback", 'File "', "secret of ada", "Bearer ", "<html"):
        assert leak not in text, (rule, leak)
    assert response.json()["detail"], rule


def test_an_unexpected_error_shows_no_debug_page(tmp_path: Path) -> None:
    """Even a bug in a handler answers a bare 500: no traceback, locals or headers."""
    app = create_app("development", str(tmp_path))

    @app.get("/boom")
    async def boom(request: object, response: object) -> None:
        secret_local = "do-not-show-me"  # noqa: F841 - the debug page would print it
        raise RuntimeError("internal detail")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom", headers={"Accept": "text/html", "Authorization": "Bearer abc.def"})
    assert r.status_code == 500
    for leak in ("Traceback", "do-not-show-me", "internal detail", "abc.def"):
        assert leak not in r.text, leak


@pytest.mark.parametrize("source", ["examples/quickstart/app.py", "README.md"])
def test_documented_curl_commands_send_json(source: str) -> None:
    """Every documented ``curl -d`` says ``content-type: application/json``: without it
    curl sends a form, which the JSON-only routes answer with 415."""
    text = (ROOT / source).read_text().replace("\\\n", " ")
    posts = [line for line in text.splitlines() if "curl " in line and " -d " in line]
    assert posts, f"{source} documents no POST: the test would prove nothing"
    for line in posts:
        assert "content-type: application/json" in line.lower(), line


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_demo_command_serves_under_uvicorn(tmp_path: Path):
    """`nox -s demo` runs `uvicorn --factory examples.quickstart.app:create_app`: it must boot and
    answer a real HTTP login round trip."""
    port = free_port()
    env = {**os.environ, "EXAMPLE_DATA_DIR": str(tmp_path), "PORT": str(port)}  # as nox sets it
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "examples.quickstart.app:create_app",
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
    banner = proc.stderr.read().decode() if proc.stderr else ""
    assert f"http://127.0.0.1:{port}/docs" in banner, banner  # the first-run banner
