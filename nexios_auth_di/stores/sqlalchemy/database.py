"""The shared SQLAlchemy engine of the stores: one ``AsyncEngine``, one error mapping,
one purge schedule.

Every store operation is *one* statement in its own short transaction (``run``), made
atomic by its own row conditions (``INSERT ... ON CONFLICT ... WHERE ... RETURNING``,
``UPDATE ... WHERE version = ... RETURNING``, ``DELETE ... RETURNING``): PostgreSQL
re-checks a conditional write against the row a concurrent writer just committed, and
SQLite runs each write under its file lock, so of any number of racing callers exactly
one sees its row, with no read-then-write window. The one exception, capped API-key
creation, takes a per-owner lock first (``run_locked``).

The engine is created on first use inside the running loop; driver errors (a refused
connection, a server that went away, a pool timeout) become ``StoreUnavailable``, and a
disconnect invalidates the pool, so requests fail closed with 503 while the database is
down and recover once it is back, with no restart.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, text
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

from nexios_auth_di.exceptions import ConfigurationError, StoreUnavailable
from nexios_auth_di.stores.protocols import API_KEY_RETENTION
from nexios_auth_di.stores.sqlalchemy import tables as t

__all__ = ["DB_ERRORS", "SUPPORTED", "SqlAlchemyDatabase", "async_url"]

Clock = Callable[[], float]
T = TypeVar("T")

#: what a database that cannot be used raises through SQLAlchemy (and the bare socket
#: errors asyncpg raises while connecting)
DB_ERRORS = (
    OperationalError,
    InterfaceError,
    DBAPIError,
    PoolTimeout,
    OSError,
    asyncio.TimeoutError,
)

#: the dialects whose upserts (``ON CONFLICT ... WHERE ... RETURNING``) the stores use
SUPPORTED = ("postgresql", "sqlite")
#: drivers for URLs given without one
_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg",
                  "sqlite": "sqlite+aiosqlite"}  # fmt: skip


def async_url(url: str) -> str:
    """``url`` with an async driver: ``postgresql://`` becomes ``postgresql+asyncpg://``,
    ``sqlite://`` becomes ``sqlite+aiosqlite://``; one naming a driver is kept."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError as exc:
        raise ConfigurationError(f"store.database_url: not a database URL ({exc})") from None
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


def _expiring() -> list[tuple[Any, Any]]:
    """(table, column) pairs the purge deletes past their deadline."""
    return [
        (t.revoked_jti, t.revoked_jti.c.expires_at),
        (t.subject_not_before, t.subject_not_before.c.expires_at),
        (t.spent_refresh, t.spent_refresh.c.expires_at),
        (t.revoked_family, t.revoked_family.c.expires_at),
        (t.refresh_login, t.refresh_login.c.expires_at),
        (t.sessions, t.sessions.c.expires_at),
        (t.api_keys, t.api_keys.c.purge_at),
        (t.api_key_stamps, t.api_key_stamps.c.expires_at),
        (t.throttle_counters, t.throttle_counters.c.expires_at),
        (t.one_time, t.one_time.c.expires_at),
        (t.credentials, t.credentials.c.expires_at),
    ]


