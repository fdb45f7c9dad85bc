"""Pick the throttle storage: by default the stores' own engine and connection.

With ``stores: sqlite`` the counters live in the stores' SQLite file and with ``stores:
redis`` in their Redis, so every worker counts the same guesses; memory stays per
process. ``throttle.storage`` may name another place: ``memory://``, ``redis://...``
(``rediss://``, ``unix://``, ``redis+cluster://`` for a Redis Cluster; a leading
``async+`` is accepted) or ``sqlite:///path``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.throttle.limiter import Limiter
from nexios_auth_di.throttle.memory import MemoryLimiter

__all__ = ["limiter_for"]

REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+cluster://", "rediss+cluster://")


def limiter_for(
    storage: str | None,
    stores: Any = None,
    *,
    namespace: str = "nxauth",
    clock: Callable[[], float] = time.time,
) -> Limiter:
    """The ``Limiter`` for ``storage`` (None: next to ``stores``, a ``StoreSet``)."""
    if storage is None:
        engine = getattr(stores, "engine", "memory")
        database = getattr(stores, "database", None)
        if engine == "sqlite" and database is not None:
            from nexios_auth_di.throttle.sqlite import SqliteLimiter

            return SqliteLimiter(database)
        if engine == "redis" and database is not None:
            from nexios_auth_di.throttle.redis import RedisLimiter

            return RedisLimiter(database)
        if engine == "sqlalchemy" and database is not None:
            from nexios_auth_di.stores.sqlalchemy.throttle import SqlAlchemyLimiter

            return SqlAlchemyLimiter(database)
        return MemoryLimiter()
    spec = storage.strip().removeprefix("async+")
    if spec in ("memory://", "memory"):
        return MemoryLimiter()
    if spec.startswith(REDIS_SCHEMES):
        from nexios_auth_di.stores.redis import RedisDatabase
        from nexios_auth_di.throttle.redis import RedisLimiter

        return RedisLimiter(RedisDatabase(spec, namespace=namespace, clock=clock), owns_db=True)
    if spec.startswith("sqlite:///") and len(spec) > len("sqlite:///"):
        from nexios_auth_di.stores.sqlite import SqliteDatabase
        from nexios_auth_di.throttle.sqlite import SqliteLimiter

        path = spec.removeprefix("sqlite:///")
        return SqliteLimiter(SqliteDatabase(path, clock=clock), owns_db=True)
    raise ConfigurationError(
        f"throttle.storage {storage!r}: use memory://, redis://host:port/db or sqlite:///path"
    )
