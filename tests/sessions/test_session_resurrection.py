"""Gate tests: a session ended while a thief's request is in flight stays ended.

A thief with a stolen cookie starts a request that writes to the session and holds it;
the owner logs out (or out everywhere). When the thief's request finishes, its session
must not be saved back: the response clears the cookie and the stolen cookie gets 401.
Runs over the real installed app on memory, SQLite and Redis stores.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from nexios import NexiosApp
from nexios.dependencies import Depend

from nexios_auth_di import SimpleUser, current_user, install
from nexios_auth_di.container import shutdown
from nexios_auth_di.sessions import csrf_token, login, logout
from nexios_auth_di.testing import make_test_container

BASE = "https://testserver"


@dataclass
class Gate:
    """Holds the thief's request inside the handler until the owner has acted."""

    entered: asyncio.Event
    release: asyncio.Event


def _app(config: dict[str, Any], gate: Gate) -> tuple[NexiosApp, Any]:
    container = make_test_container({"alice": SimpleUser("alice")}, backends=["session"], **config)
    app = NexiosApp(debug=False)
    install(app, container)

    @app.post("/login")
    async def do_login(request, response):  # type: ignore[no-untyped-def]
        await login(request, "alice")
        return {"csrf": csrf_token(request)}

    @app.get("/touch")
    async def touch(request, response, user=Depend(current_user)):  # type: ignore[no-untyped-def]
        gate.entered.set()
        await gate.release.wait()
        request.session["last_seen"] = "/touch"  # an app route that writes to the session
        return {"user": user.identity}

    @app.get("/me")
    async def me(request, response, user=Depend(current_user)):  # type: ignore[no-untyped-def]
        return {"user": user.identity}

    @app.post("/logout")
    async def do_logout(request, response, user=Depend(current_user)):  # type: ignore[no-untyped-def]
        await logout(request)
        return response.empty(status_code=204)

    @app.post("/logout-all")
    async def logout_all(request, response, user=Depend(current_user)):  # type: ignore[no-untyped-def]
        await container.session_store().delete_for_subject("alice")
        return response.empty(status_code=204)

    return app, container


@asynccontextmanager
async def closing(container: Any) -> AsyncIterator[None]:
    """Close what the container opened (SQLite's thread, Redis pools) when the test ends."""
    try:
        yield
    finally:
        await shutdown(container)


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def engine_config(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[dict[str, Any]]:
    engine: str = request.param
    if engine == "memory":
        yield {"stores": "memory"}
    elif engine == "sqlite":
        yield {"stores": "sqlite", "store": {"sqlite_path": str(tmp_path / "auth.db")}}
    else:
        namespace = f"nxauth-test-{uuid.uuid4().hex[:12]}"
        yield {
            "stores": "redis",
            "store": {"redis_url": request.getfixturevalue("redis_url"), "namespace": namespace},
        }


@pytest.mark.parametrize("owner_action", ["/logout", "/logout-all"])
async def test_session_ended_mid_request_is_not_saved_back(
    engine_config: dict[str, Any], owner_action: str
) -> None:
    """The thief's in-flight write does not resurrect a session the owner ended."""
    gate = Gate(asyncio.Event(), asyncio.Event())
    app, container = _app(engine_config, gate)
    transport = httpx.ASGITransport(app=app)
    async with closing(container), httpx.AsyncClient(transport=transport, base_url=BASE) as owner:
        logged_in = await owner.post("/login")
        assert logged_in.status_code == 200
        stolen = dict(owner.cookies)
        csrf = logged_in.json()["csrf"]
        async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=stolen) as thief:
            in_flight = asyncio.create_task(thief.get("/touch"))
            await asyncio.wait_for(gate.entered.wait(), 5)
            ended = await owner.post(owner_action, headers={"X-CSRF-Token": csrf})
            assert ended.status_code == 204
            gate.release.set()
            late = await asyncio.wait_for(in_flight, 5)
            assert late.status_code == 200  # it was authenticated when it started
            assert "max-age=0" in late.headers.get("set-cookie", "").lower()
            thief.cookies.clear()
            thief.cookies.update(stolen)
            again = await thief.get("/me")
            assert again.status_code == 401


async def test_live_session_is_still_saved(engine_config: dict[str, Any]) -> None:
    """Control: with nobody logging out, the in-flight write is saved and the cookie works."""
    gate = Gate(asyncio.Event(), asyncio.Event())
    gate.release.set()
    app, container = _app(engine_config, gate)
    transport = httpx.ASGITransport(app=app)
    async with closing(container), httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        assert (await client.post("/login")).status_code == 200
        touched = await client.get("/touch")
        assert touched.status_code == 200
        assert "max-age=0" not in touched.headers.get("set-cookie", "").lower()
        assert (await client.get("/me")).status_code == 200
