"""The example app's own tests: what an application's test file looks like.

``auth_container``, ``auth_users``, ``auth_headers`` and ``authenticated_client`` come
from the pytest plugin installed with nexios_auth_di; ``authenticated_client`` drives the
``app`` fixture defined here.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from dependency_injector import providers
from nexios import NexiosApp
from nexios.testclient import TestClient

from examples.testing.app import create_app
from nexios_auth_di import SimpleUser
from nexios_auth_di.stores.memory import MemoryRevocationStore
from nexios_auth_di.testing import override_user


@pytest.fixture
def app(auth_container: Any) -> NexiosApp:
    """The app under test, on the plugin's testing container (``authenticated_client``
    asks for this fixture by name)."""
    return create_app(auth_container)


@pytest.fixture
def client(app: NexiosApp) -> Any:
    with TestClient(app, base_url="https://testserver") as c:
        yield c


def test_override_user_needs_no_token(client: Any, auth_container: Any) -> None:
    """Inside ``override_user`` every request is that user; after it, anonymous (401)."""
    with override_user(auth_container, SimpleUser("test_user", permissions=["admin"])):
        assert client.get("/profile").json() == {"username": "test_user"}
        assert client.get("/admin").status_code == 200
    assert client.get("/profile").status_code == 401


def test_real_tokens_with_auth_headers(client: Any, auth_headers: Any) -> None:
    """A real signed token for the plugin's users: "admin" opens /admin, "alice" gets 403."""
    assert client.get("/admin", headers=auth_headers("admin")).status_code == 200
    assert client.get("/admin", headers=auth_headers("alice")).status_code == 403


def test_authenticated_client_is_alice(authenticated_client: Any) -> None:
    """``authenticated_client`` sends every request as ``auth_users["alice"]``."""
    assert authenticated_client.get("/profile").json() == {"username": "alice"}
    assert authenticated_client.get("/admin").status_code == 403


def test_override_user_loader(client: Any, auth_container: Any, auth_headers: Any) -> None:
    """Overriding ``user_loader`` (after the app was built) decides who a token is."""
    headers = auth_headers("ada")
    assert client.get("/profile", headers=headers).status_code == 401  # unknown to the loader
    loader = {"ada": SimpleUser("ada")}.get
    with auth_container.user_loader.override(providers.Object(loader)):
        assert client.get("/profile", headers=headers).json() == {"username": "ada"}


def test_auth_users_added_mid_test_are_seen(
    client: Any, auth_users: Any, auth_headers: Any
) -> None:
    """A user added to ``auth_users`` inside the test is loaded on the next request."""
    auth_users["carol"] = SimpleUser("carol")
    assert client.get("/profile", headers=auth_headers("carol")).json() == {"username": "carol"}


def test_swap_the_revocation_store(auth_container: Any, auth_headers: Any) -> None:
    """A store swapped in before first use is the one the app consults: revoking alice in
    it refuses her token on the next request."""
    store = MemoryRevocationStore()
    auth_container.revocation_store.override(providers.Object(store))
    headers = auth_headers("alice")
    with TestClient(create_app(auth_container), base_url="https://testserver") as client:
        assert client.get("/profile", headers=headers).status_code == 200
        asyncio.run(store.revoke_subject("alice", time.time() + 5, 3600))
        assert client.get("/profile", headers=headers).status_code == 401
