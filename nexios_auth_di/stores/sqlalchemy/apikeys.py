"""API-key records over SQLAlchemy: atomic add under a per-owner cap, revoke-all stamps,
and purge of dead records (``purge_at``), as in ``stores/sqlite_apikeys.py``.

``add`` (cap and stamp checked, then the insert) and ``revoke_all`` (new stamp, then the
sweep) each run in one transaction under the same per-owner lock
(``SqlAlchemyDatabase.run_locked``): on PostgreSQL a count in one transaction does not
see a concurrent one's insert, so the cap and the stamp need the lock under a burst.
"""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

from sqlalchemy import and_, delete, func, literal, or_, select, update

from nexios_auth_di.stores.protocols import STAMP_TTL, APIKeyRecord, KeyAdd
from nexios_auth_di.stores.sqlalchemy import tables as t
from nexios_auth_di.stores.sqlalchemy.database import SqlAlchemyDatabase
from nexios_auth_di.stores.sqlalchemy.dialect import insert, least

__all__ = ["SqlAlchemyAPIKeyStore"]

K = t.api_keys
_FIELDS = ("key_id", "prefix", "owner", "secret_hash", "scopes", "name", "created_at",
           "expires_at", "revoked", "last_used", "extra")  # fmt: skip


def _record(row: Any) -> APIKeyRecord:
    m = row._mapping
    return APIKeyRecord(
        key_id=m["key_id"],
        prefix=m["prefix"],
        owner=m["owner"],
        secret_hash=m["secret_hash"],
        scopes=tuple(json.loads(m["scopes"])),
        name=m["name"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        revoked=bool(m["revoked"]),
        last_used=m["last_used"],
        extra=json.loads(m["extra"]),
    )


def _live(owner: str, now: float) -> Any:
    return and_(
        K.c.owner == owner,
        K.c.revoked.is_(False),
        or_(K.c.expires_at.is_(None), K.c.expires_at > now),
    )


class SqlAlchemyAPIKeyStore:
    """API-key records (never the secret, only its hash); scopes and extra as JSON."""

    def __init__(self, db: SqlAlchemyDatabase) -> None:
        self._db = db

    def _values(self, record: APIKeyRecord) -> dict[str, Any]:
        retention = self._db.api_key_retention
        purge_at = None if record.expires_at is None else record.expires_at + retention
        if record.revoked:
            purge_at = min(purge_at or math.inf, self._db.clock() + retention)
        return {
            "key_id": record.key_id,
            "prefix": record.prefix,
            "owner": record.owner,
            "secret_hash": record.secret_hash,
            "scopes": json.dumps(list(record.scopes)),
            "name": record.name,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
            "revoked": bool(record.revoked),
            "last_used": record.last_used,
            "extra": json.dumps(record.extra, separators=(",", ":")),
            "purge_at": purge_at,
        }

    async def put(self, record: APIKeyRecord) -> None:
        values = self._values(record)
        stmt = insert(self._db.dialect, K).values(**values)
        await self._db.write(stmt.on_conflict_do_update(index_elements=["key_id"], set_=values))

    async def get(self, key_id: str) -> APIKeyRecord | None:
        rows = await self._db.run(select(*[K.c[f] for f in _FIELDS]).where(K.c.key_id == key_id))
        return _record(rows[0]) if rows else None

    async def list_for_owner(self, owner: str) -> list[APIKeyRecord]:
        rows = await self._db.run(
            select(*[K.c[f] for f in _FIELDS])
            .where(K.c.owner == owner)
            .order_by(K.c.created_at, K.c.key_id)
        )
        return [_record(row) for row in rows]

    def _revoke(self) -> Any:
        deadline = self._db.clock() + self._db.api_key_retention
        return update(K).values(
            revoked=True, purge_at=least(func.coalesce(K.c.purge_at, deadline), deadline)
        )

    async def revoke(self, key_id: str) -> bool:
        rows = await self._db.write(
            self._revoke().where(K.c.key_id == key_id, K.c.revoked.is_(False)).returning(K.c.key_id)
        )
        return bool(rows)

    async def add(self, record: APIKeyRecord, *, max_live: int, stamp: str) -> KeyAdd:
        now = self._db.clock()
        values = self._values(record)
        stamps = t.api_key_stamps
        live = select(func.count()).select_from(K).where(_live(record.owner, now))
        current = select(stamps.c.stamp).where(
            stamps.c.owner == record.owner, stamps.c.expires_at > now
        )
        source = select(*[literal(v, K.c[k].type) for k, v in values.items()]).where(
            live.scalar_subquery() < max_live,
            func.coalesce(current.scalar_subquery(), "") == stamp,
        )
        stmt = insert(self._db.dialect, K).from_select(list(values), source)
        # keep the owner's newest max_live dead records only
        dead = (
            select(K.c.key_id)
            .where(K.c.owner == record.owner)
            .where(
                or_(K.c.revoked.is_(True), and_(K.c.expires_at.is_not(None), K.c.expires_at <= now))
            )
            .order_by(K.c.created_at.desc(), K.c.key_id.desc())
            .offset(max_live)
            .limit(1_000_000)
        )
        added, _ = await self._db.run_locked(
            f"api_keys:{record.owner}",
            [
                stmt.on_conflict_do_nothing(index_elements=["key_id"]).returning(K.c.key_id),
                delete(K).where(K.c.key_id.in_(dead)),
            ],
        )
        if added:
            return KeyAdd.OK
        return KeyAdd.STALE if await self.stamp(record.owner) != stamp else KeyAdd.LIMIT

    async def stamp(self, owner: str) -> str:
        stamps = t.api_key_stamps
        rows = await self._db.run(
            select(stamps.c.stamp).where(
                stamps.c.owner == owner, stamps.c.expires_at > self._db.clock()
            )
        )
        return str(rows[0][0]) if rows else ""

    async def revoke_all(self, owner: str) -> int:
        now = self._db.clock()
        values = {"stamp": secrets.token_hex(8), "expires_at": now + STAMP_TTL}
        stmt = insert(self._db.dialect, t.api_key_stamps).values(owner=owner, **values)
        # under add's lock: an add in flight commits before the sweep or sees the new stamp
        _, rows = await self._db.run_locked(
            f"api_keys:{owner}",
            [
                stmt.on_conflict_do_update(index_elements=["owner"], set_=values),
                self._revoke().where(_live(owner, now)).returning(K.c.key_id),
            ],
        )
        return len(rows)

    async def count_live(self, owner: str) -> int:
        rows = await self._db.run(
            select(func.count()).select_from(K).where(_live(owner, self._db.clock()))
        )
        return int(rows[0][0])

    async def touch(self, key_id: str, when: float) -> None:
        await self._db.write(update(K).where(K.c.key_id == key_id).values(last_used=when))
