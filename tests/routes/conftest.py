"""Fixtures for the ready-made routes: a real Nexios app, real SQLite users, a MemorySink."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from nexios.testclient import TestClient
from route_helpers import Env, build_app

from nexios_auth_di.events import MemorySink
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for


@pytest.fixture
def make_env(tmp_path: Path) -> Iterator[Callable[..., Env]]:
    """Build an app over a fresh SQLite user file; ``config`` merges over the testing
    profile and ``login_mode`` is passed to ``auth_router`` (None: from config)."""
    opened: list[TestClient] = []

    def make(login_mode: str | None = "both", **config: Any) -> Env:
        repo = SqliteUserRepository(tmp_path / f"users{len(opened)}.sqlite3")
        container = make_test_container(**config)
        container.user_loader.override(providers.Object(user_loader_for(repo)))
        container.user_repository.override(providers.Object(repo))
        sink = MemorySink()
        container.event_sink.override(providers.Object(sink))
        client = TestClient(build_app(container, login_mode), base_url="https://testserver")
        client.__enter__()
        opened.append(client)
        return Env(client, container, repo, sink)

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    """The default app: login_mode "both", testing profile."""
    return make_env()
