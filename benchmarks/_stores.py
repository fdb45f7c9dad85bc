"""Store helpers shared by the benchmarks: footprint on each engine and Redis clean-up."""

from __future__ import annotations

import time
import tracemalloc
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from nexios_auth_di.stores.memory import MemoryRevocationStore


async def traced_bytes(work: Callable[[], Awaitable[Any]]) -> int:
    """Bytes still allocated after ``work()``: what it retains, not what it churned."""
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    await work()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    return sum(s.size_diff for s in after.compare_to(before, "filename"))


async def sqlite_file_bytes(db: Any) -> int:
    """Size of a ``SqliteDatabase``'s file in pages (``page_count`` x ``page_size``)."""
    pages = (await db.fetch("PRAGMA page_count"))[0][0]
    return int(pages) * int((await db.fetch("PRAGMA page_size"))[0][0])


async def redis_namespace_bytes(client: Any, namespace: str) -> int:
    """``MEMORY USAGE`` summed over every key under ``namespace``."""
    total = 0
    async for key in client.scan_iter(match=f"{namespace}:*", count=1000):
        total += int(await client.memory_usage(key) or 0)
    return total


async def memory_per_100k() -> float:
    """Bytes the memory store holds for 100k revoked jtis (uuid4 hex, like real ones)."""
    jtis = [uuid.uuid4().hex for _ in range(100_000)]
    exp = time.time() + 3600
    store = MemoryRevocationStore()

    async def revoke_all() -> None:
        for jti in jtis:
            await store.revoke_jti(jti, exp)

    retained = await traced_bytes(revoke_all)
    assert len(store) == 100_000
    return retained


async def drop_namespace(client: Any, namespace: str) -> None:
    """Delete every key a benchmark wrote under ``namespace``."""
    keys = [k async for k in client.scan_iter(match=f"{namespace}:*", count=1000)]
    for i in range(0, len(keys), 500):
        await client.delete(*keys[i : i + 500])
