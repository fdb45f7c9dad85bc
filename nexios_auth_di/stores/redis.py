"""Redis stores (redis-py asyncio): shared state for many workers and hosts.

One ``RedisDatabase`` owns one lazily created client, shared by the four stores. Every
key lives under ``{namespace}:`` and carries a TTL, computed from the injected clock
(relative ``PX``, so app/server clock skew does not matter). The one exception is an
API-key record without ``expires_at`` (and its owner index): it lives until deleted.
Each multi-step operation is one small Lua script, so it is atomic and one round trip.

On Redis Cluster (a ``redis+cluster://`` URL, or ``cluster=True``) the client is redis-py's
``RedisCluster`` and ``factory.py`` picks the cluster layout (``redis_cluster.py``): every
script's keys share one hash slot. The single-node layout below is unchanged.

Any Redis or socket error becomes ``StoreUnavailable``: requests fail closed. The client
retries once on a broken connection, so the first call after a server restart works.
``RedisDatabase.close()`` (the container's shutdown) disconnects its pool.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import BlockingConnectionPool, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterUnreachableError, RedisError, SlotNotCoveredError

from nexios_auth_di.exceptions import ConfigurationError, StoreUnavailable
from nexios_auth_di.stores.memory import GENERATION_STEP, MIN_MARKER_TTL
from nexios_auth_di.stores.protocols import (
    API_KEY_RETENTION,
    SpendResult,
)
from nexios_auth_di.stores.redis_cluster_scripts import CLUSTER_SCRIPTS, SHARED_SCRIPTS
from nexios_auth_di.stores.redis_scripts import SCRIPTS

__all__ = [
    "RedisDatabase",
    "RedisRefreshFamilyStore",
    "RedisRevocationStore",
    "RedisSessionStore",
]

Clock = Callable[[], float]

#: what an outage raises (TimeoutError is an OSError); of the cluster client's own errors
#: only these two mean "unreachable": a cross-slot call is a bug and must surface as one
OUTAGES = (RedisError, OSError, SlotNotCoveredError, RedisClusterUnreachableError)

#: URL schemes that select Redis Cluster (the ``+cluster`` is dropped for redis-py)
CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")


def cluster_url(url: str) -> tuple[str, bool]:
    """``(url redis-py accepts, whether the URL names a cluster)``."""
    for scheme in CLUSTER_SCHEMES:
        if url.startswith(scheme):
            return scheme.replace("+cluster", "") + url[len(scheme) :], True
    return url, False


class RedisDatabase:
    """The client, the namespace and the scripts, shared by the stores.

    ``socket_timeout`` bounds every call (connect and read), so a dead server costs at
    most about twice that (one retry) before ``StoreUnavailable``.
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "nxauth",
        socket_timeout: float = 0.5,
        clock: Clock = time.time,
        api_key_retention: float = API_KEY_RETENTION,
        cluster: bool = False,
    ) -> None:
        plain, named = cluster_url(url)
        try:
            parsed = parse_url(plain)
        except ValueError as exc:
            raise ConfigurationError(f"invalid Redis URL {url!r}: {exc}") from exc
        self.cluster = cluster or named
        if self.cluster and int(parsed.get("db") or 0) != 0:
            raise ConfigurationError(f"Redis Cluster has only database 0, not in {url!r}")
        if not namespace or any(c.isspace() for c in namespace):
            raise ConfigurationError("Redis namespace must be a non-empty word")
        self.url = url
        #: the URL without ``+cluster``, as redis-py (and the revocation view) takes it
        self.plain_url = plain
        self.namespace = namespace
        self.socket_timeout = socket_timeout
        self.clock = clock
        self.api_key_retention = api_key_retention
        self._client: Any = None
        self._scripts: dict[str, AsyncScript] = {}

    @property
    def client(self) -> Redis:
        """The redis-py client, created on first use (a ``RedisCluster`` on a cluster,
        typed as ``Redis``: the stores use only the commands both have)."""
        if self._client is None and self.cluster:
            # One pool per node (100 connections each); one retry on a broken connection,
            # and few cluster-level retries so a dead node soon becomes StoreUnavailable.
            self._client = RedisCluster.from_url(
                self.plain_url,
                max_connections=100,
                socket_timeout=self.socket_timeout,
                socket_connect_timeout=self.socket_timeout,
                retry=Retry(NoBackoff(), 1),
                decode_responses=True,
            )
            allowed = {n: SCRIPTS[n] for n in SHARED_SCRIPTS} | CLUSTER_SCRIPTS
            self._scripts = {n: self._client.register_script(s) for n, s in allowed.items()}
        if self._client is None:
            # A blocking pool: a burst past the pool's 100 connections waits (bounded) for
            # a free one; redis-py's default pool raises MaxConnectionsError (a 503) at once.
            pool = BlockingConnectionPool.from_url(
                self.url,
                max_connections=100,
                timeout=max(1.0, 2 * self.socket_timeout),
                socket_timeout=self.socket_timeout,
                socket_connect_timeout=self.socket_timeout,
                retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                decode_responses=True,
            )
            self._client = Redis.from_pool(pool)
            self._scripts = {n: self._client.register_script(s) for n, s in SCRIPTS.items()}
        client: Redis = self._client
        return client

    def key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    def ttl_ms(self, expires_at: float) -> int:
        """Milliseconds from now (by ``clock``) until ``expires_at``; at least 1."""
        return max(1, int((expires_at - self.clock()) * 1000))

    async def script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Run a registered script; on a cluster only the single-slot ones are registered
        (a ``KeyError`` here is a programming error, never a request's fault)."""
        client = self.client
        with self.guard():
            return await self._scripts[name](keys=keys, args=args, client=client)

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn every Redis/socket failure into ``StoreUnavailable`` (fail closed)."""
        try:
            yield
        except OUTAGES as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}: {exc}") from exc

    async def durability_problem(self) -> str | None:
        """Why a restart of this server would forget revocations, or ``None``.

        Asks ``CONFIG GET appendonly`` and ``save``: with neither AOF nor snapshots, a
        restart comes back empty and every revoked token works again until it expires
        (docs/deployment.md). ``None`` too when the server does not say (managed
        services often disable CONFIG) or cannot be reached: this is advice, not a gate.
        """
        try:
            with self.guard():
                aof = await self.client.config_get("appendonly")
                rdb = await self.client.config_get("save")
        except Exception:  # StoreUnavailable, or CONFIG disabled: nothing to report
            return None
        if str(aof.get("appendonly", "")).lower() == "yes":
            return None
        if str(rdb.get("save", "")).strip():
            return (
                "RDB snapshots only (appendonly no): revocations made since the last "
                "snapshot are lost on restart"
            )
        return "no persistence (appendonly no, save ''): a restart forgets every revocation"

    async def close(self) -> None:
        """Disconnect the client's pool (the container's shutdown calls this). Harmless
        when nothing is open or when called twice; the next use makes a new client."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


