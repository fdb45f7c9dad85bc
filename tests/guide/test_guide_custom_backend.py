"""Guide § Creating a Custom Authentication Backend."""

from __future__ import annotations

from typing import Any

import pytest
from dependency_injector import providers
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import auth_type, current_user, install
from nexios_auth_di.base import AuthenticationBackend, BaseUser, UnauthenticatedUser
from nexios_auth_di.decorator import permission_required
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.testing import make_test_container


class CustomUser(BaseUser):
    def __init__(self, id: int, username: str, is_admin: bool = False) -> None:
        self.id = id
        self.username = username
        self.is_admin = is_admin

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_display_name(self) -> str:
        return self.username

    def has_permission(self, permission: str) -> bool:
        # not in the guide's CustomUser: lets @permission_required("admin") read is_admin
        return permission == "admin" and self.is_admin


class CustomAuthBackend(AuthenticationBackend):
    """The guide's backend, verbatim apart from type hints."""

    async def authenticate(self, request: Any, response: Any) -> Any:
        custom_header = request.headers.get("X-Custom-Auth")
        if not custom_header:
            return UnauthenticatedUser()
        user = await self.validate_custom_auth(custom_header)
        if user:
            return user, "custom"
        return UnauthenticatedUser()

    async def validate_custom_auth(self, auth_header: str) -> CustomUser | None:
        if auth_header == "valid-token":
            return CustomUser(id=1, username="custom_user", is_admin=True)
        return None


class NoneReturningBackend(AuthenticationBackend):
    """docs/design.md §3 also allows ``None`` for "not me", and a bare user for "me"."""

    async def authenticate(self, request: Any, response: Any) -> Any:
        value = request.headers.get("X-Bare")
        return CustomUser(2, "bare") if value == "yes" else None


def guide_app(*backends: AuthenticationBackend) -> NexiosApp:
    app = NexiosApp()
    custom_backend = backends or (CustomAuthBackend(),)
    app.add_middleware(AuthenticationMiddleware(backends=list(custom_backend)))

    @app.get("/who")
    async def who(request: Any, response: Any) -> Any:
        u = request.user
        return {
            "user": u.get_display_name(),
            "authenticated": u.is_authenticated,
            "auth": request.scope["auth"],
        }

    @app.get("/admin")
    @permission_required("admin")
    async def admin(request: Any, response: Any) -> Any:
        return {"message": "Welcome to admin panel"}

    return app


def test_guide_form_single_backend_argument() -> None:
    """AuthenticationMiddleware(backend=CustomAuthBackend()) works as the guide writes it."""
    app = NexiosApp()
    app.add_middleware(AuthenticationMiddleware(backend=CustomAuthBackend()))

    @app.get("/who")
    async def who(request: Any, response: Any) -> Any:
        return {"auth": request.scope["auth"]}

    with TestClient(app) as c:
        r = c.get("/who", headers={"X-Custom-Auth": "valid-token"})
    assert r.json() == {"auth": "custom"}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Custom-Auth": "valid-token"}, {"user": "custom_user", "authenticated": True,
                                            "auth": "custom"}),
        ({"X-Custom-Auth": "forged"}, {"user": "Anonymous", "authenticated": False,
                                       "auth": None}),
        ({}, {"user": "Anonymous", "authenticated": False, "auth": None}),
    ],
)  # fmt: skip
def test_custom_backend_outcomes(headers: dict[str, str], expected: dict[str, Any]) -> None:
    """(user, "custom") authenticates; UnauthenticatedUser() leaves the request anonymous."""
    with TestClient(guide_app()) as c:
        r = c.get("/who", headers=headers)
    assert r.status_code == 200
    assert r.json() == expected


def test_custom_user_passes_permission_required() -> None:
    """The custom user reaches an admin route; a forged header gets 401, not 403."""
    with TestClient(guide_app()) as c:
        ok = c.get("/admin", headers={"X-Custom-Auth": "valid-token"})
        anon = c.get("/admin", headers={"X-Custom-Auth": "forged"})
    assert ok.status_code == 200
    assert ok.json() == {"message": "Welcome to admin panel"}
    assert anon.status_code == 401


def test_none_and_bare_user_returns_are_accepted() -> None:
    """A backend returning None falls through; a bare user is typed by the backend's name."""
    with TestClient(guide_app(NoneReturningBackend(), CustomAuthBackend())) as c:
        bare = c.get("/who", headers={"X-Bare": "yes"})
        through = c.get("/who", headers={"X-Custom-Auth": "valid-token"})
    assert bare.json() == {"user": "bare", "authenticated": True, "auth": "custom"}
    assert through.json()["user"] == "custom_user"


class CrashingBackend(AuthenticationBackend):
    async def authenticate(self, request: Any, response: Any) -> Any:
        raise RuntimeError("database is down")


def test_crashing_backend_is_not_a_login_and_not_a_500() -> None:
    """A backend bug is logged and treated as "not me": the next backend still runs."""
    with TestClient(guide_app(CrashingBackend(), CustomAuthBackend())) as c:
        r = c.get("/who", headers={"X-Custom-Auth": "valid-token"})
        anon = c.get("/who")
    assert r.status_code == 200
    assert r.json()["auth"] == "custom"
    assert anon.json()["authenticated"] is False


def test_container_form_custom_backend_via_provider_override() -> None:
    """Overriding container.backends puts the custom backend behind Depend(current_user)."""
    container = make_test_container({})
    container.backends.override(providers.Object([CustomAuthBackend()]))
    app = NexiosApp()
    install(app, container)

    @app.get("/me")
    async def me(
        request: Any, response: Any, user: Any = Depend(current_user), kind: Any = Depend(auth_type)
    ) -> Any:
        return {"user": user.username, "auth": kind}

    with TestClient(app) as c:
        ok = c.get("/me", headers={"X-Custom-Auth": "valid-token"})
        anon = c.get("/me")
    assert ok.json() == {"user": "custom_user", "auth": "custom"}
    assert anon.status_code == 401
    assert anon.json() == {"error": "not_authenticated", "detail": "Authentication required"}


@pytest.mark.parametrize("form", ["guide", "container"])
def test_custom_backend_401_carries_a_challenge(form: str) -> None:
    """A 401 produced behind a custom backend still carries a WWW-Authenticate header."""
    if form == "guide":
        app, path = guide_app(), "/admin"
    else:
        container = make_test_container({})
        container.backends.override(providers.Object([CustomAuthBackend()]))
        app, path = NexiosApp(), "/me"
        install(app, container)

        @app.get("/me")
        async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
            return {"user": user.username}

    with TestClient(app) as c:
        r = c.get(path)
    assert r.status_code == 401
    # RFC 9110 §15.5.2: every 401 names a scheme; custom backends get one from their name
    assert r.headers["www-authenticate"] == 'Custom realm="api"'
    assert r.json() == {"error": "not_authenticated", "detail": "Authentication required"}
