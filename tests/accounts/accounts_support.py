"""Helpers for the account tests: a real Nexios app with the ready-made router, real
SQLite (or memory) users, a ``MemoryEmailSender`` and a ``MemorySink``, driven over HTTP
by ``httpx.AsyncClient`` on one event loop (so bursts really interleave)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from dependency_injector import providers
from nexios import Depend, NexiosApp
from support.clock import FakeClock

from nexios_auth_di import MemoryEmailSender, current_user, install
from nexios_auth_di.container import shutdown
from nexios_auth_di.events import MemorySink
from nexios_auth_di.routes import auth_router
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import MemoryUserRepository, SqliteUserRepository, user_loader_for

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"token=([A-Za-z0-9_.%-]+)")


class PeerFromHeader:
    """Test-only ASGI shim: ``X-Test-Peer`` sets the client address (per-IP counters)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        for key, value in scope.get("headers") or ():
            if key == b"x-test-peer":
                scope["client"] = (value.decode(), 40000)
        await self.app(scope, receive, send)


@dataclass
class Env:
    """A running app and the parts tests look at."""

    client: httpx.AsyncClient
    container: Any
    repo: Any
    sink: MemorySink
    mail: MemoryEmailSender
    clock: FakeClock
    secrets: list[str] = field(default_factory=list)

    async def drain(self) -> None:
        """Wait for every background job (lookups, sends) queued so far."""
        await self.container.background().drain()

    async def post(self, url: str, body: Any = None, **kw: Any) -> httpx.Response:
        self.client.cookies.clear()
        if body is None:
            return await self.client.post(url, **kw)
        return await self.client.post(url, json=body, **kw)

    async def register(
        self, username: str = "alice", email: str | None = "alice@example.com"
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"username": username, "password": PASSWORD}
        if email is not None:
            body["email"] = email
        response = await self.post("/auth/register", body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    async def login(self, username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
        response = await self.post("/auth/login", {"username": username, "password": password})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        self.secrets += [v for k, v in data.items() if k.endswith("token")]
        return data

    async def token_from_mail(self, to: str, kind: str) -> str:
        """The token in the newest ``kind`` mail to ``to`` (text and HTML carry the same)."""
        await self.drain()
        mails = [m for m in self.mail.to(to) if m.kind == kind]
        assert mails, f"no {kind} mail to {to}"
        found = LINK.search(mails[-1].text)
        assert found is not None
        token = unquote(found.group(1))
        assert token in unquote(mails[-1].html)
        self.secrets.append(token)
        return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def build_app(container: Any, login_mode: str) -> Any:
    app = NexiosApp()

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return response.json({"id": user.id})

    app.mount_router(auth_router(container, login_mode=login_mode))  # type: ignore[arg-type]
    install(app, container)
    app.wrap_asgi(PeerFromHeader)
    return app


async def open_env(
    tmp_path: Path, *, login_mode: str = "tokens", repo: str = "sqlite", **config: Any
) -> Env:
    users: Any = (
        SqliteUserRepository(tmp_path / "users.sqlite3")
        if repo == "sqlite"
        else MemoryUserRepository()
    )
    container = make_test_container(**config)
    clock = FakeClock(time.time())
    container.clock.override(providers.Object(clock))
    container.user_loader.override(providers.Object(user_loader_for(users)))
    container.user_repository.override(providers.Object(users))
    sink, mail = MemorySink(), MemoryEmailSender()
    container.event_sink.override(providers.Object(sink))
    container.email_sender.override(providers.Object(mail))
    transport = httpx.ASGITransport(app=build_app(container, login_mode))
    client = httpx.AsyncClient(transport=transport, base_url="https://testserver")
    return Env(client, container, users, sink, mail, clock)


async def close_env(env: Env) -> None:
    await env.drain()
    await env.client.aclose()
    await shutdown(env.container)
