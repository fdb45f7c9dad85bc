"""SQLite stores (aiosqlite): persistent state for one host, no server to run.

One ``SqliteDatabase`` owns one file and one connection, shared by the four stores. The
connection runs in autocommit mode and every operation is a *single* SQL statement, so
each one is atomic (also across processes sharing the file) and a cancelled request can
never leave a transaction open. WAL mode lets readers run while a writer commits.
Expired rows are ignored by every lookup and deleted in bulk every ``purge_every`` writes
or ``purge_interval`` seconds, whichever comes first.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import aiosqlite

from nexios_auth_di.exceptions import StoreUnavailable
from nexios_auth_di.stores.memory import GENERATION_STEP, MIN_MARKER_TTL
from nexios_auth_di.stores.protocols import (
    API_KEY_RETENTION,
    SpendResult,
)

__all__ = [
    "SqliteDatabase",
    "SqliteRefreshFamilyStore",
    "SqliteRevocationStore",
    "SqliteSessionStore",
]

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
_DB_ERRORS = (sqlite3.Error, OSError, ValueError)


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
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.executescript(_SCHEMA)
        except _DB_ERRORS as exc:
            if conn is not None:
                await conn.close()
            raise StoreUnavailable(f"sqlite_open: {exc}") from exc
        return conn

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows; driver errors become ``StoreUnavailable``."""
        conn = await self._connection()
        try:
            rows = await conn.execute_fetchall(sql, params)
        except _DB_ERRORS as exc:
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
        except _DB_ERRORS as exc:
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
        except _DB_ERRORS as exc:
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


