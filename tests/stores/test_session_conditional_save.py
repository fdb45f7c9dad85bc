"""Conditional session saves: a session ended mid-request is never written back.

One contract over memory, SQLite and Redis (the ``harness`` fixture).
"""

from __future__ import annotations

import asyncio

from store_support import Harness

HOUR = 3600.0


async def test_save_continuing_a_deleted_session_writes_nothing(harness: Harness) -> None:
    """A save under a loaded id that was deleted meanwhile (logout) returns False and
    does not bring the session back."""
    sessions = harness.stores.sessions
    assert await sessions.save("sid-1", {"user_id": "alice"}, ttl=HOUR, subject="alice")
    await sessions.delete("sid-1")  # the owner logs out
    assert not await sessions.save(
        "sid-1", {"user_id": "alice", "x": 1}, ttl=HOUR, subject="alice", previous="sid-1"
    )
    assert await sessions.load("sid-1") is None


async def test_save_after_logout_everywhere_writes_nothing(harness: Harness) -> None:
    """delete_for_subject (logout-all, password change) also wins over a late save."""
    sessions = harness.stores.sessions
    await sessions.save("sid-1", {"user_id": "alice"}, ttl=HOUR, subject="alice")
    assert await sessions.delete_for_subject("alice") == 1
    assert not await sessions.save(
        "sid-1", {"user_id": "alice"}, ttl=HOUR, subject="alice", previous="sid-1"
    )
    assert await sessions.load("sid-1") is None


async def test_save_continuing_a_live_session_updates_it(harness: Harness) -> None:
    """A save under a loaded id that still exists writes the new data."""
    sessions = harness.stores.sessions
    await sessions.save("sid-1", {"n": 1}, ttl=HOUR, subject="alice")
    assert await sessions.save("sid-1", {"n": 2}, ttl=HOUR, subject="alice", previous="sid-1")
    assert await sessions.load("sid-1") == {"n": 2}


async def test_rotation_replaces_the_previous_id_atomically(harness: Harness) -> None:
    """Saving under a new id with previous= moves the session: the old id is gone."""
    sessions = harness.stores.sessions
    await sessions.save("old", {"n": 1}, ttl=HOUR, subject="alice")
    assert await sessions.save("new", {"n": 2}, ttl=HOUR, subject="alice", previous="old")
    assert await sessions.load("old") is None
    assert await sessions.load("new") == {"n": 2}
    assert await sessions.delete_for_subject("alice") == 1  # the index follows the rename


async def test_rotation_of_a_superseded_session_writes_nothing(harness: Harness) -> None:
    """A second rotation of an id already rotated away fails: only one request wins."""
    sessions = harness.stores.sessions
    await sessions.save("old", {"n": 1}, ttl=HOUR, subject="alice")
    assert await sessions.save("new-a", {"n": 2}, ttl=HOUR, subject="alice", previous="old")
    assert not await sessions.save("new-b", {"n": 3}, ttl=HOUR, subject="alice", previous="old")
    assert await sessions.load("new-b") is None


async def test_concurrent_continuations_race_a_delete(harness: Harness) -> None:
    """50 saves racing one delete: after the delete returns, no later save resurrects it."""
    sessions = harness.stores.sessions
    await sessions.save("sid", {"n": 0}, ttl=HOUR, subject="alice")
    await sessions.delete("sid")
    results = await asyncio.gather(
        *(
            sessions.save("sid", {"n": i}, ttl=HOUR, subject="alice", previous="sid")
            for i in range(50)
        )
    )
    assert not any(results)
    assert await sessions.load("sid") is None


async def test_expired_previous_session_is_not_revived(harness: Harness) -> None:
    """A session that expired on the server while the request ran stays expired."""
    sessions = harness.stores.sessions
    await sessions.save("sid", {"n": 1}, ttl=60, subject="alice")
    await harness.advance(61)
    assert not await sessions.save("sid", {"n": 2}, ttl=HOUR, subject="alice", previous="sid")
    assert await sessions.load("sid") is None
