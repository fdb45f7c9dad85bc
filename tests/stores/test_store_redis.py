"""Redis engine specifics against real servers: TTLs, round trips, failing closed."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid

import pytest
import redis
from store_support import Harness
from support import FakeClock
from support.redis_server import RedisProcess, free_port

from nexios_auth_di.exceptions import ConfigurationError, StoreUnavailable
from nexios_auth_di.stores.protocols import APIKeyRecord, SpendResult
from nexios_auth_di.stores.redis import (
    RedisDatabase,
    RedisRefreshFamilyStore,
    RedisRevocationStore,
    RedisSessionStore,
)
from nexios_auth_di.stores.redis_apikeys import RedisAPIKeyStore

pytestmark = pytest.mark.redis


def _command_calls(port: int) -> int:
    """Commands the server has run, not counting this probe's own (INFO, HELLO, CLIENT)."""
    with redis.Redis(port=port) as client:
        stats = client.info("commandstats")
    probe = ("cmdstat_info", "cmdstat_hello", "cmdstat_client")
    return sum(v["calls"] for k, v in stats.items() if not k.startswith(probe))


@pytest.mark.parametrize("harness", ["redis"], indirect=True)
async def test_every_key_has_a_ttl(harness: Harness) -> None:
    """Nothing lingers forever in Redis except API keys that never expire (and their index)."""
    now, stores = harness.clock(), harness.stores
    await stores.revocations.revoke_jti("jti", now + 60)
    await stores.revocations.revoke_subject("alice", now, ttl=60)
    await stores.families.spend("fam", "r-1", now + 60)
    await stores.families.revoke_family("fam2", now + 60)
    await stores.sessions.save("sid", {"a": 1}, ttl=60, subject="alice")
    await stores.api_keys.put(APIKeyRecord("k1", "nxa", "alice", "h", expires_at=now + 60))
    await stores.api_keys.put(APIKeyRecord("k2", "nxa", "bob", "h"))
    client = stores.revocations._db.client  # type: ignore[attr-defined]
    ttls = {
        key.removeprefix(harness.namespace): await client.pttl(key) for key in await harness.keys()
    }
    assert len(ttls) == 10  # jti, nbf, spent, family, session, index, 2 keys, 2 owners
    forever = {key for key, ttl in ttls.items() if ttl < 0}
    assert forever == {":ak:k2", ":ak-owner:bob"}
    assert all(0 < ttl <= 60_000 for key, ttl in ttls.items() if not key.startswith(":ak"))


async def test_server_side_expiry_is_real(redis_url: str) -> None:
    """Redis itself drops a revocation at its deadline (short real TTL, polled, no fixed sleep)."""
    db = RedisDatabase(redis_url, namespace=f"nxauth-test-{uuid.uuid4().hex[:12]}")
    rev = RedisRevocationStore(db)
    await rev.revoke_jti("jti", time.time() + 0.3)
    assert await rev.is_refused("jti", "alice", 0)
    for _ in range(100):
        if not await rev.is_refused("jti", "alice", 0):
            break
        await asyncio.sleep(0.05)
    assert not await rev.is_refused("jti", "alice", 0)
    await db.close()


async def test_is_refused_is_one_round_trip(redis_process: RedisProcess) -> None:
    """Both revocation checks cost the server exactly one command (MGET)."""
    db = RedisDatabase(f"redis://127.0.0.1:{redis_process.port}/0")
    rev = RedisRevocationStore(db)
    await rev.revoke_subject("alice", 100.0, ttl=60)
    await rev.revoke_jti("jti", time.time() + 60)
    before = _command_calls(redis_process.port)
    assert await rev.is_refused("other", "alice", 50.0)
    assert _command_calls(redis_process.port) - before == 1
    await db.close()


async def test_server_loss_fails_closed_and_recovers(redis_process: RedisProcess) -> None:
    """Killing Redis gives StoreUnavailable promptly; after restart the same store works."""
    db = RedisDatabase(f"redis://127.0.0.1:{redis_process.port}/0", socket_timeout=0.5)
    rev = RedisRevocationStore(db)
    families = RedisRefreshFamilyStore(db)
    await rev.revoke_jti("jti", time.time() + 60)
    assert await rev.is_refused("jti", "alice", 0)

    redis_process.kill()
    with pytest.raises(StoreUnavailable):
        await asyncio.wait_for(rev.is_refused("jti", "alice", 0), timeout=5)
    with pytest.raises(StoreUnavailable):
        await asyncio.wait_for(families.spend("fam", "r", time.time() + 60), timeout=5)

    redis_process.start()  # same port, empty data (no persistence)
    assert not await rev.is_refused("jti", "alice", 0)
    assert await families.spend("fam", "r", time.time() + 60) is SpendResult.OK  # script reloaded
    await db.close()


async def test_closed_port_fails_closed() -> None:
    """A store pointed at a port with no server raises StoreUnavailable, not a driver error."""
    db = RedisDatabase(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.2)
    calls = [
        RedisRevocationStore(db).is_refused("jti", "alice", 0),
        RedisRefreshFamilyStore(db).spend("fam", "r", time.time() + 60),
        RedisSessionStore(db).load("sid"),
        RedisAPIKeyStore(db).list_for_owner("alice"),
    ]
    for call in calls:
        with pytest.raises(StoreUnavailable):
            await asyncio.wait_for(call, timeout=5)
    await db.close()


@pytest.mark.parametrize(
    ("url", "namespace"),
    [
        ("http://127.0.0.1:6379/0", "nxauth"),  # wrong scheme
        ("127.0.0.1:6379", "nxauth"),  # no scheme at all
        ("redis://127.0.0.1:6379/0", ""),  # keys would collide with other apps
        ("redis://127.0.0.1:6379/0", "has space"),
    ],
)
def test_bad_settings_are_configuration_errors(url: str, namespace: str) -> None:
    """A malformed URL or namespace is a setup error raised at construction."""
    with pytest.raises(ConfigurationError):
        RedisDatabase(url, namespace=namespace)


async def test_namespaces_are_isolated(redis_url: str) -> None:
    """Two apps on one Redis with different namespaces never see each other's revocations."""
    clock = FakeClock(time.time())
    a = RedisDatabase(redis_url, namespace=f"nxauth-test-{uuid.uuid4().hex[:12]}", clock=clock)
    b = RedisDatabase(redis_url, namespace=f"nxauth-test-{uuid.uuid4().hex[:12]}", clock=clock)
    await RedisRevocationStore(a).revoke_jti("jti", clock() + 5)
    assert await RedisRevocationStore(a).is_refused("jti", "alice", 0)
    assert not await RedisRevocationStore(b).is_refused("jti", "alice", 0)
    await a.client.delete(a.key("rev", "jti", "jti"))
    await a.close()
    await b.close()


async def test_frozen_server_times_out_and_recovers(redis_process: RedisProcess) -> None:
    """A server that accepts but never answers costs one socket timeout, then 503, not a hang."""
    assert redis_process.proc is not None
    db = RedisDatabase(f"redis://127.0.0.1:{redis_process.port}/0", socket_timeout=0.3)
    rev = RedisRevocationStore(db)
    assert not await rev.is_refused("jti", "alice", 0)
    redis_process.proc.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(StoreUnavailable):
            await asyncio.wait_for(rev.is_refused("jti", "alice", 0), timeout=5)
    finally:
        redis_process.proc.send_signal(signal.SIGCONT)
    assert not await rev.is_refused("jti", "alice", 0)
    await rev.revoke_jti("jti", time.time() + 60)
    assert await rev.is_refused("jti", "alice", 0)
    await db.close()
