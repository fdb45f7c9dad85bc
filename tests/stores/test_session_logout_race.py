"""Session saves racing a logout-everywhere, on every engine (the cluster's steps included).

On Redis Cluster a save is several single-slot steps (list the id, write, check the
subject's epoch); these bursts check the outcome the atomic engines give: a session that
existed when ``delete_for_subject`` started never survives it, whether it is rotated or
saved in place meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from store_support import Harness

HOUR = 3600.0
BURST = 50


@pytest.mark.parametrize("at", [0, 1, BURST // 2, BURST], ids=lambda n: f"logout_at_{n}")
@pytest.mark.parametrize("in_place", [False, True], ids=["rotation", "in_place_save"])
async def test_no_save_of_an_existing_session_outlives_a_concurrent_logout_all(
    harness: Harness, in_place: bool, at: int
) -> None:
    """50 saves of a live session race one delete_for_subject (started first, last or in
    between): afterwards no id is loadable
    (each save continued a session the logout must end, so it ran before it or failed)."""
    sessions = harness.stores.sessions
    assert await sessions.save("old", {"n": 0}, ttl=HOUR, subject="alice")
    ids = ["old" if in_place else f"new-{i}" for i in range(BURST)]
    saves = [
        sessions.save(sid, {"n": i}, ttl=HOUR, subject="alice", previous="old")
        for i, sid in enumerate(ids)
    ]
    # the logout starts after ``at`` of the saves: their steps interleave with its own
    results = await asyncio.gather(*saves[:at], sessions.delete_for_subject("alice"), *saves[at:])
    for sid in {"old", *ids}:
        assert await sessions.load(sid) is None, f"{sid} survived the logout"
    if not in_place:
        won = [r for i, r in enumerate(results) if i != at and r]
        assert len(won) <= 1, "two rotations of one id won"


async def test_a_login_after_logout_all_survives_and_a_kept_session_keeps_working(
    harness: Harness,
) -> None:
    """A new session saved after the logout lives; the session kept by the logout (the
    one changing the password) can still be saved in place."""
    sessions = harness.stores.sessions
    await sessions.save("keep", {"n": 0}, ttl=HOUR, subject="alice")
    await sessions.save("other", {"n": 0}, ttl=HOUR, subject="alice")
    assert await sessions.delete_for_subject("alice", keep="keep") == 1
    assert await sessions.save("keep", {"n": 1}, ttl=HOUR, subject="alice", previous="keep")
    assert await sessions.load("keep") == {"n": 1}
    assert await sessions.save("fresh", {"n": 2}, ttl=HOUR, subject="alice")
    assert await sessions.load("fresh") == {"n": 2}
    assert await sessions.load("other") is None
    assert await sessions.delete_for_subject("alice") == 2


class Gate:
    """Holds one step of a call until ``release``; ``reached`` says it got there."""

    def __init__(self) -> None:
        self.reached, self.opened = asyncio.Event(), asyncio.Event()

    def wrap(self, step: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def held(*args: Any) -> Any:
            self.reached.set()
            await self.opened.wait()
            return await step(*args)

        return held


@pytest.mark.parametrize("harness", ["redis-cluster"], indirect=True)
async def test_rotation_held_before_its_write_while_logout_all_runs_is_undone(
    harness: Harness,
) -> None:
    """A rotation held after taking the old id (its new id not written yet) while a
    logout-all runs to the end: once released it writes, sees the epoch moved, undoes the
    write and answers False (the cluster's epoch check after writing)."""
    sessions: Any = harness.stores.sessions
    await sessions.save("old", {"n": 0}, ttl=HOUR, subject="alice")
    gate = Gate()
    sessions._write = gate.wrap(sessions._write)
    rotation = asyncio.create_task(
        sessions.save("new", {"n": 1}, ttl=HOUR, subject="alice", previous="old")
    )
    await gate.reached.wait()
    await sessions.delete_for_subject("alice")
    gate.opened.set()
    assert await rotation is False
    assert await sessions.load("new") is None
    assert await sessions.load("old") is None


@pytest.mark.parametrize("harness", ["redis-cluster"], indirect=True)
async def test_rotation_after_the_logout_cut_but_before_its_deletes_fails(
    harness: Harness,
) -> None:
    """A logout-all held after bumping the epoch (the old session not deleted yet): a
    rotation of that old session now fails (it predates the epoch), and once the logout
    finishes nothing of the subject is loadable."""
    sessions: Any = harness.stores.sessions
    await sessions.save("old", {"n": 0}, ttl=HOUR, subject="alice")
    gate, script = Gate(), sessions._db.script

    async def held_drop(name: str, keys: list[str], args: list[Any]) -> Any:
        if name == "c_session_drop" and not gate.opened.is_set():
            return await gate.wrap(script)(name, keys, args)
        return await script(name, keys, args)

    sessions._db.script = held_drop
    logout = asyncio.create_task(sessions.delete_for_subject("alice"))
    await gate.reached.wait()
    saved = await sessions.save("new", {"n": 1}, ttl=HOUR, subject="alice", previous="old")
    gate.opened.set()
    await logout
    assert saved is False
    assert await sessions.load("new") is None
    assert await sessions.load("old") is None
