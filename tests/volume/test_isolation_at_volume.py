"""Isolation at volume: 10,000 requests, 200 in flight, 100 users, three credential kinds,
a loader that awaits. No response may carry another caller's identity."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from nexios import NexiosApp
from nexios.dependencies import Depend
from support.asgi import call

from nexios_auth_di import SimpleUser, current_user, install
from nexios_auth_di.sessions import login
from nexios_auth_di.testing import make_test_container

REQUESTS = 10_000
IN_FLIGHT = 200
USERS = 100
COOKIE = b"__Host-session"


def _app() -> tuple[NexiosApp, Any]:
    container = make_test_container(backends=["jwt", "session", "api_key"])

    async def loader(identity: Any) -> Any:
        await asyncio.sleep(0)  # yield mid-resolution so requests interleave
        return SimpleUser(str(identity), permissions=["read"])

    container.user_loader.override(loader)
    app = NexiosApp(debug=False)

    @app.post("/login/{name}")
    async def do_login(request: Any, response: Any, name: str) -> Any:
        await login(request, name)
        return {"ok": True}

    @app.get("/whoami")
    async def whoami(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        await asyncio.sleep(0)
        return {"id": user.identity, "auth": request.scope["auth"]}

    install(app, container)
    return app, container


def _cookie_from(headers: list[tuple[bytes, bytes]]) -> bytes:
    for key, value in headers:
        if key == b"set-cookie" and value.startswith(COOKIE + b"="):
            return value.split(b";", 1)[0]
    raise AssertionError("login set no session cookie")


async def test_10000_mixed_requests_never_cross_identities() -> None:
    """10,000 requests (JWT, session cookie, API key) for 100 users, 200 at a time: every
    response names exactly its own caller and credential kind."""
    app, container = _app()
    names = [f"user{i:03d}" for i in range(USERS)]
    tokens = container.token_service()
    keys = container.api_key_service()
    credentials: dict[str, dict[str, list[tuple[bytes, bytes]]]] = {}
    for name in names:
        logged_in = await call(app, "POST", f"/login/{name}")
        assert logged_in.status == 200
        key, _ = await keys.create(name, scopes=["read"])
        credentials[name] = {
            "jwt": [(b"authorization", f"Bearer {tokens.create_access_token(name)}".encode())],
            "session": [(b"cookie", _cookie_from(logged_in.headers))],
            "api_key": [(b"x-api-key", key.encode())],
        }
    rng = random.Random(20261130)
    plan = [(rng.choice(names), rng.choice(["jwt", "session", "api_key"])) for _ in range(REQUESTS)]
    gate = asyncio.Semaphore(IN_FLIGHT)
    crossed: list[tuple[str, str, int, bytes]] = []
    counts = {"jwt": 0, "session": 0, "api_key": 0}

    async def one(name: str, kind: str) -> None:
        async with gate:
            response = await call(app, "GET", "/whoami", credentials[name][kind])
        expected = f'{{"id":"{name}","auth":"{kind}"}}'.encode()
        if response.status != 200 or response.body.replace(b" ", b"") != expected:
            crossed.append((name, kind, response.status, response.body[:200]))
        else:
            counts[kind] += 1

    await asyncio.gather(*(one(name, kind) for name, kind in plan))
    assert crossed == []
    assert sum(counts.values()) == REQUESTS
    assert min(counts.values()) > REQUESTS // 4  # every kind was really exercised
