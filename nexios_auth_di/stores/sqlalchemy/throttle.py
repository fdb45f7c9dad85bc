"""Throttle counters in the stores' database (table ``nxauth_throttle_counters``), so
every worker and host counts the same guesses.

``reserve`` is one transaction: make sure the counter's row exists (``INSERT ... ON
CONFLICT DO NOTHING``, which on SQLite also takes the write lock), read it ``FOR UPDATE``
(PostgreSQL: a row lock, held to commit), apply ``limiter.advance`` (the reference
computation) and write the result. Racing reservations of one key run one after another,
so of N concurrent callers at most ``limit`` are granted.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from nexios_auth_di.stores.sqlalchemy import tables as t
from nexios_auth_di.stores.sqlalchemy.database import SqlAlchemyDatabase
from nexios_auth_di.stores.sqlalchemy.dialect import insert
from nexios_auth_di.throttle.limiter import Decision, Rule, State, advance, retract

__all__ = ["SqlAlchemyLimiter"]

T = t.throttle_counters


class SqlAlchemyLimiter:
    """``Limiter`` over a ``SqlAlchemyDatabase`` (normally the stores' own engine)."""

    def __init__(self, db: SqlAlchemyDatabase, *, owns_db: bool = False) -> None:
        self._db = db
        self._owns_db = owns_db

    async def _locked_state(self, conn: AsyncConnection, key: str) -> State:
        blank = insert(self._db.dialect, T).values(
            key=key, attempts=0, locked_until=0.0, expires_at=0.0
        )
        await conn.execute(blank.on_conflict_do_nothing(index_elements=["key"]))
        row = (
            await conn.execute(
                select(T.c.attempts, T.c.locked_until, T.c.expires_at)
                .where(T.c.key == key)
                .with_for_update()
            )
        ).one()
        return State(int(row[0]), float(row[1]), float(row[2]))

    async def _store(self, conn: AsyncConnection, key: str, state: State) -> None:
        await conn.execute(
            update(T)
            .where(T.c.key == key)
            .values(attempts=state.count, locked_until=state.until, expires_at=state.expires_at)
        )

    async def reserve(self, rule: Rule, now: float) -> Decision:
        async def work(conn: AsyncConnection) -> Decision:
            state = await self._locked_state(conn, rule.key)
            decision, new = advance(state, rule, now)
            if new is not None:
                await self._store(conn, rule.key, new)
            return decision

        return await self._db.atomic(work)

    async def release(self, rule: Rule, now: float) -> None:
        async def work(conn: AsyncConnection) -> None:
            state = await self._locked_state(conn, rule.key)
            new = retract(state, rule, now)
            if new is not None:
                await self._store(conn, rule.key, new)

        await self._db.atomic(work)

    async def clear(self, key: str) -> None:
        await self._db.write(delete(T).where(T.c.key == key))

    async def close(self) -> None:
        if self._owns_db:
            await self._db.close()
