"""examples/guide_app.py driven end to end through the real Nexios test client."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from guide_support import HTTPS
from itsdangerous import base64_decode
from nexios.testclient import TestClient

from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.passwords import PasswordService
from nexios_auth_di.passwords.profiles import profile_by_name

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "guide_app.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    """The example loaded from its file (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location("guide_app_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client(example: ModuleType) -> Any:
    """A client on a fresh app with test-only cheap hashing, lifespan (seeding) included."""
    cheap = PasswordService(profile_by_name("test_only_cheap"), allow_cheap=True)
    app = example.create_app(password_service=cheap)
    with TestClient(app, base_url=HTTPS) as c:
        yield c


def csrf(c: TestClient) -> dict[str, str]:
    """The header a page would send: the token ``GET /csrf`` hands this session."""
    return {"X-CSRF-Token": c.get("/csrf").json()["csrf_token"]}


def login(c: TestClient, username: str, password: str) -> Any:
    body = {"username": username, "password": password}
    return c.post("/login", json=body, headers=csrf(c))


def logout(c: TestClient, token: str) -> Any:
    return c.post("/logout", headers={"X-CSRF-Token": token})


def test_module_exposes_app_and_create_app(example: ModuleType) -> None:
    """The example exports a ready app and a factory that builds independent apps."""
    assert example.app is not None
    assert example.create_app() is not example.create_app()


def test_session_login_profile_logout(client: TestClient) -> None:
    """Login sets the session; /profile and /me see alice by session; logout redirects again."""
    assert client.get("/profile", follow_redirects=False).status_code == 302
    r = login(client, "alice", "alice-password")
    assert r.status_code == 200
    assert r.json()["expires_in"] == 86400
    assert client.get("/profile").json() == {"id": 1, "username": "alice"}
    assert client.get("/me").json() == {"username": "alice", "auth": "session"}
    assert logout(client, r.json()["csrf_token"]).json() == {"message": "Logout successful"}
    assert client.get("/profile", follow_redirects=False).status_code == 302


def test_saved_cookie_is_dead_after_logout(client: TestClient) -> None:
    """A cookie copied before logout is anonymous after it: the session lives on the
    server and logout deletes it (OWASP Session Management: server-side invalidation)."""
    token = login(client, "alice", "alice-password").json()["csrf_token"]
    saved = client.cookies["session"]
    assert logout(client, token).status_code == 200
    client.cookies.clear()
    client.cookies.set("session", saved)
    assert client.get("/me").status_code == 401
    assert client.get("/profile", follow_redirects=False).status_code == 302


def test_cookie_value_is_an_opaque_id(client: TestClient) -> None:
    """The cookie carries a signed random id, not the session's contents: nothing about
    the user or the CSRF token can be read from it (OWASP: session ids are meaningless)."""
    token = login(client, "alice", "alice-password").json()["csrf_token"]
    cookie = client.cookies["session"]
    payload = json.loads(base64_decode(cookie.split(".")[0]))
    assert isinstance(payload, str)
    assert len(payload) >= 43  # 256 random bits, base64url
    for secret in ("alice", "user_id", token, "_csrf"):
        assert secret not in cookie
        assert secret not in payload


@pytest.mark.parametrize(
    ("case", "headers"),
    [
        ("no token (OWASP CSRF: synchronizer token)", {}),
        ("wrong token", {"X-CSRF-Token": "forged"}),
    ],
)
def test_logout_needs_the_csrf_token(
    client: TestClient, case: str, headers: dict[str, str]
) -> None:
    """A cross-site POST /logout (no or wrong token) is 403 and the session survives."""
    login(client, "alice", "alice-password")
    assert client.post("/logout", headers=headers).status_code == 403
    assert client.get("/me").json()["username"] == "alice"


@pytest.mark.parametrize(
    ("case", "headers"),
    [
        ("no token (login CSRF, OWASP)", {}),
        ("wrong token", {"X-CSRF-Token": "forged"}),
    ],
)
def test_login_needs_the_csrf_token(client: TestClient, case: str, headers: dict[str, str]) -> None:
    """Login without the token of this browser's pre-login session is 403: another site
    cannot log the victim into the attacker's account (login CSRF)."""
    client.get("/csrf")
    body = {"username": "alice", "password": "alice-password"}
    r = client.post("/login", json=body, headers=headers)
    assert r.status_code == 403
    assert client.get("/me").status_code == 401


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_login_is_json_only(client: TestClient, content_type: str) -> None:
    """A body a cross-site form can send without a preflight is 415 (login CSRF)."""
    body = b'{"username": "alice", "password": "alice-password"}'
    headers = csrf(client) | {"Content-Type": content_type}
    r = client.post("/login", content=body, headers=headers)
    assert r.status_code == 415
    assert client.get("/me").status_code == 401


def test_login_rotates_the_session_and_csrf_token(client: TestClient) -> None:
    """The pre-login session id and token die at login (session fixation, OWASP)."""
    before = csrf(client)
    cookie_before = client.cookies["session"]
    r = login(client, "alice", "alice-password")
    assert r.json()["csrf_token"] != before["X-CSRF-Token"]
    assert client.cookies["session"] != cookie_before
    assert logout(client, before["X-CSRF-Token"]).status_code == 403


def test_login_token_works_as_bearer(client: TestClient) -> None:
    """The token /login returns authenticates a cookie-less request as "jwt"."""
    token = login(client, "root", "root-password").json()["token"]
    client.cookies.clear()
    r = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"username": "root", "auth": "jwt"}


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), (("alice", "alice-password"), 403), (("root", "root-password"), 200)],
)
def test_admin_route(client: TestClient, who: tuple[str, str] | None, status: int) -> None:
    """/admin: anonymous 401 with both challenges, alice 403, root 200."""
    if who:
        login(client, *who)
    r = client.get("/admin")
    assert r.status_code == status
    if status == 401:
        assert r.headers["www-authenticate"] == 'Session realm="api", Bearer realm="api"'


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "wrong"},
        {"username": "nobody", "password": "alice-password"},
        {"username": ["alice"], "password": 1},
    ],
)
def test_bad_credentials_are_401(client: TestClient, body: dict[str, Any]) -> None:
    """Wrong password, unknown user and wrong types all get the same 401 body."""
    r = client.post("/login", json=body, headers=csrf(client))
    assert r.status_code == 401
    assert r.json() == {"error": "Invalid credentials"}


