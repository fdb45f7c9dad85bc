"""Revocations (jtis, families, subject marks / generations) and refresh-token families
over SQLAlchemy. Each method is one conditional statement; see ``database.py``."""

from __future__ import annotations

from sqlalchemy import and_, case, delete, exists, literal, or_, select

from nexios_auth_di.stores.memory import GENERATION_STEP, MIN_MARKER_TTL
from nexios_auth_di.stores.protocols import SpendResult
from nexios_auth_di.stores.sqlalchemy import tables as t
from nexios_auth_di.stores.sqlalchemy.database import SqlAlchemyDatabase
from nexios_auth_di.stores.sqlalchemy.dialect import greatest, insert

__all__ = ["SqlAlchemyRefreshFamilyStore", "SqlAlchemyRevocationStore"]


async def _revoke_families(db: SqlAlchemyDatabase, ended: list[tuple[str, float]]) -> None:
    """Refuse each family until its end (at least ``MIN_MARKER_TTL`` from now)."""
    if not ended:
        return
    floor = db.clock() + MIN_MARKER_TTL
    ends: dict[str, float] = {}
    for family, end in ended:  # one row per family: PostgreSQL refuses a row twice
        ends[family] = max(end, floor, ends.get(family, floor))
    rows = [{"family": f, "expires_at": end} for f, end in sorted(ends.items())]
    stmt = insert(db.dialect, t.revoked_family).values(rows)
    col = t.revoked_family.c.expires_at
    await db.write(
        stmt.on_conflict_do_update(
            index_elements=["family"], set_={"expires_at": greatest(col, stmt.excluded.expires_at)}
        )
    )


class SqlAlchemyRevocationStore:
    """Revoked jtis, revoked families (shared with the family store) and subject marks;
    ``is_refused`` is one query over the three."""

    def __init__(self, db: SqlAlchemyDatabase) -> None:
        self._db = db

    async def revoke_jti(self, jti: str, expires_at: float) -> None:
        if expires_at <= self._db.clock():
            return
        stmt = insert(self._db.dialect, t.revoked_jti).values(jti=jti, expires_at=expires_at)
        col = t.revoked_jti.c.expires_at
        await self._db.write(
            stmt.on_conflict_do_update(
                index_elements=["jti"], set_={"expires_at": greatest(col, stmt.excluded.expires_at)}
            )
        )

    async def revoke_family(self, family: str, expires_at: float) -> None:
        if expires_at <= self._db.clock():
            return
        await _revoke_families(self._db, [(family, expires_at)])

    async def revoke_subject(self, subject: str, not_before: float, ttl: float) -> None:
        now = self._db.clock()
        tab = t.subject_not_before
        stmt = insert(self._db.dialect, tab).values(
            subject=subject, not_before=not_before, expires_at=now + ttl
        )
        new = stmt.excluded
        # an expired mark is replaced; a live one keeps the later mark and the later deadline
        await self._db.write(
            stmt.on_conflict_do_update(
                index_elements=["subject"],
                set_={
                    "not_before": case(
                        (tab.c.expires_at <= now, new.not_before),
                        else_=greatest(tab.c.not_before, new.not_before),
                    ),
                    "expires_at": greatest(tab.c.expires_at, new.expires_at),
                },
            )
        )

    async def advance_generation(self, subject: str, now: float, ttl: float) -> float:
        clock_now = self._db.clock()
        tab = t.subject_not_before
        stmt = insert(self._db.dialect, tab).values(
            subject=subject, not_before=now, expires_at=clock_now + ttl
        )
        new = stmt.excluded
        rows = await self._db.write(
            stmt.on_conflict_do_update(
                index_elements=["subject"],
                set_={
                    "not_before": case(
                        (tab.c.expires_at <= clock_now, new.not_before),
                        else_=greatest(new.not_before, tab.c.not_before + GENERATION_STEP),
                    ),
                    "expires_at": greatest(tab.c.expires_at, new.expires_at),
                },
            ).returning(tab.c.not_before)
        )
        return float(rows[0][0])

    async def current_generation(self, subject: str) -> float:
        tab = t.subject_not_before
        rows = await self._db.run(
            select(tab.c.not_before).where(
                tab.c.subject == subject, tab.c.expires_at > self._db.clock()
            )
        )
        return float(rows[0][0]) if rows else 0.0

    async def is_refused(
        self, jti: str, subject: str, issued_at: float, family: str | None = None
    ) -> bool:
        now = self._db.clock()
        jtis, fams, marks = t.revoked_jti, t.revoked_family, t.subject_not_before
        checks = [
            exists().where(jtis.c.jti == jti, jtis.c.expires_at > now),
            exists().where(
                marks.c.subject == subject,
                marks.c.expires_at > now,
                marks.c.not_before > issued_at,
            ),
        ]
        if family is not None:
            checks.append(exists().where(fams.c.family == family, fams.c.expires_at > now))
        rows = await self._db.run(select(or_(*checks)))
        return bool(rows[0][0])


