"""SQLite API-key records (the ``api_keys`` table of ``SqliteDatabase``'s schema): atomic
add under a per-owner cap, revoke-all stamps, and purge of dead records."""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

from nexios_auth_di.stores.protocols import (
    STAMP_TTL,
    APIKeyRecord,
    KeyAdd,
)
from nexios_auth_di.stores.sqlite import SqliteDatabase

_SELECT_KEYS = (
    "SELECT key_id, prefix, owner, secret_hash, scopes, name, created_at, expires_at, revoked, "
    "last_used, extra FROM api_keys"
)
_PUT_KEY = (
    "INSERT OR REPLACE INTO api_keys (key_id, prefix, owner, secret_hash, scopes, name, "
    "created_at, expires_at, revoked, last_used, extra, purge_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


# A revoked record is purged ``retention`` after revocation, or sooner if it expires:
# ``purge_at = min(coalesce(purge_at, deadline), deadline)`` in revoke and revoke_all.
_ADD_KEY = (
    "INSERT INTO api_keys (key_id, prefix, owner, secret_hash, scopes, name, created_at, "
    "expires_at, revoked, last_used, extra, purge_at) "
    "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 "
    "WHERE (SELECT count(*) FROM api_keys WHERE owner = ?13 AND revoked = 0 "
    "AND (expires_at IS NULL OR expires_at > ?14)) < ?15 "
    "AND coalesce((SELECT stamp FROM api_key_stamps WHERE owner = ?13 AND expires_at > ?14), "
    "'') = ?16 "
    "ON CONFLICT (key_id) DO NOTHING RETURNING 1"
)


def _record(row: tuple[Any, ...]) -> APIKeyRecord:
    return APIKeyRecord(
        key_id=row[0],
        prefix=row[1],
        owner=row[2],
        secret_hash=row[3],
        scopes=tuple(json.loads(row[4])),
        name=row[5],
        created_at=row[6],
        expires_at=row[7],
        revoked=bool(row[8]),
        last_used=row[9],
        extra=json.loads(row[10]),
    )


class SqliteAPIKeyStore:
    """API-key records (never the secret, only its hash); scopes and extra as JSON."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def _row(self, record: APIKeyRecord) -> tuple[Any, ...]:
        retention = self._db.api_key_retention
        purge_at = None if record.expires_at is None else record.expires_at + retention
        if record.revoked:
            purge_at = min(purge_at or math.inf, self._db.clock() + retention)
        return (
            record.key_id,
            record.prefix,
            record.owner,
            record.secret_hash,
            json.dumps(list(record.scopes)),
            record.name,
            record.created_at,
            record.expires_at,
            int(record.revoked),
            record.last_used,
            json.dumps(record.extra, separators=(",", ":")),
            purge_at,
        )

    async def put(self, record: APIKeyRecord) -> None:
        await self._db.write(_PUT_KEY, self._row(record))

    async def get(self, key_id: str) -> APIKeyRecord | None:
        rows = await self._db.fetch(_SELECT_KEYS + " WHERE key_id = ?", (key_id,))
        return _record(rows[0]) if rows else None

    async def list_for_owner(self, owner: str) -> list[APIKeyRecord]:
        rows = await self._db.fetch(
            _SELECT_KEYS + " WHERE owner = ? ORDER BY created_at, key_id",
            (owner,),
        )
        return [_record(row) for row in rows]

    async def revoke(self, key_id: str) -> bool:
        rows = await self._db.write(
            "UPDATE api_keys SET revoked = 1, purge_at = min(coalesce(purge_at, ?1), ?1) "
            "WHERE key_id = ?2 AND revoked = 0 RETURNING 1",
            (self._db.clock() + self._db.api_key_retention, key_id),
        )
        return bool(rows)

    async def add(self, record: APIKeyRecord, *, max_live: int, stamp: str) -> KeyAdd:
        # one INSERT ... SELECT ... WHERE: the cap and the stamp are checked atomically
        now = self._db.clock()
        rows = await self._db.write(
            _ADD_KEY, (*self._row(record), record.owner, now, max_live, stamp)
        )
        if not rows:
            return KeyAdd.STALE if await self.stamp(record.owner) != stamp else KeyAdd.LIMIT
        await self._db.write(  # keep the owner's newest max_live dead records only
            "DELETE FROM api_keys WHERE key_id IN (SELECT key_id FROM api_keys "
            "WHERE owner = ?1 AND (revoked = 1 OR (expires_at IS NOT NULL AND expires_at <= ?2)) "
            "ORDER BY created_at DESC, key_id DESC LIMIT -1 OFFSET ?3)",
            (record.owner, now, max_live),
        )
        return KeyAdd.OK

    async def stamp(self, owner: str) -> str:
        rows = await self._db.fetch(
            "SELECT stamp FROM api_key_stamps WHERE owner = ? AND expires_at > ?",
            (owner, self._db.clock()),
        )
        return str(rows[0][0]) if rows else ""

    async def revoke_all(self, owner: str) -> int:
        now = self._db.clock()
        await self._db.write(
            "INSERT OR REPLACE INTO api_key_stamps (owner, stamp, expires_at) VALUES (?, ?, ?)",
            (owner, secrets.token_hex(8), now + STAMP_TTL),
        )
        rows = await self._db.write(
            "UPDATE api_keys SET revoked = 1, purge_at = min(coalesce(purge_at, ?1), ?1) "
            "WHERE owner = ?2 AND revoked = 0 AND (expires_at IS NULL OR expires_at > ?3) "
            "RETURNING 1",
            (now + self._db.api_key_retention, owner, now),
        )
        return len(rows)

    async def count_live(self, owner: str) -> int:
        rows = await self._db.fetch(
            "SELECT count(*) FROM api_keys WHERE owner = ?1 AND revoked = 0 "
            "AND (expires_at IS NULL OR expires_at > ?2)",
            (owner, self._db.clock()),
        )
        return int(rows[0][0])

    async def touch(self, key_id: str, when: float) -> None:
        await self._db.write("UPDATE api_keys SET last_used = ? WHERE key_id = ?", (when, key_id))
