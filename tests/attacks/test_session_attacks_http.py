"""Session-cookie and CSRF attacks over HTTP through ``install(app, container)``.

The container installs the server-side ``SessionMiddleware`` itself (``session.secret_key``
is configured), with the container's clock, so expiry is tested by moving a fake clock.
Session rows expect the generic 401 on a ``Depend(current_user)`` route; CSRF rows expect
403; control rows expect 200. Nothing may answer 5xx.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from dependency_injector import providers
from http_attack_support import CSRF_BODY, assert_refused, open_client
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient
from support import FakeClock

from nexios_auth_di import SimpleUser, current_user, install, require_scopes
from nexios_auth_di.container import AuthContainer
from nexios_auth_di.session import csrf_token, login, logout
from nexios_auth_di.testing import make_test_container

MAX_AGE = 3600
SESSION_SECRET = "attack-suite-session-secret-0123456789abcdef"
#: install() gives a Secure session cookie the __Host- prefix by default (cookie tossing)
COOKIE = "__Host-session"
COOKIE_B = COOKIE.encode()
USERS = {"alice": SimpleUser("alice", permissions=["read"])}


@dataclass
class Env:
    client: TestClient
    clock: FakeClock
    container: AuthContainer


def build_app(container: AuthContainer) -> NexiosApp:
    """Login/logout through the library helpers and a protected ``/me`` for GET and POST."""
    app = NexiosApp()

    @app.post("/login")
    async def do_login(request: Any, response: Any) -> Any:
        body = await request.json
        await login(request, body["user"])
        return {"csrf": csrf_token(request)}

    @app.post("/logout")
    async def do_logout(request: Any, response: Any) -> Any:
        await logout(request)
        return {}

    @app.get("/csrf")
    async def anonymous_csrf(request: Any, response: Any) -> Any:
        return {"csrf": csrf_token(request)}  # starts an anonymous session (sets a cookie)

    @app.route("/me", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @require_scopes("me:write")  # what an API key needs here (sessions and tokens: a login)
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id, "auth": request.scope["auth"]}

    install(app, container)
    return app


@pytest.fixture(scope="module")
def module_env() -> Iterator[Env]:
    """One app and client for the module; the clock is injected before anything is built."""
    clock = FakeClock()
    container = make_test_container(
        USERS,
        session={"secret_key": SESSION_SECRET, "max_age": MAX_AGE, "server_side": True},
    )
    container.clock.override(providers.Object(clock))
    with open_client(build_app(container)) as client:
        yield Env(client, clock, container)


@pytest.fixture
def env(module_env: Env) -> Env:
    """The module's client with an empty cookie jar: every row starts as a stranger."""
    module_env.client.cookies.clear()
    return module_env


# -- helpers -----------------------------------------------------------------------
def _login(e: Env) -> tuple[str, str]:
    """(session cookie value, CSRF token) of a fresh login."""
    response = e.client.post("/login", json={"user": "alice"})
    assert response.status_code == 200
    return str(e.client.cookies[COOKIE]), str(response.json()["csrf"])


def _send(
    e: Env, cookie: str | bytes | None, method: str = "GET", headers: dict[str, Any] | None = None
) -> Any:
    """Send exactly this cookie header (the jar is emptied first)."""
    e.client.cookies.clear()
    sent: dict[str, Any] = dict(headers or {})
    if cookie is not None:
        sent["cookie"] = cookie if isinstance(cookie, bytes) else f"{COOKIE}={cookie}"
    return e.client.request(method, "/me", headers=sent)


def _flip(value: str, index: int) -> str:
    return value[:index] + ("A" if value[index] != "A" else "B") + value[index + 1 :]


def _bearer(e: Env) -> str:
    token: str = e.container.token_service().create_access_token("alice")
    return token


def _api_key(e: Env) -> str:
    service = e.container.api_key_service()
    assert e.client.portal is not None
    key, _ = e.client.portal.call(functools.partial(service.create, "alice", scopes=["me:write"]))
    return str(key)


# -- session rows: anonymous afterwards (401) ---------------------------------------------
def tampered_signature(e: Env) -> Any:
    cookie, _ = _login(e)
    return _send(e, _flip(cookie, len(cookie) - 2))


def tampered_id(e: Env) -> Any:
    cookie, _ = _login(e)
    return _send(e, _flip(cookie, 3))


def unsigned_id(e: Env) -> Any:
    cookie, _ = _login(e)
    return _send(e, cookie.split(".")[0])


def expired(e: Env) -> Any:
    cookie, _ = _login(e)
    e.clock.advance(MAX_AGE + 1)
    return _send(e, cookie)