class RedisRevocationStore:
    """``rev:jti:{jti}`` and ``rev:fam:{family}`` markers and ``rev:nbf:{subject}`` marks
    (generations); one MGET checks all three."""

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db

    async def revoke_jti(self, jti: str, expires_at: float) -> None:
        if expires_at > self._db.clock():
            key = self._db.key("rev", "jti", jti)
            await self._db.script("mark", [key], [self._db.ttl_ms(expires_at)])

    async def revoke_subject(self, subject: str, not_before: float, ttl: float) -> None:
        key = self._db.key("rev", "nbf", subject)
        await self._db.script("not_before", [key], [repr(float(not_before)), int(ttl * 1000)])

    async def revoke_family(self, family: str, expires_at: float) -> None:
        if expires_at > self._db.clock():
            key = self._db.key("rev", "fam", family)
            await self._db.script("mark", [key], [self._db.ttl_ms(expires_at)])

    async def advance_generation(self, subject: str, now: float, ttl: float) -> float:
        key = self._db.key("rev", "nbf", subject)
        args = [repr(float(now)), int(ttl * 1000), repr(GENERATION_STEP)]
        return float(await self._db.script("generation", [key], args))

    async def current_generation(self, subject: str) -> float:
        client = self._db.client
        with self._db.guard():
            value = await client.get(self._db.key("rev", "nbf", subject))
        return 0.0 if value is None else float(value)

    async def is_refused(
        self, jti: str, subject: str, issued_at: float, family: str | None = None
    ) -> bool:
        keys = [self._db.key("rev", "jti", jti), self._db.key("rev", "nbf", subject)]
        if family is not None:
            keys.append(self._db.key("rev", "fam", family))
        client = self._db.client
        with self._db.guard():
            revoked, not_before, *family_revoked = await client.mget(keys)
        if revoked is not None or any(v is not None for v in family_revoked):
            return True
        return not_before is not None and issued_at < float(not_before)


