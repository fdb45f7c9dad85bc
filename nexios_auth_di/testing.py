"""Test helpers and a pytest plugin.

The guide's ``client.app.scope["user"] = MockUser()`` cannot work on real Nexios (there
is no app-level scope). Here tests override providers instead: the same code path runs,
minus the credential.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from dependency_injector import providers

from .base import SimpleUser
from .container import AuthContainer
from .policies import Policy

__all__ = [
    "TESTING_CONFIG",
    "make_test_container",
    "override_loader",
    "override_policy",
    "override_user",
]

#: a complete config for tests: memory stores, cheap hashing, a 32-byte+ secret
TESTING_CONFIG: dict[str, Any] = {
    "backends": ["jwt", "session", "api_key"],
    "jwt": {"secret_key": "testing-secret-key-not-for-production-0123456789"},
    "session": {"secret_key": "testing-session-key-not-for-production-0123456789"},
    "stores": "memory",
    "passwords": {"profile": "test_only_cheap", "min_length": 8},
}


@contextmanager
def override_user(container: AuthContainer, user: Any) -> Iterator[Any]:
    """Every request inside the block sees ``user``: no token, no patching."""
    with container.user_override.override(providers.Object(user)):
        yield user


@contextmanager
def override_loader(container: AuthContainer, loader: Callable[[Any], Any]) -> Iterator[None]:
    """Swap the user loader; applies on the next request even to built backends."""
    with container.user_loader.override(providers.Object(loader)):
        yield


@contextmanager
def override_policy(container: AuthContainer, name: str, policy: Policy) -> Iterator[None]:
    """Replace one named policy for the duration of the block."""
    current = dict(container.policies())
    current[name] = policy
    with container.policies.override(providers.Object(current)):
        yield


def make_test_container(users: dict[str, Any] | None = None, **config: Any) -> AuthContainer:
    """A container on the testing profile whose loader reads ``users`` by identity."""
    table = users if users is not None else {}  # by reference: tests may add users later
    container = AuthContainer()
    container.config.from_dict({**TESTING_CONFIG, **config})
    container.user_loader.override(providers.Object(lambda identity: table.get(str(identity))))
    return container


@pytest.fixture
def auth_users() -> dict[str, Any]:
    """Users known to ``auth_container``'s loader; add to it in a test."""
    return {
        "alice": SimpleUser("alice", permissions=["read"]),
        "admin": SimpleUser("admin", permissions=["read", "admin"]),
    }


@pytest.fixture
def auth_container(auth_users: dict[str, Any]) -> Iterator[AuthContainer]:
    """A fresh ``AuthContainer`` on the testing profile, loading ``auth_users``."""
    container = make_test_container(auth_users)
    yield container
    container.unwire()


@pytest.fixture
def auth_headers(auth_container: AuthContainer) -> Callable[..., dict[str, str]]:
    """``auth_headers("alice", permissions=[...])`` -> a real ``Authorization`` header
    signed by ``auth_container``'s token service."""

    def make(subject: str, **claims: Any) -> dict[str, str]:
        token = auth_container.token_service().create_access_token(subject, **claims)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def authenticated_client(
    request: pytest.FixtureRequest, auth_container: AuthContainer, auth_users: dict[str, Any]
) -> Iterator[Any]:
    """A ``TestClient`` for your ``app`` fixture (installed with ``auth_container``) in
    which every request is ``auth_users["alice"]``; override ``auth_users`` to change who."""
    from nexios.testclient import TestClient

    app = request.getfixturevalue("app")
    user = auth_users.get("alice") or next(iter(auth_users.values()))
    with override_user(auth_container, user), TestClient(app, base_url="https://testserver") as c:
        yield c
