"""OIDC login against the real oidc-provider: the full redirect flow over HTTP, the
login modes and MFA, accounts (sign-up, verified-email linking, explicit link, unlink)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from oidc_helpers import PROVIDER, callback_path, random_sub, sign_in, walk_provider
from route_helpers import bearer

from nexios_auth_di.events import EventKind
from nexios_auth_di.oidc.identities import KIND, has_usable_password


def _login(env: Any, login: str, next_url: str | None = None) -> Any:
    b = env.agent()
    done = b.get(callback_path(sign_in(b, login, next_url)))
    return b, done


def test_full_flow_creates_a_passwordless_user(make_oidc_env: Any) -> None:
    """A first sign-in walks the provider's login and consent, then issues our tokens
    for a new account with the provider's verified email and no usable password."""
    env = make_oidc_env("tokens")
    sub = random_sub()
    b, done = _login(env, sub, "/dashboard?tab=1")
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["next"] == "/dashboard?tab=1"
    assert "no-store" in done.headers["cache-control"]
    me = env.me(**bearer(body["access_token"]))
    assert me.status_code == 200
    record = asyncio.run(env.repo.get_by_id(me.json()["id"]))
    assert record is not None
    assert record.email == f"{sub}@example.com"
    assert record.email_verified is True
    assert not asyncio.run(has_usable_password(env.container, record))
    guess = env.client.post("/auth/login", json={"username": record.username, "password": "x" * 12})
    assert guess.status_code == 401  # no password opens it
    linked = asyncio.run(env.container.credential_store().get(KIND, f"{PROVIDER}:{sub}"))
    assert linked is not None
    assert linked.user_id == record.id
    assert b.cookies == {}  # the flow cookie was cleared
    methods = [
        e.detail.get("method") for e in env.sink.events if e.kind == EventKind.LOGIN_SUCCEEDED
    ]
    assert methods == ["oidc"]
    assert [e.subject for e in env.sink.events if e.kind == EventKind.REGISTERED] == [record.id]


def test_second_sign_in_finds_the_same_account(make_oidc_env: Any) -> None:
    """The same (provider, sub) signs in to the same account the next time."""
    env = make_oidc_env("tokens")
    sub = random_sub()
    first = _login(env, sub)[1].json()["access_token"]
    second = _login(env, sub)[1].json()["access_token"]
    ids = {env.me(**bearer(t)).json()["id"] for t in (first, second)}
    assert len(ids) == 1


@pytest.mark.parametrize("engine", ["memory", "sqlite", "redis"])
def test_identity_store_engines(
    make_oidc_env: Any, engine: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    """Linked identities live in the credential store on every engine: sign up, then
    sign in again to the same account."""
    config: dict[str, Any] = {"stores": engine}
    if engine == "sqlite":
        config["store"] = {"sqlite_path": str(tmp_path / "auth.sqlite3")}
    if engine == "redis":
        url = request.getfixturevalue("redis_url")
        config["store"] = {"redis_url": url, "namespace": f"oidc-{random_sub()}"}
    env = make_oidc_env("tokens", **config)
    sub = random_sub()
    first = _login(env, sub)[1]
    assert first.status_code == 200, first.text
    second = _login(env, sub)[1]
    ids = {env.me(**bearer(r.json()["access_token"])).json()["id"] for r in (first, second)}
    assert len(ids) == 1


def test_session_mode_sets_the_session(make_oidc_env: Any) -> None:
    """In session mode the callback starts a server-side session, as a password login does."""
    env = make_oidc_env("session")
    b, done = _login(env, random_sub())
    assert done.status_code == 200, done.text
    assert "csrf_token" in done.json()
    assert "access_token" not in done.json()
    assert any(name.endswith("session") for name in b.cookies)


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_session_mode_sends_a_browser_to_next(make_oidc_env: Any) -> None:
    """A browser coming back from the provider in session mode is sent on to its
    validated ``next`` (303, no-store) with the session cookie set, and that cookie then
    opens the protected page; a script (no HTML Accept) still gets the JSON."""
    env = make_oidc_env("session")
    b = env.agent()
    callback = callback_path(sign_in(b, random_sub(), "/dashboard?tab=2"))
    done = b.get(callback, headers={"Accept": BROWSER_ACCEPT})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/dashboard?tab=2"
    assert "no-store" in done.headers["cache-control"]
    session = {k: v for k, v in b.cookies.items() if k.endswith("session")}
    assert session, "the session cookie is set on the redirect"
    me = env.client.get(
        "/me", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in session.items())}
    )
    assert me.status_code == 200, me.text