class SqlAlchemyRefreshFamilyStore:
    """Spent refresh jtis and revoked families; ``spend`` is one conditional upsert."""

    def __init__(self, db: SqlAlchemyDatabase) -> None:
        self._db = db

    async def spend(self, family: str, jti: str, expires_at: float) -> SpendResult:
        now = self._db.clock()
        expires_at = max(expires_at, now + MIN_MARKER_TTL)
        spent, fams = t.spent_refresh, t.revoked_family
        # inserts only when the family is not revoked; an expired spent row may be
        # replaced. RETURNING yields a row exactly when this caller recorded the spend:
        # PostgreSQL re-checks the WHERE against a row a concurrent spender committed.
        live_revocation = exists().where(fams.c.family == family, fams.c.expires_at > now)
        source = select(literal(family), literal(jti), literal(expires_at)).where(~live_revocation)
        stmt = insert(self._db.dialect, spent).from_select(["family", "jti", "expires_at"], source)
        rows = await self._db.write(
            stmt.on_conflict_do_update(
                index_elements=["family", "jti"],
                set_={"expires_at": stmt.excluded.expires_at},
                where=spent.c.expires_at <= now,
            ).returning(spent.c.jti)
        )
        if rows:
            return SpendResult.OK
        revoked = await self._db.run(select(live_revocation))
        return SpendResult.REVOKED if revoked[0][0] else SpendResult.REUSED

    async def revoke_family(self, family: str, expires_at: float) -> None:
        await _revoke_families(self._db, [(family, expires_at)])

    async def start(self, subject: str, family: str, expires_at: float, limit: int) -> list[str]:
        now = self._db.clock()
        logins = t.refresh_login
        stmt = insert(self._db.dialect, logins).values(
            subject=subject, family=family, expires_at=expires_at
        )
        await self._db.write(
            stmt.on_conflict_do_update(
                index_elements=["subject", "family"], set_={"expires_at": expires_at}
            )
        )
        # the subject's live logins beyond the newest ``limit`` (this one kept), and its
        # expired rows (the purge would drop them anyway)
        beyond = (
            select(logins.c.family)
            .where(logins.c.subject == subject, logins.c.family != family)
            .where(logins.c.expires_at > now)
            .order_by(logins.c.expires_at.desc(), logins.c.family.desc())
            .offset(max(limit - 1, 0))
            .limit(1_000_000)
        )
        rows = await self._db.write(
            delete(logins)
            .where(logins.c.subject == subject)
            .where(or_(logins.c.family.in_(beyond), logins.c.expires_at <= now))
            .returning(logins.c.family, logins.c.expires_at)
        )
        evicted = [(str(f), float(end)) for f, end in rows if end > now]
        await _revoke_families(self._db, evicted)
        return [f for f, _ in sorted(evicted, key=lambda row: row[1])]

    async def end(self, subject: str, family: str, expires_at: float) -> None:
        await _revoke_families(self._db, [(family, expires_at)])
        logins = t.refresh_login
        await self._db.write(
            delete(logins).where(and_(logins.c.subject == subject, logins.c.family == family))
        )

    async def end_all(self, subject: str) -> list[str]:
        now = self._db.clock()
        logins = t.refresh_login
        rows = await self._db.write(
            delete(logins)
            .where(logins.c.subject == subject)
            .returning(logins.c.family, logins.c.expires_at)
        )
        ended = [(str(f), float(end)) for f, end in rows if end > now]
        await _revoke_families(self._db, ended)
        return [f for f, _ in ended]
