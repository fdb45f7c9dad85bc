"""Revocation-checked requests: median µs per request, in-process ASGI, in one run.

Rows: a bare Nexios route; a ``Depend(current_user)`` JWT route whose token service
checks revocation on every request (the verified-token cache is warm, so the check is
what differs) on memory, SQLite, Redis, and Redis behind ``CachedRevocationStore``.
Then memory per 100k revoked jtis in the memory store (tracemalloc).

Run: ``.venv/bin/python benchmarks/bench_revocation.py``; the Redis rows need REDIS_URL
(``eval "$(scripts/redis-test-server.sh)"``). Takes about 20 s.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from _stores import drop_namespace, memory_per_100k
from nexios import Depend, NexiosApp

from nexios_auth_di import AuthContainer, SimpleUser, current_user, install
from nexios_auth_di.http.compat import silence_dependency_print
from nexios_auth_di.testing import make_test_container

REQUESTS = 2_000  # per row, taken in ROUNDS interleaved slices so load noise hits all rows
ROUNDS = 10
WARMUP = 200
REVOKED = 1_000  # other revoked jtis present while measuring
USERS = {"alice": SimpleUser("alice")}


def bare_app() -> NexiosApp:
    app = NexiosApp()

    @app.get("/me")
    async def me(request: Any, response: Any) -> Any:
        return response.json({"user": "alice"})

    return app


def auth_app(container: AuthContainer) -> NexiosApp:
    app = NexiosApp()

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return response.json({"user": user.identity})

    install(app, container)
    return app


@dataclass
class Row:
    name: str
    client: httpx.AsyncClient
    headers: dict[str, str]
    container: AuthContainer | None = None
    samples: list[int] = field(default_factory=list)

    async def sample(self, n: int) -> None:
        for _ in range(n):
            start = time.perf_counter_ns()
            answer = await self.client.get("/me", headers=self.headers)
            self.samples.append(time.perf_counter_ns() - start)
            assert answer.status_code == 200

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples) / 1000

    def note(self) -> str:
        store = self.container.revocation_store() if self.container else None
        lookups = getattr(store, "lookups", None)
        return "" if lookups is None else f"view {lookups['local']}, Redis {lookups['direct']}"


def client_for(app: NexiosApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def auth_row(name: str, config: dict[str, Any], *, login: bool = False) -> Row:
    """A Depend(current_user) app on ``config``'s stores, with REVOKED other jtis revoked.

    ``login``: the token is a login's (``issue_login``: it carries ``fam`` and ``gen``, and
    the subject has a live generation mark), so the same one lookup also checks the
    family and compares the generation; otherwise a bare access token (jti + ``iat``)."""
    store = dict(config)
    container = make_test_container(USERS, backends=["jwt"], stores=store.pop("stores"))
    if store:
        container.config.store.from_dict(store)
    revocations = container.revocation_store()
    exp = time.time() + 3600
    for _ in range(0, REVOKED, 100):
        batch = [uuid.uuid4().hex for _ in range(100)]
        await asyncio.gather(*(revocations.revoke_jti(j, exp) for j in batch))
    if store.get("revocation_cache"):
        deadline = time.monotonic() + 10
        while not revocations.healthy:  # wait for the first resync: measure the view
            assert time.monotonic() < deadline, "revocation view never became fresh"
            await asyncio.sleep(0.01)
    service = container.token_service()
    if login:
        generation = await service.revoke_all("alice")  # a live mark to compare against
        token, _ = await service.issue_login("alice", generation)
    else:
        token = service.create_access_token("alice")
    return Row(
        name, client_for(auth_app(container)), {"Authorization": f"Bearer {token}"}, container
    )


async def close_row(row: Row) -> None:
    await row.client.aclose()
    if row.container is None:
        return
    stores = row.container.stores()
    if stores.engine == "redis":
        client = stores.families._db.client
        namespace = row.container.config.store.namespace()
        await drop_namespace(client, namespace)
    await stores.close()


async def main() -> None:
    redis_url = os.environ.get("REDIS_URL")
    with tempfile.TemporaryDirectory() as tmp:
        configs: list[tuple[str, dict[str, Any]]] = [
            ("JWT + revocation, memory", {"stores": "memory"}),
            ("JWT + revocation, sqlite", {"stores": "sqlite", "sqlite_path": f"{tmp}/a.db"}),
        ]
        if redis_url:
            ns = f"nxauth-bench-{uuid.uuid4().hex[:8]}"
            redis = {"stores": "redis", "redis_url": redis_url, "namespace": ns}
            configs.append(("JWT + revocation, redis", redis))
            cached = {**redis, "namespace": ns + "-view", "revocation_cache": True}
            configs.append(("JWT + revocation, redis + view", cached))
        rows = [Row("bare Nexios route", client_for(bare_app()), {})]
        rows += [await auth_row(name, config) for name, config in configs]
        # the same stacks with a login's token: + family mark + generation compare
        for name, config in configs:
            login = dict(config)
            if "sqlite_path" in login:
                login["sqlite_path"] = login["sqlite_path"].replace("a.db", "login.db")
            if "namespace" in login:
                login["namespace"] = str(login["namespace"]) + "-login"
            rows.append(await auth_row(f"{name}, login+gen", login, login=True))
        try:
            for row in rows:
                await row.sample(WARMUP)
                row.samples.clear()
            for _ in range(ROUNDS):
                for row in rows:
                    await row.sample(REQUESTS // ROUNDS)
        finally:
            for row in rows:
                await close_row(row)
    bare, memory = rows[0].median_us, rows[1].median_us
    print(f"{REQUESTS} requests per row ({ROUNDS} interleaved rounds), median µs per request")
    print(f"{'stack':44} {'µs':>8} {'vs bare':>8} {'vs memory':>10}")
    for row in rows:
        us = row.median_us
        print(f"{row.name:44} {us:8.1f} {us / bare:7.2f}x {us / memory:9.2f}x  {row.note()}")
    if not redis_url:
        print('Redis rows skipped: REDIS_URL is unset (eval "$(scripts/redis-test-server.sh)")')
    size = await memory_per_100k()
    print(f"memory store: {size / 1e6:.1f} MB per 100k revoked jtis ({size / 1e5:.0f} B each)")


if __name__ == "__main__":
    silence_dependency_print()  # Nexios 3.12 prints once per Depend per request
    asyncio.run(main())