def test_enrolled_user_gets_the_mfa_step(make_oidc_env: Any) -> None:
    """A passwordless OIDC account enrolls TOTP on the strength of its fresh login (a
    sent password is still checked: 403); its next OIDC login then gets an mfa_token, not
    credentials, and the code completes it (method oidc+totp)."""
    import pyotp

    env = make_oidc_env("tokens")
    sub = random_sub()
    token = _login(env, sub)[1].json()["access_token"]
    guessed = env.client.post(
        "/auth/mfa/totp/setup", json={"password": "irrelevant-here"}, headers=bearer(token)
    )
    assert guessed.status_code == 403  # the unknowable password never matches
    setup = env.client.post("/auth/mfa/totp/setup", json={}, headers=bearer(token))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    code = pyotp.TOTP(secret).at(env.clock())
    confirm = env.client.post("/auth/mfa/totp/confirm", json={"code": code}, headers=bearer(token))
    assert confirm.status_code == 200, confirm.text
    step = _login(env, sub)[1]
    assert step.status_code == 200, step.text
    assert step.json()["mfa_required"] is True
    assert "access_token" not in step.json()
    env.clock.advance(31)
    code = pyotp.TOTP(secret).at(env.clock())
    done = env.client.post(
        "/auth/login/mfa", json={"mfa_token": step.json()["mfa_token"], "code": code}
    )
    assert done.status_code == 200, done.text
    methods = [
        e.detail.get("method") for e in env.sink.events if e.kind == EventKind.LOGIN_SUCCEEDED
    ]
    assert methods[-1] == "oidc+totp"


@pytest.mark.parametrize("route", ["/auth/mfa/totp/setup", "/auth/mfa/totp/disable"])
def test_passwordless_stale_login_must_sign_in_again(make_oidc_env: Any, route: str) -> None:
    """Without a password to confirm, a stolen but stale OIDC login cannot enroll or turn
    off TOTP: 401 reauthentication_required (RFC 9470), nothing changes."""
    env = make_oidc_env("tokens")
    token = _login(env, random_sub())[1].json()["access_token"]
    env.clock.advance(env.container.settings().mfa.fresh_max_age + 1)
    body = {"code": "000000"} if route.endswith("disable") else {}
    stale = env.client.post(route, json=body, headers=bearer(token))
    assert stale.status_code == 401, stale.text
    assert stale.json()["reason"] == "reauthentication_required"
    user_id = env.me(**bearer(token)).json()["id"]
    assert asyncio.run(env.container.credential_store().get("totp", user_id)) is None


def test_explicit_link_list_and_unlink(make_oidc_env: Any) -> None:
    """A signed-in password user links an identity, sees it listed, signs in with it,
    and may unlink it (the password remains a way in)."""
    env = make_oidc_env("tokens")
    env.register("carol")
    token = env.login("carol")["access_token"]
    b = env.agent()
    start = b.get(f"/auth/oidc/{PROVIDER}/link", headers=bearer(token))
    assert start.status_code == 302, start.text
    sub = random_sub()
    linked = b.get(callback_path(walk_provider(start.headers["location"], sub)))
    assert linked.status_code == 200, linked.text
    listed = env.client.get("/auth/oidc/identities", headers=bearer(token)).json()["identities"]
    assert [i["provider"] for i in listed] == [PROVIDER]
    via_oidc = _login(env, sub)[1].json()["access_token"]
    carol = env.me(**bearer(token)).json()["id"]
    assert env.me(**bearer(via_oidc)).json()["id"] == carol
    gone = env.client.delete(f"/auth/oidc/identities/{listed[0]['id']}", headers=bearer(token))
    assert gone.status_code == 204
    kinds = [e.kind for e in env.sink.events]
    assert EventKind.IDENTITY_LINKED in kinds
    assert EventKind.IDENTITY_UNLINKED in kinds
    assert env.client.get("/auth/oidc/identities", headers=bearer(token)).json() == {
        "identities": []
    }
    again = env.client.delete(f"/auth/oidc/identities/{listed[0]['id']}", headers=bearer(token))
    assert again.status_code == 404


