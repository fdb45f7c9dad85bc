"""Store helpers shared by the benchmarks: memory footprint and Redis clean-up."""

from __future__ import annotations

import time
import tracemalloc
import uuid
from typing import Any

from nexios_auth_di.stores.memory import MemoryRevocationStore


async def memory_per_100k() -> float:
    """Bytes the memory store holds for 100k revoked jtis (uuid4 hex, like real ones)."""
    jtis = [uuid.uuid4().hex for _ in range(100_000)]
    exp = time.time() + 3600
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    store = MemoryRevocationStore()
    for jti in jtis:
        await store.revoke_jti(jti, exp)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    assert len(store) == 100_000
    return sum(s.size_diff for s in after.compare_to(before, "filename"))


async def drop_namespace(client: Any, namespace: str) -> None:
    """Delete every key a benchmark wrote under ``namespace``."""
    keys = [k async for k in client.scan_iter(match=f"{namespace}:*", count=1000)]
    for i in range(0, len(keys), 500):
        await client.delete(*keys[i : i + 500])
