"""CSRF is enforced on every method that is not safe, not only on a fixed list of verbs."""

from __future__ import annotations

from typing import Any

import pytest
from nexios import NexiosApp
from nexios.testclient import TestClient
from session_helpers import SECRET

from nexios_auth_di.backends.session import SessionAuthBackend
from nexios_auth_di.base import SimpleUser
from nexios_auth_di.decorator import login_required
from nexios_auth_di.exceptions import CSRFFailed
from nexios_auth_di.http.asgi import SAFE_METHODS, is_safe_method
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.session import SessionMiddleware, csrf_token, login
from nexios_auth_di.sessions.csrf import CSRF_SESSION_KEY

RULE = "OWASP CSRF: every non-safe method (RFC 9110 §9.2.1)"
VERBS = ["POST", "PUT", "PATCH", "DELETE", "PURGE", "PROPFIND", "LOCK", "UNLOCK", "MKCOL", "FOO"]


async def _load(user_id: Any) -> SimpleUser:
    return SimpleUser(user_id, "alice")


def _app() -> NexiosApp:
    """Session cookie + SessionAuthBackend, and one login-only route accepting every verb."""
    app = NexiosApp()
    app.add_middleware(AuthenticationMiddleware(backend=SessionAuthBackend(_load)))
    app.add_middleware(SessionMiddleware(secret_key=SECRET))

    @app.post("/login")
    async def do_login(request: Any, response: Any) -> Any:
        await login(request, 1)
        return response.json({"csrf": csrf_token(request)})

    @app.route("/thing", methods=["GET", "HEAD", "OPTIONS", *VERBS])
    @login_required
    async def thing(request: Any, response: Any) -> Any:
        return response.json({"user": request.user.username})

    return app


@pytest.fixture(scope="module")
def logged_in() -> Any:
    """A client holding a live session cookie, and that session's CSRF token."""
    with TestClient(_app(), base_url="https://testserver") as client:
        token = client.post("/login").json()["csrf"]
        yield client, token


CSRF_METHOD_ROWS: list[tuple[str, str, bool, int]] = [
    (verb, RULE, False, 403) for verb in VERBS
] + [
    (verb, f"{RULE}: control row, the right token passes", True, 200) for verb in VERBS
] + [
    ("GET", "RFC 9110 §9.2.1: GET is safe, no token needed", False, 200),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "rule", "with_token", "status"),
    CSRF_METHOD_ROWS,
    ids=[f"{m}-{'token' if t else 'no-token'}" for m, _, t, _ in CSRF_METHOD_ROWS],
)
def test_session_auth_needs_csrf_for_every_unsafe_method(
    logged_in: Any, method: str, rule: str, with_token: bool, status: int
) -> None:
    """A cookie-authenticated request with any non-safe verb and no token is refused 403."""
    client, token = logged_in
    headers = {"X-CSRF-Token": token} if with_token else {}
    response = client.request(method, "/thing", headers=headers)
    assert response.status_code == status, rule
    if status == 403:
        assert response.json()["error"] == "csrf_failed", rule
    else:
        assert response.json() == {"user": "alice"}, rule


RAW_ROWS: list[tuple[str, str]] = [
    ("post", f"{RULE}: a lower-case verb is still unsafe"),
    ("Purge", f"{RULE}: mixed case"),
    ("PROPFIND", f"{RULE}: WebDAV (RFC 4918 §9.1)"),
    ("LOCK", f"{RULE}: WebDAV (RFC 4918 §9.10)"),
    ("", f"{RULE}: an empty method is not GET"),
]


@pytest.mark.parametrize(("method", "rule"), RAW_ROWS, ids=[r[0] or "empty" for r in RAW_ROWS])
async def test_backend_refuses_unsafe_raw_methods(method: str, rule: str) -> None:
    """The backend itself (raw ASGI scope, no framework in between) demands the token."""
    backend = SessionAuthBackend(_load)
    scope = {
        "type": "http",
        "method": method,
        "headers": [],
        "session": {"user_id": 1, CSRF_SESSION_KEY: "t"},
    }
    with pytest.raises(CSRFFailed):
        await backend.resolve(scope, None, None)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE", "get", "head"])
def test_safe_methods_are_exactly_the_four(method: str) -> None:
    """RFC 9110 §9.2.1 lists the safe methods; everything else needs CSRF protection."""
    assert is_safe_method(method)
    assert frozenset({"GET", "HEAD", "OPTIONS", "TRACE"}) == SAFE_METHODS


@pytest.mark.parametrize("method", [*VERBS, "post", "CONNECT", "", "GET "])
def test_everything_else_is_unsafe(method: str) -> None:
    """Unknown, padded and empty verbs fail closed: they are unsafe."""
    assert not is_safe_method(method)
