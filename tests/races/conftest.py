"""Fixtures for the race tests: one app per store engine (memory, SQLite, Redis, and
SQLAlchemy on aiosqlite and on PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from race_support import RaceApp, race_app


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-cluster", marks=pytest.mark.redis),
        "sqlalchemy+aiosqlite",
        pytest.param("sqlalchemy+asyncpg", marks=pytest.mark.postgres),
    ]
)
async def race(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RaceApp]:
    """The real app over one engine (``redis-cluster``: Redis on the 3-master cluster),
    with its login and refresh gates unarmed."""
    engine: str = request.param
    redis_url = None
    config: dict[str, Any] = {}
    if engine.startswith("redis"):
        fixture = "redis_cluster_url" if engine == "redis-cluster" else "redis_url"
        engine, redis_url = "redis", request.getfixturevalue(fixture)
    elif engine.startswith("sqlalchemy"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'sa.db'}"
        if engine == "sqlalchemy+asyncpg":
            url = request.getfixturevalue("fresh_database_url")
        config = {"stores": "sqlalchemy", "store": {"database_url": url}}
    async with race_app(engine, tmp_path, redis_url, **config) as app:
        yield app
