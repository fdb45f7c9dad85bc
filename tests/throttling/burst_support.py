"""A real Nexios app with the ready-made auth routes, driven concurrently in-process
(httpx.AsyncClient over ASGITransport), with a password service that counts (and can
hold) every argon2 verify. Callers speak from any IP through ``X-Forwarded-For``: the
transport's peer, 127.0.0.1, is the one trusted proxy."""

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
from nexios import NexiosApp

from nexios_auth_di import AuthContainer, install
from nexios_auth_di.passwords import PasswordService
from nexios_auth_di.passwords.profiles import TEST_ONLY_CHEAP
from nexios_auth_di.routes import auth_router
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

PASSWORD = "the owner's real password"
WRONG = "a wrong guess 123"
ENGINES = ("memory", "sqlite", "redis")


class CountingPasswords(PasswordService):
    """The real service (cheap profile) that counts verifies, so a test sees how many
    guesses reached argon2; ``hold`` (an Event) parks each verify until it is set."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_concurrency", 2)
        kwargs.setdefault("queue_depth", 10_000)  # these tests count guesses, not shedding
        super().__init__(TEST_ONLY_CHEAP, allow_cheap=True, **kwargs)
        self.entered = 0
        self.exited = 0
        self.hashes = 0
        self.hold: asyncio.Event | None = None

    @property
    def held(self) -> int:
        return self.entered - self.exited

    async def _counted(self, work: Any) -> Any:
        self.entered += 1
        try:
            if self.hold is not None:
                await self.hold.wait()
            return await work
        finally:
            self.exited += 1

    async def verify(self, hash: str, password: str) -> bool:
        result: bool = await self._counted(super().verify(hash, password))
        return result

    async def dummy_verify(self, password: str) -> None:
        await self._counted(super().dummy_verify(password))

    async def hash(self, password: str) -> str:
        self.hashes += 1
        return await super().hash(password)


@dataclass
class Site:
    """The app, its container, its counting password service and an async client."""

    client: httpx.AsyncClient
    container: AuthContainer
    passwords: CountingPasswords
    repo: SqliteUserRepository

    async def login(self, ip: str, password: str, username: str = "owner") -> httpx.Response:
        body = {"username": username, "password": password}
        return await self.client.post("/auth/login", json=body, headers={"X-Forwarded-For": ip})

    async def change_password(self, ip: str, token: str, current: str) -> httpx.Response:
        body = {"current_password": current, "new_password": "a brand new password 42"}
        headers = {"X-Forwarded-For": ip, "Authorization": f"Bearer {token}"}
        return await self.client.post("/auth/password", json=body, headers=headers)

    async def register(self, ip: str, username: str) -> httpx.Response:
        body = {"username": username, "password": PASSWORD}
        return await self.client.post("/auth/register", json=body, headers={"X-Forwarded-For": ip})


def engine_config(engine: str, tmp_path: Path, redis_url: str | None) -> dict[str, Any]:
    """``stores``/``store`` settings for one engine (a fresh namespace on Redis)."""
    store: dict[str, Any] = {"namespace": f"burst-{uuid.uuid4().hex[:12]}"}
    if engine == "sqlite":
        store["sqlite_path"] = str(tmp_path / "stores.sqlite3")
    if engine == "redis":
        assert redis_url, "the redis rows need REDIS_URL"
        store["redis_url"] = redis_url
    return {"stores": engine, "store": store}


@asynccontextmanager
async def site(
    engine: str,
    tmp_path: Path,
    redis_url: str | None = None,
    *,
    passwords: CountingPasswords | None = None,
    **config: Any,
) -> AsyncIterator[Site]:
    """A running app whose one user ``owner`` has password ``PASSWORD``."""
    throttle = {"trusted_proxies": ["127.0.0.1"], **config.pop("throttle", {})}
    container = make_test_container(
        backends=["jwt"], throttle=throttle, **engine_config(engine, tmp_path, redis_url), **config
    )
    repo = SqliteUserRepository(tmp_path / f"users-{uuid.uuid4().hex[:8]}.sqlite3")
    counting = passwords or CountingPasswords()
    container.user_loader.override(providers.Object(user_loader_for(repo)))
    container.user_repository.override(providers.Object(repo))
    container.password_service.override(providers.Object(counting))
    app = NexiosApp()
    app.mount_router(auth_router(container, login_mode="tokens"))
    install(app, container)
    await repo.create("owner", await counting.hash(PASSWORD))
    counting.entered = counting.exited = counting.hashes = 0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        try:
            yield Site(client, container, counting, repo)
        finally:
            await container.stores().close()


async def until(condition: Any, *, limit: float = 20.0) -> None:
    """Let the loop run until ``condition()`` holds (bounded: a hang is a failure)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        assert loop.time() < deadline, "condition never reached"
        await asyncio.sleep(0.005)
