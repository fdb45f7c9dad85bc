"""Throttle counters in the SQLite file of the stores (table ``throttle_counters``).

Every process on the machine that opens the file shares the counters, so two workers
do not give an attacker twice the guesses. ``reserve`` is *one* UPSERT with
``RETURNING``: SQLite runs each statement under its write lock, so the test and the
increment are atomic across connections and processes; a row comes back exactly when
the attempt was granted. The statement computes what ``limiter.advance`` computes
(``1 << n`` is the power of two). The stores' ``SqliteDatabase`` runs it, so its errors
are already ``StoreUnavailable`` and its periodic purge drops expired counters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nexios_auth_di.throttle.limiter import Decision, Rule

if TYPE_CHECKING:
    from nexios_auth_di.stores.sqlite import SqliteDatabase

__all__ = ["SqliteLimiter"]

# Built from constants only (no input reaches the text): values are bound parameters.
# ?1 key  ?2 now  ?3 limit  ?4 window  ?5 backoff (0/1)  ?6 base_delay  ?7 max_delay
_T = "throttle_counters"
_FRESH = f"{_T}.expires_at <= ?2"
_NEXT = f"(CASE WHEN {_FRESH} THEN 1 ELSE {_T}.attempts + 1 END)"


def _lock(n: str) -> str:
    """The lock end for the ``n``-th attempt (0: none): ``now + min(base * 2**k, max)``."""
    step = f"min(?6 * (1 << min({n} - ?3, 60)), ?7)"
    return f"(CASE WHEN ?5 AND {n} >= ?3 THEN ?2 + {step} ELSE 0.0 END)"


_RESERVE = (
    f"INSERT INTO {_T} (key, attempts, locked_until, expires_at) "  # noqa: S608
    f"VALUES (?1, 1, {_lock('1')}, max(?2 + ?4, {_lock('1')} + ?4)) "
    f"ON CONFLICT (key) DO UPDATE SET attempts = {_NEXT}, locked_until = {_lock(_NEXT)}, "
    f"expires_at = max(CASE WHEN {_FRESH} THEN ?2 + ?4 ELSE {_T}.expires_at END, "
    f"{_lock(_NEXT)} + ?4) "
    f"WHERE {_FRESH} OR ({_T}.locked_until <= ?2 AND (?5 OR {_T}.attempts < ?3)) "
    "RETURNING attempts"
)
_READ = "SELECT attempts, locked_until, expires_at FROM throttle_counters WHERE key = ?"
# ?1 key  ?2 now  ?3 limit
_RELEASE = (
    "UPDATE throttle_counters SET attempts = attempts - 1, "
    "locked_until = CASE WHEN attempts - 1 < ?3 THEN 0.0 ELSE locked_until END "
    "WHERE key = ?1 AND expires_at > ?2 AND attempts > 0"
)


class SqliteLimiter:
    """``Limiter`` over a ``SqliteDatabase`` (normally the stores' own connection)."""

    def __init__(self, db: SqliteDatabase, *, owns_db: bool = False) -> None:
        self._db = db
        self._owns_db = owns_db

    async def reserve(self, rule: Rule, now: float) -> Decision:
        params = (
            rule.key,
            now,
            rule.limit,
            rule.window,
            int(rule.backoff),
            rule.base_delay or 0.0,
            rule.max_delay,
        )
        granted = await self._db.write(_RESERVE, params)
        if granted:
            return Decision(True, int(granted[0][0]))
        rows = await self._db.fetch(_READ, (rule.key,))
        if not rows:  # cleared in between: refuse this once, the next try starts afresh
            return Decision(False, 0, 1.0)
        attempts, locked_until, expires_at = rows[0]
        wait = locked_until - now if locked_until > now else expires_at - now
        return Decision(False, int(attempts), max(float(wait), 0.0))

    async def release(self, rule: Rule, now: float) -> None:
        await self._db.write(_RELEASE, (rule.key, now, rule.limit))

    async def clear(self, key: str) -> None:
        await self._db.write("DELETE FROM throttle_counters WHERE key = ?", (key,))

    async def close(self) -> None:
        if self._owns_db:
            await self._db.close()
