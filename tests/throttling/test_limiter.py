"""Every throttle storage (memory, SQLite, Redis, SQLAlchemy on aiosqlite and on
PostgreSQL) implements the same atomic reserve:
the same decisions, the same backoff, and no over-grant under concurrency."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nexios_auth_di.stores.redis import RedisDatabase
from nexios_auth_di.stores.sqlite import SqliteDatabase
from nexios_auth_di.throttle import Limiter, MemoryLimiter, Rule
from nexios_auth_di.throttle.redis import RedisLimiter
from nexios_auth_di.throttle.sqlite import SqliteLimiter

NOW = time.time()  # Redis keys get real TTLs, so stay near wall time


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        "redis",
        "sqlalchemy+aiosqlite",
        pytest.param("sqlalchemy+asyncpg", marks=pytest.mark.postgres),
    ]
)
async def limiter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Limiter]:
    """One limiter per engine; SQLite in a fresh file, Redis under a fresh namespace."""
    made: Limiter
    if request.param == "memory":
        made = MemoryLimiter()
    elif request.param == "sqlite":
        made = SqliteLimiter(SqliteDatabase(tmp_path / "t.sqlite3"), owns_db=True)
    elif request.param.startswith("sqlalchemy"):
        from nexios_auth_di.stores.sqlalchemy import SqlAlchemyDatabase
        from nexios_auth_di.stores.sqlalchemy.throttle import SqlAlchemyLimiter

        url = f"sqlite+aiosqlite:///{tmp_path / 'sa.db'}"
        if request.param == "sqlalchemy+asyncpg":
            url = request.getfixturevalue("database_url")  # keys are fresh uuids per test
        made = SqlAlchemyLimiter(SqlAlchemyDatabase(url), owns_db=True)
    else:
        url = request.getfixturevalue("redis_url")
        db = RedisDatabase(url, namespace=f"lim-{uuid.uuid4().hex[:10]}")
        made = RedisLimiter(db, owns_db=True)
    yield made
    await made.close()


def _key() -> str:
    return uuid.uuid4().hex


async def _grants(limiter: Limiter, rule: Rule, now: float, n: int) -> list[bool]:
    return [(await limiter.reserve(rule, now)).allowed for _ in range(n)]


async def test_window_rule_grants_the_limit_then_refuses_until_it_ends(limiter: Limiter) -> None:
    """Without backoff: ``limit`` grants, then refusals until the window ends (register)."""
    rule = Rule(_key(), 3, 60.0)
    assert await _grants(limiter, rule, NOW, 4) == [True, True, True, False]
    refused = await limiter.reserve(rule, NOW + 10)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(50.0, abs=0.01)
    assert (await limiter.reserve(rule, NOW + 60)).allowed  # a new window
    assert (await limiter.reserve(rule, NOW + 60)).count == 2


async def test_backoff_doubles_and_is_capped(limiter: Limiter) -> None:
    """Past the limit each granted attempt locks for base * 2**k, capped (OWASP: backoff,
    not lockout); a refused attempt counts nothing and moves no lock."""
    rule = Rule(_key(), 3, 300.0, base_delay=1.0, max_delay=20.0)
    now = NOW
    assert await _grants(limiter, rule, now, 2) == [True, True]
    waits = []
    for _ in range(7):
        granted = await limiter.reserve(rule, now)
        assert granted.allowed
        refused = await limiter.reserve(rule, now)
        assert not refused.allowed
        assert refused.count == granted.count  # the refusal was not counted
        waits.append(round(refused.retry_after, 3))
        now += refused.retry_after
    assert waits == [1, 2, 4, 8, 16, 20, 20]


async def test_release_gives_one_back_and_clear_forgets(limiter: Limiter) -> None:
    """``release`` undoes one grant (and the lock that grant set); ``clear`` drops all."""
    rule = Rule(_key(), 2, 300.0, base_delay=5.0, max_delay=60.0)
    assert await _grants(limiter, rule, NOW, 3) == [True, True, False]
    await limiter.release(rule, NOW)
    assert (await limiter.reserve(rule, NOW)).allowed  # back to the limit, locked again
    assert not (await limiter.reserve(rule, NOW)).allowed
    await limiter.clear(rule.key)
    assert (await limiter.reserve(rule, NOW)).count == 1


async def test_parallel_reservations_never_exceed_the_limit(limiter: Limiter) -> None:
    """200 concurrent reserves of one counter: exactly ``limit`` are granted (atomic
    test-and-increment, no check-then-count race)."""
    rule = Rule(_key(), 5, 300.0, base_delay=1.0, max_delay=900.0)
    results = await asyncio.gather(*(limiter.reserve(rule, NOW) for _ in range(200)))
    assert sum(r.allowed for r in results) == 5


async def test_sqlite_connections_share_one_counter(tmp_path: Path) -> None:
    """Two connections to one file (two worker processes in production) interleaving 100
    reserves each: the limit holds across them, counted in one table."""
    path = tmp_path / "shared.sqlite3"
    a = SqliteLimiter(SqliteDatabase(path), owns_db=True)
    b = SqliteLimiter(SqliteDatabase(path), owns_db=True)
    try:
        rule = Rule(_key(), 7, 300.0, base_delay=1.0, max_delay=900.0)
        calls = [(a if i % 2 else b).reserve(rule, NOW) for i in range(200)]
        results = await asyncio.gather(*calls)
        assert sum(r.allowed for r in results) == 7
    finally:
        await a.close()
        await b.close()
