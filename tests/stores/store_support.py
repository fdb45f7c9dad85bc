"""Helpers and fixtures for the store tests: a controllable clock and one harness per engine.

Memory, SQLite and SQLAlchemy (on aiosqlite and on PostgreSQL via asyncpg) read time from
the injected clock, so ``advance`` moves the clock.
Redis keeps TTLs on the server, so ``advance`` also takes the same milliseconds off
every key's PTTL in the test's namespace: expiry is exercised without sleeping.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import FakeClock

from nexios_auth_di.stores.factory import StoreSet, build_stores


@dataclass
class Harness:
    """One engine's stores plus the means to make time pass for them."""

    engine: str
    stores: StoreSet
    clock: FakeClock
    namespace: str = ""

    async def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        if self.engine != "redis":
            return
        client = self.stores.revocations._db.client  # type: ignore[attr-defined]
        async for key in client.scan_iter(match=f"{self.namespace}:*"):
            pttl = await client.pttl(key)
            if pttl < 0:
                continue
            left = pttl - int(seconds * 1000)
            if left <= 0:
                await client.delete(key)
            else:
                await client.pexpire(key, left)

    async def keys(self) -> list[str]:
        """Every Redis key of this test (redis only)."""
        client = self.stores.revocations._db.client  # type: ignore[attr-defined]
        return sorted([k async for k in client.scan_iter(match=f"{self.namespace}:*")])


async def _cleanup(harness: Harness) -> None:
    for key in await harness.keys():
        await harness.stores.revocations._db.client.delete(key)  # type: ignore[attr-defined]


async def empty_tables(stores: StoreSet) -> None:
    """Create the SQLAlchemy schema if needed and delete every row (the PostgreSQL test
    database is shared by the tests, so each starts from nothing)."""
    from sqlalchemy import delete

    from nexios_auth_di.stores.sqlalchemy.tables import metadata

    db = stores.database
    await db.run(metadata.tables["nxauth_users"].select().limit(1))  # creates the schema
    for table in metadata.sorted_tables:
        await db.run(delete(table))


SQLALCHEMY_ENGINES = ("sqlalchemy+aiosqlite", "sqlalchemy+asyncpg")


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-cluster", marks=pytest.mark.redis),
        "sqlalchemy+aiosqlite",
        pytest.param("sqlalchemy+asyncpg", marks=pytest.mark.postgres),
    ],
)
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """One engine's stores; ``redis-cluster`` is the Redis engine on a 3-master cluster
    (``engine`` is then ``redis``: the same behaviour and key checks apply)."""
    engine: str = request.param
    url_fixture = "redis_cluster_url" if engine == "redis-cluster" else "redis_url"
    engine = engine.removesuffix("-cluster")
    clock = FakeClock(time.time())  # Redis keeps TTLs on wall time
    namespace = ""
    config: dict[str, str] = {"stores": engine}
    if engine == "sqlalchemy+aiosqlite":
        config = {"stores": "sqlalchemy", "database_url": f"sqlite+aiosqlite:///{tmp_path}/sa.db"}
    elif engine == "sqlalchemy+asyncpg":
        config = {"stores": "sqlalchemy", "database_url": request.getfixturevalue("database_url")}
    elif engine == "sqlite":
        config["sqlite_path"] = str(tmp_path / "auth.db")
    elif engine == "redis":
        namespace = f"nxauth-test-{uuid.uuid4().hex[:12]}"
        config["redis_url"] = request.getfixturevalue(url_fixture)
        config["namespace"] = namespace
    h = Harness(engine, build_stores(config, clock=clock), clock, namespace)
    if engine in SQLALCHEMY_ENGINES:
        await empty_tables(h.stores)
    yield h
    if engine == "redis":
        await _cleanup(h)
    await h.stores.close()