class RedisRefreshFamilyStore:
    """``rf:{family}:revoked`` and ``rf:{family}:spent:{jti}`` (hash-tagged by family), and
    ``rf-subj:{subject}``, a zset of the subject's logins scored by their absolute end."""

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db

    def family_tag(self, family: str) -> str:
        return "{" + family + "}"

    def spend_keys(self, family: str, jti: str) -> list[str]:
        """The family's revoked marker and this token's spent marker: one hash tag."""
        tag = self.family_tag(family)
        return [self._db.key("rf", tag, "revoked"), self._db.key("rf", tag, "spent", jti)]

    async def spend(self, family: str, jti: str, expires_at: float) -> SpendResult:
        ttl = self._db.ttl_ms(max(expires_at, self._db.clock() + MIN_MARKER_TTL))
        result = int(await self._db.script("spend", self.spend_keys(family, jti), [ttl]))
        return (SpendResult.OK, SpendResult.REUSED, SpendResult.REVOKED)[result]

    async def revoke_family(self, family: str, expires_at: float) -> None:
        ttl = self._db.ttl_ms(max(expires_at, self._db.clock() + MIN_MARKER_TTL))
        key = self.spend_keys(family, "")[0]
        await self._db.script("mark", [key], [ttl])

    def _logins(self, subject: str) -> str:
        return self._db.key("rf-subj", subject)

    def _marker_affixes(self) -> list[str]:
        return [self._db.key("rf", "{"), "}:revoked"]

    async def start(self, subject: str, family: str, expires_at: float, limit: int) -> list[str]:
        args = [repr(self._db.clock()), family, repr(float(expires_at)), limit]
        args += self._marker_affixes()
        evicted = await self._db.script("login_start", [self._logins(subject)], args)
        return [str(f) for f in evicted]

    async def end(self, subject: str, family: str, expires_at: float) -> None:
        await self.revoke_family(family, expires_at)
        client = self._db.client
        with self._db.guard():
            await client.zrem(self._logins(subject), family)

    async def end_all(self, subject: str) -> list[str]:
        args = [repr(self._db.clock()), *self._marker_affixes()]
        ended = await self._db.script("login_end_all", [self._logins(subject)], args)
        return [str(f) for f in ended]


class RedisSessionStore:
    """``sess:{id}`` = JSON {s: subject, d: data}; ``sess-subj:{subject}`` = set of ids."""

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db
        self._prefix = db.key("sess", "")

    async def load(self, session_id: str) -> dict[str, Any] | None:
        client = self._db.client
        with self._db.guard():
            raw = await client.get(self._prefix + session_id)
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)["d"]
        return data

    async def save(
        self,
        session_id: str,
        data: dict[str, Any],
        ttl: float,
        subject: str | None = None,
        *,
        previous: str | None = None,
    ) -> bool:
        payload = json.dumps({"s": subject, "d": data}, separators=(",", ":"))
        keys = [self._prefix + session_id]
        if subject is not None:
            keys.append(self._db.key("sess-subj", subject))
        args = [payload, max(1, int(ttl * 1000)), session_id, self._prefix, previous or ""]
        return bool(await self._db.script("session_save", keys, args))

    async def delete(self, session_id: str) -> None:
        client = self._db.client
        with self._db.guard():
            await client.delete(self._prefix + session_id)

    async def delete_for_subject(self, subject: str, keep: str | None = None) -> int:
        keys = [self._db.key("sess-subj", subject)]
        args = [subject, keep or "", self._prefix]
        return int(await self._db.script("session_delete_for_subject", keys, args))
