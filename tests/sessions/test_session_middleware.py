"""SessionMiddleware through real Nexios, in both install forms and both storage modes."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import pytest
from nexios.testclient import TestClient
from session_helpers import FORMS, MODES, SECRET, parse_set_cookie
from support import FakeClock

from nexios_auth_di.exceptions import ConfigurationError, StoreUnavailable
from nexios_auth_di.session import Session, SessionMiddleware
from nexios_auth_di.stores.memory import MemoryRevocationStore, MemorySessionStore

Make = Callable[..., TestClient]
both_forms = pytest.mark.parametrize("form", FORMS)
both_modes = pytest.mark.parametrize("mode", MODES)


def set_cookies(response: Any) -> list[str]:
    return list(response.headers.get_list("set-cookie"))


@both_forms
@both_modes
def test_guide_login_and_logout(client_for: Make, form: str, mode: str) -> None:
    """The guide's handlers work as written: assign user_id, then session.clear()."""
    c = client_for(form, mode)
    assert c.get("/me").json() == {}
    r = c.post("/login", json={"user_id": 7})
    assert r.status_code == 200
    assert len(set_cookies(r)) == 1
    assert c.get("/me").json() == {"user_id": 7}
    r = c.post("/logout")
    name, value, attrs = parse_set_cookie(set_cookies(r)[0])
    assert (name, value, attrs["max-age"]) == ("session", "", "0")
    assert c.get("/me").json() == {}


@both_forms
@both_modes
def test_unchanged_session_sends_no_cookie(client_for: Make, form: str, mode: str) -> None:
    """Reading a session costs no Set-Cookie (and no store write)."""
    c = client_for(form, mode)
    c.post("/login", json={"user_id": 1})
    assert set_cookies(c.get("/me")) == []
    assert set_cookies(c.get("/me")) == []


@both_forms
@both_modes
def test_rolling_reissues_every_time(
    client_for: Make, clock: FakeClock, form: str, mode: str
) -> None:
    """rolling=True slides the expiry on every request that has a session."""
    c = client_for(form, mode, rolling=True, max_age=100)
    c.post("/login", json={"user_id": 1})
    for _ in range(3):
        clock.now += 60  # each step is within max_age of the previous one
        r = c.get("/me")
        assert r.json() == {"user_id": 1}
        assert len(set_cookies(r)) == 1


CONFIGS = [
    {},
    {"max_age": 120, "secure": False, "httponly": False, "samesite": "lax", "path": "/app"},
    {"samesite": "none", "domain": "example.com", "cookie_name": "sid"},
    {"samesite": None, "max_age": 5},
    {"host_prefix": True, "cookie_name": "s"},
]


@both_forms
@pytest.mark.parametrize("config", CONFIGS)
def test_every_cookie_attribute_is_honoured(
    client_for: Make, clock: FakeClock, form: str, config: dict[str, Any]
) -> None:
    """Each argument ends up in Set-Cookie (OWASP ASVS 5.0 V3.3 cookie setup)."""
    c = client_for(form, **config)
    name, value, attrs = parse_set_cookie(set_cookies(c.post("/login", json={"user_id": 1}))[0])
    max_age = config.get("max_age", 3600)
    prefix = "__Host-" if config.get("host_prefix") else ""
    assert name == prefix + config.get("cookie_name", "session")
    assert value
    assert attrs["max-age"] == str(max_age)
    assert attrs["expires"] == formatdate(clock.now + max_age, usegmt=True)
    assert attrs["path"] == config.get("path", "/")
    assert attrs.get("domain") == config.get("domain")
    assert ("secure" in attrs) is config.get("secure", True)
    assert ("httponly" in attrs) is config.get("httponly", True)
    samesite = config.get("samesite", "lax")
    assert attrs.get("samesite") == (samesite.capitalize() if samesite else None)


@both_forms
def test_host_prefixed_cookie_round_trips(client_for: Make, form: str) -> None:
    """A __Host- cookie is read back under its prefixed name (RFC 6265bis 4.1.3.2)."""
    c = client_for(form, "server", host_prefix=True)
    c.post("/login", json={"user_id": 3})
    assert "__Host-session" in c.cookies
    assert c.get("/me").json() == {"user_id": 3}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret_key": "short"},
        {"secret_key": ["s" * 32, "short"]},
        {"secret_key": []},
        {"host_prefix": True, "secure": False},
        {"host_prefix": True, "path": "/app"},
        {"host_prefix": True, "domain": "example.com"},
        {"samesite": "none", "secure": False},
        {"samesite": "sometimes"},
        {"max_age": 0},
        {"cookie_name": "bad name;"},
        {"path": "relative"},
        {"absolute_max_age": 10, "max_age": 100},
    ],
)
def test_bad_configuration_fails_at_startup(kwargs: dict[str, Any]) -> None:
    """Weak secrets and impossible cookie settings raise ConfigurationError at once."""
    kwargs.setdefault("secret_key", SECRET)
    with pytest.raises(ConfigurationError):
        SessionMiddleware(**kwargs)


@both_forms
@both_modes
def test_max_age_enforced_on_load(client_for: Make, clock: FakeClock, form: str, mode: str) -> None:
    """A cookie older than max_age is an empty session (ASVS 5.0 V7.3.1 inactivity)."""
    c = client_for(form, mode, max_age=100)
    c.post("/login", json={"user_id": 1})
    clock.now += 99
    assert c.get("/me").json() == {"user_id": 1}
    clock.now += 2
    assert c.get("/me").json() == {}


