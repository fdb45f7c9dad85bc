"""In-memory stores: the zero-set-up default for one process.

Every entry carries an expiry. Writes purge what has expired (cheaply, from a heap),
so memory stays bounded by *live* entries: a revoked jti is forgotten once its token
would have expired anyway. Methods never ``await`` between read and write, which makes
each one atomic on the event loop without a lock.
"""

from __future__ import annotations

import copy
import heapq
import secrets
import time
from collections.abc import Callable
from typing import Any

from nexios_auth_di.stores.protocols import (
    API_KEY_RETENTION,
    STAMP_TTL,
    APIKeyRecord,
    KeyAdd,
    SpendResult,
)

__all__ = [
    "GENERATION_STEP",
    "MIN_MARKER_TTL",
    "ExpiringDict",
    "MemoryAPIKeyStore",
    "MemoryRefreshFamilyStore",
    "MemoryRevocationStore",
    "MemorySessionStore",
]

Clock = Callable[[], float]

#: Spent/revoked markers live at least this long, even for an already-expired token, so
#: "exactly one caller gets OK" holds for every input (the same floor in every engine).
MIN_MARKER_TTL = 1.0
#: How far ``advance_generation`` moves a mark past its current value at least, so two
#: advances at the same clock reading still give two generations (1 µs: well above the
#: float spacing of Unix times, so every engine stores a strictly larger number).
GENERATION_STEP = 1e-6


class ExpiringDict:
    """A dict whose entries vanish at their deadline; the building block of the others."""

    __slots__ = ("_clock", "_data", "_heap")

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._data: dict[str, tuple[float, Any]] = {}
        self._heap: list[tuple[float, str]] = []

    def set(self, key: str, value: Any, expires_at: float) -> None:
        self.purge()
        self._data[key] = (expires_at, value)
        heapq.heappush(self._heap, (expires_at, key))

    def get(self, key: str, default: Any = None) -> Any:
        item = self._data.get(key)
        if item is None:
            return default
        if item[0] <= self._clock():
            del self._data[key]
            return default
        return item[1]

    def deadline(self, key: str) -> float | None:
        """When ``key`` expires, or ``None`` if it is absent or already expired."""
        item = self._data.get(key)
        if item is None or item[0] <= self._clock():
            return None
        return item[0]

    def pop(self, key: str, default: Any = None) -> Any:
        item = self._data.pop(key, None)
        if item is None or item[0] <= self._clock():
            return default
        return item[1]

    def purge(self) -> None:
        """Drop expired entries; amortised O(log n) per write."""
        now = self._clock()
        heap, data = self._heap, self._data
        while heap and heap[0][0] <= now:
            deadline, key = heapq.heappop(heap)
            item = data.get(key)
            if item is not None and item[0] == deadline:
                del data[key]
        # heap entries for overwritten keys are dropped lazily; rebuild if they pile up
        if len(heap) > 2 * len(data) + 64:
            self._heap = [(exp, k) for k, (exp, _) in data.items()]
            heapq.heapify(self._heap)

    def items(self) -> list[tuple[str, Any]]:
        now = self._clock()
        return [(k, v) for k, (exp, v) in self._data.items() if exp > now]

    def __len__(self) -> int:
        self.purge()
        return len(self._data)


