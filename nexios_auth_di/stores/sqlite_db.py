"""The SQLite file behind the SQLite stores (aiosqlite): schema, connection, purge.

One ``SqliteDatabase`` owns one file and one connection, shared by every SQLite store. The
connection runs in autocommit mode and every operation is a *single* SQL statement, so
each one is atomic (also across processes sharing the file) and a cancelled request can
never leave a transaction open. WAL mode lets readers run while a writer commits.
Expired rows are ignored by every lookup and deleted in bulk every ``purge_every`` writes
or ``purge_interval`` seconds, whichever comes first.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import aiosqlite

from nexios_auth_di.exceptions import StoreUnavailable
from nexios_auth_di.stores.protocols import (
    API_KEY_RETENTION,
)

__all__ = ["DB_ERRORS", "SqliteDatabase"]

Clock = Callable[[], float]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS revoked_jti (
    jti TEXT PRIMARY KEY, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS revoked_jti_exp ON revoked_jti (expires_at);
CREATE TABLE IF NOT EXISTS subject_not_before (
    subject TEXT PRIMARY KEY, not_before REAL NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subject_not_before_exp ON subject_not_before (expires_at);
CREATE TABLE IF NOT EXISTS spent_refresh (
    family TEXT NOT NULL, jti TEXT NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (family, jti)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS spent_refresh_exp ON spent_refresh (expires_at);
CREATE TABLE IF NOT EXISTS revoked_family (
    family TEXT PRIMARY KEY, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS revoked_family_exp ON revoked_family (expires_at);
CREATE TABLE IF NOT EXISTS refresh_login (
    subject TEXT NOT NULL, family TEXT NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (subject, family)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS refresh_login_exp ON refresh_login (expires_at);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, subject TEXT, data TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_subject ON sessions (subject);
CREATE INDEX IF NOT EXISTS sessions_exp ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY, prefix TEXT NOT NULL, owner TEXT NOT NULL,
    secret_hash TEXT NOT NULL, scopes TEXT NOT NULL, name TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL, revoked INTEGER NOT NULL,
    last_used REAL, extra TEXT NOT NULL, purge_at REAL);
CREATE INDEX IF NOT EXISTS api_keys_owner ON api_keys (owner);
CREATE INDEX IF NOT EXISTS api_keys_purge ON api_keys (purge_at);
CREATE TABLE IF NOT EXISTS api_key_stamps (
    owner TEXT PRIMARY KEY, stamp TEXT NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS throttle_counters (
    key TEXT PRIMARY KEY, attempts INTEGER NOT NULL, locked_until REAL NOT NULL,
    expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS throttle_counters_exp ON throttle_counters (expires_at);
CREATE TABLE IF NOT EXISTS one_time (
    key TEXT PRIMARY KEY, value TEXT, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS one_time_exp ON one_time (expires_at);
CREATE TABLE IF NOT EXISTS credentials (
    kind TEXT NOT NULL, credential_id TEXT NOT NULL, user_id TEXT NOT NULL,
    data TEXT NOT NULL, created_at REAL NOT NULL, last_used REAL, expires_at REAL,
    version INTEGER NOT NULL, PRIMARY KEY (kind, credential_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS credentials_user ON credentials (user_id, kind);
CREATE INDEX IF NOT EXISTS credentials_exp ON credentials (expires_at);
"""

_PURGE = (
    "DELETE FROM revoked_jti WHERE expires_at <= ?",
    "DELETE FROM subject_not_before WHERE expires_at <= ?",
    "DELETE FROM spent_refresh WHERE expires_at <= ?",
    "DELETE FROM revoked_family WHERE expires_at <= ?",
    "DELETE FROM refresh_login WHERE expires_at <= ?",
    "DELETE FROM sessions WHERE expires_at <= ?",
    "DELETE FROM api_keys WHERE purge_at IS NOT NULL AND purge_at <= ?",
    "DELETE FROM api_key_stamps WHERE expires_at <= ?",
    "DELETE FROM throttle_counters WHERE expires_at <= ?",  # throttle/sqlite.py
    "DELETE FROM one_time WHERE expires_at <= ?",  # sqlite_records.py
    "DELETE FROM credentials WHERE expires_at IS NOT NULL AND expires_at <= ?",
)

#: What the driver raises when the file cannot be used: locked past the busy timeout,
#: disk I/O, a closed connection (aiosqlite raises ValueError for that).
DB_ERRORS = (sqlite3.Error, OSError, ValueError)


def _daemon_worker(conn: aiosqlite.Connection) -> None:
    """Make aiosqlite's worker thread (not started yet) a daemon. ``close()`` (run by the
    container's shutdown) ends it; this is for a connection nobody closed (an app served
    without lifespan, a test), which must not keep the interpreter from exiting. Every
    statement commits on its own and WAL survives a writer dying with its process, so
    this loses nothing a crash would not."""
    thread = getattr(conn, "_thread", None)  # aiosqlite 0.20+: the worker, unstarted
    if isinstance(thread, threading.Thread) and thread.ident is None:
        thread.daemon = True


