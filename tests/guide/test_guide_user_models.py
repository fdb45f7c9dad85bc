"""Guide § User Models: AuthenticatedUser, the role-based User, UnauthenticatedUser."""

from __future__ import annotations

from typing import Any

import pytest
from dependency_injector import providers
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import current_user, install
from nexios_auth_di.base import BaseUser, UnauthenticatedUser
from nexios_auth_di.decorator import login_required, permission_required
from nexios_auth_di.policies import Access, Policy
from nexios_auth_di.testing import make_test_container, override_user


class AuthenticatedUser(BaseUser):
    def __init__(
        self, id: Any, username: str, email: str, permissions: list[str] | None = None
    ) -> None:
        self.id = id
        self.username = username
        self.email = email
        self.permissions = permissions or []

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_display_name(self) -> str:
        return self.username

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions


class User(BaseUser):
    def __init__(
        self, id: Any, username: str, email: str, role: str, is_active: bool = True
    ) -> None:
        self.id = id
        self.username = username
        self.email = email
        self.role = role
        self.is_active = is_active

    @property
    def is_authenticated(self) -> bool:
        return self.is_active

    def get_display_name(self) -> str:
        return self.username

    def is_admin(self) -> bool:
        return self.role == "admin"

    def is_moderator(self) -> bool:
        return self.role in ["admin", "moderator"]

    def can_access_feature(self, feature: str) -> bool:
        feature_permissions = {
            "admin_panel": ["admin"],
            "user_management": ["admin", "moderator"],
            "content_creation": ["admin", "moderator", "user"],
        }
        return self.role in feature_permissions.get(feature, [])


def test_unauthenticated_user_matches_the_guide_and_is_truthy() -> None:
    """UnauthenticatedUser is not authenticated, shows "Anonymous", and is truthy for Nexios."""
    anon = UnauthenticatedUser()
    assert anon.is_authenticated is False
    assert anon.get_display_name() == "Anonymous"
    assert bool(anon) is True  # Nexios's request.user raises on a falsy scope user
    assert anon.has_permission("admin") is False


def app_with(container: Any) -> NexiosApp:
    app = NexiosApp()
    install(app, container)

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {
            "name": user.get_display_name(),
            "anon_name": UnauthenticatedUser().get_display_name(),
        }

    @app.get("/reports")
    @permission_required("reports")
    async def reports(request: Any, response: Any) -> Any:
        return {"ok": True}

    @app.get("/users")
    @permission_required("user_management")
    async def users(request: Any, response: Any) -> Any:
        return {"ok": True}

    @app.get("/anon")
    @login_required
    async def anon(request: Any, response: Any) -> Any:
        return {"ok": True}

    return app


@pytest.mark.parametrize(
    ("permissions", "status"), [(["reports"], 200), (["read"], 403), ([], 403)]
)
def test_authenticated_user_permissions_drive_permission_required(
    permissions: list[str], status: int
) -> None:
    """AuthenticatedUser.has_permission decides @permission_required: 200 or 403."""
    container = make_test_container({})
    user = AuthenticatedUser(1, "ann", "ann@example.com", permissions)
    with TestClient(app_with(container)) as c, override_user(container, user):
        r = c.get("/reports")
        me = c.get("/me")
    assert r.status_code == status
    assert me.json() == {"name": "ann", "anon_name": "Anonymous"}


def test_inactive_user_is_not_authenticated() -> None:
    """A User with is_active=False is treated as anonymous: 401, never a login."""
    container = make_test_container({"7": User(7, "gone", "g@example.com", "admin", False)})
    token = container.token_service().create_access_token("7")
    with TestClient(app_with(container)) as c:
        r = c.get("/anon", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


class RolePolicy(Policy):
    """Maps the guide's role-based User onto permission checks via can_access_feature."""

    def __init__(self, *features: str) -> None:
        self.features = features

    def allows(self, access: Access) -> bool:
        user = access.user
        return bool(user.is_authenticated) and any(
            getattr(user, "can_access_feature", lambda f: False)(f) for f in self.features
        )


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("moderator", 200), ("user", 403)])
def test_role_user_through_an_overridden_permission_policy(role: str, status: int) -> None:
    """Overriding container.permission_policy lets role methods decide @permission_required."""
    container = make_test_container({})
    container.permission_policy.override(providers.Factory(RolePolicy))
    user = User(1, "u", "u@example.com", role)
    assert user.is_moderator() is (role in ("admin", "moderator"))
    assert user.is_admin() is (role == "admin")
    with TestClient(app_with(container)) as c, override_user(container, user):
        r = c.get("/users")
    assert r.status_code == status
