"""What the container opens, it closes: ``container.shutdown`` and the lifespan hooks that
``install()`` registers (issue item "Nothing closes what it opens")."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from nexios import NexiosApp
from nexios.testclient import TestClient
from support.redis_server import RedisProcess

from nexios_auth_di import AuthContainer, SimpleUser, install
from nexios_auth_di.container import shutdown
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import MemoryUserRepository

AIOSQLITE_THREAD = "_connection_worker_thread"  # aiosqlite names its worker after this
POOL_THREAD = "nexios-auth-argon2"  # PasswordService's own pool (thread_name_prefix)


def threads(marker: str) -> set[threading.Thread]:
    return {t for t in threading.enumerate() if marker in t.name}


def all_ended(started: set[threading.Thread]) -> bool:
    """Join each thread briefly (a stopped worker needs a moment to return)."""
    for thread in started:
        thread.join(timeout=5)
    return not any(t.is_alive() for t in started)


def sqlite_container(tmp_path: Path) -> AuthContainer:
    return make_test_container(stores="sqlite", store={"sqlite_path": str(tmp_path / "a.db")})


async def test_closing_a_container_that_built_nothing_opens_nothing(tmp_path: Path) -> None:
    """shutdown() on an untouched container builds no part and creates no database file."""
    container = sqlite_container(tmp_path)
    await shutdown(container)
    await shutdown(container)
    assert container.lifetimes().names == []
    assert not (tmp_path / "a.db").exists()


async def test_closing_twice_is_fine_and_ends_the_sqlite_thread(tmp_path: Path) -> None:
    """After a store was used, shutdown ends aiosqlite's worker thread (not a daemon: it
    kept the demo alive after Ctrl-C); a second shutdown is a no-op."""
    container = sqlite_container(tmp_path)
    before = threads(AIOSQLITE_THREAD)
    await container.revocation_store().revoke_jti("j1", time.time() + 60)
    opened = threads(AIOSQLITE_THREAD) - before
    assert len(opened) == 1
    assert container.lifetimes().names == ["stores"]
    await shutdown(container)
    await shutdown(container)
    assert all_ended(opened)
    assert not (tmp_path / "a.db-wal").exists(), "SQLite keeps its WAL until the last close"


UNCLOSED = """
import asyncio, sys, time
from nexios_auth_di.testing import make_test_container
container = make_test_container(stores="sqlite", store={"sqlite_path": sys.argv[1]})
asyncio.run(container.revocation_store().revoke_jti("j1", time.time() + 60))
print("used, never closed", flush=True)
"""


def test_a_store_nobody_closed_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    """A container used without lifespan or shutdown (a script, a test) still lets the
    interpreter exit: aiosqlite's worker thread is a daemon (it hung the suite at exit)."""
    path = str(tmp_path / "a.db")
    done = subprocess.run(
        [sys.executable, "-c", UNCLOSED, path], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout.strip()) == (0, "used, never closed"), done.stderr


async def test_closed_parts_reopen_on_next_use(tmp_path: Path) -> None:
    """A closed container serves again (a second lifespan): stores reopen with their
    data and the password service starts a new pool."""
    container = sqlite_container(tmp_path)
    passwords = container.password_service()
    hashed = await passwords.hash("correct horse")
    await container.revocation_store().revoke_jti("j1", time.time() + 60)
    await shutdown(container)
    assert await container.revocation_store().is_refused("j1", "s", time.time())
    assert await passwords.verify(hashed, "correct horse")
    await shutdown(container)


async def test_shutdown_stops_the_hashing_pool(tmp_path: Path) -> None:
    """The password service's niced threads end at shutdown, so none keeps the process
    alive; an executor the app injected is the app's and is left alone."""
    container = sqlite_container(tmp_path)
    before = threads(POOL_THREAD)
    await container.password_service().hash("correct horse")
    pool = threads(POOL_THREAD) - before
    assert pool
    await shutdown(container)
    assert all_ended(pool)


@pytest.mark.redis
async def test_shutdown_ends_the_revocation_cache_task_and_every_redis_connection(
    redis_process: RedisProcess,
) -> None:
    """On a private Redis server, after the stores, the login throttle, the revocation
    cache's pub/sub task and the hashing pool were used, shutdown leaves no connection
    but the test's own, the task done and the pool's threads ended."""
    import redis.asyncio as aioredis

    store = {"redis_url": redis_process.url, "revocation_cache": True}
    container = make_test_container(stores="redis", store=store)
    revocations = container.revocation_store()
    await revocations.revoke_jti("j1", time.time() + 60)  # the stores' pool
    attempt = await container.login_throttle().reserve("ada", "127.0.0.1")
    await container.login_throttle().succeeded(attempt)
    await container.password_service().hash("correct horse")
    pool = threads(POOL_THREAD)
    task = next(t for t in asyncio.all_tasks() if t.get_name() == revocations.client_name)
    async with aioredis.Redis.from_url(redis_process.url) as admin:
        await until(lambda names: revocations.client_name in names, admin, "never subscribed")
        await shutdown(container)
        assert task.done()
        assert all_ended(pool)
        # the server notices closed sockets a moment later
        await until(lambda names: len(names) == 1, admin, "connections outlived shutdown")


