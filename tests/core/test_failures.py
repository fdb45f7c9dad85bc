"""Backends that fail, and malformed credentials: never a 500, never a silent login."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import AuthenticationBackend, SimpleUser, current_user, install
from nexios_auth_di.exceptions import StoreUnavailable
from nexios_auth_di.middleware import AuthenticationMiddleware


class Exploding(AuthenticationBackend):
    name = "exploding"

    async def authenticate(self, request: Any, response: Any) -> Any:
        raise RuntimeError("backend bug")


class HeaderUser(AuthenticationBackend):
    """Authenticates whoever names themselves in X-User (test-only backend)."""

    name = "header"

    async def authenticate(self, request: Any, response: Any) -> Any:
        who = request.headers.get("x-user")
        return (SimpleUser(who), "header") if who else None


class StoreDown(AuthenticationBackend):
    name = "store-down"

    async def authenticate(self, request: Any, response: Any) -> Any:
        raise StoreUnavailable("test outage")


def guide_app(*backends: AuthenticationBackend) -> NexiosApp:
    app = NexiosApp()
    app.add_middleware(AuthenticationMiddleware(backends=list(backends)))

    @app.get("/who")
    async def who(request, response):
        user = request.user
        return {"auth": request.scope["auth"], "user": getattr(user, "id", None)}

    return app


def test_raising_backend_is_logged_and_skipped(caplog):
    """A backend that crashes is logged and the next backend still gets its turn."""
    app = guide_app(Exploding(), HeaderUser())
    with caplog.at_level(logging.ERROR, logger="nexios_auth_di"), TestClient(app) as c:
        r = c.get("/who", headers={"X-User": "amy"})
    assert r.status_code == 200
    assert r.json() == {"auth": "header", "user": "amy"}
    assert "Exploding raised" in caplog.text


def test_raising_backend_alone_means_anonymous_not_500():
    """With only a crashing backend the caller is anonymous, not an error and not a user."""
    with TestClient(guide_app(Exploding())) as c:
        r = c.get("/who")
    assert r.status_code == 200
    assert r.json() == {"auth": None, "user": None}


def test_store_outage_fails_closed_with_503_in_guide_form():
    """A store outage in the guide-form middleware is a 503 JSON answer, not a 500 and
    not an anonymous pass."""
    with TestClient(guide_app(StoreDown(), HeaderUser())) as c:
        r = c.get("/who", headers={"X-User": "amy"})
    assert r.status_code == 503
    assert r.json()["error"] == "store_unavailable"
    assert r.headers["retry-after"] == "1"


def test_store_outage_fails_closed_with_503_in_container_form(container):
    """Through install(), a store outage surfaces as a 503 on routes that need the user."""
    from dependency_injector import providers

    container.backends.override(providers.Object([StoreDown()]))
    app = NexiosApp()
    install(app, container)

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    with TestClient(app) as c:
        r = c.get("/me")
    assert r.status_code == 503
    assert "Traceback" not in r.text


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"Authorization": "Bearer"}, 401, id="bearer-without-token"),
        pytest.param({"Authorization": "Bearer    "}, 401, id="bearer-whitespace"),
        pytest.param({"Authorization": "Bearer a.b"}, 401, id="two-segments"),
        pytest.param({"Authorization": "Bearer " + "a" * 20000}, 401, id="oversized-20k"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, 401, id="other-scheme"),
        pytest.param({"Authorization": b"Bearer \xe9\xe9.\xe9.\xe9"}, 401, id="latin1-bytes"),
        pytest.param({"Authorization": b"Bearer a\x00b.c.d"}, 401, id="nul-byte"),
        pytest.param({"X-API-Key": ""}, 401, id="empty-api-key"),
        pytest.param({"X-API-Key": "x" * 100_000}, 401, id="api-key-100kb"),
        pytest.param({"X-API-Key": "nxa_bad"}, 401, id="api-key-garbage"),
        pytest.param({"Cookie": "session=garbage!!"}, 401, id="garbage-session-cookie"),
        pytest.param({"Cookie": "session=" + "x" * 8000}, 401, id="huge-cookie"),
    ],
)
def test_malformed_credentials_get_4xx_never_5xx(app, client, headers, status):
    """Every malformed header or cookie is a 4xx with a generic body."""

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    r = client.get("/me", headers=headers)
    assert r.status_code == status
    assert r.json() == {"error": "not_authenticated", "detail": "Authentication required"}


def test_duplicate_authorization_headers_are_refused(app, client, bearer):
    """Two Authorization headers are ambiguous: 400, even when one is valid."""

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    token = bearer("alice")["Authorization"]
    r = client.get("/me", headers=[("Authorization", token), ("Authorization", token)])
    assert r.status_code == 400
    assert r.json()["error"] == "bad_request"


def test_expired_and_forged_tokens_get_identical_answers(app, client, container):
    """Expired and forged tokens are indistinguishable from the outside."""
    import jwt as pyjwt

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    svc = container.token_service()
    good = svc.create_access_token("alice")
    claims = pyjwt.decode(good, options={"verify_signature": False})
    claims["exp"] = claims["iat"] - 10
    secret = container.config.jwt.secret_key()
    header = pyjwt.get_unverified_header(good)
    expired = pyjwt.encode(claims, secret, algorithm="HS256", headers={"kid": header["kid"]})
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    a = client.get("/me", headers={"Authorization": f"Bearer {expired}"})
    b = client.get("/me", headers={"Authorization": f"Bearer {forged}"})
    assert a.status_code == b.status_code == 401
    assert a.content == b.content
    assert a.headers["www-authenticate"] == b.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        pytest.param(StoreUnavailable("users db down"), 503, id="store-unavailable-is-503"),
        pytest.param(RuntimeError("loader bug"), 401, id="crash-is-not-authenticated"),
    ],
)
def test_loader_failures_fail_closed(app, client, container, bearer, error, status):
    """A loader that raises never lets the caller in: its outage is a 503 when it says
    so with StoreUnavailable, any other crash is a plain 401; never a 500."""

    def failing_loader(identity: Any) -> Any:
        raise error

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    container.user_loader.override(failing_loader)
    r = client.get("/me", headers=bearer("alice"))
    assert r.status_code == status
    assert "loader" not in r.text
