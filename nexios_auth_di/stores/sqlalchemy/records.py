"""One-time and credential stores over SQLAlchemy.

Each method is one statement (an upsert with a ``WHERE``, or a ``DELETE ... RETURNING``):
of any number of racing claims, takes, updates or deletes, exactly one sees its row
(PostgreSQL re-checks the condition against a concurrent writer's committed row; SQLite
serialises writers). Claims and values live under distinct key prefixes.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, or_, select, update

from nexios_auth_di.stores.memory import MIN_MARKER_TTL
from nexios_auth_di.stores.protocols import CredentialRecord
from nexios_auth_di.stores.sqlalchemy import tables as t
from nexios_auth_di.stores.sqlalchemy.database import SqlAlchemyDatabase
from nexios_auth_di.stores.sqlalchemy.dialect import insert

__all__ = ["SqlAlchemyCredentialStore", "SqlAlchemyOneTimeStore"]

O = t.one_time  # noqa: E741 - the table, as in SQL
C = t.credentials
_COLUMNS = [C.c[name] for name in ("kind", "credential_id", "user_id", "data", "created_at",
                                   "last_used", "expires_at", "version")]  # fmt: skip


class SqlAlchemyOneTimeStore:
    """Rows of ``nxauth_one_time``: ``c:<key>`` claims (no value) and ``v:<key>`` values."""

    def __init__(self, db: SqlAlchemyDatabase) -> None:
        self._db = db

    def _deadline(self, ttl: float) -> float:
        return self._db.clock() + max(float(ttl), MIN_MARKER_TTL)

    async def claim(self, key: str, ttl: float) -> bool:
        stmt = insert(self._db.dialect, O).values(
            key=f"c:{key}", value=None, expires_at=self._deadline(ttl)
        )
        rows = await self._db.write(
            stmt.on_conflict_do_update(
                index_elements=["key"],
                set_={"expires_at": stmt.excluded.expires_at},
                where=O.c.expires_at <= self._db.clock(),
            ).returning(O.c.key)
        )
        return bool(rows)

    async def put(self, key: str, value: dict[str, Any], ttl: float) -> None:
        values = {"value": json.dumps(value), "expires_at": self._deadline(ttl)}
        stmt = insert(self._db.dialect, O).values(key=f"v:{key}", **values)
        await self._db.write(stmt.on_conflict_do_update(index_elements=["key"], set_=values))

    async def take(self, key: str) -> dict[str, Any] | None:
        rows = await self._db.write(
            delete(O)
            .where(O.c.key == f"v:{key}", O.c.expires_at > self._db.clock())
            .returning(O.c.value)
        )
        if not rows:
            return None
        value = json.loads(rows[0][0])
        return value if isinstance(value, dict) else None


def _record(row: Any) -> CredentialRecord:
    kind, cid, user, data, created, used, expires, version = tuple(row)
    return CredentialRecord(kind, cid, user, json.loads(data), created, used, expires, version)


class SqlAlchemyCredentialStore:
    """Rows of ``nxauth_credentials``, keyed by ``(kind, credential_id)``, indexed by user."""

    def __init__(self, db: SqlAlchemyDatabase) -> None:
        self._db = db

    def _live(self) -> Any:
        return or_(C.c.expires_at.is_(None), C.c.expires_at > self._db.clock())

    async def add(self, record: CredentialRecord) -> bool:
        r = record
        values = {
            "user_id": r.user_id,
            "data": json.dumps(r.data),
            "created_at": r.created_at,
            "last_used": r.last_used,
            "expires_at": r.expires_at,
            "version": r.version,
        }
        stmt = insert(self._db.dialect, C).values(
            kind=r.kind, credential_id=r.credential_id, **values
        )
        # an expired record of the same id may be replaced; a live one never
        rows = await self._db.write(
            stmt.on_conflict_do_update(
                index_elements=["kind", "credential_id"],
                set_=values,
                where=C.c.expires_at.is_not(None) & (C.c.expires_at <= self._db.clock()),
            ).returning(C.c.version)
        )
        return bool(rows)

    async def get(self, kind: str, credential_id: str) -> CredentialRecord | None:
        rows = await self._db.run(
            select(*_COLUMNS).where(
                C.c.kind == kind, C.c.credential_id == credential_id, self._live()
            )
        )
        return _record(rows[0]) if rows else None

    async def list_for_user(self, user_id: str, kind: str | None = None) -> list[CredentialRecord]:
        stmt = select(*_COLUMNS).where(C.c.user_id == user_id, self._live())
        if kind is not None:
            stmt = stmt.where(C.c.kind == kind)
        rows = await self._db.run(stmt.order_by(C.c.created_at, C.c.kind, C.c.credential_id))
        return [_record(row) for row in rows]

    async def update(self, record: CredentialRecord) -> bool:
        r = record
        rows = await self._db.write(
            update(C)
            .where(C.c.kind == r.kind, C.c.credential_id == r.credential_id)
            .where(C.c.version == r.version, self._live())
            .values(
                data=json.dumps(r.data),
                last_used=r.last_used,
                expires_at=r.expires_at,
                version=C.c.version + 1,
            )
            .returning(C.c.version)
        )
        return bool(rows)

    async def touch(self, kind: str, credential_id: str, when: float) -> None:
        await self._db.write(
            update(C)
            .where(C.c.kind == kind, C.c.credential_id == credential_id, self._live())
            .values(last_used=when)
        )

    async def delete(self, kind: str, credential_id: str, *, user_id: str | None = None) -> bool:
        stmt = delete(C).where(C.c.kind == kind, C.c.credential_id == credential_id, self._live())
        if user_id is not None:
            stmt = stmt.where(C.c.user_id == user_id)
        rows = await self._db.write(stmt.returning(C.c.version))
        return bool(rows)

    async def delete_for_user(self, user_id: str, kind: str | None = None) -> int:
        stmt = delete(C).where(C.c.user_id == user_id)
        if kind is not None:
            stmt = stmt.where(C.c.kind == kind)
        rows = await self._db.write(stmt.returning(C.c.expires_at))
        now = self._db.clock()
        return sum(1 for (expires,) in rows if expires is None or expires > now)
