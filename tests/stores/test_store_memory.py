"""Memory engine specifics: bounded by live entries."""

from __future__ import annotations

from support import FakeClock

from nexios_auth_di.stores.memory import (
    ExpiringDict,
    MemoryRefreshFamilyStore,
    MemoryRevocationStore,
    MemorySessionStore,
)


async def test_revocations_are_bounded_by_live_tokens() -> None:
    """10k revoked short-lived jtis are forgotten once expired: memory does not grow forever."""
    clock = FakeClock()
    store = MemoryRevocationStore(clock)
    for i in range(10_000):
        await store.revoke_jti(f"jti-{i}", clock() + 60)
    assert len(store) == 10_000
    clock.now += 61
    await store.revoke_jti("fresh", clock() + 60)  # a write purges
    assert len(store) == 1
    assert len(store._jtis._heap) <= 2 * len(store._jtis._data) + 64


async def test_spent_markers_are_purged() -> None:
    """Spent refresh markers go away with their tokens, so the family store stays small."""
    clock = FakeClock()
    store = MemoryRefreshFamilyStore(clock)
    for i in range(1_000):
        await store.spend("fam", f"r-{i}", clock() + 60)
    clock.now += 61
    await store.spend("fam", "fresh", clock() + 60)
    assert len(store._spent) == 1


def test_overwritten_keys_do_not_pile_up_in_the_heap() -> None:
    """Re-setting the same key many times keeps the heap near the live size."""
    clock = FakeClock()
    data = ExpiringDict(clock)
    for i in range(10_000):
        data.set("same", i, clock() + 60 + i)
    assert len(data) == 1
    assert len(data._heap) <= 2 * len(data._data) + 64
    assert data.get("same") == 9_999


async def test_sessions_expire_and_are_purged() -> None:
    """Expired sessions are dropped on the next write, not kept until read."""
    clock = FakeClock()
    store = MemorySessionStore(clock)
    for i in range(100):
        await store.save(f"sid-{i}", {"i": i}, ttl=60, subject="alice")
    clock.now += 61
    await store.save("fresh", {}, ttl=60)
    assert len(store._sessions) == 1
    assert await store.delete_for_subject("alice") == 0