@both_forms
def test_signature_age_checked_even_if_store_keeps_data(
    client_for: Make, clock: FakeClock, form: str
) -> None:
    """The signed timestamp expires the cookie even when the store's clock lags."""
    c = client_for(form, "server", max_age=100, store=MemorySessionStore())  # real-time store
    c.post("/login", json={"user_id": 1})
    clock.now += 101
    assert c.get("/me").json() == {}


@both_forms
def test_store_ttl_enforced_server_side(client_for: Make, form: str) -> None:
    """The store forgets the session at max_age even if the cookie's clock disagrees."""
    store_clock = FakeClock()
    c = client_for(form, "server", max_age=100, store=MemorySessionStore(store_clock))
    c.post("/login", json={"user_id": 1})
    store_clock.now += 101
    assert c.get("/me").json() == {}


@both_forms
@both_modes
def test_absolute_lifetime(client_for: Make, clock: FakeClock, form: str, mode: str) -> None:
    """absolute_max_age ends even an active rolling session (ASVS 5.0 V7.3.2)."""
    c = client_for(form, mode, max_age=100, absolute_max_age=250, rolling=True)
    c.post("/login2", json={"user_id": 1})
    for _ in range(5):
        clock.now += 50
        assert c.get("/me").json().get("user_id") == 1
    clock.now += 50  # 300 s after login
    assert c.get("/me").json() == {}


def fetch(c: TestClient, method: str, cookie: str, **kw: Any) -> Any:
    """Send exactly this session cookie (the client's jar is emptied first)."""
    c.cookies.clear()
    return c.request(method, "/me" if method == "GET" else "/put", **kw,
                     headers={"cookie": f"session={cookie}"})  # fmt: skip


@both_forms
def test_secret_rotation(client_for: Make, form: str) -> None:
    """The first key signs; every listed key verifies, so rotation logs nobody out."""
    old, new = "o" * 32, "n" * 32
    c_old = client_for(form, secret_key=old)
    c_old.post("/login", json={"user_id": 5})
    cookie = c_old.cookies["session"]

    rotated = client_for(form, secret_key=[new, old])
    assert fetch(rotated, "GET", cookie).json() == {"user_id": 5}
    r = fetch(rotated, "POST", cookie, json={"x": 1})
    reissued = parse_set_cookie(set_cookies(r)[0])[1]

    only_new = client_for(form, secret_key=new)
    assert fetch(only_new, "GET", reissued).json() == {"user_id": 5, "x": 1}
    assert fetch(only_new, "GET", cookie).json() == {}
    assert fetch(c_old, "GET", reissued).json() == {}


@both_forms
def test_end_other_sessions(client_for: Make, form: str) -> None:
    """After a password change the user's other sessions die, this one lives (V7.4.3)."""
    first = client_for(form, "server")
    app = first.app
    second, stranger = client_for(form, app=app), client_for(form, app=app)
    first.post("/login2", json={"user_id": 9})
    second.post("/login2", json={"user_id": 9})
    stranger.post("/login2", json={"user_id": 10})
    assert first.post("/end-others").json() == {"ended": 1}
    assert first.get("/me").json()["user_id"] == 9
    assert second.get("/me").json() == {}
    assert stranger.get("/me").json()["user_id"] == 10


@both_forms
def test_end_other_sessions_client_side(client_for: Make, clock: FakeClock, form: str) -> None:
    """Client-side mode with a revocation store refuses the subject's older cookies."""
    first = client_for(form, revocations=MemoryRevocationStore())
    app = first.app
    second = client_for(form, app=app)
    first.post("/login2", json={"user_id": 9})
    second.post("/login2", json={"user_id": 9})
    clock.now += 1
    first.post("/end-others")
    assert first.get("/me").json()["user_id"] == 9
    assert second.get("/me").json() == {}


@both_forms
def test_login_helper_sets_csrf_and_time(client_for: Make, clock: FakeClock, form: str) -> None:
    """login() stores the user id, the login time and a fresh CSRF token."""
    c = client_for(form, "server")
    c.post("/put", json={"cart": [1]})
    token = c.post("/login2", json={"user_id": 4}).json()["csrf"]
    data = c.get("/me").json()
    assert data == {"user_id": 4, "_auth_time": clock.now, "_csrf_token": token}
    c.post("/login2", json={"user_id": 4, "keep": True})
    assert c.get("/me").json()["_csrf_token"] != token


@both_forms
def test_store_outage_fails_closed(client_for: Make, form: str) -> None:
    """A down store is a 503 with no session data in either form, never a 500."""

    class DownStore(MemorySessionStore):
        async def load(self, session_id: str) -> dict[str, Any] | None:
            raise StoreUnavailable("down")

    c = client_for(form, "server", store=DownStore())
    c.post("/login", json={"user_id": 1})
    r = c.get("/me")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    assert "user_id" not in r.text


async def test_oversized_client_side_session_is_a_developer_error() -> None:
    """More than 4 KiB in a cookie session raises instead of silently losing data."""
    mw = SessionMiddleware(secret_key=SECRET)
    session = Session()
    session["blob"] = secrets.token_urlsafe(4000)  # incompressible
    with pytest.raises(ConfigurationError):
        await mw.commit({"session": session})
