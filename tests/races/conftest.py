"""Fixtures for the race tests: one app per store engine (memory, SQLite, Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from race_support import RaceApp, race_app


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-cluster", marks=pytest.mark.redis),
    ]
)
async def race(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RaceApp]:
    """The real app over one engine (``redis-cluster``: Redis on the 3-master cluster),
    with its login and refresh gates unarmed."""
    engine: str = request.param
    redis_url = None
    if engine.startswith("redis"):
        fixture = "redis_cluster_url" if engine == "redis-cluster" else "redis_url"
        engine, redis_url = "redis", request.getfixturevalue(fixture)
    async with race_app(engine, tmp_path, redis_url) as app:
        yield app
