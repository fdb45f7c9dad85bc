"""``jwt.transport: cookie | both``: tokens in HttpOnly cookies for single-page apps, with
the signed double-submit CSRF defence, through the ready-made routes of a real app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from route_helpers import PASSWORD, Env, bearer

from nexios_auth_di.testing import TESTING_CONFIG

ACCESS, REFRESH, CSRF = "__Host-access_token", "__Secure-refresh_token", "__Host-csrf_token"


def _jwt(**extra: Any) -> dict[str, Any]:
    return {**TESTING_CONFIG["jwt"], **extra}


@pytest.fixture
def spa(make_env: Callable[..., Env]) -> Env:
    """An app whose tokens travel only in cookies."""
    env = make_env(login_mode="tokens", jwt=_jwt(transport="cookie"))
    env.register()
    return env


def _login(env: Env) -> httpx.Response:
    env.client.cookies.clear()
    response = env.client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response


def _cookies(response: httpx.Response) -> dict[str, str]:
    return {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}


def test_cookie_login_sets_three_cookies_and_no_token_in_the_body(spa: Env) -> None:
    """The body carries no token a script could read; the cookies carry the right flags."""
    response = _login(spa)
    body = response.json()
    assert "access_token" not in body
    assert "refresh_token" not in body
    assert set(body) >= {"csrf_token", "expires_in"}
    cookies = _cookies(response)
    assert set(cookies) == {ACCESS, REFRESH, CSRF}
    assert "HttpOnly" in cookies[ACCESS]
    assert "Path=/;" in cookies[ACCESS] + ";"
    assert "Path=/auth/refresh" in cookies[REFRESH]
    assert "HttpOnly" in cookies[REFRESH]
    assert "HttpOnly" not in cookies[CSRF]  # the page's own script reads it
    for line in cookies.values():
        assert "Secure" in line
        assert "SameSite=Lax" in line
    assert body["csrf_token"] == spa.client.cookies.get(CSRF)


def test_cookie_authenticates_safe_requests(spa: Env) -> None:
    """A GET with only the cookies is authenticated (no Authorization header needed)."""
    _login(spa)
    assert spa.client.get("/me").status_code == 200


def test_unsafe_request_with_the_csrf_header_passes(spa: Env) -> None:
    """Logout by cookie works when the page echoes its CSRF value, and clears the cookies."""
    csrf = _login(spa).json()["csrf_token"]
    out = spa.client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert all("Max-Age=0" in line for line in _cookies(out).values())
    assert spa.client.get("/me").status_code == 401


def _other_login_csrf(env: Env) -> str:
    """A valid CSRF value of another login (what a cookie-tossing attacker could hold)."""
    other = env.client.__class__(env.client.app, base_url="https://testserver")
    with other:
        body = {"username": "alice", "password": PASSWORD}
        value: str = other.post("/auth/login", json=body).json()["csrf_token"]
    return value


CSRF_ATTACKS = [
    pytest.param("none", id="cross-site-post-without-header-OWASP-CSRF-double-submit"),
    pytest.param("wrong", id="header-not-equal-to-cookie"),
    pytest.param("tossed", id="cookie-tossing-value-of-another-login-signed-double-submit"),
    pytest.param("unsigned", id="attacker-chosen-value-in-cookie-and-header"),
    pytest.param("twice", id="two-csrf-headers-ambiguous"),
]


@pytest.mark.parametrize("attack", CSRF_ATTACKS)
def test_cookie_authenticated_unsafe_request_without_a_good_csrf_value_is_refused(
    spa: Env, attack: str
) -> None:
    """A forged unsafe request gets 403 and leaves the login alive."""
    csrf = _login(spa).json()["csrf_token"]
    client = spa.client
    headers: Any = {}
    if attack == "wrong":
        headers = {"X-CSRF-Token": csrf[:-2] + "xx"}
    elif attack in ("tossed", "unsigned"):
        planted = _other_login_csrf(spa) if attack == "tossed" else "chosen.value"
        client.cookies.set(CSRF, planted, domain="testserver.local", path="/")
        headers = {"X-CSRF-Token": planted}
    elif attack == "twice":
        headers = [("X-CSRF-Token", csrf), ("X-CSRF-Token", csrf)]
    response = client.post("/auth/logout", headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_failed"
    if attack in ("tossed", "unsigned"):
        client.cookies.set(CSRF, csrf, domain="testserver.local", path="/")
    assert client.get("/me").status_code == 200


def test_token_taken_from_the_cookie_is_dead_as_a_header_after_logout(spa: Env) -> None:
    """A thief who copied the access cookie cannot replay it as a bearer token after logout."""
    csrf = _login(spa).json()["csrf_token"]
    stolen = spa.client.cookies.get(ACCESS)
    assert stolen
    assert spa.client.post("/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    spa.client.cookies.clear()
    assert spa.client.get("/me", headers=bearer(stolen)).status_code == 401


def test_header_transport_is_off_in_cookie_mode(spa: Env) -> None:
    """With transport cookie only, an Authorization header is not a way in."""
    _login(spa)
    token = spa.client.cookies.get(ACCESS)
    spa.client.cookies.clear()
    assert spa.client.get("/me", headers=bearer(str(token))).status_code == 401


def test_refresh_cookie_goes_to_the_refresh_path_only(spa: Env) -> None:
    """The browser never sends the refresh cookie elsewhere, and it is no access token."""
    _login(spa)
    seen: list[str] = []
    spa.client.event_hooks["request"] = [lambda r: seen.append(r.headers.get("cookie", ""))]
    spa.client.get("/me")
    assert REFRESH not in seen[-1]
    refresh = spa.client.cookies.get(REFRESH)
    spa.client.cookies.set(ACCESS, str(refresh), domain="testserver.local", path="/")
    assert spa.client.get("/me").status_code == 401  # typ: refresh is not access


def test_refresh_by_cookie_rotates_and_needs_csrf(spa: Env) -> None:
    """Refresh takes the cookie (with CSRF), sets new cookies; the old one is then reused."""
    csrf = _login(spa).json()["csrf_token"]
    old = spa.client.cookies.get(REFRESH)
    assert spa.client.post("/auth/refresh").status_code == 403
    rotated = spa.client.post("/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert rotated.status_code == 200, rotated.text
    assert "refresh_token" not in rotated.json()
    assert set(_cookies(rotated)) == {ACCESS, REFRESH, CSRF}
    new_csrf = rotated.json()["csrf_token"]
    assert spa.client.get("/me").status_code == 200
    spa.client.cookies.set(REFRESH, str(old), domain="testserver.local", path="/auth/refresh")
    replay = spa.client.post("/auth/refresh", headers={"X-CSRF-Token": new_csrf})
    assert replay.status_code in (401, 403)


def test_both_transports_send_tokens_in_body_and_cookies(make_env: Callable[..., Env]) -> None:
    """``both``: a mobile client reads the body, a browser keeps the cookies."""
    env = make_env(login_mode="tokens", jwt=_jwt(transport="both"))
    env.register()
    response = _login(env)
    body = response.json()
    assert {"access_token", "refresh_token", "csrf_token"} <= set(body)
    assert set(_cookies(response)) == {ACCESS, REFRESH, CSRF}
    env.client.cookies.clear()
    assert env.client.get("/me", headers=bearer(body["access_token"])).status_code == 200


def test_default_header_transport_ignores_cookies(make_env: Callable[..., Env]) -> None:
    """Without ``jwt.transport`` no cookie is set and a token in a cookie is not read."""
    env = make_env(login_mode="tokens")
    env.register()
    response = _login(env)
    assert _cookies(response) == {}
    env.client.cookies.set(ACCESS, response.json()["access_token"], domain="testserver.local")
    assert env.client.get("/me").status_code == 401


async def test_fifty_parallel_cookie_refreshes_have_one_winner(spa: Env) -> None:
    """One refresh cookie spent 50 times at once: exactly one new pair (rotation holds)."""
    csrf = _login(spa).json()["csrf_token"]
    jar = dict(spa.client.cookies.items())
    transport = httpx.ASGITransport(spa.client.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        headers = {"X-CSRF-Token": csrf, "Cookie": f"{REFRESH}={jar[REFRESH]}; {CSRF}={csrf}"}
        results = await asyncio.gather(
            *(client.post("/auth/refresh", headers=headers) for _ in range(50))
        )
    assert sorted(r.status_code for r in results) == [200] + [401] * 49
