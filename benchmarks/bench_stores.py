"""Store benchmark: median µs per ``is_refused`` per engine, memory per 100k revocations,
and bytes retained per live API-key record on each engine.

Per API key: KEYS records made by the real ``APIKeyService.create`` (KEY_OWNERS owners,
90-day expiry, one scope, a name), then memory: tracemalloc difference around them;
SQLite: file pages (``page_count`` x ``page_size``) before and after; Redis: ``MEMORY
USAGE`` summed over every key written (record and owner index); each divided by KEYS.

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

from _stores import (
    drop_namespace,
    memory_per_100k,
    redis_namespace_bytes,
    sqlite_file_bytes,
    traced_bytes,
)

from nexios_auth_di.apikeys.service import APIKeyService
from nexios_auth_di.stores.factory import StoreSet, build_stores

REVOKED = 2_000  # revocations present while measuring lookups
CALLS = 2_000  # timed is_refused calls per engine
WARMUP = 200
KEYS, KEY_OWNERS = 10_000, 1_000  # API-key records created per engine, and their owners
DAY = 86400.0


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


async def _create_keys(stores: StoreSet, tag: str, count: int = KEYS) -> None:
    """``count`` API keys through the real service (the record shape ``create`` stores)."""
    service = APIKeyService(
        stores.api_keys,
        prefix="nxa",
        clock=time.time,
        default_ttl=90 * DAY,
        max_ttl=365 * DAY,
        max_per_user=KEYS,
    )
    for i in range(count):
        owner = f"user-{i % KEY_OWNERS:05d}-{tag}"
        await service.create(owner, scopes=("items:read",), name="deploy key")


async def _bytes_per_key(config: dict[str, str]) -> float:
    """Bytes one live API-key record retains on the engine of ``config``."""
    stores = build_stores(config)
    try:
        if config["stores"] == "memory":
            return await traced_bytes(lambda: _create_keys(stores, "m")) / KEYS
        await _create_keys(stores, "warm-up", 1)  # connection and tables exist before measuring
        if config["stores"] == "sqlite":
            db = stores.api_keys._db  # type: ignore[attr-defined]
            before = await sqlite_file_bytes(db)
            await _create_keys(stores, "s")
            return (await sqlite_file_bytes(db) - before) / KEYS
        client = stores.api_keys._db.client  # type: ignore[attr-defined]
        await drop_namespace(client, config["namespace"])
        await _create_keys(stores, "r")
        return await redis_namespace_bytes(client, config["namespace"]) / KEYS
    finally:
        if config["stores"] == "redis":
            await drop_namespace(stores.api_keys._db.client, config["namespace"])  # type: ignore[attr-defined]
        await stores.close()


async def main() -> None:
    rows: list[tuple[str, float, float]] = []
    per_key: list[tuple[str, float]] = []
    rows.append(("memory", *await _bench({"stores": "memory"})))
    per_key.append(("memory", await _bytes_per_key({"stores": "memory"})))
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.db")
        rows.append(("sqlite", *await _bench({"stores": "sqlite", "sqlite_path": path})))
        keys_path = str(Path(tmp) / "keys.db")
        per_key.append(
            ("sqlite", await _bytes_per_key({"stores": "sqlite", "sqlite_path": keys_path}))
        )
    url = os.environ.get("REDIS_URL")
    if url:
        ns = f"nxauth-bench-{uuid.uuid4().hex[:8]}"
        config = {"stores": "redis", "redis_url": url, "namespace": ns}
        rows.append(("redis", *await _bench(config, namespace_cleanup=True)))
        per_key.append(("redis", await _bytes_per_key(config)))
    mem = await memory_per_100k()

    base = rows[0][1]
    print(f"is_refused, median of {CALLS} calls with {REVOKED:,} revoked jtis present")
    print(f"{'engine':<8} {'live µs':>10} {'revoked µs':>11} {'x memory':>9}")
    for name, live, revoked in rows:
        print(f"{name:<8} {live:>10.1f} {revoked:>11.1f} {live / base:>9.1f}")
    if not url:
        print('redis    (skipped: set REDIS_URL, e.g. eval "$(scripts/redis-test-server.sh)")')
    print(f"memory store: {mem / 1e6:.1f} MB per 100k revoked jtis ({mem / 1e5:.0f} B each)")
    print(f"API-key record, bytes retained each ({KEYS:,} live keys, {KEY_OWNERS:,} owners):")
    print("  " + ", ".join(f"{name} {size:,.0f} B" for name, size in per_key))


if __name__ == "__main__":
    asyncio.run(main())
