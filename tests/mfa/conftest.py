"""A real Nexios app over SQLite users whose container runs on a FakeClock (overridden
before any store or service is built, so expiry and freshness follow it)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from nexios.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "routes"))

from mfa_support import enroll as _enroll
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
    """Build an app in ``login_mode`` on the fake clock."""
    opened: list[TestClient] = []

    def make(login_mode: str | None = "both", **config: Any) -> Env:
        repo = SqliteUserRepository(tmp_path / f"users{len(opened)}.sqlite3")
        container = make_test_container(**config)
        container.clock.override(providers.Object(clock))
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
def mfa_env(
    make_env: Callable[..., Env], clock: FakeClock
) -> tuple[Env, FakeClock, str, list[str]]:
    """Tokens mode, a fake clock, alice enrolled: (env, clock, secret, recovery codes)."""
    env = make_env("tokens")
    env.register()
    secret, codes = _enroll(env, env.login()["access_token"])
    clock.advance(60)  # the enrollment step is spent
    return env, clock, secret, codes
