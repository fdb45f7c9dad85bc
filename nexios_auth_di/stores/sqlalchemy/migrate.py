"""Alembic, driven from Python: the migrations ship inside the package
(``migrations/``), so ``nexios-auth db upgrade`` needs no ``alembic.ini``.

``upgrade`` / ``downgrade`` run Alembic's commands against ``url``; ``schema_diff``
compares a migrated database with ``tables.metadata`` (autogenerate), which the tests
use to prove the migrations build exactly the schema the stores expect. Alembic's
commands are synchronous (env.py runs its own event loop): call them off the loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.stores.sqlalchemy.database import SUPPORTED, async_url
from nexios_auth_di.stores.sqlalchemy.tables import metadata

__all__ = [
    "MIGRATIONS",
    "VERSION_TABLE",
    "alembic_config",
    "current",
    "downgrade",
    "heads",
    "include_name",
    "schema_diff",
    "upgrade",
]

MIGRATIONS = Path(__file__).parent / "migrations"
#: the library's own version table, so an app's Alembic history in the same database
#: (``alembic_version``) is left alone
VERSION_TABLE = "nxauth_alembic_version"


def alembic_config(url: str) -> Config:
    """An Alembic ``Config`` for the packaged migrations and ``url``."""
    url = async_url(url)
    backend = url.split(":", 1)[0].split("+", 1)[0]
    if backend not in SUPPORTED:
        raise ConfigurationError(
            f"store.database_url: the SQLAlchemy stores run on {' or '.join(SUPPORTED)}, "
            f"not {backend}"
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal % in a password must be doubled
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at ``url`` down to ``revision`` (``base``: drop every table)."""
    command.downgrade(alembic_config(url), revision)


def heads() -> list[str]:
    """The head revision(s) of the packaged migrations."""
    return list(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current(url: str) -> str | None:
    """The database's revision (``None``: never migrated)."""

    def read(connection: Any) -> str | None:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()

    revision: str | None = _with_connection(url, read)
    return revision


def schema_diff(url: str) -> list[Any]:
    """What autogenerate would change to make the database at ``url`` match the models
    (empty when the migrations and ``tables.py`` agree). Only ``nxauth_*`` tables."""

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": include_name,
                "compare_type": True,
                "version_table": VERSION_TABLE,
            },
        )
        return list(compare_metadata(context, metadata))

    diff: list[Any] = _with_connection(url, compare)
    return diff


def include_name(name: str | None, type_: str, *_: object) -> bool:
    """Compare only this library's tables (``nxauth_*``), never the app's own."""
    return type_ != "table" or (name or "").startswith("nxauth_")


def _with_connection(url: str, work: Any) -> Any:
    async def run() -> Any:
        engine = create_async_engine(async_url(url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())
