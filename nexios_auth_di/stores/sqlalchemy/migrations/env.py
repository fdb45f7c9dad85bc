"""Alembic environment: migrate the database at the URL ``migrate.py`` passes in, over
an async engine (asyncpg or aiosqlite), keeping the version in ``migrate.VERSION_TABLE``
so an app's own Alembic history in the same database is left alone."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.stores.sqlalchemy.database import async_url
from nexios_auth_di.stores.sqlalchemy.migrate import VERSION_TABLE, include_name
from nexios_auth_di.stores.sqlalchemy.tables import metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online(url: str) -> None:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
    finally:
        await engine.dispose()


def _run() -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise ConfigurationError("store.database_url: no database URL (pass --url)")
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):  # autogenerate comparisons reuse the caller's
        _configure(connection)
    else:
        asyncio.run(_online(url))


def _in_alembic() -> bool:
    """True when Alembic runs this file (its ``context`` proxy is installed); False when
    something merely imports it (tooling, the package's layout tests)."""
    try:
        context.config  # noqa: B018 - the probe
    except AttributeError:
        return False
    return True


if _in_alembic():
    _run()
