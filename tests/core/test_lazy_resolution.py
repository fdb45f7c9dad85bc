"""Lazy, once-per-request resolution of the caller (docs/design.md §4, issue 2 item 5)."""

from __future__ import annotations

from typing import Any

import pytest
from nexios.dependencies import Depend

from nexios_auth_di import (
    ConfigurationError,
    current_user,
    login_required,
    optional_user,
    permission_required,
)
from nexios_auth_di.dependencies import auth_type
from nexios_auth_di.request_auth import PendingUser, RequestAuth


async def user_name(user: Any = Depend(current_user)) -> str:
    """A nested dependency that itself asks for the user."""
    return str(user.id)


def test_route_that_does_not_ask_never_calls_the_loader(app, client, loader, bearer):
    """A public route with a valid token must not verify it or load anyone."""

    @app.get("/public")
    async def public(request, response):
        return {"ok": True}

    for _ in range(3):
        assert client.get("/public", headers=bearer("alice")).json() == {"ok": True}
    assert loader.calls == []


def test_loader_runs_once_however_many_dependencies_ask(app, client, loader, bearer):
    """current_user twice, a nested Depend, optional_user, auth_type and two decorators
    still load the user exactly once per request."""

    @app.get("/many")
    @permission_required("read")
    @login_required
    async def many(
        request,
        response,
        a: Any = Depend(current_user),
        b: Any = Depend(current_user),
        name: str = Depend(user_name),
        maybe: Any = Depend(optional_user),
        kind: Any = Depend(auth_type),
    ):
        assert a is b is maybe
        return {"name": name, "kind": kind, "via_request": request.user.id}

    body = client.get("/many", headers=bearer("alice")).json()
    assert body == {"name": "alice", "kind": "jwt", "via_request": "alice"}
    assert loader.calls == ["alice"]
    client.get("/many", headers=bearer("bob"))
    assert loader.calls == ["alice", "bob"]


def test_current_user_is_401_and_optional_user_is_none_when_anonymous(app, client, loader):
    """Anonymous callers get a 401 with a challenge from current_user and None from
    optional_user, and the loader is never called."""

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    @app.get("/maybe")
    async def maybe(request, response, user: Any = Depend(optional_user)):
        return {"user": None if user is None else user.id}

    r = client.get("/me")
    assert r.status_code == 401
    assert r.json() == {"error": "not_authenticated", "detail": "Authentication required"}
    assert r.headers["www-authenticate"].startswith('Bearer realm="api"')
    assert client.get("/maybe").json() == {"user": None}
    assert loader.calls == []


def test_unknown_user_is_401_not_500(app, client, loader, bearer):
    """A valid token for an identity the loader doesn't know is a plain 401."""

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    r = client.get("/me", headers=bearer("ghost"))
    assert r.status_code == 401
    assert loader.calls == ["ghost"]


def test_request_user_without_credentials_is_anonymous_in_lazy_mode(app, client):
    """With no credential sent, request.user reads as anonymous without resolving."""

    @app.get("/who")
    async def who(request, response):
        return {"auth": request.user.is_authenticated, "name": request.user.get_display_name()}

    assert client.get("/who").json() == {"auth": False, "name": "Anonymous"}


def test_request_user_with_unresolved_credentials_refuses_to_guess():
    """In lazy mode an unresolved request.user with a credential raises a clear error
    instead of silently claiming the caller is anonymous."""

    class Auth:
        def credentials_present(self, scope: Any) -> bool:
            return True

    state = RequestAuth({"type": "http", "headers": []}, lambda: Auth())  # type: ignore[arg-type,return-value]
    pending = PendingUser(state)
    assert bool(pending) is True  # Nexios's request.user rejects falsy users
    with pytest.raises(ConfigurationError, match="Depend\\(current_user\\)"):
        _ = pending.is_authenticated
    with pytest.raises(ConfigurationError):
        _ = pending.id


def test_request_user_is_the_real_user_once_resolved(app, client, bearer):
    """After a decorator resolved the caller, request.user is that user, as the guide shows."""

    @app.get("/profile")
    @login_required
    async def profile(request, response):
        return {"id": request.user.id, "auth": request.scope["auth"]}

    assert client.get("/profile", headers=bearer("bob")).json() == {"id": "bob", "auth": "jwt"}