def replayed_after_logout(e: Env) -> Any:
    cookie, csrf = _login(e)
    out = e.client.post("/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    return _send(e, cookie)


def fixed_id_before_login(e: Env) -> Any:
    assert e.client.get("/csrf").status_code == 200  # attacker obtains an anonymous session
    planted = str(e.client.cookies[COOKIE])
    cookie, _ = _login(e)  # the victim logs in carrying the planted cookie
    assert cookie != planted
    assert _send(e, cookie).status_code == 200  # the new id works...
    return _send(e, planted)  # ...the planted one does not


def duplicate_cookie(e: Env) -> Any:
    cookie, _ = _login(e)
    return _send(e, f"{COOKIE}={cookie}; {COOKIE}={cookie}".encode())


def tossed_plain_cookie(e: Env) -> Any:
    """A sibling subdomain tosses a plain ``session`` cookie holding the attacker's own
    logged-in session next to the victim's: the plain name is never read."""
    attacker, _ = _login(e)
    return _send(e, f"session={attacker}".encode())


def _raw(header: bytes) -> Callable[[Env], Any]:
    def attack(e: Env) -> Any:
        _login(e)
        return _send(e, header)

    return attack


V721 = "OWASP ASVS 5.0 V7.2.1 (session token verified by the backend)"
SESSION_ROWS: list[tuple[str, str, Callable[[Env], Any]]] = [
    ("tampered signature", V721, tampered_signature),
    ("tampered id", V721, tampered_id),
    ("unsigned id", V721 + "; CWE-565 cookie trusted without validation", unsigned_id),
    ("expired cookie", "OWASP ASVS 5.0 V7.3.1 (inactivity timeout)", expired),
    ("replayed after logout", "OWASP ASVS 5.0 V7.4.1 (logout invalidates server-side)",
     replayed_after_logout),
    ("fixed session id before login", "OWASP ASVS 5.0 V7.2.4 / CWE-384 (new id at login)",
     fixed_id_before_login),
    ("duplicate cookie names", "RFC 6265bis §8.5 (cookie tossing)", duplicate_cookie),
    ("tossed cookie without __Host-", "RFC 6265bis §4.1.3.2 (__Host- prefix)",
     tossed_plain_cookie),
    ("garbage value", "RFC 6265bis §5.4 (parse defensively)", _raw(COOKIE_B + b"=%%%$$")),
    ("empty value", "RFC 6265bis §5.4 (parse defensively)", _raw(COOKIE_B + b"=")),
    ("malformed header", "RFC 6265bis §5.4 (parse defensively)", _raw(b";;==;=a;")),
    ("100 KB value", "RFC 6265bis §6.1 (4096-byte cookie limit)",
     _raw(COOKIE_B + b"=" + b"A" * 100_000)),
    ("non-ASCII and NUL bytes", "RFC 6265bis §5.4 (cookie-octet)",
     _raw(COOKIE_B + b"=\xff\xfe\x00abc")),
]  # fmt: skip


@pytest.mark.parametrize(("name", "rule", "attack"), SESSION_ROWS, ids=[r[0] for r in SESSION_ROWS])
def test_session_attack_is_anonymous(
    env: Env, name: str, rule: str, attack: Callable[[Env], Any]
) -> None:
    """A tampered, expired, replayed or planted cookie gets the generic 401, never a 5xx."""
    assert_refused(attack(env), rule)


# -- CSRF rows: the session is valid, the unsafe request is not (403) ----------------------
def _post(e: Env, header_for: Callable[[str, Env], dict[str, Any]]) -> Any:
    cookie, csrf = _login(e)
    return _send(e, cookie, "POST", header_for(csrf, e))


def token_from_other_session(e: Env) -> Any:
    cookie, _ = _login(e)
    e.client.cookies.clear()
    _, stolen = _login(e)  # the attacker's own session
    return _send(e, cookie, "POST", {"X-CSRF-Token": stolen})


def pre_login_token(e: Env) -> Any:
    before = e.client.get("/csrf").json()["csrf"]
    cookie, after = _login(e)
    assert before != after
    return _send(e, cookie, "POST", {"X-CSRF-Token": before})


CSRF = "OWASP CSRF cheat sheet: synchronizer token pattern"
CSRF_ROWS: list[tuple[str, str, Callable[[Env], Any]]] = [
    ("missing token", CSRF, lambda e: _post(e, lambda t, _: {})),
    ("wrong token", CSRF, lambda e: _post(e, lambda t, _: {"X-CSRF-Token": t[::-1]})),
    ("empty token", CSRF, lambda e: _post(e, lambda t, _: {"X-CSRF-Token": ""})),
    ("token with suffix", CSRF + " (exact comparison)",
     lambda e: _post(e, lambda t, _: {"X-CSRF-Token": t + "x"})),
    ("token in a cookie-like header", CSRF + " (custom request header)",
     lambda e: _post(e, lambda t, _: {"X-XSRF-Token": t})),
    ("non-ASCII token", CSRF, lambda e: _post(e, lambda t, _: {"X-CSRF-Token": "é".encode()})),
    ("token from another session", CSRF + " (token bound to the session)",
     token_from_other_session),
    ("token from before login", CSRF + " (rotated at login); ASVS 5.0 V7.2.4", pre_login_token),
]  # fmt: skip


@pytest.mark.parametrize(("name", "rule", "attack"), CSRF_ROWS, ids=[r[0] for r in CSRF_ROWS])
def test_csrf_attack_is_forbidden(
    env: Env, name: str, rule: str, attack: Callable[[Env], Any]
) -> None:
    """An unsafe cookie-authenticated request without the session's token gets a 403."""
    response = attack(env)
    assert response.status_code == 403, (rule, response.status_code, response.text[:200])
    assert response.json() == CSRF_BODY, rule


def test_duplicate_csrf_headers_are_forbidden(env: Env) -> None:
    """RFC 9110 §5.3: two X-CSRF-Token headers (even both right) are ambiguous: 403."""
    cookie, csrf = _login(env)
    env.client.cookies.clear()
    response = env.client.post(
        "/me",
        headers=[("cookie", f"{COOKIE}={cookie}"), ("X-CSRF-Token", csrf), ("X-CSRF-Token", csrf)],
    )
    assert response.status_code == 403
    assert response.json() == CSRF_BODY


# -- control rows: what must keep working -------------------------------------------------
CONTROL_ROWS: list[tuple[str, str, Callable[[Env], Any], str]] = [
    ("session GET", "control row: a valid session authenticates a safe request",
     lambda e: _send(e, _login(e)[0]), "session"),
    ("session POST with token", "control row: OWASP CSRF cheat sheet, the right token passes",
     lambda e: _post(e, lambda t, _: {"X-CSRF-Token": t}), "session"),
    ("session DELETE, lower-case header", "RFC 9110 §5.1: field names are case-insensitive",
     lambda e: _send(e, *_cookie_and(e, "DELETE", "x-csrf-token")), "session"),
    ("bearer POST without token", "OWASP CSRF cheat sheet: browsers never attach bearer tokens",
     lambda e: _send(e, None, "POST", {"Authorization": f"Bearer {_bearer(e)}"}), "jwt"),
    ("bearer POST beside a session cookie", "the bearer token, not the cookie, authenticates",
     lambda e: _send(e, _login(e)[0], "POST", {"Authorization": f"Bearer {_bearer(e)}"}), "jwt"),
    ("API-key POST without token", "OWASP CSRF cheat sheet: browsers never attach API keys",
     lambda e: _send(e, None, "POST", {"X-API-Key": _api_key(e)}), "api_key"),
]  # fmt: skip


def _cookie_and(e: Env, method: str, header: str) -> tuple[str, str, dict[str, str]]:
    cookie, csrf = _login(e)
    return cookie, method, {header: csrf}


@pytest.mark.parametrize(
    ("name", "rule", "request_for", "auth"), CONTROL_ROWS, ids=[r[0] for r in CONTROL_ROWS]
)
def test_control_rows_pass(
    env: Env, name: str, rule: str, request_for: Callable[[Env], Any], auth: str
) -> None:
    """Legitimate requests pass, so the attack rows above can fail."""
    response = request_for(env)
    assert response.status_code == 200, (rule, response.status_code, response.text[:200])
    assert response.json() == {"user": "alice", "auth": auth}


def test_anonymous_post_is_401_not_403(env: Env) -> None:
    """With no session at all an unsafe request is simply unauthenticated: 401."""
    assert_refused(_send(env, None, "POST"), "no credential")


def test_tossed_cookie_does_not_keep_the_victim_anonymous(env: Env) -> None:
    """RFC 6265bis §4.1.3.2: with a plain ``session`` cookie tossed in from a sibling
    subdomain, the victim who logs in is still authenticated as themselves."""
    env.client.get("/csrf")
    tossed = str(env.client.cookies[COOKIE])
    env.client.cookies.clear()
    env.client.cookies.set("session", tossed, domain="testserver")
    response = env.client.post("/login", json={"user": "alice"})
    assert response.status_code == 200
    me = env.client.get("/me")
    assert me.status_code == 200
    assert me.json()["user"] == "alice"
