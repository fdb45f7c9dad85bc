"""In-memory stores: the zero-set-up default for one process.

Every entry carries an expiry. Writes purge what has expired (cheaply, from a heap),
so memory stays bounded by *live* entries: a revoked jti is forgotten once its token
would have expired anyway. Methods never ``await`` between read and write, which makes
each one atomic on the event loop without a lock.
"""

from __future__ import annotations

import copy
import heapq
import time
from collections.abc import Callable
from typing import Any

from nexios_auth_di.stores.protocols import APIKeyRecord, SpendResult

__all__ = [
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
    """Revoked jtis until their ``exp``, and per-subject not-before marks."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._jtis = ExpiringDict(clock)
        self._not_before = ExpiringDict(clock)

    async def revoke_jti(self, jti: str, expires_at: float) -> None:
        if expires_at > self._clock():
            self._jtis.set(jti, True, expires_at)

    async def revoke_subject(self, subject: str, not_before: float, ttl: float) -> None:
        # keep the latest mark *and* the longest deadline: a second, shorter-lived
        # "log out everywhere" must not cut short the protection of the first
        current = self._not_before.get(subject)
        deadline = max(self._clock() + ttl, self._not_before.deadline(subject) or 0.0)
        mark = not_before if current is None else max(current, not_before)
        self._not_before.set(subject, mark, deadline)

    async def is_refused(self, jti: str, subject: str, issued_at: float) -> bool:
        if self._jtis.get(jti, False):
            return True
        not_before = self._not_before.get(subject)
        return not_before is not None and issued_at < not_before

    def __len__(self) -> int:
        return len(self._jtis)


class MemoryRefreshFamilyStore:
    """Spent refresh jtis and revoked families, each kept until its tokens expire."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._spent = ExpiringDict(clock)
        self._revoked = ExpiringDict(clock)

    async def spend(self, family: str, jti: str, expires_at: float) -> SpendResult:
        if self._revoked.get(family, False):
            return SpendResult.REVOKED
        key = f"{family}:{jti}"
        if self._spent.get(key, False):
            return SpendResult.REUSED
        self._spent.set(key, True, max(expires_at, self._clock() + MIN_MARKER_TTL))
        return SpendResult.OK

    async def revoke_family(self, family: str, expires_at: float) -> None:
        deadline = max(expires_at, self._clock() + MIN_MARKER_TTL)
        self._revoked.set(family, True, max(deadline, self._revoked.deadline(family) or 0.0))


class MemorySessionStore:
    """Session data by id. Values are deep-copied so callers cannot mutate stored state."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._sessions = ExpiringDict(clock)  # id -> (subject, data)

    async def load(self, session_id: str) -> dict[str, Any] | None:
        item = self._sessions.get(session_id)
        return None if item is None else copy.deepcopy(item[1])

    async def save(
        self, session_id: str, data: dict[str, Any], ttl: float, subject: str | None = None
    ) -> None:
        self._sessions.set(session_id, (subject, copy.deepcopy(data)), self._clock() + ttl)

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
    """API-key records by id. Records are deep-copied in and out (``extra`` is a dict)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._records: dict[str, APIKeyRecord] = {}

    async def put(self, record: APIKeyRecord) -> None:
        self._records[record.key_id] = copy.deepcopy(record)

    async def get(self, key_id: str) -> APIKeyRecord | None:
        record = self._records.get(key_id)
        return None if record is None else copy.deepcopy(record)

    async def list_for_owner(self, owner: str) -> list[APIKeyRecord]:
        return [copy.deepcopy(r) for r in self._records.values() if r.owner == owner]

    async def revoke(self, key_id: str) -> bool:
        record = self._records.get(key_id)
        if record is None or record.revoked:
            return False
        record.revoked = True
        return True

    async def touch(self, key_id: str, when: float) -> None:
        record = self._records.get(key_id)
        if record is not None:
            record.last_used = when
