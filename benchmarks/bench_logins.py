"""Bytes each store retains per live login (refresh family) and per refresh rotation.

A login writes one record (``RefreshFamilyStore.start``: subject, family, absolute end);
each rotation writes one spent marker (``spend``). Both expire with the login, and
``jwt.max_families_per_user`` bounds the records per user. Measured over LOGINS logins
(USERS users x PER_USER) with real 22-character ids:

- memory: tracemalloc difference around the writes;
- SQLite: file pages (``PRAGMA page_count`` x ``page_size``) before and after;
- Redis: ``MEMORY USAGE`` summed over the keys written (needs REDIS_URL).

Run: ``.venv/bin/python benchmarks/bench_logins.py``. Takes a few seconds.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
import tracemalloc
import uuid
from typing import Any

from _stores import drop_namespace

from nexios_auth_di.stores.factory import build_stores

USERS, PER_USER = 1_000, 10
LOGINS = USERS * PER_USER
DAY = 86400.0


def workload() -> list[tuple[str, str, str]]:
    """(subject, family, jti) per login: ids shaped like the library's own."""
    return [
        (
            f"user-{u:05d}-{uuid.uuid4().hex[:8]}",
            secrets.token_urlsafe(16),
            secrets.token_urlsafe(16),
        )
        for u in range(USERS)
        for _ in range(PER_USER)
    ]


async def write(stores: Any, rows: list[tuple[str, str, str]], what: str) -> None:
    end = time.time() + 30 * DAY
    for subject, family, jti in rows:
        if what == "login":
            await stores.families.start(subject, family, end, 50)
        else:
            await stores.families.spend(family, jti, end)


async def memory_bytes(rows: list[tuple[str, str, str]], what: str) -> float:
    stores = build_stores({"stores": "memory"})
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    await write(stores, rows, what)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    return sum(s.size_diff for s in after.compare_to(before, "filename")) / len(rows)


async def sqlite_bytes(rows: list[tuple[str, str, str]], what: str, tmp: str) -> float:
    stores = build_stores({"stores": "sqlite", "sqlite_path": f"{tmp}/{what}.db"})
    db = stores.families._db

    async def size() -> int:
        pages = (await db.fetch("PRAGMA page_count"))[0][0]
        return int(pages) * int((await db.fetch("PRAGMA page_size"))[0][0])

    await stores.families.start("warm-up", "warm-up", time.time() + DAY, 1)
    before = await size()
    await write(stores, rows, what)
    after = await size()
    await stores.close()
    return (after - before) / len(rows)


async def redis_bytes(rows: list[tuple[str, str, str]], what: str, url: str) -> float:
    namespace = f"nxauth-bench-{uuid.uuid4().hex[:8]}"
    stores = build_stores({"stores": "redis", "redis_url": url, "namespace": namespace})
    client = stores.families._db.client
    try:
        await write(stores, rows, what)
        keys = [k async for k in client.scan_iter(match=f"{namespace}:*", count=1000)]
        total = 0
        for key in keys:
            total += int(await client.memory_usage(key) or 0)
        return total / len(rows)
    finally:
        await drop_namespace(client, namespace)
        await stores.close()


async def main() -> None:
    rows = workload()
    redis_url = os.environ.get("REDIS_URL")
    print(f"{LOGINS} logins ({USERS} users x {PER_USER}); bytes retained per item")
    print(f"{'store':8} {'per login':>10} {'per rotation':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        results = [
            ("memory", await memory_bytes(rows, "login"), await memory_bytes(rows, "spend")),
            (
                "sqlite",
                await sqlite_bytes(rows, "login", tmp),
                await sqlite_bytes(rows, "spend", tmp),
            ),
        ]
    if redis_url:
        results.append(
            (
                "redis",
                await redis_bytes(rows, "login", redis_url),
                await redis_bytes(rows, "spend", redis_url),
            )
        )
    for name, login, rotation in results:
        print(f"{name:8} {login:10.0f} {rotation:13.0f}")
    if not redis_url:
        print('Redis row skipped: REDIS_URL is unset (eval "$(scripts/redis-test-server.sh)")')


if __name__ == "__main__":
    asyncio.run(main())