class MemoryRevocationStore:
    """Revoked jtis and families until their tokens expire, and per-subject marks
    (generations)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._jtis = ExpiringDict(clock)
        self._families = ExpiringDict(clock)
        self._not_before = ExpiringDict(clock)

    async def revoke_jti(self, jti: str, expires_at: float) -> None:
        if expires_at > self._clock():
            self._jtis.set(jti, True, expires_at)

    async def revoke_family(self, family: str, expires_at: float) -> None:
        if expires_at > self._clock():
            deadline = max(expires_at, self._families.deadline(family) or 0.0)
            self._families.set(family, True, deadline)

    async def advance_generation(self, subject: str, now: float, ttl: float) -> float:
        current = self._not_before.get(subject)
        mark = now if current is None else max(now, current + GENERATION_STEP)
        deadline = max(self._clock() + ttl, self._not_before.deadline(subject) or 0.0)
        self._not_before.set(subject, mark, deadline)
        return float(mark)

    async def current_generation(self, subject: str) -> float:
        return float(self._not_before.get(subject, 0.0))

    async def revoke_subject(self, subject: str, not_before: float, ttl: float) -> None:
        # keep the latest mark *and* the longest deadline: a second, shorter-lived
        # "log out everywhere" must not cut short the protection of the first
        current = self._not_before.get(subject)
        deadline = max(self._clock() + ttl, self._not_before.deadline(subject) or 0.0)
        mark = not_before if current is None else max(current, not_before)
        self._not_before.set(subject, mark, deadline)

    async def is_refused(
        self, jti: str, subject: str, issued_at: float, family: str | None = None
    ) -> bool:
        if self._jtis.get(jti, False):
            return True
        if family is not None and self._families.get(family, False):
            return True
        not_before = self._not_before.get(subject)
        return not_before is not None and issued_at < not_before

    def __len__(self) -> int:
        return len(self._jtis)


class MemoryRefreshFamilyStore:
    """Spent refresh jtis and revoked families, each kept until its tokens expire, and
    each subject's live logins (family -> absolute end), gone when the last one ends."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._spent = ExpiringDict(clock)
        self._revoked = ExpiringDict(clock)
        self._logins = ExpiringDict(clock)  # subject -> {family: expires_at}

    async def spend(self, family: str, jti: str, expires_at: float) -> SpendResult:
        if self._revoked.get(family, False):
            return SpendResult.REVOKED
        key = f"{family}:{jti}"
        if self._spent.get(key, False):
            return SpendResult.REUSED
        self._spent.set(key, True, max(expires_at, self._clock() + MIN_MARKER_TTL))
        return SpendResult.OK

    async def revoke_family(self, family: str, expires_at: float) -> None:
        self._revoke(family, expires_at)

    def _revoke(self, family: str, expires_at: float) -> None:
        deadline = max(expires_at, self._clock() + MIN_MARKER_TTL)
        self._revoked.set(family, True, max(deadline, self._revoked.deadline(family) or 0.0))

    def _live(self, subject: str) -> dict[str, float]:
        now = self._clock()
        logins: dict[str, float] = self._logins.get(subject) or {}
        return {f: end for f, end in logins.items() if end > now}

    def _keep(self, subject: str, logins: dict[str, float]) -> None:
        if logins:
            self._logins.set(subject, logins, max(logins.values()))
        else:
            self._logins.pop(subject)

    async def start(self, subject: str, family: str, expires_at: float, limit: int) -> list[str]:
        logins = self._live(subject)
        logins.pop(family, None)
        excess = len(logins) + 1 - limit
        evicted = sorted(logins, key=logins.__getitem__)[: max(excess, 0)]  # oldest first
        for old in evicted:
            self._revoke(old, logins.pop(old))
        logins[family] = expires_at
        self._keep(subject, logins)
        return evicted

    async def end(self, subject: str, family: str, expires_at: float) -> None:
        self._revoke(family, expires_at)
        logins = self._live(subject)
        if logins.pop(family, None) is not None:
            self._keep(subject, logins)

    async def end_all(self, subject: str) -> list[str]:
        logins = self._live(subject)
        for family, end in logins.items():
            self._revoke(family, end)
        self._logins.pop(subject)
        return list(logins)