class SqliteRevocationStore:
    """Revoked jtis, revoked families (the table the family store also reads) and
    subject marks (generations); one query checks all three."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def revoke_jti(self, jti: str, expires_at: float) -> None:
        if expires_at <= self._db.clock():
            return
        await self._db.write(
            "INSERT INTO revoked_jti (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) "
            "DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
            (jti, expires_at),
        )

    async def revoke_subject(self, subject: str, not_before: float, ttl: float) -> None:
        now = self._db.clock()
        # an expired mark is replaced; a live one keeps the later mark and the later deadline
        await self._db.write(
            "INSERT INTO subject_not_before (subject, not_before, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (subject) DO UPDATE SET "
            "not_before = CASE WHEN expires_at <= ?4 THEN excluded.not_before "
            "ELSE max(not_before, excluded.not_before) END, "
            "expires_at = max(expires_at, excluded.expires_at)",
            (subject, not_before, now + ttl, now),
        )

    async def revoke_family(self, family: str, expires_at: float) -> None:
        if expires_at <= self._db.clock():
            return
        await self._db.write(
            "INSERT INTO revoked_family (family, expires_at) VALUES (?, ?) ON CONFLICT (family) "
            "DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
            (family, expires_at),
        )

    async def advance_generation(self, subject: str, now: float, ttl: float) -> float:
        clock_now = self._db.clock()
        rows = await self._db.write(
            "INSERT INTO subject_not_before (subject, not_before, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (subject) DO UPDATE SET "
            "not_before = CASE WHEN expires_at <= ?4 THEN excluded.not_before "
            "ELSE max(excluded.not_before, not_before + ?5) END, "
            "expires_at = max(expires_at, excluded.expires_at) RETURNING not_before",
            (subject, now, clock_now + ttl, clock_now, GENERATION_STEP),
        )
        return float(rows[0][0])

    async def current_generation(self, subject: str) -> float:
        rows = await self._db.fetch(
            "SELECT not_before FROM subject_not_before WHERE subject = ? AND expires_at > ?",
            (subject, self._db.clock()),
        )
        return float(rows[0][0]) if rows else 0.0

    async def is_refused(
        self, jti: str, subject: str, issued_at: float, family: str | None = None
    ) -> bool:
        now = self._db.clock()
        rows = await self._db.read(
            "SELECT EXISTS (SELECT 1 FROM revoked_jti WHERE jti = ? AND expires_at > ?) "
            "OR EXISTS (SELECT 1 FROM revoked_family WHERE family = ? AND expires_at > ?) "
            "OR EXISTS (SELECT 1 FROM subject_not_before "
            "WHERE subject = ? AND expires_at > ? AND not_before > ?)",
            (jti, now, family, now, subject, now, issued_at),
        )
        return bool(rows[0][0])


class SqliteRefreshFamilyStore:
    """Spent refresh jtis and revoked families; spend is one conditional upsert."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def spend(self, family: str, jti: str, expires_at: float) -> SpendResult:
        now = self._db.clock()
        expires_at = max(expires_at, now + MIN_MARKER_TTL)
        # Inserts only if the family is not revoked; an expired spent row may be replaced.
        # RETURNING yields a row exactly when this caller recorded the spend.
        rows = await self._db.write(
            "INSERT INTO spent_refresh (family, jti, expires_at) SELECT ?1, ?2, ?3 "
            "WHERE NOT EXISTS (SELECT 1 FROM revoked_family "
            "WHERE family = ?1 AND expires_at > ?4) "
            "ON CONFLICT (family, jti) DO UPDATE SET expires_at = excluded.expires_at "
            "WHERE spent_refresh.expires_at <= ?4 RETURNING 1",
            (family, jti, expires_at, now),
        )
        if rows:
            return SpendResult.OK
        revoked = await self._db.fetch(
            "SELECT 1 FROM revoked_family WHERE family = ? AND expires_at > ?", (family, now)
        )
        return SpendResult.REVOKED if revoked else SpendResult.REUSED

    async def revoke_family(self, family: str, expires_at: float) -> None:
        await self._revoke([(family, expires_at)])

    async def _revoke(self, ended: list[tuple[str, float]]) -> None:
        if not ended:
            return
        floor = self._db.clock() + MIN_MARKER_TTL
        values = ", ".join("(?, ?)" for _ in ended)
        params = [x for family, end in ended for x in (family, max(end, floor))]
        await self._db.write(
            f"INSERT INTO revoked_family (family, expires_at) VALUES {values} "  # noqa: S608
            "ON CONFLICT (family) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
            params,
        )

    async def start(self, subject: str, family: str, expires_at: float, limit: int) -> list[str]:
        now = self._db.clock()
        await self._db.write(
            "INSERT OR REPLACE INTO refresh_login (subject, family, expires_at) VALUES (?, ?, ?)",
            (subject, family, expires_at),
        )
        # the subject's live logins beyond the newest ``limit`` (this one kept), oldest
        # first; expired rows of the subject go too (the periodic purge would drop them)
        rows = await self._db.write(
            "DELETE FROM refresh_login WHERE subject = ?1 AND family IN ("
            "SELECT family FROM refresh_login WHERE subject = ?1 AND family != ?2 "
            "AND expires_at > ?3 ORDER BY expires_at DESC LIMIT -1 OFFSET ?4) "
            "OR (subject = ?1 AND expires_at <= ?3) RETURNING family, expires_at",
            (subject, family, now, max(limit - 1, 0)),
        )
        evicted = [(str(f), float(end)) for f, end in rows if end > now]
        await self._revoke(evicted)
        return [f for f, _ in sorted(evicted, key=lambda row: row[1])]

    async def end(self, subject: str, family: str, expires_at: float) -> None:
        await self._revoke([(family, expires_at)])
        await self._db.write(
            "DELETE FROM refresh_login WHERE subject = ? AND family = ?", (subject, family)
        )

    async def end_all(self, subject: str) -> list[str]:
        now = self._db.clock()
        rows = await self._db.write(
            "DELETE FROM refresh_login WHERE subject = ? RETURNING family, expires_at", (subject,)
        )
        ended = [(str(f), float(end)) for f, end in rows if end > now]
        await self._revoke(ended)
        return [f for f, _ in ended]


class SqliteSessionStore:
    """Session data as JSON by id, with an index on subject. Data must be JSON-able."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def load(self, session_id: str) -> dict[str, Any] | None:
        rows = await self._db.fetch(
            "SELECT data FROM sessions WHERE id = ? AND expires_at > ?",
            (session_id, self._db.clock()),
        )
        if not rows:
            return None
        data: dict[str, Any] = json.loads(rows[0][0])
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
        payload = json.dumps(data, separators=(",", ":"))
        now = self._db.clock()
        if previous is None:
            await self._db.write(
                "INSERT OR REPLACE INTO sessions (id, subject, data, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (session_id, subject, payload, now + ttl),
            )
            return True
        # one statement: the row is rewritten (and renamed, on rotation) only if it still
        # exists, so a logout that lands mid-request is never undone
        rows = await self._db.write(
            "UPDATE sessions SET id = ?, subject = ?, data = ?, expires_at = ? "
            "WHERE id = ? AND expires_at > ? RETURNING 1",
            (session_id, subject, payload, now + ttl, previous, now),
        )
        return bool(rows)

    async def delete(self, session_id: str) -> None:
        await self._db.write("DELETE FROM sessions WHERE id = ?", (session_id,))

    async def delete_for_subject(self, subject: str, keep: str | None = None) -> int:
        rows = await self._db.write(
            "DELETE FROM sessions WHERE subject = ? AND id IS NOT ? AND expires_at > ? RETURNING 1",
            (subject, keep, self._db.clock()),
        )
        return len(rows)
