"""Guide § Testing Authentication, ported to provider overrides.

The guide's ``client.app.scope["user"] = MockUser()`` cannot work on real Nexios: the app
has no ``scope`` attribute, and a request's scope is built per request. The replacement is
``override_user(container, user)`` (or the ``auth_container`` fixture from this package's
pytest plugin): the real request path runs, minus the credential.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers
from guide_support import HTTPS, SESSION_SECRET, UserTable, add_session_login
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import AsyncTestClient, TestClient

from nexios_auth_di import AuthContainer, SimpleUser, current_user, install
from nexios_auth_di.base import BaseUser
from nexios_auth_di.exceptions import PermissionDenied
from nexios_auth_di.testing import make_test_container, override_user


class MockUser(BaseUser):
    def __init__(self, id: int = 1, username: str = "test_user", is_admin: bool = False) -> None:
        self.id = id
        self.username = username
        self.is_admin = is_admin

    @property
    def is_authenticated(self) -> bool:
        return True


def build_app(container: AuthContainer) -> NexiosApp:
    app = NexiosApp()
    install(app, container)

    @app.get("/profile")
    async def profile(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"id": user.id, "username": user.username}

    @app.get("/admin")
    async def admin_panel(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        if not user.is_admin:
            raise PermissionDenied("Admin access required")
        return {"message": "Welcome to admin panel"}

    return app


def test_guide_scope_patching_cannot_work() -> None:
    """The guide's client.app.scope does not exist on a real Nexios app."""
    client = TestClient(NexiosApp())
    with pytest.raises(AttributeError):
        client.app.scope["user"] = MockUser(id=1, username="test_user")  # type: ignore[attr-defined]


@pytest.fixture
def container() -> AuthContainer:
    return make_test_container({})


@pytest.fixture
def authenticated_client(container: AuthContainer) -> Iterator[TestClient]:
    """The guide's fixture, done with override_user instead of patching a scope."""
    with (
        TestClient(build_app(container)) as client,
        override_user(container, MockUser(id=1, username="test_user")),
    ):
        yield client


def test_protected_route(authenticated_client: TestClient) -> None:
    """The guide's test: /profile answers 200 with the mocked user's name."""
    response = authenticated_client.get("/profile")
    assert response.status_code == 200
    assert response.json()["username"] == "test_user"


def test_admin_route(authenticated_client: TestClient, container: AuthContainer) -> None:
    """The guide's admin test: a nested override swaps in an admin; the outer user is 403."""
    assert authenticated_client.get("/admin").status_code == 403
    with override_user(container, MockUser(id=1, username="admin", is_admin=True)):
        response = authenticated_client.get("/admin")
    assert response.status_code == 200
    assert authenticated_client.get("/admin").status_code == 403  # outer override is back


def test_override_ends_with_the_block(container: AuthContainer) -> None:
    """Outside override_user the same client is anonymous again (401 with a challenge)."""
    with TestClient(build_app(container)) as c:
        with override_user(container, MockUser()):
            assert c.get("/profile").status_code == 200
        r = c.get("/profile")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer ")


def test_plugin_auth_container_fixture(auth_container: AuthContainer) -> None:
    """The pytest11 plugin's auth_container loads auth_users and works with real tokens."""
    app = build_app(auth_container)
    token = auth_container.token_service().create_access_token("admin")
    with TestClient(app) as c:
        r = c.get("/profile", headers={"Authorization": f"Bearer {token}"})
        with override_user(auth_container, MockUser(username="forced")):
            forced = c.get("/profile")
    assert r.json() == {"id": "admin", "username": "admin"}
    assert forced.json()["username"] == "forced"


def test_plugin_auth_users_can_be_extended_in_a_test(
    auth_container: AuthContainer, auth_users: dict[str, Any]
) -> None:
    """A user added to auth_users inside the test is loadable through auth_container."""
    auth_users["carol"] = SimpleUser("carol")
    app = build_app(auth_container)
    token = auth_container.token_service().create_access_token("carol")
    with TestClient(app) as c:
        r = c.get("/profile", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json() == {"id": "carol", "username": "carol"}


def test_loader_override_applies_after_backends_were_built(container: AuthContainer) -> None:
    """container.user_loader.override(...) takes effect on the next request."""
    app = build_app(container)  # install() already built the backends singleton
    token = container.token_service().create_access_token("9")
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as c:
        assert c.get("/profile", headers=auth).status_code == 401
        with container.user_loader.override(providers.Object(lambda i: MockUser(int(i), "nine"))):
            r = c.get("/profile", headers=auth)
    assert r.json() == {"id": 9, "username": "nine"}


# --- the guide's integration test, async client -------------------------------------------


@pytest.fixture
def session_app(db: UserTable) -> NexiosApp:
    container = AuthContainer()
    container.config.from_dict({"backends": ["session"], "session": {"secret_key": SESSION_SECRET}})
    container.user_loader.override(db.get_user)
    app = NexiosApp()
    install(app, container)

    add_session_login(app, db, logout=True)

    @app.get("/profile")
    async def profile(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"username": user.username}

    return app


async def test_login_flow(session_app: NexiosApp, db: UserTable) -> None:
    """The guide's integration test; after logout /profile is a 401 (DI routes don't redirect)."""
    db.passwords["test_user"] = "password123"
    db.users[9] = MockUser(9, "test_user")
    # entered in the test's own task: anyio's cancel scope must exit where it was entered
    async with AsyncTestClient(session_app, base_url=HTTPS) as client:
        await guide_login_flow(client)


async def guide_login_flow(client: Any) -> None:
    login_data = {"username": "test_user", "password": "password123"}
    response = await client.post("/login", json=login_data)
    assert response.status_code == 200
    response = await client.get("/profile")
    assert response.status_code == 200
    assert response.json() == {"username": "test_user"}
    response = await client.post("/logout")
    assert response.status_code == 200
    response = await client.get("/profile")
    assert response.status_code == 401