class SqlAlchemyDatabase:
    """The engine, the clock and the purge schedule the SQLAlchemy stores share.

    ``create_schema`` (default on) creates missing tables on first use, like the SQLite
    engine does; turn it off when ``nexios-auth db upgrade`` (Alembic) owns the schema.
    On PostgreSQL, connecting gives up after ``connect_timeout`` seconds and a statement
    after ``statement_timeout`` (both then ``StoreUnavailable``).
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Clock = time.time,
        create_schema: bool = True,
        connect_timeout: float = 2.0,
        statement_timeout: float = 5.0,
        purge_every: int = 1000,
        purge_interval: float = 60.0,
        api_key_retention: float = API_KEY_RETENTION,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        self.url = async_url(url)
        #: ``postgresql`` or ``sqlite``: which upsert spelling the stores build
        self.dialect: str = make_url(self.url).get_backend_name()
        if self.dialect not in SUPPORTED:
            raise ConfigurationError(
                f"store.database_url: the SQLAlchemy stores run on {' or '.join(SUPPORTED)}, "
                f"not {self.dialect}"
            )
        self.clock = clock
        self.create_schema = create_schema
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        self.api_key_retention = api_key_retention
        self._options = dict(engine_options or {})
        self._purge_every = purge_every
        self._purge_interval = purge_interval
        self._engine: AsyncEngine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = False
        self._schema_lock: asyncio.Lock | None = None
        self._writes = 0
        self._last_purge = clock()

    @property
    def engine(self) -> AsyncEngine:
        """The engine of the running loop (created on first use; ``close()`` disposes of
        it). Pooled connections belong to the loop that opened them: a new loop (a second
        ``TestClient`` block, a CLI ``asyncio.run``) gets a new pool, the old one is let go
        without touching its sockets from the wrong loop."""
        loop = asyncio.get_running_loop()
        if self._engine is not None and self._loop is not loop:
            self._engine.sync_engine.dispose(close=False)
            self._engine = None
        if self._engine is None:
            self._engine = create_async_engine(self.url, **self._engine_options())
            self._loop = loop
        return self._engine

    def _engine_options(self) -> dict[str, Any]:
        # no pool_pre_ping (a round trip per checkout, about a third of a lookup): the
        # first statement that meets a dead connection fails (503) and SQLAlchemy then
        # invalidates every pooled connection, so the next request reconnects
        options: dict[str, Any] = {}
        if self.dialect == "postgresql":
            options.update(pool_timeout=self.connect_timeout, pool_size=10, max_overflow=20)
            # a server that stops answering (not refusing) must not hang requests either
            options["connect_args"] = {
                "timeout": self.connect_timeout,
                "command_timeout": self.statement_timeout,
            }
        elif self.dialect == "sqlite":
            # SQLite runs one writer at a time anyway: one pooled connection makes racing
            # callers queue on the pool (no busy-wait polling on the file lock), as the
            # SQLite engine's single connection does; other processes still see the lock
            options.update(pool_size=1, max_overflow=0, pool_timeout=30.0)
            options["connect_args"] = {"timeout": 5.0}
        options.update(self._options)
        return options

    async def _ensure_schema(self) -> None:
        if self._ready or not self.create_schema:
            return
        if self._schema_lock is None:
            self._schema_lock = asyncio.Lock()
        async with self._schema_lock:
            if not self._ready:
                async with self.engine.begin() as conn:
                    if self.dialect == "postgresql":  # one process creates, the others wait
                        await conn.execute(text("SELECT pg_advisory_xact_lock(7242031)"))
                    await conn.run_sync(t.metadata.create_all, checkfirst=True)
                self._ready = True

    async def run(self, statement: Executable) -> list[Any]:
        """Run one statement in its own transaction; return its rows (none for a write
        without ``RETURNING``). Driver errors become ``StoreUnavailable``."""
        try:
            await self._ensure_schema()
            async with self.engine.begin() as conn:
                result = await conn.execute(statement)
                return list(result.fetchall()) if result.returns_rows else []
        except IntegrityError:
            raise  # a broken uniqueness rule is the caller's answer (Conflict), not an outage
        except DB_ERRORS as exc:
            raise StoreUnavailable(f"database: {type(exc).__name__}") from exc

    async def atomic(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction (committed when it returns); driver errors
        become ``StoreUnavailable``. ``work`` makes itself atomic: its first statement
        takes a lock (a PostgreSQL row or advisory lock; on SQLite the first write takes
        the file's write lock for the whole transaction)."""
        try:
            await self._ensure_schema()
            async with self.engine.begin() as conn:
                return await work(conn)
        except IntegrityError:
            raise  # a broken uniqueness rule is the caller's answer (Conflict), not an outage
        except DB_ERRORS as exc:
            raise StoreUnavailable(f"database: {type(exc).__name__}") from exc

    async def run_locked(self, name: str, statements: Sequence[Executable]) -> list[list[Any]]:
        """Run ``statements`` in one transaction holding the lock ``name`` (a PostgreSQL
        transaction advisory lock; SQLite serialises writers by itself): for a rule over
        several rows, such as "at most N live keys per owner"."""

        async def work(conn: AsyncConnection) -> list[list[Any]]:
            await self._lock(conn, name)
            out = []
            for statement in statements:
                result = await conn.execute(statement)
                out.append(list(result.fetchall()) if result.returns_rows else [])
            return out

        return await self.atomic(work)

    async def _lock(self, conn: AsyncConnection, name: str) -> None:
        if self.dialect == "postgresql":
            key = zlib.crc32(name.encode()) - 2**31  # a signed 32-bit lock id
            await conn.execute(text("SELECT pg_advisory_xact_lock(7242032, :k)"), {"k": key})

    async def write(self, statement: Executable) -> list[Any]:
        """``run`` for a statement that changes data; may run the periodic purge."""
        rows = await self.run(statement)
        self._writes += 1
        now = self.clock()
        if self._writes >= self._purge_every or now - self._last_purge >= self._purge_interval:
            await self.purge()
        return rows

    async def purge(self) -> None:
        """Delete every expired row now."""
        self._writes = 0
        self._last_purge = now = self.clock()
        for table, column in _expiring():
            await self.run(delete(table).where(column.is_not(None), column <= now))

    async def rowcount(self, statement: Executable) -> int:
        """Run a write and return how many rows it changed."""
        try:
            await self._ensure_schema()
            async with self.engine.begin() as conn:
                result: CursorResult[Any] = await conn.execute(statement)
                return int(result.rowcount)
        except IntegrityError:
            raise  # a broken uniqueness rule is the caller's answer (Conflict), not an outage
        except DB_ERRORS as exc:
            raise StoreUnavailable(f"database: {type(exc).__name__}") from exc

    async def close(self) -> None:
        """Dispose of the pool (the container's shutdown calls it). Harmless twice; the
        next use creates a new engine, so an app can serve another lifespan."""
        engine, self._engine = self._engine, None
        if engine is None:
            return
        if self._loop is asyncio.get_running_loop():
            await engine.dispose()
        else:
            engine.sync_engine.dispose(close=False)
