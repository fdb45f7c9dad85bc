"""SQLite revocation check read on the event loop (``SqliteDatabase.read``): never stale,
across connections and processes, and failing closed.

Staleness bound: zero. Each check is a new read transaction, so a revocation committed
by any connection or process before the check starts is refused by it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from nexios_auth_di.exceptions import StoreUnavailable
from nexios_auth_di.stores.sqlite import SqliteDatabase, SqliteRevocationStore

EXP = 4_000_000_000.0


async def test_revoke_through_another_connection_is_refused_at_once(tmp_path: Path) -> None:
    """A jti or subject revoked through a second store instance on the same file is
    refused by the first on its very next check (after it already answered "not
    revoked" for the same token, so nothing it remembered may hide the change)."""
    path = tmp_path / "auth.db"
    checker_db, revoker_db = SqliteDatabase(path), SqliteDatabase(path)
    checker, revoker = SqliteRevocationStore(checker_db), SqliteRevocationStore(revoker_db)
    try:
        assert not await checker.is_refused("jti-1", "alice", 100.0)
        await revoker.revoke_jti("jti-1", EXP)
        assert await checker.is_refused("jti-1", "alice", 100.0)

        assert not await checker.is_refused("jti-2", "bob", 100.0)
        await revoker.revoke_subject("bob", 200.0, 3600)
        assert await checker.is_refused("jti-2", "bob", 100.0)
        assert not await checker.is_refused("jti-3", "bob", 300.0)  # issued after the mark
    finally:
        await checker_db.close()
        await revoker_db.close()


REVOKE_IN_CHILD = """
import asyncio, sys
from nexios_auth_di.stores.sqlite import SqliteDatabase, SqliteRevocationStore

async def main():
    db = SqliteDatabase(sys.argv[1])
    await SqliteRevocationStore(db).revoke_jti(sys.argv[2], 4_000_000_000.0)
    await db.close()

asyncio.run(main())
"""


async def test_revoke_in_another_process_is_refused_at_once(tmp_path: Path) -> None:
    """A revocation committed by another process (another worker) is refused by this
    process's next check, with no wait and no restart."""
    path = tmp_path / "auth.db"
    db = SqliteDatabase(path)
    store = SqliteRevocationStore(db)
    try:
        assert not await store.is_refused("jti-x", "alice", 100.0)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", REVOKE_IN_CHILD, str(path), "jti-x"
        )
        assert await child.wait() == 0
        assert await store.is_refused("jti-x", "alice", 100.0)
    finally:
        await db.close()


async def test_each_thread_reads_through_its_own_connection(tmp_path: Path) -> None:
    """A store used from a second thread's loop (a TestClient, a worker thread) reads
    through a connection of that thread and sees the same committed state."""
    path = tmp_path / "auth.db"
    db = SqliteDatabase(path)
    store = SqliteRevocationStore(db)
    await store.revoke_jti("jti-t", EXP)
    seen: list[bool] = []

    def in_thread() -> None:
        seen.append(asyncio.run(store.is_refused("jti-t", "alice", 100.0)))

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    try:
        assert seen == [True]
        assert await store.is_refused("jti-t", "alice", 100.0)
    finally:
        await db.close()


async def test_broken_schema_fails_closed(tmp_path: Path) -> None:
    """A read error other than a busy file (here the table is gone) is StoreUnavailable,
    so the request is refused with a 503, never let through."""
    path = tmp_path / "auth.db"
    db = SqliteDatabase(path)
    store = SqliteRevocationStore(db)
    assert not await store.is_refused("jti", "alice", 100.0)
    vandal = sqlite3.connect(path, isolation_level=None)
    vandal.execute("DROP TABLE revoked_jti")
    vandal.close()
    try:
        with pytest.raises(StoreUnavailable):
            await store.is_refused("jti", "alice", 100.0)
    finally:
        await db.close()
