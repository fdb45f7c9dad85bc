"""Server-side sessions over SQLAlchemy: JSON data by id, indexed by subject. A save that
continues a loaded session is one conditional ``UPDATE``, so a logout that lands
mid-request is never undone."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select, update

from nexios_auth_di.stores.sqlalchemy import tables as t
from nexios_auth_di.stores.sqlalchemy.database import SqlAlchemyDatabase
from nexios_auth_di.stores.sqlalchemy.dialect import insert

__all__ = ["SqlAlchemySessionStore"]


class SqlAlchemySessionStore:
    """Rows of ``nxauth_sessions``. Data must be JSON-able."""

    def __init__(self, db: SqlAlchemyDatabase) -> None:
        self._db = db

    async def load(self, session_id: str) -> dict[str, Any] | None:
        tab = t.sessions
        rows = await self._db.run(
            select(tab.c.data).where(tab.c.id == session_id, tab.c.expires_at > self._db.clock())
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
        tab = t.sessions
        payload = json.dumps(data, separators=(",", ":"))
        now = self._db.clock()
        values = {"subject": subject, "data": payload, "expires_at": now + ttl}
        if previous is None:
            stmt = insert(self._db.dialect, tab).values(id=session_id, **values)
            await self._db.write(stmt.on_conflict_do_update(index_elements=["id"], set_=values))
            return True
        # the row is rewritten (and renamed, on rotation) only if it still exists
        rows = await self._db.write(
            update(tab)
            .where(tab.c.id == previous, tab.c.expires_at > now)
            .values(id=session_id, **values)
            .returning(tab.c.id)
        )
        return bool(rows)

    async def delete(self, session_id: str) -> None:
        await self._db.write(delete(t.sessions).where(t.sessions.c.id == session_id))

    async def delete_for_subject(self, subject: str, keep: str | None = None) -> int:
        tab = t.sessions
        stmt = delete(tab).where(tab.c.subject == subject, tab.c.expires_at > self._db.clock())
        if keep is not None:
            stmt = stmt.where(tab.c.id != keep)
        rows = await self._db.write(stmt.returning(tab.c.id))
        return len(rows)
