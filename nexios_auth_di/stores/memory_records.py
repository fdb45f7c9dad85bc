"""In-memory one-time and credential stores (see ``protocols.OneTimeStore`` and
``protocols.CredentialStore``).

Like the other memory stores: no ``await`` between a read and its write, so each method
is atomic on the event loop; values are deep-copied in and out, so a caller mutating what
it got back changes nothing stored.
"""

from __future__ import annotations

import copy
import heapq
import time
from collections.abc import Callable
from typing import Any

from nexios_auth_di.stores.memory import MIN_MARKER_TTL, ExpiringDict
from nexios_auth_di.stores.protocols import CredentialRecord

__all__ = ["MemoryCredentialStore", "MemoryOneTimeStore"]

Clock = Callable[[], float]


class MemoryOneTimeStore:
    """Claims and one-time values, each in its own ``ExpiringDict`` (a claim and a value
    under the same key never touch each other, on every engine)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._claims = ExpiringDict(clock)
        self._values = ExpiringDict(clock)

    def _deadline(self, ttl: float) -> float:
        return self._clock() + max(float(ttl), MIN_MARKER_TTL)

    async def claim(self, key: str, ttl: float) -> bool:
        if self._claims.get(key) is not None:
            return False
        self._claims.set(key, True, self._deadline(ttl))
        return True

    async def put(self, key: str, value: dict[str, Any], ttl: float) -> None:
        self._values.set(key, copy.deepcopy(value), self._deadline(ttl))

    async def take(self, key: str) -> dict[str, Any] | None:
        value = self._values.pop(key)
        return value if isinstance(value, dict) else None

    def __len__(self) -> int:
        return len(self._claims) + len(self._values)


Key = tuple[str, str]


class MemoryCredentialStore:
    """Records by ``(kind, credential_id)``, indexed by user; expired ones are purged from
    a heap on every write, so the store holds only live records."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._records: dict[Key, CredentialRecord] = {}
        self._users: dict[str, set[Key]] = {}
        self._heap: list[tuple[float, Key]] = []

    def _alive(self, record: CredentialRecord) -> bool:
        return record.expires_at is None or record.expires_at > self._clock()

    def _live(self, key: Key) -> CredentialRecord | None:
        record = self._records.get(key)
        return record if record is not None and self._alive(record) else None

    def _drop(self, key: Key) -> CredentialRecord | None:
        record = self._records.pop(key, None)
        if record is not None:
            keys = self._users.get(record.user_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._users[record.user_id]
        return record

    def _purge(self) -> None:
        now, heap = self._clock(), self._heap
        while heap and heap[0][0] <= now:
            _, key = heapq.heappop(heap)
            record = self._records.get(key)
            if record is not None and not self._alive(record):
                self._drop(key)

    def _store(self, record: CredentialRecord) -> None:
        key = (record.kind, record.credential_id)
        self._records[key] = copy.deepcopy(record)
        self._users.setdefault(record.user_id, set()).add(key)
        if record.expires_at is not None:
            heapq.heappush(self._heap, (record.expires_at, key))

    async def add(self, record: CredentialRecord) -> bool:
        self._purge()
        key = (record.kind, record.credential_id)
        if self._live(key) is not None:
            return False
        self._drop(key)
        self._store(record)
        return True

    async def get(self, kind: str, credential_id: str) -> CredentialRecord | None:
        record = self._live((kind, credential_id))
        return None if record is None else copy.deepcopy(record)

    async def list_for_user(self, user_id: str, kind: str | None = None) -> list[CredentialRecord]:
        found = [self._live(k) for k in self._users.get(user_id, ()) if kind in (None, k[0])]
        live = [r for r in found if r is not None]
        live.sort(key=lambda r: (r.created_at, r.kind, r.credential_id))
        return [copy.deepcopy(r) for r in live]

    async def update(self, record: CredentialRecord) -> bool:
        self._purge()
        stored = self._live((record.kind, record.credential_id))
        if stored is None or stored.version != record.version:
            return False
        stored.data = copy.deepcopy(record.data)
        stored.last_used = record.last_used
        stored.expires_at = record.expires_at
        stored.version += 1
        if stored.expires_at is not None:
            heapq.heappush(self._heap, (stored.expires_at, (stored.kind, stored.credential_id)))
        return True

    async def touch(self, kind: str, credential_id: str, when: float) -> None:
        stored = self._live((kind, credential_id))
        if stored is not None:
            stored.last_used = when

    async def delete(self, kind: str, credential_id: str, *, user_id: str | None = None) -> bool:
        key = (kind, credential_id)
        stored = self._live(key)
        if stored is None or (user_id is not None and stored.user_id != user_id):
            return False
        self._drop(key)
        return True

    async def delete_for_user(self, user_id: str, kind: str | None = None) -> int:
        keys = [k for k in self._users.get(user_id, ()) if kind in (None, k[0])]
        count = sum(self._live(k) is not None for k in keys)
        for key in keys:
            self._drop(key)
        return count

    def __len__(self) -> int:
        self._purge()
        return len(self._records)
