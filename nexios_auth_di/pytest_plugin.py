"""The pytest plugin (entry point ``pytest11``): ``auth_users``, ``auth_container``,
``auth_headers`` and ``authenticated_client`` fixtures.

``authenticated_client`` needs an ``app`` fixture of your own: your app, installed with
``auth_container``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from nexios_auth_di.base import SimpleUser
from nexios_auth_di.container import AuthContainer
from nexios_auth_di.testing import make_test_container, override_user


@pytest.fixture
def auth_users() -> dict[str, Any]:
    """Users known to ``auth_container``'s loader; add to it in a test."""
    return {
        "alice": SimpleUser("alice", permissions=["read"]),
        "admin": SimpleUser("admin", permissions=["read", "admin"]),
    }


@pytest.fixture
def auth_container(auth_users: dict[str, Any]) -> AuthContainer:
    """A fresh ``AuthContainer`` on the testing profile, loading ``auth_users``."""
    return make_test_container(auth_users)


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
