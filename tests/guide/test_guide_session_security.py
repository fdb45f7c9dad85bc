"""Guide § Security Considerations / Session Security: every SessionMiddleware argument."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from guide_support import HTTPS, SESSION_SECRET, parse_set_cookie
from nexios import NexiosApp
from nexios.testclient import TestClient
from support import FakeClock

from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.session import SessionMiddleware


def guide_app(clock: FakeClock | None = None, **overrides: Any) -> NexiosApp:
    app = NexiosApp()
    kw: dict[str, Any] = {
        "secret_key": SESSION_SECRET,
        "max_age": 3600,
        "secure": True,
        "httponly": True,
        "samesite": "strict",
    }
    kw.update(overrides)
    if clock is not None:
        kw["clock"] = clock
    app.add_middleware(SessionMiddleware(**kw))

    @app.post("/login")
    async def login(request: Any, response: Any) -> Any:
        request.session["user_id"] = 1
        return {"ok": True}

    @app.get("/session")
    async def show(request: Any, response: Any) -> Any:
        return {"user_id": request.session.get("user_id")}

    return app


def test_guide_arguments_all_reach_the_cookie() -> None:
    """max_age, secure, httponly and samesite each appear on the Set-Cookie header."""
    clock = FakeClock(1_800_000_000.0)
    with TestClient(guide_app(clock), base_url=HTTPS) as c:
        r = c.post("/login")
    name, value, attrs = parse_set_cookie(r.headers["set-cookie"])
    assert name == "session"
    assert value
    assert attrs["max-age"] == "3600"
    assert parsedate_to_datetime(attrs["expires"]).timestamp() == clock.now + 3600
    assert "secure" in attrs
    assert "httponly" in attrs
    assert attrs["samesite"].lower() == "strict"
    assert attrs["path"] == "/"


@pytest.mark.parametrize(
    ("overrides", "absent", "samesite"),
    [
        ({"secure": False}, "secure", "strict"),
        ({"httponly": False}, "httponly", "strict"),
        ({"samesite": "lax"}, None, "lax"),
    ],
)
def test_each_argument_is_honoured_when_changed(
    overrides: dict[str, Any], absent: str | None, samesite: str
) -> None:
    """Turning one argument off or changing it changes exactly that attribute."""
    with TestClient(guide_app(**overrides), base_url=HTTPS) as c:
        r = c.post("/login")
    _, _, attrs = parse_set_cookie(r.headers["set-cookie"])
    if absent:
        assert absent not in attrs
    assert attrs["samesite"].lower() == samesite  # values are case-insensitive
    assert attrs["max-age"] == "3600"


def test_guide_short_secret_is_refused() -> None:
    """The guide's literal "your-secret-key" is under 32 bytes and fails at setup."""
    with pytest.raises(ConfigurationError):
        SessionMiddleware(secret_key="your-secret-key", max_age=3600)


def test_max_age_is_enforced_on_the_server() -> None:
    """A cookie older than max_age yields an empty session even if the browser resends it."""
    clock = FakeClock(1_800_000_000.0)
    with TestClient(guide_app(clock), base_url=HTTPS) as c:
        c.post("/login")
        assert c.get("/session").json() == {"user_id": 1}
        clock.now += 3599
        assert c.get("/session").json() == {"user_id": 1}
        clock.now += 2
        r = c.get("/session")
    assert r.json() == {"user_id": None}


def flip_signature(value: str) -> str:
    """Change the first signature character (the last one may only carry padding bits)."""
    head, _, sig = value.rpartition(".")
    return f"{head}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(flip_signature, id="flipped-signature"),
        pytest.param(lambda v: "eyJkIjp7InVzZXJfaWQiOjJ9fQ." + v.split(".", 1)[1], id="payload"),
        pytest.param(lambda v: "garbage", id="garbage"),
    ],
)
def test_tampered_cookie_yields_an_empty_session(tamper: Any) -> None:
    """A cookie whose payload or signature was changed is ignored: the session is empty."""
    with TestClient(guide_app(), base_url=HTTPS) as c:
        c.post("/login")
        value = c.cookies.get("session")
        c.cookies.set("session", tamper(value))
        r = c.get("/session")
    assert r.status_code == 200
    assert r.json() == {"user_id": None}


def test_secure_cookie_is_not_returned_over_http() -> None:
    """secure=True: over plain http the client never sends the cookie back."""
    with TestClient(guide_app(), base_url="http://testserver") as c:
        c.post("/login")
        r = c.get("/session")
    assert r.json() == {"user_id": None}