class SqliteDatabase:
    """The file, its single connection and the purge schedule, shared by the stores.

    The connection opens lazily on first use inside the running loop; ``close()`` (the
    container's shutdown calls it) releases it until the next use. Expired API-key
    records are kept ``api_key_retention`` seconds past their expiry so owners can still
    see them.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock = time.time,
        busy_timeout: float = 5.0,
        purge_every: int = 1000,
        purge_interval: float = 60.0,
        api_key_retention: float = API_KEY_RETENTION,
    ) -> None:
        self.path = os.fspath(path)
        self.clock = clock
        self.busy_timeout = busy_timeout
        self.api_key_retention = api_key_retention
        self._purge_every = purge_every
        self._purge_interval = purge_interval
        self._conn: aiosqlite.Connection | None = None
        #: plain sqlite3 read connections for ``read``, one per thread that reads
        self._readers: dict[int, sqlite3.Connection] = {}
        self._open_lock: asyncio.Lock | None = None
        self._writes = 0
        self._last_purge = clock()

    async def _connection(self) -> aiosqlite.Connection:
        if self._conn is not None:
            return self._conn
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if self._conn is None:
                self._conn = await self._open()
        return self._conn

    async def _open(self) -> aiosqlite.Connection:
        conn = None
        try:
            pending = aiosqlite.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            _daemon_worker(pending)
            conn = await pending
            await conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            await self._wal(conn)
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.executescript(_SCHEMA)
        except DB_ERRORS as exc:
            if conn is not None:
                await conn.close()
            raise StoreUnavailable(f"sqlite_open: {exc}") from exc
        return conn

    async def _wal(self, conn: aiosqlite.Connection) -> None:
        """Switch the file to WAL. SQLite answers a journal-mode change that meets another
        connection's lock with SQLITE_BUSY at once, without the busy handler, so workers
        opening a new file together retry here (up to ``busy_timeout``)."""
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.005
        while True:
            try:
                await conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows; driver errors become ``StoreUnavailable``."""
        conn = await self._connection()
        try:
            rows = await conn.execute_fetchall(sql, params)
        except DB_ERRORS as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc
        return [tuple(row) for row in rows]

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A small indexed read run on the event loop itself (the per-request revocation
        check), without ``fetch``'s hop to aiosqlite's thread and back, which costs more
        than the lookup.

        Never stale: each call is a new read transaction on a plain ``sqlite3``
        connection (autocommit, read-only), so it sees every commit made before it
        started, by any connection or process. It never waits on the loop either: WAL
        readers do not wait for writers, and with a zero busy timeout a locked file (WAL
        recovery, rare) answers at once instead; that read then goes through
        ``fetch``, which waits up to ``busy_timeout`` in its thread. Other driver errors
        are ``StoreUnavailable``: the caller fails closed.
        """
        if self._conn is None:
            await self._connection()  # the writer creates the file and the schema first
        reader = self._readers.get(threading.get_ident()) or self._open_reader()
        try:
            return reader.execute(sql, params).fetchall()  # fetchall ends the read txn
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise StoreUnavailable(f"sqlite: {exc}") from exc
        except DB_ERRORS as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc
        return await self.fetch(sql, params)

    def _open_reader(self) -> sqlite3.Connection:
        """This thread's read connection (threads that are gone give theirs back)."""
        alive = {thread.ident for thread in threading.enumerate()}
        for ident in [i for i in self._readers if i not in alive]:
            self._readers.pop(ident).close()
        try:
            reader = sqlite3.connect(
                self.path, timeout=0, isolation_level=None, check_same_thread=False
            )
            reader.execute("PRAGMA query_only = ON")
        except DB_ERRORS as exc:
            raise StoreUnavailable(f"sqlite_open: {exc}") from exc
        self._readers[threading.get_ident()] = reader
        return reader

    async def write(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """``fetch`` for a statement that changes data; may run the periodic purge."""
        rows = await self.fetch(sql, params)
        self._writes += 1
        now = self.clock()
        if self._writes >= self._purge_every or now - self._last_purge >= self._purge_interval:
            await self.purge()
        return rows

    async def purge(self) -> None:
        """Delete every expired row now."""
        self._writes = 0
        self._last_purge = now = self.clock()
        for sql in _PURGE:
            await self.fetch(sql, (now,))

    async def close(self) -> None:
        """Close the connection, which ends aiosqlite's worker thread (not a daemon: left
        running it keeps a stopping server alive). Harmless when nothing is open or when
        called twice; the next use opens a new connection, so an app can serve another
        lifespan (e.g. a second ``TestClient`` block)."""
        readers, self._readers = self._readers, {}
        for reader in readers.values():
            reader.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