async def until(done: Callable[[list[str]], bool], admin: Any, failure: str) -> None:
    """Poll CLIENT LIST (names of every connection) until ``done``, at most 5 s."""
    for _ in range(100):
        names = [str(c.get("name", "")) for c in await admin.client_list()]
        if done(names):
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"{failure}: {names}")


class Stuck:
    """A part whose close never returns, or fails."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    async def aclose(self) -> None:
        if self.fail:
            raise OSError("disk on fire")
        await asyncio.Event().wait()


async def test_a_stuck_or_failing_close_is_bounded_logged_and_the_rest_still_close(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One close hanging past the bound or raising is logged (not raised) and the other
    parts are still closed: a shutdown always finishes."""
    container = sqlite_container(tmp_path)
    before = threads(AIOSQLITE_THREAD)
    await container.revocation_store().revoke_jti("j1", time.time() + 60)
    opened = threads(AIOSQLITE_THREAD) - before
    container.lifetimes().own("stuck", Stuck())
    container.lifetimes().own("failing", Stuck(fail=True))
    with caplog.at_level(logging.WARNING, logger="nexios_auth_di"):
        await shutdown(container, bound=0.05)
    assert all_ended(opened)
    logged = caplog.text
    assert "closing stuck timed out" in logged
    assert "closing failing failed" in logged
    assert "shutdown left open: failing, stuck" in logged


def revoking_app(container: AuthContainer, **kwargs: Any) -> NexiosApp:
    app = NexiosApp(**kwargs)

    @app.post("/revoke")
    async def revoke(request: Any, response: Any) -> Any:
        await container.revocation_store().revoke_jti("j1", time.time() + 60)
        return {"ok": True}

    @app.get("/refused")
    async def refused(request: Any, response: Any) -> Any:
        return {"refused": await container.revocation_store().is_refused("j1", "s", 0.0)}

    install(app, container)
    return app


def test_testclient_lifespan_closes_the_stores_and_a_second_one_reopens(tmp_path: Path) -> None:
    """``with TestClient(app)`` runs the lifespan: on exit the store's thread has ended;
    a second block on the same app works and sees the first one's data."""
    container = sqlite_container(tmp_path)
    app = revoking_app(container)
    before = threads(AIOSQLITE_THREAD)
    with TestClient(app) as client:
        assert client.post("/revoke").status_code == 200
        opened = threads(AIOSQLITE_THREAD) - before
        assert len(opened) == 1
    assert all_ended(opened)
    with TestClient(app) as client:
        assert client.get("/refused").json() == {"refused": True}
        opened = threads(AIOSQLITE_THREAD) - before
    assert all_ended(opened)


def test_an_app_with_its_own_lifespan_still_closes(tmp_path: Path) -> None:
    """Nexios skips on_shutdown handlers when the app has a ``lifespan``: install() wraps
    that lifespan instead, which still runs, around the container's startup and close."""
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        events.append("app up")
        yield
        events.append("app down")

    container = sqlite_container(tmp_path)
    app = revoking_app(container, lifespan=lifespan)
    before = threads(AIOSQLITE_THREAD)
    with TestClient(app) as client:
        assert client.post("/revoke").status_code == 200
        opened = threads(AIOSQLITE_THREAD) - before
    assert events == ["app up", "app down"]
    assert len(opened) == 1
    assert all_ended(opened)


@pytest.fixture
def routes_app(tmp_path: Path) -> tuple[NexiosApp, AuthContainer]:
    from nexios_auth_di.routes import auth_router
    from nexios_auth_di.users import user_loader_for

    container = sqlite_container(tmp_path)
    users = MemoryUserRepository()
    container.user_repository.override(users)
    container.user_loader.override(user_loader_for(users))
    app = NexiosApp()
    install(app, container)
    app.mount_router(auth_router(container, login_mode="tokens"))
    return app, container


def test_startup_warms_the_password_service_for_apps_with_users(
    routes_app: tuple[NexiosApp, AuthContainer],
) -> None:
    """An app with a user repository makes its dummy hash at startup (so the first
    unknown-user login costs what any other does), and its pool ends at shutdown."""
    app, container = routes_app
    before = threads(POOL_THREAD)
    with TestClient(app):
        assert "password_service" in container.lifetimes().names
        pool = threads(POOL_THREAD) - before
        assert pool
    assert all_ended(pool)


def test_startup_opens_nothing_for_apps_without_users(tmp_path: Path) -> None:
    """Without a user repository, startup warms no password service and opens no store
    (stores open on first use, so an unreachable database cannot fail the boot)."""
    container = sqlite_container(tmp_path)
    with TestClient(revoking_app(container)):
        assert "password_service" not in container.lifetimes().names
        assert not (tmp_path / "a.db").exists()
    assert not (tmp_path / "a.db").exists()


def test_memory_stores_keep_their_state_across_lifespans() -> None:
    """Closing memory stores releases nothing and loses nothing: a revocation made in one
    TestClient block is still refused in the next."""
    container = make_test_container({"alice": SimpleUser("alice")})
    app = revoking_app(container)
    with TestClient(app) as client:
        client.post("/revoke")
    with TestClient(app) as client:
        assert client.get("/refused").json() == {"refused": True}