def test_link_needs_a_signed_in_user(make_oidc_env: Any) -> None:
    """``/link`` without credentials is 401 and starts no flow."""
    env = make_oidc_env("tokens")
    b = env.agent()
    answer = b.get(f"/auth/oidc/{PROVIDER}/link")
    assert answer.status_code == 401
    assert b.cookies == {}


def test_identity_linked_elsewhere_is_409(make_oidc_env: Any) -> None:
    """Linking an identity another account already holds is 409 (no silent move)."""
    env = make_oidc_env("tokens")
    sub = random_sub()
    assert _login(env, sub)[1].status_code == 200  # sub now owns a new account
    env.register("dave")
    token = env.login("dave")["access_token"]
    b = env.agent()
    start = b.get(f"/auth/oidc/{PROVIDER}/link", headers=bearer(token))
    answer = b.get(callback_path(walk_provider(start.headers["location"], sub)))
    assert answer.status_code == 409, answer.text


def test_last_way_in_cannot_be_unlinked(make_oidc_env: Any) -> None:
    """A passwordless account's only identity cannot be unlinked (409)."""
    env = make_oidc_env("tokens")
    token = _login(env, random_sub())[1].json()["access_token"]
    listed = env.client.get("/auth/oidc/identities", headers=bearer(token)).json()["identities"]
    answer = env.client.delete(f"/auth/oidc/identities/{listed[0]['id']}", headers=bearer(token))
    assert answer.status_code == 409, answer.text
    assert (
        len(env.client.get("/auth/oidc/identities", headers=bearer(token)).json()["identities"])
        == 1
    )


def test_unlink_burst_keeps_one_way_in(make_oidc_env: Any) -> None:
    """50 concurrent unlinks of a passwordless account's two identities: one survives."""
    env = make_oidc_env("tokens")
    token = _login(env, random_sub())[1].json()["access_token"]
    b = env.agent()
    start = b.get(f"/auth/oidc/{PROVIDER}/link", headers=bearer(token))
    assert (
        b.get(callback_path(walk_provider(start.headers["location"], random_sub()))).status_code
        == 200
    )
    listed = env.client.get("/auth/oidc/identities", headers=bearer(token)).json()["identities"]
    assert len(listed) == 2
    app = env.client.app

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            calls = [
                http.delete(f"/auth/oidc/identities/{listed[i % 2]['id']}", headers=bearer(token))
                for i in range(50)
            ]
            return [r.status_code for r in await asyncio.gather(*calls)]

    codes = asyncio.run(burst())
    assert set(codes) <= {204, 404, 409}, codes
    left = env.client.get("/auth/oidc/identities", headers=bearer(token)).json()["identities"]
    assert len(left) >= 1
    assert codes.count(204) <= 1


def test_unknown_provider_is_404(make_oidc_env: Any) -> None:
    """A provider name not in config is 404 on every route, never a 500."""
    env = make_oidc_env("tokens")
    for path in ("/auth/oidc/nope/login", "/auth/oidc/nope/callback?state=x&code=y"):
        assert env.agent().get(path).status_code == 404


def test_json_start_for_scripts(make_oidc_env: Any) -> None:
    """``?response=json`` answers the authorization URL in JSON (and sets the cookie)."""
    env = make_oidc_env("tokens")
    b = env.agent()
    answer = b.get(f"/auth/oidc/{PROVIDER}/login", params={"response": "json"})
    assert answer.status_code == 200
    url = answer.json()["authorization_url"]
    q = __import__("oidc_helpers").query(url)
    assert q["code_challenge_method"] == "S256"
    assert len(q["state"]) >= 43
    assert len(q["nonce"]) >= 43
    assert b.cookies


def test_link_after_logout_all_is_refused(make_oidc_env: Any) -> None:
    """A link round trip started before the owner logged out everywhere links nothing."""
    env = make_oidc_env("tokens")
    env.register("erin")
    token = env.login("erin")["access_token"]
    b = env.agent()
    start = b.get(f"/auth/oidc/{PROVIDER}/link", headers=bearer(token))
    url = walk_provider(start.headers["location"], random_sub())
    assert env.client.post("/auth/logout-all", headers=bearer(token)).status_code == 204
    answer = b.get(callback_path(url))
    assert answer.status_code == 401, answer.text
    erin = asyncio.run(env.repo.get_by_username("erin"))
    assert asyncio.run(env.container.credential_store().list_for_user(erin.id, KIND)) == []
