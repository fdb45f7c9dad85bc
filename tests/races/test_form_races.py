"""The HTML form routes (routes/forms.py) under concurrency, on memory, SQLite and Redis:
a burst of guesses through the form is throttled like the JSON login, and a form login
held after its password check while the owner logs out everywhere leaves nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from race_support import PASSWORD, SESSION_COOKIES, RaceApp, race_app

from nexios_auth_di.events import EventKind
from nexios_auth_di.testing import TESTING_CONFIG

GUESSES = 300
PER_ACCOUNT_IP = 5  # ThrottleSettings.per_account_ip: guesses one source gets


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def race(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RaceApp]:
    """The race app with ``session.login_url`` set, so the form routes are mounted."""
    engine: str = request.param
    url = request.getfixturevalue("redis_url") if engine == "redis" else None
    session = {**TESTING_CONFIG["session"], "login_url": "/login"}
    async with race_app(engine, tmp_path, url, session=session) as app:
        yield app


def _cookie_of(response: httpx.Response) -> str | None:
    for line in response.headers.get_list("set-cookie"):
        name, _, rest = line.partition("=")
        if name.strip() in SESSION_COOKIES and rest.split(";", 1)[0]:
            return f"{name.strip()}={rest.split(';', 1)[0]}"
    return None


async def _anonymous(race: RaceApp) -> tuple[str, str]:
    """(cookie, csrf token) of a fresh anonymous session, as the login page gives."""
    race.client.cookies.clear()
    response = await race.client.get("/csrf")
    cookie = _cookie_of(response)
    assert cookie is not None
    return cookie, str(response.json()["csrf"])


async def _form(race: RaceApp, path: str, cookie: str, data: dict[str, str]) -> httpx.Response:
    race.client.cookies.clear()
    response = await race.client.post(path, data=data, headers={"Cookie": cookie})
    race.client.cookies.clear()
    return response


async def _form_login(race: RaceApp, password: str = PASSWORD) -> httpx.Response:
    cookie, token = await _anonymous(race)
    data = {"username": "alice", "password": password, "csrf_token": token, "next": "/"}
    return await _form(race, "/auth/form/login", cookie, data)


async def test_burst_of_form_guesses_is_throttled_before_argon2(race: RaceApp) -> None:
    """300 parallel wrong-password form posts from one address: at most the per-source
    limit reach the password check (OWASP ASVS V2.2.1); every answer is a 303 back to the
    form, never a 5xx, and the owner's right password still works from elsewhere."""
    await race.register()
    cookie, token = await _anonymous(race)
    data = {"username": "alice", "password": "wrong guess!", "csrf_token": token, "next": "/"}
    replies = await asyncio.gather(
        *(_form(race, "/auth/form/login", cookie, data) for _ in range(GUESSES))
    )
    assert {r.status_code for r in replies} == {303}
    places = {r.headers["location"].split("&", 1)[0] for r in replies}
    assert places <= {"/login?error=invalid", "/login?error=throttled"}
    evaluated = [
        e for e in race.sink.events
        if e.kind == EventKind.LOGIN_FAILED and e.detail.get("reason") == "bad_password"
    ]  # fmt: skip
    assert 1 <= len(evaluated) <= PER_ACCOUNT_IP, len(evaluated)


async def test_form_login_held_past_the_password_dies_with_logout_all(race: RaceApp) -> None:
    """A form login that passed argon2 is held while the owner logs out everywhere; the
    session it then sets opens nothing (ASVS V3.3.4)."""
    await race.register()
    owner = await race.login()
    race.login_gate.arm(1)
    thief = asyncio.create_task(_form_login(race))
    await race.login_gate.reached()
    out = await race.call("POST", "/auth/logout-all", token=owner.body["access_token"])
    assert out.status == 204
    race.login_gate.open()
    reply = await thief
    cookie = _cookie_of(reply)
    if cookie is not None:
        assert (await race.call("GET", "/me", cookie=cookie)).status == 401
    fresh = _cookie_of(await _form_login(race))  # the control: a new form login works
    assert fresh is not None
    assert (await race.call("GET", "/me", cookie=fresh)).status == 200


async def test_logout_others_burst_keeps_exactly_this_session(race: RaceApp) -> None:
    """Ten other devices signed in through the form (one by one: a parallel burst of
    logins from one address is throttled, as above); one "log out my other devices" ends
    them all and keeps the caller under a new session id; then 50 parallel requests on
    the ended cookies are all refused."""
    await race.register()
    devices = [_cookie_of(await _form_login(race)) for _ in range(10)]
    assert all(devices)
    mine = _cookie_of(await _form_login(race))
    assert mine is not None
    token = (await race.client.get("/csrf", headers={"Cookie": mine})).json()["csrf"]
    done = await _form(race, "/auth/form/logout-others", mine, {"csrf_token": token, "next": "/"})
    assert done.status_code == 303
    assert done.headers["location"] == "/"
    kept = _cookie_of(done)
    assert kept is not None
    assert kept != mine
    statuses = await asyncio.gather(
        *(race.call("GET", "/me", cookie=devices[i % 10]) for i in range(50))
    )
    assert {s.status for s in statuses} == {401}
    assert (await race.call("GET", "/me", cookie=kept)).status == 200


async def test_form_login_in_both_mode_issues_the_session_only(race: RaceApp) -> None:
    """In ``both`` login mode the form login still makes only a session: a token pair in
    a body the browser never reads would be a live credential nobody holds."""
    user_id = await race.register()
    done = await _form_login(race)
    assert done.status_code == 303
    assert _cookie_of(done) is not None
    records = await race.container.credential_store().list_for_user(user_id, "device")
    assert [r.data["type"] for r in records] == ["session"]
