"""Build the stores of one engine from configuration.

The engine modules are imported only when chosen, so ``aiosqlite`` and ``redis`` stay
optional extras. Every mistake in the configuration is a ``ConfigurationError`` raised
here, at start-up, never on the first request.

Lifetime: building opens nothing (connections open on first use). ``StoreSet.close()``
releases what was opened; the container's shutdown (``container.shutdown``, registered
by ``install()``) calls it for the stores it built.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.stores.memory import (
    MemoryAPIKeyStore,
    MemoryRefreshFamilyStore,
    MemoryRevocationStore,
    MemorySessionStore,
)
from nexios_auth_di.stores.memory_records import MemoryCredentialStore, MemoryOneTimeStore
from nexios_auth_di.stores.protocols import (
    APIKeyStore,
    CredentialStore,
    OneTimeStore,
    RefreshFamilyStore,
    RevocationStore,
    SessionStore,
)

__all__ = ["ENGINES", "StoreSet", "build_stores"]

ENGINES = ("memory", "sqlite", "redis", "sqlalchemy")


async def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class StoreSet:
    """The stores of one engine, sharing one connection; ``close()`` releases it (and
    stops the revocation cache's task), leaving the stores usable: the next call reopens."""

    revocations: RevocationStore
    families: RefreshFamilyStore
    sessions: SessionStore
    api_keys: APIKeyStore
    once: OneTimeStore
    credentials: CredentialStore
    engine: str = "memory"
    closer: Callable[[], Awaitable[None]] = field(default=_nothing, repr=False)
    #: the engine's shared connection (SqliteDatabase, RedisDatabase; None for memory), so
    #: the login throttle keeps its counters next to the stores (throttle/factory.py)
    database: Any = field(default=None, repr=False)

    async def close(self) -> None:
        await self.closer()


def _setting(config: Mapping[str, Any], name: str, engine: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f'stores "{engine}" needs a non-empty "{name}" setting')
    return value.strip()


def _import(module: str, extra: str) -> Any:
    try:
        return importlib.import_module(f"{__package__}.{module}")
    except ImportError as exc:  # the optional driver is not installed
        raise ConfigurationError(
            f'stores "{module}" needs the "{extra}" extra: pip install "nexios-auth-di[{extra}]"'
        ) from exc


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _cached(
    inner: Any, db: Any, config: Mapping[str, Any]
) -> tuple[RevocationStore, Callable[[], Awaitable[None]]]:
    """The pub/sub-fed revocation view over ``inner``; closing stops it, then the client."""
    from nexios_auth_di.stores.revocation_cache import DEFAULT_MAX_STALENESS, CachedRevocationStore

    try:
        staleness = float(config.get("revocation_max_staleness") or DEFAULT_MAX_STALENESS)
        cache = CachedRevocationStore(inner, db, max_staleness=staleness)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError('"revocation_max_staleness" must be a positive number') from exc

    async def close() -> None:
        try:
            await cache.close()
        finally:
            await db.close()

    return cache, close


def _sqlalchemy(config: Mapping[str, Any], clock: Callable[[], float]) -> StoreSet:
    """``stores: sqlalchemy``: PostgreSQL or SQLite through one SQLAlchemy async engine."""
    url = _setting(config, "database_url", "sqlalchemy")
    sa = _import("sqlalchemy", "sqlalchemy")
    create = config.get("database_create_schema")
    db = sa.SqlAlchemyDatabase(
        url, clock=clock, create_schema=True if create is None else _flag(create)
    )
    return StoreSet(
        sa.SqlAlchemyRevocationStore(db),
        sa.SqlAlchemyRefreshFamilyStore(db),
        sa.SqlAlchemySessionStore(db),
        sa.SqlAlchemyAPIKeyStore(db),
        sa.SqlAlchemyOneTimeStore(db),
        sa.SqlAlchemyCredentialStore(db),
        "sqlalchemy",
        db.close,
        db,
    )


def build_stores(config: Mapping[str, Any], *, clock: Callable[[], float] = time.time) -> StoreSet:
    """Stores for ``config["stores"]`` (``memory`` when unset).

    Keys: ``sqlite_path`` (sqlite), ``database_url`` and ``database_create_schema``
    (sqlalchemy), ``redis_url``, ``namespace`` (default ``nxauth``),
    ``redis_socket_timeout`` (seconds, default 0.5) and ``redis_cluster`` (bool; a
    ``redis+cluster://`` URL implies it) for redis; ``revocation_cache`` (bool,
    redis only) and ``revocation_max_staleness`` (seconds, default 1) opt in to the
    per-worker revocation view of ``revocation_cache.py``.
    """
    engine = str(config.get("stores") or "memory").strip().lower()
    if _flag(config.get("revocation_cache")) and engine != "redis":
        raise ConfigurationError(
            '"revocation_cache" needs stores "redis" (it follows Redis pub/sub)'
        )
    if engine == "memory":
        return StoreSet(
            MemoryRevocationStore(clock),
            MemoryRefreshFamilyStore(clock),
            MemorySessionStore(clock),
            MemoryAPIKeyStore(clock),
            MemoryOneTimeStore(clock),
            MemoryCredentialStore(clock),
        )
    if engine == "sqlite":
        path = _setting(config, "sqlite_path", engine)
        sqlite = _import("sqlite", "sqlite")
        db = sqlite.SqliteDatabase(path, clock=clock)
        return StoreSet(
            sqlite.SqliteRevocationStore(db),
            sqlite.SqliteRefreshFamilyStore(db),
            sqlite.SqliteSessionStore(db),
            _import("sqlite_apikeys", "sqlite").SqliteAPIKeyStore(db),
            _import("sqlite_records", "sqlite").SqliteOneTimeStore(db),
            _import("sqlite_records", "sqlite").SqliteCredentialStore(db),
            engine,
            db.close,
            db,
        )
    if engine == "redis":
        url = _setting(config, "redis_url", engine)
        namespace = config.get("namespace") or "nxauth"
        try:
            timeout = float(config.get("redis_socket_timeout") or 0.5)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError('"redis_socket_timeout" must be a number of seconds') from exc
        redis = _import("redis", "redis")
        cluster = _flag(config.get("redis_cluster"))
        db = redis.RedisDatabase(
            url, namespace=str(namespace), socket_timeout=timeout, clock=clock, cluster=cluster
        )
        layout = _import("redis_cluster", "redis") if db.cluster else None
        rev_store = layout.ClusterRevocationStore if layout else redis.RedisRevocationStore
        revocations, closer = rev_store(db), db.close
        if _flag(config.get("revocation_cache")):
            revocations, closer = _cached(revocations, db, config)
        return StoreSet(
            revocations,
            (layout.ClusterRefreshFamilyStore if layout else redis.RedisRefreshFamilyStore)(db),
            (layout.ClusterSessionStore if layout else redis.RedisSessionStore)(db),
            _import("redis_cluster_apikeys", "redis").ClusterAPIKeyStore(db)
            if layout
            else _import("redis_apikeys", "redis").RedisAPIKeyStore(db),
            _import("redis_records", "redis").RedisOneTimeStore(db),
            _import("redis_records", "redis").RedisCredentialStore(db),
            engine,
            closer,
            db,
        )
    if engine == "sqlalchemy":
        return _sqlalchemy(config, clock)
    raise ConfigurationError(
        f"unknown stores engine {engine!r}: choose one of {', '.join(map(repr, ENGINES))}"
    )
