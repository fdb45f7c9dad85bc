"""A per-worker view of Redis revocations, kept fresh by pub/sub, proven fresh by pings.

Why: with ``RedisRevocationStore`` every authenticated request pays a Redis round trip
(an MGET). Here a worker answers from a local copy of every live revocation while that
copy is *known* to be fresh, and asks Redis directly otherwise. The local copy *is* a
``MemoryRevocationStore`` (same marks, same expiry, same ``is_refused``): this class only
feeds it from Redis and decides when it may be trusted.

How it stays correct:

- On Redis Cluster the subscription, PINGs and rescan run on every primary (see
  ``_follow_nodes``); the view is trusted only while all of them serve every slot.
- Every revocation is written and published by one Lua script (atomic: no revocation is
  stored without its message). Each worker subscribes to ``{namespace}:rev:events`` and
  applies messages in order. After each (re)subscription it rescans every revocation key
  (SCAN sees every key that lives through the scan; later ones arrive as messages).
- The subscriber sends a PING on its subscription every ``max_staleness / 4`` s. Redis
  answers in order on the same connection, so when the PONG of a PING sent at time ``s``
  is read, every revocation that returned before ``s`` has been applied. ``s`` becomes
  the view's *fresh-as-of* time.
- A check at time ``t`` uses the view only if ``t - fresh_as_of <= max_staleness``.
  Otherwise (not yet subscribed, resyncing, disconnected, server frozen, event loop
  stalled) it is a direct lookup on the inner store, which raises ``StoreUnavailable``
  (503) when Redis is down. Nothing is ever accepted on doubt.

**The bound:** a revocation is refused by every worker from ``max_staleness`` (default
1 s) after the revoking call returns, and usually within a millisecond (pub/sub
delivery); the revoking worker refuses it at once. While Redis is down a worker keeps
answering from its view for at most ``max_staleness`` (no revocation can complete
meanwhile), then fails closed. Every writer must go through this class (the container's
``revocation_store`` provider does): a bare ``RedisRevocationStore`` writes without
publishing, which the view would only see at its next resync.

**Lifetime:** the subscriber task starts on the first check in a running loop;
``close()`` (run by the container's shutdown, which ``install()`` registers) cancels and
awaits it, then the factory's closer releases the store's client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import time
from collections.abc import Callable

from redis.asyncio import Redis

from nexios_auth_di.exceptions import ConfigurationError, StoreUnavailable
from nexios_auth_di.logs import get_logger
from nexios_auth_di.stores.memory import GENERATION_STEP, MemoryRevocationStore
from nexios_auth_di.stores.redis import RedisDatabase, RedisRevocationStore
from nexios_auth_di.stores.redis_cluster import primary_urls

__all__ = ["DEFAULT_MAX_STALENESS", "CachedRevocationStore"]

logger = get_logger("nexios_auth_di.stores")

DEFAULT_MAX_STALENESS = 1.0


class CachedRevocationStore:
    """``RevocationStore`` answering from a pub/sub-fed local view while it is provably
    fresh (see the module docstring for the bound), from ``inner`` otherwise."""

    def __init__(
        self,
        inner: RedisRevocationStore,
        db: RedisDatabase,
        *,
        max_staleness: float = DEFAULT_MAX_STALENESS,
        reconnect_delay: float = 0.2,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not max_staleness > 0 or reconnect_delay < 0:
            raise ConfigurationError("max_staleness must be > 0 and reconnect_delay >= 0")
        self._inner, self._db = inner, db
        self.max_staleness = float(max_staleness)
        self.heartbeat = self.max_staleness / 4
        self.reconnect_delay = float(reconnect_delay)
        self._clock = clock or db.clock
        self.channel = db.key("rev", "events")
        #: CLIENT SETNAME of the subscription, so operators (and tests) can find it
        self.client_name = f"{db.namespace}:revcache:{os.getpid()}:{id(self):x}"
        #: the local view: every mark Redis holds, as applied from the channel and scans
        self._view = MemoryRevocationStore(self._clock)
        self._fresh_as_of = -math.inf  # time.monotonic() of the latest proof of freshness
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: how checks were answered, for tests and metrics
        self.lookups = {"local": 0, "direct": 0}
        #: completed (re)subscriptions, each followed by a full resync
        self.syncs = 0

    # -- RevocationStore ----------------------------------------------------------------
    async def revoke_jti(self, jti: str, expires_at: float) -> None:
        self._ensure_running()
        if expires_at <= self._clock():
            return
        key = self._db.key("rev", "jti", jti)
        await self._db.script("mark", [key], [self._db.ttl_ms(expires_at), self.channel, jti])
        await self._view.revoke_jti(jti, expires_at)  # this worker refuses it at once

    async def revoke_family(self, family: str, expires_at: float) -> None:
        self._ensure_running()
        if expires_at <= self._clock():
            return
        key = self._db.key("rev", "fam", family)
        args = [self._db.ttl_ms(expires_at), self.channel, family, "f"]
        await self._db.script("mark", [key], args)
        await self._view.revoke_family(family, expires_at)

    async def revoke_subject(self, subject: str, not_before: float, ttl: float) -> None:
        self._ensure_running()
        key = self._db.key("rev", "nbf", subject)
        args = [repr(float(not_before)), int(ttl * 1000), self.channel, subject]
        await self._db.script("not_before", [key], args)
        await self._view.revoke_subject(subject, float(not_before), ttl)

    async def advance_generation(self, subject: str, now: float, ttl: float) -> float:
        self._ensure_running()
        key = self._db.key("rev", "nbf", subject)
        args = [repr(float(now)), int(ttl * 1000), repr(GENERATION_STEP), self.channel, subject]
        generation = float(await self._db.script("generation", [key], args))
        # the view keeps Redis's generation (it never advances on its own)
        await self._view.revoke_subject(subject, generation, ttl)
        return generation

    async def current_generation(self, subject: str) -> float:
        """Always read from Redis: issuing compares against the latest generation."""
        return await self._inner.current_generation(subject)

    async def is_refused(
        self, jti: str, subject: str, issued_at: float, family: str | None = None
    ) -> bool:
        self._ensure_running()
        if time.monotonic() - self._fresh_as_of <= self.max_staleness:
            self.lookups["local"] += 1
            return await self._view.is_refused(jti, subject, issued_at, family)
        self.lookups["direct"] += 1
        return await self._inner.is_refused(jti, subject, issued_at, family)

    # -- state ----------------------------------------------------------------------------
    @property
    def healthy(self) -> bool:
        """True while checks are answered from the local view."""
        return time.monotonic() - self._fresh_as_of <= self.max_staleness

    async def close(self) -> None:
        """Stop following the channel: the subscriber task is cancelled and awaited (its
        ``finally`` closes its own connection), so nothing of it outlives the lifespan.
        Harmless when it never ran or when called twice; the next check starts it again.
        A task of another (finished) event loop cannot be awaited here and is dropped."""
        task, self._task = self._task, None
        self._fresh_as_of = -math.inf
        if task is not None and not task.done() and task.get_loop() is _running_loop():
            # A cancel racing a redis-py timeout can turn into an ordinary error that the
            # task survives; it then stops at its next loop check (``alive()``, within a
            # heartbeat), or at the next cancel. ``asyncio.wait``, unlike ``await task``,
            # never swallows a cancel aimed at the caller.
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
            self._fresh_as_of = -math.inf

    # -- internals ------------------------------------------------------------------------
    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._fresh_as_of = -math.inf
            self._loop = loop
            self._task = loop.create_task(self._follow_forever(), name=self.client_name)

    async def _mark(self, kind: str, ident: str, value: float, ttl: float) -> None:
        """Copy one Redis mark into the view: ``kind`` is a message kind (``j``, ``f``,
        ``n``), ``value`` the subject's mark (``n`` only), ``ttl`` seconds it has left.
        (The view never awaits: each call completes before the next message is read.)"""
        if kind == "j":
            await self._view.revoke_jti(ident, self._clock() + ttl)
        elif kind == "f":
            await self._view.revoke_family(ident, self._clock() + ttl)
        elif kind == "n":
            await self._view.revoke_subject(ident, value, ttl)

    async def _apply(self, raw: bytes) -> None:
        """One channel message: ``[kind, ident, pttl_ms]`` or ``["n", subject, mark, ttl_ms]``."""
        kind, ident, *rest = json.loads(raw)
        if kind == "n":
            await self._mark(kind, ident, float(rest[0]), int(rest[1]) / 1000)
        elif kind in ("j", "f"):
            await self._mark(kind, ident, 0.0, int(rest[0]) / 1000)

    async def _follow_forever(self) -> None:
        known: list[str] = []
        task = asyncio.current_task()

        def alive() -> bool:  # read by this task's children too (current_task differs there)
            return self._task is not None and self._task is task

        while alive():
            try:
                if self._db.cluster:
                    known = await primary_urls(self._db, known)
                    await self._follow_nodes(known, alive)
                else:
                    await self._follow_node(self._db.plain_url, self._proven, alive)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: distrust the view, reconnect
                logger.info("revocation channel down (%s): direct lookups", type(exc).__name__)
            finally:
                self._fresh_as_of = -math.inf
            await asyncio.sleep(self.reconnect_delay)

    def _proven(self, url: str, when: float) -> None:
        self._fresh_as_of = max(self._fresh_as_of, when)

    async def _follow_nodes(self, urls: list[str], alive: Callable[[], bool]) -> None:
        """Redis Cluster: follow the channel on every primary. A revocation is published
        by the node holding its key, to that node's subscribers at once (to the others
        later, over the cluster bus), so each node's PINGs prove only its own messages:
        the view is as fresh as its stalest node. A changed topology restarts it all."""
        fresh = dict.fromkeys(urls, -math.inf)

        def proven(url: str, when: float) -> None:
            fresh[url] = max(fresh[url], when)
            self._fresh_as_of = min(fresh.values())

        async with asyncio.TaskGroup() as group:  # one failure cancels the others
            for url in urls:
                group.create_task(self._follow_node(url, proven, alive))
            group.create_task(self._watch_topology(urls, alive))

    async def _watch_topology(self, urls: list[str], alive: Callable[[], bool]) -> None:
        while alive():
            await asyncio.sleep(max(self.heartbeat, 1.0))
            if await primary_urls(self._db, urls) != urls:
                raise StoreUnavailable("revocation_cluster_topology_changed")

    async def _follow_node(
        self, url: str, proven: Callable[[str, float], None], alive: Callable[[], bool]
    ) -> None:
        client = Redis.from_url(
            url,
            socket_connect_timeout=self._db.socket_timeout,
            socket_timeout=max(self._db.socket_timeout, 2 * self.max_staleness),
            client_name=self.client_name,
        )
        try:
            await self._follow(client, lambda when: proven(url, when), alive)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _follow(
        self, client: Redis, proven: Callable[[float], None], alive: Callable[[], bool]
    ) -> None:
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            if await pubsub.get_message(timeout=2 * self.max_staleness + 1) is None:
                raise StoreUnavailable("revocation_channel_unconfirmed")  # scans must follow it
            synced_from = time.monotonic()
            await self._resync(client)
            self.syncs += 1
            proven(synced_from)
            pings: dict[bytes, float] = {}
            seq, last_ping = 0, -math.inf
            while alive():
                now = time.monotonic()
                if now - last_ping >= self.heartbeat:
                    seq, last_ping = seq + 1, now
                    pings[str(seq).encode()] = now
                    await pubsub.ping(str(seq))
                if pings and now - min(pings.values()) > 2 * self.max_staleness + 1:
                    raise StoreUnavailable("revocation_channel_silent")  # no PONG
                message = await pubsub.get_message(timeout=self.heartbeat)
                if message is None:
                    continue
                if message["type"] == "message":
                    await self._apply(message["data"])
                elif message["type"] == "pong":
                    sent = pings.pop(message["data"], None)
                    if sent is not None:
                        proven(sent)
                        pings = {k: v for k, v in pings.items() if v > sent}
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]

    async def _resync(self, client: Redis) -> None:
        """Load every live revocation (messages arriving meanwhile are applied after)."""
        base = self._db.key("rev", "")
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", base)
        for kind, message_kind in (("jti", "j"), ("fam", "f"), ("nbf", "n")):
            skip = len(base) + len(kind) + 1
            keys = [k async for k in client.scan_iter(match=f"{pattern}{kind}:*", count=1000)]
            for start in range(0, len(keys), 500):
                batch = keys[start : start + 500]
                async with client.pipeline(transaction=False) as pipe:
                    for key in batch:
                        pipe.get(key)
                        pipe.pttl(key)
                    replies = await pipe.execute()
                for i, key in enumerate(batch):
                    value, pttl = replies[2 * i], replies[2 * i + 1]
                    if value is None or pttl is None or pttl == -2:
                        continue  # expired during the scan
                    left = math.inf if pttl < 0 else pttl / 1000  # -1: no TTL, keep it
                    mark = float(value) if message_kind == "n" else 0.0
                    await self._mark(message_kind, key.decode()[skip:], mark, left)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
