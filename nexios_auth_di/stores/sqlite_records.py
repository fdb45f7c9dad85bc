"""SQLite one-time and credential stores, on the shared ``SqliteDatabase``.

Each method is one statement (an upsert with a ``WHERE``, or a ``DELETE ... RETURNING``),
so it is atomic across connections and processes sharing the file: of any number of
racing claims, takes, updates or deletes, exactly one sees its row. Claims and values
live under distinct key prefixes, so they never touch each other.
"""

from __future__ import annotations

import json
from typing import Any

from nexios_auth_di.stores.memory import MIN_MARKER_TTL
from nexios_auth_di.stores.protocols import CredentialRecord
from nexios_auth_di.stores.sqlite import SqliteDatabase

__all__ = ["SqliteCredentialStore", "SqliteOneTimeStore"]

_LIVE = "(expires_at IS NULL OR expires_at > ?)"
_COLUMNS = "kind, credential_id, user_id, data, created_at, last_used, expires_at, version"


class SqliteOneTimeStore:
    """Rows of ``one_time``: ``c:<key>`` claims (no value) and ``v:<key>`` values."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def _deadline(self, ttl: float) -> float:
        return self._db.clock() + max(float(ttl), MIN_MARKER_TTL)

    async def claim(self, key: str, ttl: float) -> bool:
        rows = await self._db.write(
            "INSERT INTO one_time VALUES (?, NULL, ?) ON CONFLICT (key) DO UPDATE "
            "SET expires_at = excluded.expires_at WHERE one_time.expires_at <= ? RETURNING 1",
            (f"c:{key}", self._deadline(ttl), self._db.clock()),
        )
        return bool(rows)

    async def put(self, key: str, value: dict[str, Any], ttl: float) -> None:
        await self._db.write(
            "INSERT INTO one_time VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE "
            "SET value = excluded.value, expires_at = excluded.expires_at",
            (f"v:{key}", json.dumps(value), self._deadline(ttl)),
        )

    async def take(self, key: str) -> dict[str, Any] | None:
        rows = await self._db.write(
            "DELETE FROM one_time WHERE key = ? AND expires_at > ? RETURNING value",
            (f"v:{key}", self._db.clock()),
        )
        if not rows:
            return None
        value = json.loads(rows[0][0])
        return value if isinstance(value, dict) else None


def _record(row: tuple[Any, ...]) -> CredentialRecord:
    kind, cid, user, data, created, used, expires, version = row
    return CredentialRecord(kind, cid, user, json.loads(data), created, used, expires, version)


class SqliteCredentialStore:
    """Rows of ``credentials``, keyed by ``(kind, credential_id)``, indexed by user."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add(self, record: CredentialRecord) -> bool:
        r = record
        rows = await self._db.write(
            f"INSERT INTO credentials ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608 - constants
            "ON CONFLICT (kind, credential_id) DO UPDATE SET user_id = excluded.user_id, "
            "data = excluded.data, created_at = excluded.created_at, "
            "last_used = excluded.last_used, expires_at = excluded.expires_at, "
            "version = excluded.version "
            "WHERE credentials.expires_at IS NOT NULL AND credentials.expires_at <= ? "
            "RETURNING 1",
            (r.kind, r.credential_id, r.user_id, json.dumps(r.data), r.created_at,
             r.last_used, r.expires_at, r.version, self._db.clock()),
        )  # fmt: skip
        return bool(rows)

    async def get(self, kind: str, credential_id: str) -> CredentialRecord | None:
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM credentials WHERE kind = ? AND credential_id = ? AND {_LIVE}",  # noqa: S608 - constants
            (kind, credential_id, self._db.clock()),
        )
        return _record(rows[0]) if rows else None

    async def list_for_user(self, user_id: str, kind: str | None = None) -> list[CredentialRecord]:
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM credentials WHERE user_id = ? AND (? IS NULL OR kind = ?) "  # noqa: S608 - constants
            f"AND {_LIVE} ORDER BY created_at, kind, credential_id",
            (user_id, kind, kind, self._db.clock()),
        )
        return [_record(row) for row in rows]

    async def update(self, record: CredentialRecord) -> bool:
        r = record
        rows = await self._db.write(
            "UPDATE credentials SET data = ?, last_used = ?, expires_at = ?, "  # noqa: S608 - constants
            "version = version + 1 WHERE kind = ? AND credential_id = ? AND version = ? "
            f"AND {_LIVE} RETURNING 1",
            (json.dumps(r.data), r.last_used, r.expires_at, r.kind, r.credential_id,
             r.version, self._db.clock()),
        )  # fmt: skip
        return bool(rows)

    async def touch(self, kind: str, credential_id: str, when: float) -> None:
        await self._db.write(
            f"UPDATE credentials SET last_used = ? WHERE kind = ? AND credential_id = ? "  # noqa: S608 - constants
            f"AND {_LIVE}",
            (when, kind, credential_id, self._db.clock()),
        )

    async def delete(self, kind: str, credential_id: str, *, user_id: str | None = None) -> bool:
        rows = await self._db.write(
            "DELETE FROM credentials WHERE kind = ? AND credential_id = ? "  # noqa: S608 - constants
            f"AND (? IS NULL OR user_id = ?) AND {_LIVE} RETURNING 1",
            (kind, credential_id, user_id, user_id, self._db.clock()),
        )
        return bool(rows)

    async def delete_for_user(self, user_id: str, kind: str | None = None) -> int:
        rows = await self._db.write(
            "DELETE FROM credentials WHERE user_id = ? AND (? IS NULL OR kind = ?) "
            "RETURNING expires_at",
            (user_id, kind, kind),
        )
        now = self._db.clock()
        return sum(1 for (expires,) in rows if expires is None or expires > now)
