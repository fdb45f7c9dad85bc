"""Login throttling through the route (per account, per IP, no account disclosure) and
the audit events the routes emit (right kinds, never a secret)."""

from __future__ import annotations

import json
from collections.abc import Callable

from dependency_injector import providers
from route_helpers import PASSWORD, Env, bearer
from support import FakeClock

from nexios_auth_di.events import EventKind


def throttled_env(
    make_env: Callable[..., Env], per_account: int, per_ip: int
) -> tuple[Env, FakeClock]:
    env = make_env("tokens", throttle={"per_account": [per_account, 300], "per_ip": [per_ip, 300]})
    clock = FakeClock(1_800_000_000.0)
    env.container.clock.override(providers.Object(clock))  # before the throttle is built
    return env, clock


def attempt(env: Env, username: str, password: str, ip: str) -> tuple[int, dict[str, str], str]:
    response = env.client.post(
        "/auth/login",
        json={"username": username, "password": password},
        headers={"X-Test-Peer": ip},
    )
    return response.status_code, dict(response.headers), response.text


def test_per_account_backoff_across_ips_with_retry_after(make_env: Callable[..., Env]) -> None:
    """Failures count per account whatever the IP; past the limit even the right password
    waits (429 + Retry-After), and the wait ends: backoff, not lockout (OWASP ASVS V2.2.1)."""
    env, clock = throttled_env(make_env, per_account=3, per_ip=100)
    env.register()
    for n in range(3):
        assert attempt(env, "alice", "wrong password", f"10.0.0.{n}")[0] == 401
    status, headers, _ = attempt(env, "alice", PASSWORD, "10.0.9.9")
    assert status == 429
    retry = int(headers["retry-after"])
    assert retry >= 1
    assert attempt(env, "ALICE", PASSWORD, "10.0.9.8")[0] == 429, "counted case-insensitively"
    clock.now += retry
    assert attempt(env, "alice", PASSWORD, "10.0.9.9")[0] == 200
    assert EventKind.THROTTLED in env.sink.kinds()


def test_per_ip_limit_spans_usernames(make_env: Callable[..., Env]) -> None:
    """One IP spraying many usernames is throttled; another IP is not (OWASP credential
    stuffing guidance)."""
    env, _ = throttled_env(make_env, per_account=100, per_ip=3)
    env.register()
    for n in range(3):
        assert attempt(env, f"user{n}", "wrong password", "10.1.1.1")[0] == 401
    status, headers, _ = attempt(env, "alice", PASSWORD, "10.1.1.1")
    assert status == 429
    assert int(headers["retry-after"]) >= 1
    assert attempt(env, "alice", PASSWORD, "10.2.2.2")[0] == 200


def test_throttled_answer_is_identical_for_known_and_unknown_accounts(
    make_env: Callable[..., Env],
) -> None:
    """A 429 for a real account and for a made-up one have the same body and headers
    (OWASP authentication cheat sheet: no account enumeration)."""
    env, _ = throttled_env(make_env, per_account=2, per_ip=100)
    env.register()
    for n in range(2):
        assert attempt(env, "alice", "wrong password", f"10.3.0.{n}")[0] == 401
        assert attempt(env, "ghost", "wrong password", f"10.4.0.{n}")[0] == 401
    known = attempt(env, "alice", "wrong password", "10.5.0.1")
    unknown = attempt(env, "ghost", "wrong password", "10.6.0.1")
    assert known[0] == 429
    assert known == unknown


def test_failed_logins_look_the_same_for_unknown_user_and_wrong_password(env: Env) -> None:
    """Unknown user and wrong password give the same status, body and headers."""
    env.register()
    wrong = env.client.post("/auth/login", json={"username": "alice", "password": "nope nope"})
    ghost = env.client.post("/auth/login", json={"username": "ghost", "password": "nope nope"})
    assert wrong.status_code == 401
    assert (wrong.status_code, wrong.text) == (ghost.status_code, ghost.text)
    assert dict(wrong.headers) == dict(ghost.headers)


def test_audit_events_have_the_right_kinds_and_no_secrets(env: Env) -> None:
    """Every flow emits its event, and no event carries a password, token, CSRF token or
    API-key secret (issue 4: events never contain credentials)."""
    new_password = "a second secret phrase"
    env.seed("carol", ("read",))
    bad = env.client.post("/auth/login", json={"username": "carol", "password": "bad pw x"})
    assert bad.status_code == 401
    pair = env.login("carol")
    rotated = env.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    env.remember(rotated.json())
    env.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})  # reuse
    auth = bearer(env.login("carol")["access_token"])  # reuse ended that login's tokens
    body = {"scopes": ["read"], "password": PASSWORD}
    made = env.client.post("/auth/api-keys", json=body, headers=auth).json()
    env.remember(made)
    env.client.delete(f"/auth/api-keys/{made['id']}", headers=auth)
    changed = env.client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=auth,
    )
    env.remember(changed.json())
    fresh = changed.json()["access_token"]
    browser = env.browser()
    env.login("carol", new_password, browser=browser)
    env.client.post("/auth/logout", headers=bearer(fresh))
    env.client.post(
        "/auth/logout-all", headers=bearer(env.login("carol", new_password)["access_token"])
    )
    env.register("dave", "dave's own secret pw")

    kinds = set(env.sink.kinds())
    assert kinds >= {
        EventKind.LOGIN_FAILED,
        EventKind.LOGIN_SUCCEEDED,
        EventKind.TOKEN_REFRESHED,
        EventKind.REFRESH_REUSE_DETECTED,
        EventKind.API_KEY_CREATED,
        EventKind.API_KEY_REVOKED,
        EventKind.PASSWORD_CHANGED,
        EventKind.LOGOUT,
        EventKind.LOGOUT_ALL,
        EventKind.REGISTERED,
    }
    serialized = json.dumps([e.to_dict() for e in env.sink.events])
    secrets = [PASSWORD, new_password, "bad pw x", "dave's own secret pw", *env.seen_secrets]
    assert len(env.seen_secrets) >= 8
    for secret in secrets:
        assert secret not in serialized
    api_secret = made["key"].split("_", 2)[2]
    assert api_secret not in serialized
    assert made["id"] in serialized, "the key id (not secret) is recorded"
