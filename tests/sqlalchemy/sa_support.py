"""Helpers for the SQLAlchemy tests: an empty database per test on each dialect (a new
SQLite file, or a new database on the shared PostgreSQL test cluster, dropped after)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def new_postgres_database(server_url: str) -> tuple[str, str]:
    """``(name, url)`` of a new, empty database on the server of ``server_url``."""
    name = f"nxauth_test_{secrets.token_hex(6)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return name, url


def drop_postgres_database(server_url: str, name: str) -> None:
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=DIALECTS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (SQLite file or a fresh PostgreSQL database)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    server: str = request.getfixturevalue("database_url")
    name, url = new_postgres_database(server)
    try:
        yield url
    finally:
        drop_postgres_database(server, name)
