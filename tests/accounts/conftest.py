"""Fixtures for the account-lifecycle tests (see accounts_support.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from accounts_support import Env, close_env, open_env


@pytest.fixture
async def make_env(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Env]]]:
    """Build apps (``login_mode``, ``repo`` "sqlite"|"memory", config overrides); all are
    closed (background drained, container shut down) at the end."""
    opened: list[Env] = []

    async def make(**kwargs: Any) -> Env:
        sub = tmp_path / f"app{len(opened)}"
        sub.mkdir()
        env = await open_env(sub, **kwargs)
        opened.append(env)
        return env

    yield make
    for env in opened:
        await close_env(env)


@pytest.fixture
async def env(make_env: Callable[..., Awaitable[Env]]) -> Env:
    """The default app: token logins, SQLite users."""
    return await make_env()