def test_malformed_json_is_400(client: TestClient) -> None:
    """A body that is not JSON is a 400, not a 500."""
    headers = csrf(client) | {"content-type": "application/json"}
    r = client.post("/login", content=b"{not json", headers=headers)
    assert r.status_code == 400


def test_login_is_rate_limited(client: TestClient) -> None:
    """The sixth /login in a minute gets 429 with Retry-After; other routes are untouched."""
    codes = [login(client, "alice", "wrong").status_code for _ in range(5)]
    sixth = login(client, "alice", "alice-password")
    assert codes == [401] * 5
    assert sixth.status_code == 429
    assert int(sixth.headers["retry-after"]) >= 1
    assert client.get("/profile", follow_redirects=False).status_code == 302


def test_short_secret_in_env_is_refused_naming_the_variable(
    example: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A placeholder secret from the environment fails with a message that names the
    variable and says how to make one (RFC 7518 §3.2: at least 32 bytes)."""
    monkeypatch.setenv("GUIDE_SESSION_SECRET", "...")
    with pytest.raises(ConfigurationError, match="GUIDE_SESSION_SECRET"):
        example.create_app()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_docstring_command_serves(example: ModuleType) -> None:
    """The command in the module docstring runs as written and serves the login flow."""
    doc = example.__doc__ or ""
    command = next(line.strip() for line in doc.splitlines() if "guide_app.py" in line)
    assert command == "python examples/guide_app.py"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUIDE_")}
    env["GUIDE_PORT"] = str(port)
    root = EXAMPLE.parents[1]
    proc = subprocess.Popen([sys.executable, "examples/guide_app.py"], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/csrf", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "the example did not start within 30 s"
                time.sleep(0.2)
        assert r.status_code == 200
        assert r.json()["csrf_token"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
