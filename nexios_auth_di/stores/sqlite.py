"""SQLite stores (aiosqlite): persistent state for one host, no server to run.

Revocations, refresh families and sessions over one shared ``SqliteDatabase``
(``sqlite_db.py``): every operation is a single autocommit statement, so each is atomic,
also across processes sharing the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nexios_auth_di.stores.memory import GENERATION_STEP, MIN_MARKER_TTL
from nexios_auth_di.stores.protocols import SpendResult
from nexios_auth_di.stores.sqlite_db import SqliteDatabase

__all__ = [
    "SqliteDatabase",
    "SqliteRefreshFamilyStore",
    "SqliteRevocationStore",
    "SqliteSessionStore",
]

Clock = Callable[[], float]


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
