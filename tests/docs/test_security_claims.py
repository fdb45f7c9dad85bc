"""Claims of docs/security.md that no other test states on its own.

Each test proves one row of the ASVS 5.0 map through the real routes (real Nexios, real
SQLite users) or the real generators, so the document cites a test that can fail.
"""

from __future__ import annotations

import asyncio
import logging
import math
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from dependency_injector import providers
from nexios import NexiosApp
from nexios.testclient import TestClient

from nexios_auth_di import install, permission_required
from nexios_auth_di.apikeys.service import SECRET_LEN
from nexios_auth_di.passwords import PasswordService
from nexios_auth_di.passwords.profiles import TEST_ONLY_CHEAP
from nexios_auth_di.routes import auth_router
from nexios_auth_di.routes.handlers import LoginMode
from nexios_auth_di.routes.users import new_user_id
from nexios_auth_di.sessions.csrf import rotate_csrf_token
from nexios_auth_di.sessions.middleware import new_session_id
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

LEAKED = "leaked in the 2019 dump"  # what the app's own breach checker flags
URLSAFE = string.ascii_letters + string.digits + "-_"


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """A real app with the ready-made routes over a fresh SQLite user file."""
    opened: list[TestClient] = []

    def make(
        password_service: PasswordService | None = None, login_mode: LoginMode = "tokens"
    ) -> TestClient:
        repo = SqliteUserRepository(tmp_path / f"users{len(opened)}.sqlite3")
        container = make_test_container()
        container.user_loader.override(providers.Object(user_loader_for(repo)))
        container.user_repository.override(providers.Object(repo))
        if password_service is not None:
            container.password_service.override(providers.Object(password_service))
        app = NexiosApp(debug=False)
        app.mount_router(auth_router(container, login_mode=login_mode))
        install(app, container)
        client = TestClient(app, base_url="https://testserver")
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def _post(client: TestClient, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(path, json=body, headers=headers)


# ASVS 5.0 6.2.5 (any composition), 6.2.9 (64+ characters), 6.2.1 (15 recommended)
ANY_PASSWORD = [
    pytest.param("lowercaseonly", id="letters-only (6.2.5 no composition rules)"),
    pytest.param("        x       ", id="mostly-spaces (6.2.5, 6.2.8 spaces kept)"),
    pytest.param("пароль-очень-длинный", id="cyrillic (6.2.5 any characters)"),
    pytest.param("😀🔑😀🔑😀🔑😀🔑", id="emoji (6.2.5 any characters)"),
    pytest.param("a 15 char phras", id="15-chars (6.2.1 recommended minimum)"),
    pytest.param("x" * 64, id="64-chars (6.2.9 at least 64 permitted)"),
]


@pytest.mark.parametrize("password", ANY_PASSWORD)
def test_password_of_any_composition_registers_and_is_checked_exactly(
    make_client: Callable[..., TestClient], password: str
) -> None:
    """ASVS 5.0 6.2.5/6.2.8/6.2.9: no composition rule refuses the password, and login
    accepts exactly it: not a case-changed or trimmed variant."""
    client = make_client()
    made = _post(client, "/auth/register", {"username": "ada", "password": password})
    assert made.status_code == 201, made.text
    good = _post(client, "/auth/login", {"username": "ada", "password": password})
    assert good.status_code == 200, good.text
    for variant in {password.swapcase(), password.strip(), password[:-1]} - {password}:
        bad = _post(client, "/auth/login", {"username": "ada", "password": variant})
        assert bad.status_code == 401, f"variant {variant!r} logged in"


def test_app_breach_checker_guards_register_and_password_change(
    make_client: Callable[..., TestClient],
) -> None:
    """ASVS 5.0 6.2.4/6.2.12 by configuration: an app-supplied ``is_breached`` refuses a
    flagged password at registration and at password change, and the old one stays."""
    service = PasswordService(
        TEST_ONLY_CHEAP, allow_cheap=True, queue_depth=4, is_breached=lambda p: p == LEAKED
    )
    client = make_client(service)
    refused = _post(client, "/auth/register", {"username": "eve", "password": LEAKED})
    assert refused.status_code == 400
    assert "breach" in refused.json()["detail"]
    good = "a fine unique passphrase"
    assert _post(client, "/auth/register", {"username": "ada", "password": good}).status_code
    pair = _post(client, "/auth/login", {"username": "ada", "password": good}).json()
    change = _post(
        client,
        "/auth/password",
        {"current_password": good, "new_password": LEAKED},
        Authorization=f"Bearer {pair['access_token']}",
    )
    assert change.status_code == 400
    assert _post(client, "/auth/login", {"username": "ada", "password": good}).status_code == 200
    assert _post(client, "/auth/login", {"username": "ada", "password": LEAKED}).status_code == 401


def _bits(value: str, alphabet: str) -> float:
    assert set(value) <= set(alphabet), value
    return len(value) * math.log2(len(alphabet))


def _jti(client: TestClient) -> str:
    _post(client, "/auth/register", {"username": "ada", "password": "correct horse"})
    pair = _post(client, "/auth/login", {"username": "ada", "password": "correct horse"}).json()
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert claims["fam"] != claims["jti"]
    return str(claims["jti"])


def test_generated_secrets_have_at_least_128_bits(
    make_client: Callable[..., TestClient],
) -> None:
    """ASVS 5.0 7.2.3/11.5.1: session ids, CSRF tokens, user ids, token ids and API-key
    secrets are CSPRNG strings of at least 128 bits, and never repeat."""
    draws: dict[str, list[str]] = {
        "session id": [new_session_id() for _ in range(500)],
        "csrf token": [rotate_csrf_token({}) for _ in range(500)],
        "user id": [new_user_id() for _ in range(500)],
    }
    for name, values in draws.items():
        assert len(set(values)) == len(values), f"{name} repeated"
        assert min(_bits(v, URLSAFE) for v in values) >= 128, name
    assert _bits(_jti(make_client()), URLSAFE) >= 128
    service = make_test_container().api_key_service()
    keys = [asyncio.run(service.create("ada"))[0] for _ in range(20)]
    secrets = [key.split("_")[2][:SECRET_LEN] for key in keys]
    assert len(set(secrets)) == len(secrets)
    assert min(_bits(s, string.ascii_letters + string.digits) for s in secrets) >= 128


def test_installed_session_cookie_has_every_protective_attribute(
    make_client: Callable[..., TestClient],
) -> None:
    """ASVS 5.0 3.3.1-3.3.5: install()'s session cookie is __Host- prefixed, Secure,
    HttpOnly, SameSite=Lax, host-only, under 4096 bytes, and its value travels only in
    Set-Cookie (never in the response body)."""
    client = make_client(login_mode="session")
    _post(client, "/auth/register", {"username": "ada", "password": "correct horse"})
    response = _post(client, "/auth/login", {"username": "ada", "password": "correct horse"})
    assert response.status_code == 200, response.text
    (line,) = response.headers.get_list("set-cookie")
    pair, *attributes = [part.strip() for part in line.split(";")]
    name, _, value = pair.partition("=")
    flags = {a.split("=")[0].lower(): a.partition("=")[2] for a in attributes}
    assert name == "__Host-session"
    assert {"secure", "httponly"} <= set(flags)
    assert flags["samesite"].lower() == "lax"
    assert flags["path"] == "/"
    assert "domain" not in flags
    assert len(line.encode()) < 4096
    assert value
    assert value not in response.text


def test_failed_authorization_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """ASVS 5.0 16.3.2: a 403 from a permission check is logged with the method, path,
    status and reason, while the client's body names no permission."""
    container = make_test_container({"u1": _User("u1")})
    app = NexiosApp(debug=False)

    @app.get("/admin")  # type: ignore[untyped-decorator]  # nexios is untyped here
    @permission_required("admin")
    async def admin(request: Any, response: Any) -> Any:
        return response.json({"ok": True})

    install(app, container)
    token = container.token_service().create_access_token("u1")
    with (
        TestClient(app, base_url="https://testserver") as client,
        caplog.at_level(logging.INFO, logger="nexios_auth_di"),
    ):
        response = client.get("/admin", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert "admin" not in response.text
    lines = [r.getMessage() for r in caplog.records if r.name == "nexios_auth_di"]
    assert any(line.startswith("GET /admin -> 403") for line in lines), lines


class _User:
    """A signed-in user without the ``admin`` permission."""

    is_authenticated = True
    permissions: frozenset[str] = frozenset({"read"})

    def __init__(self, identity: str) -> None:
        self.id = identity

    def get_display_name(self) -> str:
        return self.id
