"""Fixtures for the integration tests: a Redis URL (never skipped in CI) and our own
redis-server that a test may kill and restart."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from integration_support import RedisProcess, free_port

SKIP_HINT = 'needs a Redis server: eval "$(scripts/redis-test-server.sh)" then re-run'


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (never skipped in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        _missing(SKIP_HINT)
    assert url is not None
    return url


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("redis-server is not installed: run scripts/redis-test-server.sh once")
    assert binary is not None
    server = RedisProcess(binary, free_port())
    server.start()
    yield server
    server.kill()
