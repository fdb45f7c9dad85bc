"""Deterministic races through the real app: a ``Gate`` holds one request at a chosen
point (after the password check, after a refresh token is spent) while the owner acts,
then lets it go. The gated objects wrap the container's real services and stores: the
code under test runs unchanged, it only waits at the gate.
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
from dependency_injector import providers
from nexios import Depend, NexiosApp

from nexios_auth_di import current_user, install
from nexios_auth_di.container import shutdown
from nexios_auth_di.events import MemorySink
from nexios_auth_di.routes import auth_router
from nexios_auth_di.session import csrf_token
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a different long passphrase"
#: the session cookie's names (``__Host-`` whenever it is Secure, RFC 6265bis §4.1.3.2)
SESSION_COOKIES = ("session", "__Host-session")
#: bounds how long a test waits for requests to reach a gate (a hang guard, not a timing)
REACH_TIMEOUT = 20.0


class Gate:
    """Holds the first ``count`` callers of ``hold()`` until ``open()``; later callers
    (and every caller while unarmed) pass straight through."""

    def __init__(self) -> None:
        self.count = 0
        self.held = 0
        self._all_held = asyncio.Event()
        self._open = asyncio.Event()

    def arm(self, count: int) -> None:
        self.count, self.held = count, 0
        self._all_held.clear()
        self._open.clear()

    async def hold(self) -> None:
        if self.held >= self.count:
            return
        self.held += 1
        if self.held == self.count:
            self._all_held.set()
        await self._open.wait()

    async def reached(self) -> None:
        """Wait until every armed caller is held."""
        await asyncio.wait_for(self._all_held.wait(), REACH_TIMEOUT)

    def open(self) -> None:
        self.count = 0
        self._open.set()


class GatedPasswords:
    """The real ``PasswordService``; a login waits at the gate once its password passed."""

    def __init__(self, inner: Any, gate: Gate) -> None:
        self._inner, self._gate = inner, gate

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def verify_and_update(self, *args: Any, **kwargs: Any) -> bool:
        ok: bool = await self._inner.verify_and_update(*args, **kwargs)
        await self._gate.hold()
        return ok


class GatedFamilies:
    """The real refresh-family store; a refresh waits at the gate once its token is spent."""

    def __init__(self, inner: Any, gate: Gate) -> None:
        self._inner, self._gate = inner, gate

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def spend(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._inner.spend(*args, **kwargs)
        await self._gate.hold()
        return result


@dataclass
class Reply:
    status: int
    body: Any
    cookie: str | None


@dataclass
class RaceApp:
    """A real Nexios app over one store engine, SQLite users, and two gates."""

    engine: str
    container: Any
    client: httpx.AsyncClient
    login_gate: Gate
    spend_gate: Gate
    sink: MemorySink

    async def call(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        cookie: str | None = None,
        json: Any = None,
        csrf: str | None = None,
    ) -> Reply:
        """One request with exactly the credentials given (the jar is never used)."""
        headers: dict[str, str] = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if cookie is not None:
            headers["Cookie"] = cookie  # "name=value", as the login set it
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf
        self.client.cookies.clear()
        response = await self.client.request(method, url, headers=headers, json=json)
        self.client.cookies.clear()
        session = None
        for line in response.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if name.strip() in SESSION_COOKIES and value:
                session = f"{name.strip()}={value}"
        body = response.json() if response.content else None
        return Reply(response.status_code, body, session)

    async def register(self, username: str = "alice") -> str:
        reply = await self.call(
            "POST", "/auth/register", json={"username": username, "password": PASSWORD}
        )
        assert reply.status == 201, reply.body
        return str(reply.body["id"])

    async def login(self, username: str = "alice", password: str = PASSWORD) -> Reply:
        body = {"username": username, "password": password}
        return await self.call("POST", "/auth/login", json=body)

    async def refresh(self, refresh_token: str) -> Reply:
        return await self.call("POST", "/auth/refresh", json={"refresh_token": refresh_token})

    async def survives(self, reply: Reply) -> bool:
        """Whether any credential a login/refresh reply handed out still works."""
        if reply.status != 200:
            return False
        body = reply.body
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if access is not None and (await self.call("GET", "/me", token=access)).status == 200:
            return True
        cookie = reply.cookie
        if cookie is not None and (await self.call("GET", "/me", cookie=cookie)).status == 200:
            return True
        return refresh is not None and (await self.refresh(refresh)).status == 200


def _build_app(container: Any) -> NexiosApp:
    app = NexiosApp()

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return response.json({"id": user.id})

    @app.get("/csrf")
    async def anonymous_csrf(request: Any, response: Any) -> Any:
        return response.json({"csrf": csrf_token(request)})  # an anonymous session (forms)

    app.mount_router(auth_router(container, login_mode="both"))
    install(app, container)
    return app


def engine_config(engine: str, tmp_path: Path, redis_url: str | None) -> dict[str, Any]:
    """Container config selecting one store engine (a fresh namespace on Redis)."""
    if engine == "sqlite":
        return {"stores": "sqlite", "store": {"sqlite_path": str(tmp_path / "auth.db")}}
    if engine == "redis":
        namespace = f"nxauth-race-{uuid.uuid4().hex[:12]}"
        return {"stores": "redis", "store": {"redis_url": redis_url, "namespace": namespace}}
    return {"stores": "memory"}


@asynccontextmanager
async def race_app(
    engine: str, tmp_path: Path, redis_url: str | None, **config: Any
) -> AsyncIterator[RaceApp]:
    """The app with its password service and family store behind gates."""
    container = make_test_container(**{**engine_config(engine, tmp_path, redis_url), **config})
    repo = SqliteUserRepository(tmp_path / f"users-{uuid.uuid4().hex[:8]}.sqlite3")
    container.user_loader.override(providers.Object(user_loader_for(repo)))
    container.user_repository.override(providers.Object(repo))
    sink = MemorySink()
    container.event_sink.override(providers.Object(sink))
    login_gate, spend_gate = Gate(), Gate()
    container.password_service.override(
        providers.Object(GatedPasswords(container.password_service(), login_gate))
    )
    container.refresh_family_store.override(
        providers.Object(GatedFamilies(container.refresh_family_store(), spend_gate))
    )
    app = _build_app(container)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        try:
            yield RaceApp(engine, container, client, login_gate, spend_gate, sink)
        finally:
            login_gate.open()
            spend_gate.open()
            if engine == "redis":
                db = container.stores().revocations._db
                namespace = db.namespace
                keys = [k async for k in db.client.scan_iter(match=f"{namespace}:*")]
                if keys:
                    await db.client.delete(*keys)
            await shutdown(container)
