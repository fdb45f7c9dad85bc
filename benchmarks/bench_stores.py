"""Store benchmark: median µs per ``is_refused`` per engine, and memory per 100k revocations.

Run: ``.venv/bin/python benchmarks/bench_stores.py`` (Redis is included when REDIS_URL is
set, e.g. after ``eval "$(scripts/redis-test-server.sh)"``). Takes well under 30 s.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from _stores import drop_namespace, memory_per_100k

from nexios_auth_di.stores.factory import StoreSet, build_stores

REVOKED = 2_000  # revocations present while measuring lookups
CALLS = 2_000  # timed is_refused calls per engine
WARMUP = 200


async def _fill(stores: StoreSet, jtis: list[str]) -> None:
    exp = time.time() + 3600
    for i in range(0, len(jtis), 100):  # concurrent batches: the fill is set-up, not measured
        await asyncio.gather(*(stores.revocations.revoke_jti(j, exp) for j in jtis[i : i + 100]))
    await stores.revocations.revoke_subject("alice", time.time() - 60, ttl=3600)


async def _median_us(stores: StoreSet, revoked: list[str]) -> tuple[float, float]:
    """Median µs of is_refused for a live token (the common case) and for a revoked one."""
    rev = stores.revocations
    now = time.time()
    live_ids = [uuid.uuid4().hex for _ in range(CALLS)]
    for jti in live_ids[:WARMUP]:
        await rev.is_refused(jti, "alice", now)
    results = []
    for ids, expected in ((live_ids, False), (revoked[:CALLS], True)):
        samples = []
        for jti in ids:
            start = time.perf_counter_ns()
            refused = await rev.is_refused(jti, "alice", now)
            samples.append(time.perf_counter_ns() - start)
            assert refused is expected
        results.append(statistics.median(samples) / 1000)
    return results[0], results[1]


async def _bench(config: dict[str, str], namespace_cleanup: bool = False) -> tuple[float, float]:
    stores = build_stores(config)
    revoked = [uuid.uuid4().hex for _ in range(max(REVOKED, CALLS))]
    try:
        await _fill(stores, revoked)
        return await _median_us(stores, revoked)
    finally:
        if namespace_cleanup:
            client = stores.revocations._db.client  # type: ignore[attr-defined]
            await drop_namespace(client, config["namespace"])
        await stores.close()


async def main() -> None:
    rows: list[tuple[str, float, float]] = []
    rows.append(("memory", *await _bench({"stores": "memory"})))
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.db")
        rows.append(("sqlite", *await _bench({"stores": "sqlite", "sqlite_path": path})))
    url = os.environ.get("REDIS_URL")
    if url:
        ns = f"nxauth-bench-{uuid.uuid4().hex[:8]}"
        config = {"stores": "redis", "redis_url": url, "namespace": ns}
        rows.append(("redis", *await _bench(config, namespace_cleanup=True)))
    mem = await memory_per_100k()

    base = rows[0][1]
    print(f"is_refused, median of {CALLS} calls with {REVOKED:,} revoked jtis present")
    print(f"{'engine':<8} {'live µs':>10} {'revoked µs':>11} {'x memory':>9}")
    for name, live, revoked in rows:
        print(f"{name:<8} {live:>10.1f} {revoked:>11.1f} {live / base:>9.1f}")
    if not url:
        print('redis    (skipped: set REDIS_URL, e.g. eval "$(scripts/redis-test-server.sh)")')
    print(f"memory store: {mem / 1e6:.1f} MB per 100k revoked jtis ({mem / 1e5:.0f} B each)")


if __name__ == "__main__":
    asyncio.run(main())
