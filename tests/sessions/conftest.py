"""Fixtures for the session tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from nexios import NexiosApp
from nexios.testclient import TestClient
from session_helpers import SECRET, build_app
from support import FakeClock

from nexios_auth_di.stores.memory import MemorySessionStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client_for(clock: FakeClock) -> Iterator[Callable[..., TestClient]]:
    """Open clients on freshly built apps; ``mode='server'`` adds a memory store."""
    opened: list[TestClient] = []

    def make(
        form: str, mode: str = "cookie", app: NexiosApp | None = None, **kwargs: Any
    ) -> TestClient:
        if app is None:
            kwargs.setdefault("secret_key", SECRET)
            kwargs.setdefault("clock", clock)
            if mode == "server":
                kwargs.setdefault("store", MemorySessionStore(clock))
            app = build_app(form, **kwargs)
        client = TestClient(app, base_url="https://testserver")
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
