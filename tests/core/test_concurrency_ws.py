"""Concurrency isolation and WebSocket connections."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import SimpleUser, current_user, install
from nexios_auth_di.dependencies import websocket_user
from nexios_auth_di.testing import make_test_container


async def test_2000_concurrent_requests_for_200_users_each_get_their_own():
    """2,000 interleaved requests for 200 users: every response names its own caller and
    the loader ran exactly once per request (no cross-request cache bleed)."""
    users = {f"user{i}": SimpleUser(f"user{i}") for i in range(200)}
    calls: list[str] = []

    async def slow_loader(identity: Any) -> Any:
        calls.append(str(identity))
        await asyncio.sleep(0)  # yield so requests interleave mid-resolution
        return users.get(str(identity))

    container = make_test_container()
    container.user_loader.override(slow_loader)
    app = NexiosApp()
    install(app, container)

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        await asyncio.sleep(0)
        return {"id": user.id}

    svc = container.token_service()
    tokens = {name: svc.create_access_token(name) for name in users}
    expected = [f"user{i % 200}" for i in range(2000)]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        sem = asyncio.Semaphore(500)

        async def call(name: str) -> str:
            async with sem:
                r = await client.get("/me", headers={"Authorization": f"Bearer {tokens[name]}"})
                assert r.status_code == 200
                return str(r.json()["id"])

        got = await asyncio.gather(*(call(n) for n in expected))
    assert got == expected
    assert sorted(calls) == sorted(expected)


def ws_app() -> tuple[NexiosApp, Any]:
    container = make_test_container({"alice": SimpleUser("alice")})
    app = NexiosApp()
    install(app, container)

    @app.ws_route("/ws")
    async def ws(websocket):
        user = await websocket_user(websocket)
        if user is None:
            return
        await websocket.accept()
        await websocket.send_json({"hello": user.id, "auth": websocket.scope["auth"]})
        await websocket.close()

    return app, container


def test_websocket_authenticated_by_bearer_token():
    """A WebSocket handshake with a valid bearer token sees its user."""
    app, container = ws_app()
    token = container.token_service().create_access_token("alice")
    with (
        TestClient(app) as client,
        client.websocket_connect("/ws", headers={"Authorization": f"Bearer {token}"}) as ws,
    ):
        assert ws.receive_json() == {"hello": "alice", "auth": "jwt"}


def test_websocket_anonymous_is_closed_with_policy_violation():
    """An anonymous WebSocket is closed with 1008 before it is accepted."""
    from nexios.testclient import WebSocketDisconnect

    app, _ = ws_app()
    with (
        TestClient(app) as client,
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/ws") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 1008
