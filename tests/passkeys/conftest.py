"""A real Nexios app over SQLite users on a FakeClock, with passkeys for
``https://testserver`` (RP id ``testserver``), as in tests/mfa."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from nexios.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "routes"))

from authenticator import ORIGIN, PASSKEYS
from route_helpers import Env, build_app
from support.clock import FakeClock

from nexios_auth_di.events import MemorySink
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

START = 1_700_000_000.0


@pytest.fixture
def clock() -> FakeClock:
    """The one clock of the app under test."""
    return FakeClock(START)


@pytest.fixture
def make_env(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., Env]]:
    """Build an app in ``login_mode`` on the fake clock, passkeys on testserver."""
    opened: list[TestClient] = []

    def make(login_mode: str | None = "tokens", **config: Any) -> Env:
        repo = SqliteUserRepository(tmp_path / f"users{len(opened)}.sqlite3")
        config.setdefault("passkeys", PASSKEYS)
        container = make_test_container(**config)
        container.clock.override(providers.Object(clock))
        container.user_loader.override(providers.Object(user_loader_for(repo)))
        container.user_repository.override(providers.Object(repo))
        sink = MemorySink()
        container.event_sink.override(providers.Object(sink))
        client = TestClient(build_app(container, login_mode), base_url=ORIGIN)
        client.__enter__()
        opened.append(client)
        return Env(client, container, repo, sink)

    yield make
    for client in opened:
        client.__exit__(None, None, None)
