"""The packaged Alembic migrations build exactly the schema the SQLAlchemy stores use,
on SQLite (aiosqlite) and PostgreSQL (asyncpg), and come back down to nothing."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from nexios_auth_di.stores.factory import build_stores
from nexios_auth_di.stores.protocols import SpendResult
from nexios_auth_di.stores.sqlalchemy import migrate
from nexios_auth_di.stores.sqlalchemy.tables import metadata


def table_names(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_upgrade_to_head_matches_the_models_then_downgrade_to_base(empty_database: str) -> None:
    """An empty database migrated to head has every model table and autogenerate finds no
    difference; downgraded to base it has none of them left."""
    assert table_names(empty_database) == set()
    migrate.upgrade(empty_database, "head")
    assert migrate.current(empty_database) in migrate.heads()
    assert table_names(empty_database) == {*metadata.tables, migrate.VERSION_TABLE}
    assert migrate.schema_diff(empty_database) == []
    migrate.downgrade(empty_database, "base")
    assert migrate.current(empty_database) is None
    assert table_names(empty_database) == {migrate.VERSION_TABLE}


def test_schema_diff_notices_a_missing_table(empty_database: str) -> None:
    """The comparison can fail: a database the migrations never touched differs from the
    models by every table (so an empty diff above means something)."""
    diff = migrate.schema_diff(empty_database)
    added = {op[1].name for op in diff if op[0] == "add_table"}
    assert added == set(metadata.tables)


def test_upgrade_twice_is_a_no_op(empty_database: str) -> None:
    """Re-running ``upgrade`` (every deploy does) changes nothing and fails on nothing."""
    migrate.upgrade(empty_database)
    migrate.upgrade(empty_database)
    assert migrate.schema_diff(empty_database) == []


def test_stores_run_on_a_migrated_schema_without_creating_it(empty_database: str) -> None:
    """With ``database_create_schema`` off the stores rely on the migrated tables alone."""
    migrate.upgrade(empty_database)

    async def spend_twice() -> list[SpendResult]:
        stores = build_stores(
            {
                "stores": "sqlalchemy",
                "database_url": empty_database,
                "database_create_schema": False,
            }
        )
        try:
            return [await stores.families.spend("fam", "jti", 2e9) for _ in range(2)]
        finally:
            await stores.close()

    assert asyncio.run(spend_twice()) == [SpendResult.OK, SpendResult.REUSED]