class MemorySessionStore:
    """Session data by id. Values are deep-copied so callers cannot mutate stored state."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._sessions = ExpiringDict(clock)  # id -> (subject, data)

    async def load(self, session_id: str) -> dict[str, Any] | None:
        item = self._sessions.get(session_id)
        return None if item is None else copy.deepcopy(item[1])

    async def save(
        self,
        session_id: str,
        data: dict[str, Any],
        ttl: float,
        subject: str | None = None,
        *,
        previous: str | None = None,
    ) -> bool:
        # no await between the check and the write: atomic on the event loop
        if previous is not None:
            if self._sessions.get(previous) is None:
                return False
            if previous != session_id:
                self._sessions.pop(previous)
        self._sessions.set(session_id, (subject, copy.deepcopy(data)), self._clock() + ttl)
        return True

    async def delete(self, session_id: str) -> None:
        self._sessions.pop(session_id)

    async def delete_for_subject(self, subject: str, keep: str | None = None) -> int:
        doomed = [
            sid for sid, (subj, _) in self._sessions.items() if subj == subject and sid != keep
        ]
        for sid in doomed:
            self._sessions.pop(sid)
        return len(doomed)


class MemoryAPIKeyStore:
    """API-key records by id, indexed by owner. Records are deep-copied in and out.

    Each record has a purge deadline (``expires_at`` or its revocation, plus
    ``retention``; none while a never-expiring key is live), kept in a heap that every
    write drains, so dead records and empty owner indexes do not pile up.
    """

    def __init__(self, clock: Clock = time.time, retention: float = API_KEY_RETENTION) -> None:
        self._clock = clock
        self._retention = retention
        self._records: dict[str, APIKeyRecord] = {}
        self._owners: dict[str, set[str]] = {}
        self._purge_at: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._stamps = ExpiringDict(clock)

    def _live(self, record: APIKeyRecord, now: float) -> bool:
        return not record.revoked and (record.expires_at is None or record.expires_at > now)

    def _schedule(self, key_id: str, deadline: float | None) -> None:
        if deadline is None:
            self._purge_at.pop(key_id, None)
            return
        self._purge_at[key_id] = deadline
        heapq.heappush(self._heap, (deadline, key_id))

    def _drop(self, key_id: str) -> None:
        record = self._records.pop(key_id, None)
        self._purge_at.pop(key_id, None)
        if record is not None:
            ids = self._owners.get(record.owner)
            if ids is not None:
                ids.discard(key_id)
                if not ids:
                    del self._owners[record.owner]

    def _purge(self) -> None:
        now, heap = self._clock(), self._heap
        while heap and heap[0][0] <= now:
            deadline, key_id = heapq.heappop(heap)
            if self._purge_at.get(key_id) == deadline:
                self._drop(key_id)
        if len(heap) > 2 * len(self._purge_at) + 64:
            self._heap = [(d, k) for k, d in self._purge_at.items()]
            heapq.heapify(self._heap)

    def _store(self, record: APIKeyRecord) -> None:
        self._purge()
        self._drop(record.key_id)
        self._records[record.key_id] = copy.deepcopy(record)
        self._owners.setdefault(record.owner, set()).add(record.key_id)
        if record.revoked:
            self._schedule(record.key_id, self._clock() + self._retention)
        elif record.expires_at is not None:
            self._schedule(record.key_id, record.expires_at + self._retention)

    async def put(self, record: APIKeyRecord) -> None:
        self._store(record)

    async def get(self, key_id: str) -> APIKeyRecord | None:
        record = self._records.get(key_id)
        return None if record is None else copy.deepcopy(record)

    def _owned(self, owner: str) -> list[APIKeyRecord]:
        return [self._records[k] for k in self._owners.get(owner, ())]

    async def list_for_owner(self, owner: str) -> list[APIKeyRecord]:
        records = sorted(self._owned(owner), key=lambda r: (r.created_at, r.key_id))
        return [copy.deepcopy(r) for r in records]

    def _revoke(self, record: APIKeyRecord) -> None:
        record.revoked = True
        deadline = self._clock() + self._retention
        current = self._purge_at.get(record.key_id)
        self._schedule(record.key_id, deadline if current is None else min(current, deadline))

    async def revoke(self, key_id: str) -> bool:
        self._purge()
        record = self._records.get(key_id)
        if record is None or record.revoked:
            return False
        self._revoke(record)
        return True

    async def touch(self, key_id: str, when: float) -> None:
        record = self._records.get(key_id)
        if record is not None:
            record.last_used = when

    async def add(self, record: APIKeyRecord, *, max_live: int, stamp: str) -> KeyAdd:
        if self._stamps.get(record.owner, "") != stamp:
            return KeyAdd.STALE
        if await self.count_live(record.owner) >= max_live:
            return KeyAdd.LIMIT
        now = self._clock()
        dead = [r for r in self._owned(record.owner) if not self._live(r, now)]
        dead.sort(key=lambda r: (r.created_at, r.key_id))
        for old in dead[: max(0, len(dead) - max_live)]:  # keep the newest max_live dead
            self._drop(old.key_id)
        self._store(record)
        return KeyAdd.OK

    async def stamp(self, owner: str) -> str:
        return str(self._stamps.get(owner, ""))

    async def revoke_all(self, owner: str) -> int:
        self._stamps.set(owner, secrets.token_hex(8), self._clock() + STAMP_TTL)
        now = self._clock()
        live = [r for r in self._owned(owner) if self._live(r, now)]
        for record in live:
            self._revoke(record)
        return len(live)

    async def count_live(self, owner: str) -> int:
        now = self._clock()
        return sum(self._live(r, now) for r in self._owned(owner))
