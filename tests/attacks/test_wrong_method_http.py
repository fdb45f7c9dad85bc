"""An anonymous request with a method the route does not allow must not break the route.

Nexios 3.12.3 ``Route.handle`` (nexios/routing/router.py:383-388) *assigns* its 405
response to ``self.app`` when the method is not allowed, so every later request to that
route, with any method and any credential, gets the 405: one unauthenticated OPTIONS
or POST disables a protected route for everyone (CWE-400 / OWASP API4:2023). ``install()``
and the guide-form middleware mend it (``compat.fix_method_not_allowed``); a bare Nexios
app stays a strict xfail, so the day Nexios fixes it this file says so.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import jwt
import pytest
from http_attack_support import open_client
from nexios import NexiosApp
from nexios.dependencies import Depend
from support.attack_cases import b64

from nexios_auth_di import SimpleUser, current_user, install, login_required
from nexios_auth_di.backends.jwt import JWTAuthBackend
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.testing import make_test_container

SECRET = secrets.token_urlsafe(48)
USERS = {"alice": SimpleUser("alice")}
NEXIOS_405 = (
    "nexios/routing/router.py:383-388 (Nexios 3.12.3 Route.handle): a disallowed method "
    "overwrites route.app with a 405 JSONResponse, so every later request to the route "
    "gets 405; it should answer only that request with 405"
)


def _app(form: str) -> tuple[NexiosApp, str]:
    """A GET-only protected route in the guide, container or bare form, and a token."""
    app = NexiosApp()

    @app.get("/me")
    @login_required
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id}

    if form == "bare":
        token = jwt.encode({"sub": "alice", "exp": 2**40}, SECRET, algorithm="HS256")
        return app, token
    if form == "guide":
        backend = JWTAuthBackend(secret_key=SECRET, algorithm="HS256", authenticate_func=USERS.get)
        app.add_middleware(AuthenticationMiddleware(backend=backend))
        return app, jwt.encode({"sub": "alice", "exp": 2**40}, SECRET, algorithm="HS256")
    container = make_test_container(USERS, jwt={"secret_key": SECRET})
    install(app, container)
    return app, container.token_service().create_access_token("alice")


class RouteDisabled(AssertionError):
    """The route answered differently after the attacker's request: the Nexios bug."""


def _forged(token: str) -> str:
    """The same header and claims, signed with a key the server does not hold."""
    head, payload, _sig = token.split(".")
    sig = hmac.new(secrets.token_bytes(48), f"{head}.{payload}".encode(), hashlib.sha256)
    return f"{head}.{payload}.{b64(sig.digest())}"


def _controls(client: Any, form: str, token: str) -> list[tuple[str, int]]:
    """Each control row and its status: exactly 401 without or with a forged credential,
    exactly 200 (and the caller) with the honest token. A bare app has no authentication,
    so it has only the anonymous row."""
    rows = [("anonymous", client.get("/me").status_code)]
    if form == "bare":
        return rows
    rows.append(("forged", client.get("/me", headers=_bearer(_forged(token))).status_code))
    honest = client.get("/me", headers=_bearer(token))
    rows.append(("honest", honest.status_code))
    if honest.status_code == 200:
        assert honest.json() == {"user": "alice"}
    return rows


def _expected(form: str) -> list[tuple[str, int]]:
    if form == "bare":
        return [("anonymous", 401)]
    return [("anonymous", 401), ("forged", 401), ("honest", 200)]


def _attack(form: str, method: str) -> None:
    app, token = _app(form)
    with open_client(app) as client:
        assert _controls(client, form, token) == _expected(form)
        attack = client.request(method, "/me")  # the attacker's request
        assert attack.status_code == 405
        assert "GET" in attack.headers["allow"]
        after = _controls(client, form, token)
        if after != _expected(form):
            raise RouteDisabled(f"after one {method}: {after}")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("method", ["OPTIONS", "POST", "DELETE"])
@pytest.mark.parametrize("form", ["guide", "container"])
def test_wrong_method_does_not_disable_the_route(form: str, method: str) -> None:
    """CWE-400: one anonymous wrong-method request must not turn the route into a 405."""
    _attack(form, method)


@pytest.mark.xfail(strict=True, raises=RouteDisabled, reason=NEXIOS_405)
@pytest.mark.parametrize("method", ["OPTIONS", "POST"])
def test_bare_nexios_still_has_the_bug(method: str) -> None:
    """Upstream marker: a bare Nexios 3.12 route is still disabled by one wrong method."""
    _attack("bare", method)
