"""End-to-end flows over HTTP through real Nexios, a real SQLite user table and the
container's stores: register, login, refresh, reuse detection, logout, logout-all,
password change, API keys, and session mode (fixation, CSRF, server-side logout)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from route_helpers import PASSWORD, Env, bearer

from nexios_auth_di.events import EventKind
from nexios_auth_di.passwords.profiles import Argon2Profile


def test_token_flow_register_login_use_refresh_reuse_logout(make_env: Callable[..., Env]) -> None:
    """The token lifecycle works end to end and a replayed refresh token kills its family."""
    env = make_env("tokens")
    user = env.register()
    pair = env.login()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 900
    me = env.me(**bearer(pair["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]

    rotated = env.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert rotated.status_code == 200
    new = rotated.json()
    assert env.me(**bearer(new["access_token"])).status_code == 200

    replay = env.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert replay.status_code == 401
    assert env.sink.kinds().count(EventKind.REFRESH_REUSE_DETECTED) == 1
    heir = env.client.post("/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert heir.status_code == 401, "the newer token of a reused family must die too"

    fresh = env.login()
    out = env.client.post(
        "/auth/logout",
        json={"refresh_token": fresh["refresh_token"]},
        headers=bearer(fresh["access_token"]),
    )
    assert out.status_code == 204
    assert env.me(**bearer(fresh["access_token"])).status_code == 401
    again = env.client.post("/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert again.status_code == 401


def test_logout_all_refuses_every_token_and_session_of_the_user(env: Env) -> None:
    """logout-all ends every token (access and refresh) and every session of the caller."""
    env.register()
    first, second = env.login(), env.login()
    browser = env.browser()
    env.login(browser=browser)
    assert browser.get("/me").status_code == 200
    other = env.register("bob")
    bob = env.login("bob")

    done = env.client.post("/auth/logout-all", headers=bearer(first["access_token"]))
    assert done.status_code == 204
    for token in (first["access_token"], second["access_token"]):
        assert env.me(**bearer(token)).status_code == 401
    for token in (first["refresh_token"], second["refresh_token"]):
        assert env.client.post("/auth/refresh", json={"refresh_token": token}).status_code == 401
    assert browser.get("/me").status_code == 401, "the other session must be gone"
    assert env.me(**bearer(bob["access_token"])).json()["id"] == other["id"]
    assert EventKind.LOGOUT_ALL in env.sink.kinds()


def test_password_change_ends_other_sessions_and_tokens_but_keeps_the_caller(env: Env) -> None:
    """A password change logs out every other session and token; the caller stays in."""
    env.register()
    caller, other = env.browser(), env.browser()
    env.login(browser=caller)
    old_pair = env.login(browser=other)
    assert other.get("/me").status_code == 200

    changed = caller.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert set(body) == {"csrf_token"}, "a session caller gets a new CSRF token, no tokens"
    caller.csrf = body["csrf_token"]
    assert caller.get("/me").status_code == 200
    assert other.get("/me").status_code == 401
    assert env.me(**bearer(old_pair["access_token"])).status_code == 401
    refresh = {"refresh_token": old_pair["refresh_token"]}
    assert env.client.post("/auth/refresh", json=refresh).status_code == 401

    wrong = {"username": "alice", "password": PASSWORD}
    assert env.client.post("/auth/login", json=wrong).status_code == 401
    env.login(password="a brand new passphrase")
    assert EventKind.PASSWORD_CHANGED in env.sink.kinds()


def test_password_change_by_token_returns_a_working_pair(make_env: Callable[..., Env]) -> None:
    """A token caller gets a fresh pair that works while its old token is refused."""
    env = make_env("tokens")
    env.register()
    pair = env.login()
    changed = env.client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "another long passphrase"},
        headers=bearer(pair["access_token"]),
    )
    assert changed.status_code == 200
    new = changed.json()
    assert changed.headers["cache-control"] == "no-store"
    assert env.me(**bearer(new["access_token"])).status_code == 200
    assert env.me(**bearer(pair["access_token"])).status_code == 401
    refreshed = env.client.post("/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert refreshed.status_code == 200


def test_password_change_refuses_a_wrong_current_password(env: Env) -> None:
    """The current password is re-checked: a stolen token cannot set a new password."""
    env.register()
    pair = env.login()
    wrong = env.client.post(
        "/auth/password",
        json={"current_password": "not my password", "new_password": "whatever else 123"},
        headers=bearer(pair["access_token"]),
    )
    assert wrong.status_code == 403
    assert env.me(**bearer(pair["access_token"])).status_code == 200, "nothing was revoked"
    weak = env.client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=bearer(pair["access_token"]),
    )
    assert weak.status_code == 400
    assert "at least" in weak.json()["detail"]


def test_api_key_create_use_list_revoke(env: Env) -> None:
    """A key is shown once, works with X-API-Key, lists without secrets, and dies on revoke."""
    env.seed("carol", ("read", "write"))
    pair = env.login("carol")
    auth = bearer(pair["access_token"])
    made = env.client.post(
        "/auth/api-keys",
        json={"name": "ci", "scopes": ["read"], "ttl": 3600, "password": PASSWORD},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    created = made.json()
    key = created["key"]
    env.remember(created)
    assert created["scopes"] == ["read"]
    assert created["name"] == "ci"
    assert created["expires_at"] is not None

    me = env.me(**{"X-API-Key": key})
    assert me.status_code == 200
    assert me.json()["permissions"] == ["read"], "a key grants its scopes only"

    listed = env.client.get("/auth/api-keys", headers=auth)
    assert listed.status_code == 200
    text = listed.text
    assert key not in text
    assert key.rsplit("_", 1)[1] not in text
    assert "secret_hash" not in text
    assert [k["key_id"] for k in listed.json()["keys"]] == [created["id"]]

    gone = env.client.delete(f"/auth/api-keys/{created['id']}", headers=auth)
    assert gone.status_code == 204
    assert env.me(**{"X-API-Key": key}).status_code == 401
    kinds = env.sink.kinds()
    assert EventKind.API_KEY_CREATED in kinds
    assert EventKind.API_KEY_REVOKED in kinds


def test_api_key_rules_scope_subset_owner_only_and_no_key_minting(env: Env) -> None:
    """Scopes beyond the caller's permissions are 403, another user's key is 404, and an
    API key cannot manage keys."""
    env.seed("carol", ("read",))
    env.register("dave")
    carol = bearer(env.login("carol")["access_token"])
    dave = bearer(env.login("dave")["access_token"])
    admin, read = ({"scopes": [s], "password": PASSWORD} for s in ("admin", "read"))
    escalate = env.client.post("/auth/api-keys", json=admin, headers=carol)
    assert escalate.status_code == 403
    made = env.client.post("/auth/api-keys", json=read, headers=carol).json()
    theirs = env.client.delete(f"/auth/api-keys/{made['id']}", headers=dave)
    assert theirs.status_code == 404
    missing = env.client.delete("/auth/api-keys/doesnotexist", headers=carol)
    assert missing.status_code == 404
    by_key = env.client.post("/auth/api-keys", json={}, headers={"X-API-Key": made["key"]})
    assert by_key.status_code == 403
    assert env.me(**{"X-API-Key": made["key"]}).status_code == 200, "key still live"


def test_session_login_issues_a_new_id_and_logout_kills_it(env: Env) -> None:
    """Session fixation: a planted (valid) session id is replaced at login and deleted;
    logout invalidates the session server-side, so a replayed cookie is anonymous."""
    env.register()
    env.register("mallory")
    attacker = env.browser()
    env.login("mallory", browser=attacker)
    planted = attacker.cookie
    assert planted is not None

    victim = env.browser()
    victim.cookie = planted  # the attacker's id, set in the victim's browser
    env.login(browser=victim)
    assert victim.cookie is not None
    assert victim.cookie != planted
    assert victim.get("/me").json()["id"] != attacker.get("/me").json().get("id")
    replay = env.browser()
    replay.cookie = planted
    assert replay.get("/me").status_code == 401, "the planted id died at login"

    kept = victim.cookie
    out = victim.post("/auth/logout")
    assert out.status_code == 204
    assert victim.cookie is None, "the cookie is cleared"
    replay.cookie = kept
    assert replay.get("/me").status_code == 401, "server-side logout: replay is anonymous"


def test_session_unsafe_requests_need_the_csrf_header(env: Env) -> None:
    """A session-cookie POST without X-CSRF-Token is refused (403), with it accepted."""
    env.seed("carol", ("read",))
    browser = env.browser()
    env.login("carol", browser=browser)
    token, browser.csrf = browser.csrf, None
    body = {"name": "x", "password": PASSWORD}
    forged = browser.post("/auth/api-keys", json=body)
    assert forged.status_code == 403
    assert forged.json()["error"] == "csrf_failed"
    assert browser.post("/auth/logout").status_code == 403
    browser.csrf = token
    assert browser.post("/auth/api-keys", json=body).status_code == 201
    assert browser.post("/auth/logout").status_code == 204


def test_login_mode_from_config_session_only(make_env: Callable[..., Env]) -> None:
    """routes.login_mode in config picks the response: session mode returns no tokens."""
    env = make_env(None, routes={"login_mode": "session"})
    env.register()
    browser = env.browser()
    data = env.login(browser=browser)
    assert set(data) == {"csrf_token"}
    assert browser.get("/me").status_code == 200


def test_login_rehashes_an_outdated_hash_through_the_repository(env: Env) -> None:
    """A hash made with other parameters is replaced on the next successful login."""
    from nexios_auth_di.passwords import PasswordService

    old = PasswordService(
        Argon2Profile("old", time_cost=2, memory_cost=16, parallelism=1), allow_cheap=True
    )

    async def seed() -> str:
        record = await env.repo.create("erin", await old.hash(PASSWORD))
        return record.id

    user_id = asyncio.run(seed())
    service = env.container.password_service()
    before = asyncio.run(env.repo.get_by_id(user_id))
    assert before is not None
    assert service.needs_rehash(before.password_hash)
    env.login("erin")
    after = asyncio.run(env.repo.get_by_id(user_id))
    assert after is not None
    assert not service.needs_rehash(after.password_hash)
    env.login("erin")  # and the new hash verifies


def test_deactivated_account_cannot_log_in_and_its_tokens_stop(env: Env) -> None:
    """Deactivating a user refuses login (same 401) and its existing tokens."""
    user = env.register()
    pair = env.login()
    asyncio.run(env.repo.set_active(user["id"], False))
    body = {"username": "alice", "password": PASSWORD}
    assert env.client.post("/auth/login", json=body).status_code == 401
    assert env.me(**bearer(pair["access_token"])).status_code == 401
    refreshed = env.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401


def test_register_duplicate_is_409_case_insensitively(env: Env) -> None:
    """A taken username (in any letter case) is refused with 409, and the first account
    keeps its password."""
    env.register()
    clash = env.client.post("/auth/register", json={"username": "ALICE", "password": "x" * 12})
    assert clash.status_code == 409
    env.login("alice")


def test_wrong_method_is_405_and_does_not_break_the_route(env: Env) -> None:
    """Nexios's sticky 405 bug is avoided: a PUT on /auth/login leaves POST working."""
    env.register()
    put = env.client.put("/auth/login")
    assert put.status_code == 405
    assert put.headers["allow"] == "POST"
    keys = env.client.put("/auth/api-keys")
    assert keys.status_code == 405
    assert keys.headers["allow"] == "GET, HEAD, POST"
    env.login()
