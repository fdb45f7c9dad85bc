"""SQLite engine specifics: durability, WAL, purging, and failing closed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from support import FakeClock

from nexios_auth_di.exceptions import StoreUnavailable
from nexios_auth_di.stores.protocols import SpendResult
from nexios_auth_di.stores.sqlite import (
    SqliteDatabase,
    SqliteRefreshFamilyStore,
    SqliteRevocationStore,
    SqliteSessionStore,
)


async def test_revocations_survive_restart(tmp_path: Path) -> None:
    """A revocation written before a restart still refuses the token after it."""
    path = tmp_path / "auth.db"
    clock = FakeClock()
    db = SqliteDatabase(path, clock=clock)
    await SqliteRevocationStore(db).revoke_jti("jti-1", clock() + 600)
    await SqliteRefreshFamilyStore(db).spend("fam", "r-1", clock() + 600)
    await db.close()

    reopened = SqliteDatabase(path, clock=clock)
    assert await SqliteRevocationStore(reopened).is_refused("jti-1", "alice", clock() - 1)
    assert not await SqliteRevocationStore(reopened).is_refused("jti-2", "alice", clock() - 1)
    spend = await SqliteRefreshFamilyStore(reopened).spend("fam", "r-1", clock() + 600)
    assert spend is SpendResult.REUSED
    await reopened.close()


async def test_wal_mode_is_on(tmp_path: Path) -> None:
    """The file really is in WAL mode, so readers are not blocked by a writer."""
    db = SqliteDatabase(tmp_path / "auth.db")
    assert await db.fetch("PRAGMA journal_mode") == [("wal",)]
    assert await db.fetch("PRAGMA synchronous") == [(1,)]  # NORMAL
    await db.close()
    with sqlite3.connect(tmp_path / "auth.db") as other:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_expired_rows_are_purged_on_schedule(tmp_path: Path) -> None:
    """The file does not grow forever: expired rows go on the next write after the interval."""
    clock = FakeClock()
    db = SqliteDatabase(tmp_path / "auth.db", clock=clock, purge_interval=60)
    rev = SqliteRevocationStore(db)
    for i in range(100):
        await rev.revoke_jti(f"jti-{i}", clock() + 30)
    await SqliteSessionStore(db).save("sid", {"a": 1}, ttl=30)
    assert await db.fetch("SELECT count(*) FROM revoked_jti") == [(100,)]
    clock.now += 61
    await rev.revoke_jti("fresh", clock() + 30)
    assert await db.fetch("SELECT jti FROM revoked_jti") == [("fresh",)]
    assert await db.fetch("SELECT count(*) FROM sessions") == [(0,)]
    await db.close()


async def test_purge_every_n_writes(tmp_path: Path) -> None:
    """With a frozen clock, the write-count trigger alone still purges."""
    clock = FakeClock()
    db = SqliteDatabase(tmp_path / "auth.db", clock=clock, purge_every=10)
    rev = SqliteRevocationStore(db)
    await rev.revoke_jti("short", clock() + 1)
    clock.now += 2  # "short" is expired, the 60 s interval is not reached
    for i in range(9):
        await rev.revoke_jti(f"jti-{i}", clock() + 30)
    assert await db.fetch("SELECT count(*) FROM revoked_jti WHERE jti = 'short'") == [(0,)]
    await db.close()


async def test_closed_database_reopens_on_next_use(tmp_path: Path) -> None:
    """close() (the container's shutdown) releases the connection, WAL checkpointed; the
    next call reopens the file with its data, so an app can serve another lifespan."""
    db = SqliteDatabase(tmp_path / "auth.db")
    rev = SqliteRevocationStore(db)
    await rev.revoke_jti("jti-1", 4_000_000_000)
    await db.close()
    await db.close()
    assert not (tmp_path / "auth.db-wal").exists()  # the last connection closed cleanly
    assert await rev.is_refused("jti-1", "alice", 0)
    await db.close()


async def test_unopenable_file_fails_closed(tmp_path: Path) -> None:
    """A path that cannot be opened gives StoreUnavailable on first use."""
    db = SqliteDatabase(tmp_path / "missing-dir" / "auth.db")
    with pytest.raises(StoreUnavailable):
        await SqliteRevocationStore(db).is_refused("jti", "alice", 0)
    await db.close()


async def test_locked_database_fails_closed(tmp_path: Path) -> None:
    """A writer locked out past busy_timeout gets StoreUnavailable, and works once free."""
    path = tmp_path / "auth.db"
    db = SqliteDatabase(path, busy_timeout=0.05)
    rev = SqliteRevocationStore(db)
    await rev.revoke_jti("jti-0", 4_000_000_000)  # creates schema, WAL on
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable):
            await rev.revoke_jti("jti-1", 4_000_000_000)
        assert await rev.is_refused("jti-0", "alice", 0)  # WAL: readers still read
    finally:
        other.execute("ROLLBACK")
        other.close()
    await rev.revoke_jti("jti-1", 4_000_000_000)
    assert await rev.is_refused("jti-1", "alice", 0)
    await db.close()


async def test_two_databases_on_one_file_share_spend_once(tmp_path: Path) -> None:
    """Two workers' connections to one file still let a refresh token spend only once."""
    path = tmp_path / "auth.db"
    first, second = SqliteDatabase(path), SqliteDatabase(path)
    exp = 4_000_000_000.0
    assert await SqliteRefreshFamilyStore(first).spend("fam", "r-1", exp) is SpendResult.OK
    assert await SqliteRefreshFamilyStore(second).spend("fam", "r-1", exp) is SpendResult.REUSED
    await first.close()
    await second.close()
