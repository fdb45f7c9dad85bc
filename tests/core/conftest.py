"""Fixtures for the core: a container on the testing profile and an app built on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from nexios import NexiosApp
from nexios.testclient import TestClient

from nexios_auth_di import AuthContainer, SimpleUser, install
from nexios_auth_di.testing import make_test_container


class LoaderSpy:
    """A user loader that counts its calls, so tests can prove laziness and caching."""

    def __init__(self, users: dict[str, Any]) -> None:
        self.users = users
        self.calls: list[Any] = []

    async def __call__(self, identity: Any) -> Any:
        self.calls.append(identity)
        return self.users.get(str(identity))


@pytest.fixture
def users() -> dict[str, Any]:
    return {
        "alice": SimpleUser("alice", permissions=["read"]),
        "bob": SimpleUser("bob", permissions=["read", "moderator"]),
        "root": SimpleUser("root", permissions=["read", "admin"]),
    }


@pytest.fixture
def loader(users: dict[str, Any]) -> LoaderSpy:
    return LoaderSpy(users)


@pytest.fixture
def container(loader: LoaderSpy) -> AuthContainer:
    c = make_test_container()
    c.user_loader.override(loader)
    return c


@pytest.fixture
def app(container: AuthContainer) -> NexiosApp:
    application = NexiosApp()
    install(application, container)
    return application


@pytest.fixture
def client(app: NexiosApp) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as c:
        yield c


@pytest.fixture
def bearer(container: AuthContainer) -> Callable[[str], dict[str, str]]:
    def make(subject: str, **claims: Any) -> dict[str, str]:
        token = container.token_service().create_access_token(subject, **claims)
        return {"Authorization": f"Bearer {token}"}

    return make
