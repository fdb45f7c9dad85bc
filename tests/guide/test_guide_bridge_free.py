"""Guide form without Nexios's function-middleware bridge (http/middleware.py
``_leave_bridge``): after the first request it runs as pure ASGI in the same place and
must answer exactly as the bridged form did."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from nexios import NexiosApp
from nexios.testclient import TestClient

from nexios_auth_di import SimpleUser, login_required
from nexios_auth_di.backends.jwt import JWTAuthBackend
from nexios_auth_di.base import AuthenticationBackend
from nexios_auth_di.exceptions import StoreUnavailable
from nexios_auth_di.http.middleware import GuideASGI
from nexios_auth_di.middleware import AuthenticationMiddleware

SECRET = "guide-bridge-free-secret-0123456789-abcdef"


def _load(identity: Any) -> Any:
    if identity == "down":
        raise StoreUnavailable("users_db_down")
    return SimpleUser(identity) if identity in ("alice", "down") else None


def _token(sub: str) -> str:
    return jwt.encode({"sub": sub, "exp": time.time() + 600}, SECRET, algorithm="HS256")


def _app(backend: Any = None, seen: list[Any] | None = None) -> NexiosApp:
    app = NexiosApp()
    if seen is not None:

        async def inner(request: Any, response: Any, call_next: Any) -> Any:
            seen.append(request.scope.get("user"))  # runs after ours: added before it
            return await call_next()

        app.add_middleware(inner)
    backend = backend or JWTAuthBackend(secret_key=SECRET, authenticate_func=_load)
    app.add_middleware(AuthenticationMiddleware(backend=backend))

    @app.get("/me")
    @login_required
    async def me(request: Any, response: Any) -> Any:
        return {"user": request.user.id}

    @app.get("/open")
    async def open_route(request: Any, response: Any) -> Any:
        return {"user": getattr(request.user, "id", None)}

    return app


def _bridged(app: NexiosApp) -> bool:
    return not any(getattr(m, "cls", None) is GuideASGI for m in app.http_middleware)


def _answer(client: TestClient, path: str, headers: dict[str, str]) -> tuple[Any, ...]:
    r = client.get(path, headers=headers)
    kept = {k: v for k, v in r.headers.items() if k.lower() != "date"}
    return r.status_code, r.content, sorted(kept.items())


CASES = [
    ("authenticated", "/me", {"Authorization": f"Bearer {_token('alice')}"}),
    ("anonymous on a protected route", "/me", {}),
    ("bad signature", "/me", {"Authorization": f"Bearer {_token('alice')[:-3]}abc"}),
    ("unknown user", "/me", {"Authorization": f"Bearer {_token('mallory')}"}),
    ("store outage is a 503", "/me", {"Authorization": f"Bearer {_token('down')}"}),
    ("open route, token", "/open", {"Authorization": f"Bearer {_token('alice')}"}),
    ("open route, anonymous", "/open", {}),
    ("another scheme", "/me", {"Authorization": "Basic YWxpY2U6cHc="}),
]


@pytest.mark.parametrize(("label", "path", "headers"), CASES, ids=[c[0] for c in CASES])
def test_bridge_free_answers_are_byte_identical(label: str, path: str, headers: Any) -> None:
    """Every answer after the swap equals, byte for byte, the bridged first answer."""
    app = _app()
    with TestClient(app) as client:
        assert _bridged(app)
        first = _answer(client, path, headers)
        assert not _bridged(app)
        assert _answer(client, path, headers) == first
    if "503" in label:
        assert first[0] == 503
    assert first[0] in (200, 401, 503)


def test_inner_function_middleware_still_sees_the_user() -> None:
    """A function middleware added before ours still runs after it, with the user set."""
    seen: list[Any] = []
    app = _app(seen=seen)
    headers = {"Authorization": f"Bearer {_token('alice')}"}
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get("/me", headers=headers).json() == {"user": "alice"}
    assert not _bridged(app)
    assert [getattr(u, "id", None) for u in seen] == ["alice", "alice", "alice"]


def test_custom_backend_keeps_the_bridge() -> None:
    """A custom backend may read the Request the bridge builds, so it stays bridged."""

    class HeaderBackend(AuthenticationBackend):
        name = "custom"

        async def authenticate(self, request: Any, response: Any) -> Any:
            who = request.headers.get("x-user")
            return (SimpleUser(who), "custom") if who else None

    app = _app(backend=HeaderBackend())
    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/me", headers={"x-user": "bob"}).json() == {"user": "bob"}
        assert client.get("/me").status_code == 401
    assert _bridged(app)
