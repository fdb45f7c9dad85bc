"""CachedRevocationStore's local view (a MemoryRevocationStore) holds every kind of mark
Redis holds: jtis, login families, subject marks and credential generations, whether they
arrive as channel messages or by the resync scan."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest

from nexios_auth_di.stores.protocols import RevocationStore
from nexios_auth_di.stores.redis import RedisDatabase, RedisRevocationStore
from nexios_auth_di.stores.redis_cluster import ClusterRevocationStore
from nexios_auth_di.stores.revocation_cache import CachedRevocationStore

pytestmark = pytest.mark.redis

# A credential of "alice" issued before each mark below (jti, subject, issued_at, family),
# and one unrelated to any of them; ``now`` is the time the mark is written.
Credential = tuple[str, str, float, str | None]
Mark = Callable[[RevocationStore, float], Awaitable[object]]


def old(now: float) -> Credential:
    return ("jti-old", "alice", now - 10, "fam-old")


def unrelated(now: float) -> Credential:
    return ("jti-other", "bob", now - 10, "fam-other")


MARKS: list[tuple[str, Mark]] = [
    ("jti", lambda s, now: s.revoke_jti("jti-old", now + 60)),
    ("family", lambda s, now: s.revoke_family("fam-old", now + 60)),
    ("subject_mark", lambda s, now: s.revoke_subject("alice", now, ttl=60)),
    ("generation", lambda s, now: s.advance_generation("alice", now, ttl=60)),
]


class Workers:
    """Cached stores ("workers") over one fresh namespace of the shared Redis."""

    def __init__(self, url: str, stack: AsyncExitStack) -> None:
        self.url, self.stack = url, stack
        self.namespace = f"nxauth-view-{uuid.uuid4().hex[:12]}"

    async def start(self) -> CachedRevocationStore:
        """A worker whose view is synced (so its checks are answered locally)."""
        db = RedisDatabase(self.url, namespace=self.namespace)
        inner = (ClusterRevocationStore if db.cluster else RedisRevocationStore)(db)
        store = CachedRevocationStore(inner, db)
        self.stack.push_async_callback(db.close)
        self.stack.push_async_callback(store.close)
        await store.is_refused("warm-up", "nobody", 0.0)
        deadline = time.monotonic() + WAIT
        while not (store.healthy and store.syncs >= 1):
            assert time.monotonic() < deadline, "the worker never synced"
            await asyncio.sleep(0.005)
        return store


WAIT = 10.0  # generous: a liveness wait on a shared, loaded machine, not a timing claim


@pytest.fixture(params=["redis", "redis-cluster"])
async def workers(request: pytest.FixtureRequest) -> AsyncIterator[Workers]:
    """Workers on one Redis server, or on the 3-master cluster (a subscription per node)."""
    url = request.getfixturevalue(
        "redis_cluster_url" if "cluster" in request.param else "redis_url"
    )
    async with AsyncExitStack() as stack:
        yield Workers(url, stack)


async def _refused_locally(store: CachedRevocationStore, credential: Credential) -> bool:
    """``is_refused`` for ``credential``, asserting it was answered from the view."""
    local = store.lookups["local"]
    refused = await store.is_refused(*credential)
    assert store.lookups["local"] == local + 1, "answered by Redis, not by the view"
    return refused


async def _until_refused_locally(store: CachedRevocationStore, credential: Credential) -> None:
    """Wait until the view refuses ``credential`` (its channel message was applied)."""
    deadline = time.monotonic() + WAIT
    while not await _refused_locally(store, credential):
        assert time.monotonic() < deadline, "the mark never reached this worker's view"
        await asyncio.sleep(0.005)


@pytest.mark.parametrize(("kind", "mark"), MARKS, ids=[k for k, _ in MARKS])
async def test_each_published_mark_reaches_the_other_workers_view(
    workers: Workers, kind: str, mark: Mark
) -> None:
    """A mark written on worker A is refused by worker B from its own view (the channel
    message of that kind was applied), and only for the credential it covers."""
    a, b = await workers.start(), await workers.start()
    now = time.time()
    assert not await _refused_locally(b, old(now))
    await mark(a, now)
    assert await _refused_locally(a, old(now)), f"the writing worker must refuse a {kind} at once"
    await _until_refused_locally(b, old(now))
    assert not await _refused_locally(b, unrelated(now))


@pytest.mark.parametrize(("kind", "mark"), MARKS, ids=[k for k, _ in MARKS])
async def test_resync_loads_each_kind_of_mark(workers: Workers, kind: str, mark: Mark) -> None:
    """A mark already in Redis (written without a message) is in a new worker's view once
    it is synced: the scan covers every kind the channel carries."""
    db = RedisDatabase(workers.url, namespace=workers.namespace)
    now = time.time()
    try:
        await mark(RedisRevocationStore(db), now)
    finally:
        await db.close()
    store = await workers.start()
    assert await _refused_locally(store, old(now)), f"resync missed the {kind}"
    assert not await _refused_locally(store, unrelated(now))


async def test_other_workers_view_keeps_the_generation_redis_chose(workers: Workers) -> None:
    """Another worker's view holds the generation Redis returned (it never advances its
    own): a credential of that generation passes locally, one of the previous is refused."""
    a, b = await workers.start(), await workers.start()
    now = time.time()
    first = await a.advance_generation("alice", now, ttl=60)
    second = await a.advance_generation("alice", now, ttl=60)  # same clock: still larger
    assert second > first
    await _until_refused_locally(b, ("j", "alice", first, None))
    assert not await _refused_locally(b, ("j", "alice", second, None))
    assert await b.current_generation("alice") == second


async def test_on_a_cluster_the_view_subscribes_on_every_primary(redis_cluster_url: str) -> None:
    """Each primary delivers its own revocations first, so a synced worker holds one
    subscription on each primary (a view following one node could not prove freshness)."""
    from support.redis_server import node_clients

    async with AsyncExitStack() as stack:
        store = await Workers(redis_cluster_url, stack).start()
        clients = node_clients(redis_cluster_url)
        assert len(clients) == 3
        for client in clients:
            with client:
                names = [c.get("name") for c in client.client_list()]
                assert store.client_name in names, client  # its subscription (and scan) links


async def test_on_a_cluster_one_dropped_subscription_means_direct_lookups_then_resync(
    redis_cluster_url: str,
) -> None:
    """Killing the worker's links to one primary (the others untouched) makes the whole
    view untrusted (direct lookups) until every node is followed and rescanned again;
    a revocation made meanwhile is refused throughout."""
    from support.redis_server import node_clients

    async with AsyncExitStack() as stack:
        workers = Workers(redis_cluster_url, stack)
        reader, writer = await workers.start(), await workers.start()
        syncs = reader.syncs
        victim = node_clients(redis_cluster_url)[1]
        with victim:
            for client in victim.client_list():
                if client.get("name") == reader.client_name:
                    victim.client_kill_filter(_id=client["id"])
        now = time.time()
        await writer.revoke_jti("jti-during-drop", now + 60)
        deadline = time.monotonic() + WAIT
        while reader.healthy and reader.syncs == syncs:  # the loss is noticed
            assert time.monotonic() < deadline, "the dropped link went unnoticed"
            await asyncio.sleep(0.005)
        assert await reader.is_refused("jti-during-drop", "alice", now - 1)
        while not (reader.healthy and reader.syncs > syncs):
            assert time.monotonic() < deadline, "the view never resynced"
            assert await reader.is_refused("jti-during-drop", "alice", now - 1)
            await asyncio.sleep(0.005)
        assert await _refused_locally(reader, ("jti-during-drop", "alice", now - 1, None))
