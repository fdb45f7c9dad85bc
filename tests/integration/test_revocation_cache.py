"""CachedRevocationStore against real Redis: the channel feeds the view, the view is used
only while provably fresh, and every doubt falls back to Redis or to a 503."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis
from support.redis_server import RedisProcess

from nexios_auth_di.exceptions import ConfigurationError, StoreUnavailable
from nexios_auth_di.stores.factory import build_stores
from nexios_auth_di.stores.redis import RedisDatabase, RedisRevocationStore
from nexios_auth_di.stores.revocation_cache import CachedRevocationStore

pytestmark = pytest.mark.redis

Factory = Callable[..., CachedRevocationStore]


async def _until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def _healthy(store: CachedRevocationStore, syncs: int = 1) -> None:
    """Start the subscriber (any call does) and wait for its ``syncs``-th resync."""
    await store.is_refused("warm-up", "nobody", 0.0)
    await _until(lambda: store.healthy and store.syncs >= syncs)


def _kill_subscription(url: str, name: str) -> None:
    with redis.Redis.from_url(url) as client:
        ids = [c["id"] for c in client.client_list() if c.get("name") == name]
        assert ids, "subscription connection not found"
        for ident in ids:
            client.client_kill_filter(_id=ident)


@pytest.fixture
async def make(redis_url: str) -> AsyncIterator[Factory]:
    """Build cached stores ("workers") on one fresh namespace; close them all afterwards."""
    namespace = f"nxauth-cache-{uuid.uuid4().hex[:12]}"
    made: list[tuple[CachedRevocationStore, RedisDatabase]] = []

    def build(url: str = redis_url, **kwargs: Any) -> CachedRevocationStore:
        db = RedisDatabase(url, namespace=namespace)
        store = CachedRevocationStore(RedisRevocationStore(db), db, **kwargs)
        made.append((store, db))
        return store

    yield build
    for store, db in made:
        await store.close()
        await db.close()


async def test_revocation_on_one_worker_reaches_the_other_through_the_channel(
    make: Factory,
) -> None:
    """A jti and a subject mark revoked on A are refused by B from its local view, in bound."""
    a, b = make(), make()
    await _healthy(a)
    await _healthy(b)
    now = time.time()
    await a.revoke_jti("jti-1", now + 60)
    revoked_at = time.monotonic()
    while not await b.is_refused("jti-1", "alice", now):
        assert time.monotonic() < revoked_at + b.max_staleness, "not refused within the bound"
        await asyncio.sleep(0.001)  # requests yield; a busy loop would starve the channel
    await a.revoke_subject("bob", time.time(), ttl=60)
    revoked_at = time.monotonic()
    while not await b.is_refused("other", "bob", now):
        assert time.monotonic() < revoked_at + b.max_staleness, "not refused within the bound"
        await asyncio.sleep(0.001)  # requests yield; a busy loop would starve the channel
    assert not await b.is_refused("other", "alice", now)
    assert b.lookups["direct"] == 1  # only the warm-up, before the first sync
    assert a.healthy
    assert await a.is_refused("jti-1", "x", now)  # the revoking worker refuses at once


async def test_resync_loads_revocations_made_before_subscribing(make: Factory) -> None:
    """Revocations already in Redis when a worker starts are in its view once it is healthy."""
    writer = make()
    inner = RedisRevocationStore(writer._db)
    now = time.time()
    await inner.revoke_jti("old-jti", now + 60)
    await inner.revoke_subject("carol", now, ttl=60)
    store = make()
    await _healthy(store)
    local = store.lookups["local"]
    assert await store.is_refused("old-jti", "alice", now + 1)
    assert await store.is_refused("fresh", "carol", now - 1)
    assert not await store.is_refused("fresh", "carol", now + 1)
    assert store.lookups["local"] == local + 3


async def test_channel_drop_falls_back_to_direct_lookups(make: Factory, redis_url: str) -> None:
    """With its subscription killed, a worker answers from Redis, so it misses nothing."""
    store = make(reconnect_delay=30.0)  # stays disconnected for the whole test
    await _healthy(store)
    _kill_subscription(redis_url, store.client_name)
    await _until(lambda: not store.healthy)
    now = time.time()
    await RedisRevocationStore(store._db).revoke_jti("unpublished", now + 60)
    direct = store.lookups["direct"]
    assert await store.is_refused("unpublished", "alice", now)
    assert store.lookups["direct"] == direct + 1


async def test_resubscription_resyncs_what_the_channel_missed(
    make: Factory, redis_url: str
) -> None:
    """After a reconnect the full resync picks up a revocation that was never published."""
    store = make(reconnect_delay=0.05)
    await _healthy(store)
    now = time.time()
    await RedisRevocationStore(store._db).revoke_jti("missed", now + 60)  # no message
    _kill_subscription(redis_url, store.client_name)
    await _healthy(store, syncs=2)
    local = store.lookups["local"]
    assert await store.is_refused("missed", "alice", now)
    assert store.lookups["local"] == local + 1


async def test_frozen_redis_turns_the_view_into_503_never_into_accept(
    make: Factory, redis_process: RedisProcess
) -> None:
    """With Redis frozen, checks use the view only within max_staleness, then raise 503."""
    store = make(redis_process.url, max_staleness=0.3)
    await _healthy(store)
    now = time.time()
    await store.revoke_jti("revoked", now + 60)
    assert redis_process.proc is not None
    os.kill(redis_process.proc.pid, signal.SIGSTOP)
    try:
        frozen_at, outcomes = time.monotonic(), list[bool | None]()
        while time.monotonic() < frozen_at + 5:
            started = time.monotonic()
            try:
                outcomes.append(await store.is_refused("revoked", "alice", now))
            except StoreUnavailable:
                outcomes.append(None)
                break
            # an answer from the view is allowed only within the staleness bound
            assert started < frozen_at + store.max_staleness + 0.05
        assert outcomes[-1] is None
        assert all(o is True for o in outcomes[:-1])
        with pytest.raises(StoreUnavailable):
            await store.is_refused("live", "alice", now)
    finally:
        os.kill(redis_process.proc.pid, signal.SIGCONT)
    await _until(lambda: store.healthy, within=10)
    assert await store.is_refused("revoked", "alice", now)
    assert not await store.is_refused("live", "alice", now)


async def test_build_stores_wires_the_cache_only_for_redis(redis_url: str) -> None:
    """``revocation_cache`` selects the cached view on Redis and is refused elsewhere."""
    config = {"stores": "redis", "redis_url": redis_url, "namespace": "nxauth-cfg"}
    stores = build_stores({**config, "revocation_cache": "true"})
    assert isinstance(stores.revocations, CachedRevocationStore)
    await stores.close()
    plain = build_stores({**config, "revocation_cache": False})
    assert isinstance(plain.revocations, RedisRevocationStore)
    await plain.close()
    with pytest.raises(ConfigurationError, match="revocation_cache"):
        build_stores({"stores": "memory", "revocation_cache": True})
    with pytest.raises(ConfigurationError, match="revocation_max_staleness"):
        build_stores({**config, "revocation_cache": True, "revocation_max_staleness": -1})
