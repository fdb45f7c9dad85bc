"""Throttle fixtures: every burst test runs on each throttle storage."""

from __future__ import annotations

import pytest
from burst_support import ENGINES


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The throttle storage under test (Redis rows need REDIS_URL; never skipped in CI)."""
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    return str(request.param)


@pytest.fixture
def redis_or_none(request: pytest.FixtureRequest, engine: str) -> str | None:
    """The Redis URL on the Redis rows, else None."""
    return str(request.getfixturevalue("redis_url")) if engine == "redis" else None
