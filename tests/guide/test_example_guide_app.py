"""examples/guide_app.py driven end to end through the real Nexios test client."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from guide_support import HTTPS
from nexios.testclient import TestClient

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


def login(c: TestClient, username: str, password: str) -> Any:
    return c.post("/login", json={"username": username, "password": password})


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
    assert client.post("/logout").json() == {"message": "Logout successful"}
    assert client.get("/profile", follow_redirects=False).status_code == 302


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
    r = client.post("/login", json=body)
    assert r.status_code == 401
    assert r.json() == {"error": "Invalid credentials"}


def test_malformed_json_is_400(client: TestClient) -> None:
    """A body that is not JSON is a 400, not a 500."""
    r = client.post("/login", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400


def test_login_is_rate_limited(client: TestClient) -> None:
    """The sixth /login in a minute gets 429 with Retry-After; other routes are untouched."""
    codes = [login(client, "alice", "wrong").status_code for _ in range(5)]
    sixth = login(client, "alice", "alice-password")
    assert codes == [401] * 5
    assert sixth.status_code == 429
    assert int(sixth.headers["retry-after"]) >= 1
    assert client.get("/profile", follow_redirects=False).status_code == 302
