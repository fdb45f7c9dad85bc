"""Every SQLAlchemy store fails closed while PostgreSQL is down (``StoreUnavailable``, the
503 of the routes) and works again once it is back, with no rebuild; the container wires
the engine, its throttle and the schema setting from configuration."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from support.postgres_server import PostgresProcess

from nexios_auth_di.exceptions import StoreUnavailable
from nexios_auth_di.stores.factory import StoreSet, build_stores
from nexios_auth_di.stores.protocols import APIKeyRecord, CredentialRecord, SpendResult
from nexios_auth_di.stores.sqlalchemy.throttle import SqlAlchemyLimiter
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.throttle.factory import limiter_for
from nexios_auth_di.throttle.limiter import Rule

Call = Callable[[StoreSet], Awaitable[Any]]
FAR = time.time() + 3600
KEY, RULE = APIKeyRecord("k2", "p", "alice", "h"), Rule("k", 5, 60)

#: one call per store kind: each must raise StoreUnavailable with the server down
CALLS: list[tuple[str, Call]] = [
    ("revocation check", lambda s: s.revocations.is_refused("j", "alice", 0.0, "f")),
    ("revoke jti", lambda s: s.revocations.revoke_jti("j", FAR)),
    ("generation", lambda s: s.revocations.advance_generation("alice", time.time(), 60)),
    ("refresh spend", lambda s: s.families.spend("fam", "jti-down", FAR)),
    ("login start", lambda s: s.families.start("alice", "fam2", FAR, 5)),
    ("session load", lambda s: s.sessions.load("sid")),
    ("session save", lambda s: s.sessions.save("sid", {"a": 1}, 60, "alice")),
    ("api key get", lambda s: s.api_keys.get("k")),
    ("api key add", lambda s: s.api_keys.add(KEY, max_live=5, stamp="")),
    ("one-time claim", lambda s: s.once.claim("c", 60)),
    ("one-time take", lambda s: s.once.take("v")),
    ("credential add", lambda s: s.credentials.add(CredentialRecord("totp", "c1", "alice"))),
    ("credential update", lambda s: s.credentials.update(CredentialRecord("totp", "c0", "alice"))),
    ("throttle reserve", lambda s: SqlAlchemyLimiter(s.database).reserve(RULE, time.time())),
]  # fmt: skip


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_every_store_fails_closed_while_postgres_is_down_then_recovers(
    postgres_process: PostgresProcess,
) -> None:
    """With the server stopped mid-test, each store call raises StoreUnavailable (never a
    driver error, never a silent success); after a restart the same objects work and the
    state written before the outage is intact."""
    stores = build_stores({"stores": "sqlalchemy", "database_url": postgres_process.url})
    try:
        assert await stores.families.spend("fam", "before", FAR) is SpendResult.OK
        await stores.revocations.revoke_jti("revoked-before", FAR)
        postgres_process.stop()
        for name, call in CALLS:
            try:
                await call(stores)
            except StoreUnavailable:
                continue
            pytest.fail(f"{name}: answered with the database down")
        postgres_process.start()
        refused = None
        while refused is None:  # the first call after the restart may still meet the old pool
            try:
                refused = await stores.revocations.is_refused("revoked-before", "bob", 0.0)
            except StoreUnavailable:
                await asyncio.sleep(0.05)
        assert refused is True
        assert await stores.families.spend("fam", "before", FAR) is SpendResult.REUSED
        assert await stores.families.spend("fam", "after", FAR) is SpendResult.OK
    finally:
        await stores.close()


def test_container_wires_the_engine_its_throttle_and_schema_setting(tmp_path: Path) -> None:
    """``stores: sqlalchemy`` in the settings builds the SQLAlchemy stores on
    ``store.database_url``, puts the login throttle's counters in the same database and
    honours ``store.database_create_schema``."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'wired.db'}"
    container = make_test_container(
        stores="sqlalchemy", store={"database_url": url, "database_create_schema": False}
    )
    stores = container.stores()
    assert stores.engine == "sqlalchemy"
    assert stores.database.url == url
    assert stores.database.create_schema is False
    assert type(stores.families).__name__ == "SqlAlchemyRefreshFamilyStore"
    assert isinstance(limiter_for(None, stores), SqlAlchemyLimiter)
    assert isinstance(container.login_throttle().limiter, SqlAlchemyLimiter)
