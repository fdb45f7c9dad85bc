"""TOTP enrollment, MFA login, recovery codes and step-up, over HTTP through the router."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from route_helpers import PASSWORD, Env, bearer
from support.asgi import call
from support.clock import FakeClock


def _first(env: Env) -> str:
    r = env.client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mfa_required"] is True
    assert "access_token" not in body
    assert "set-cookie" not in r.headers
    return str(body["mfa_token"])


def test_enroll_then_login_with_code(mfa_env: Any) -> None:
    """An enrolled login needs the code; the code then yields a working access token."""
    env, clock, secret, codes = mfa_env
    assert len(codes) == 10
    assert len(set(codes)) == 10
    token = _first(env)
    r = env.client.post(
        "/auth/login/mfa", json={"mfa_token": token, "code": pyotp.TOTP(secret).at(clock())}
    )
    assert r.status_code == 200, r.text
    assert env.me(**bearer(r.json()["access_token"])).status_code == 200


@pytest.mark.parametrize("mode", ["session", "both"])
def test_mfa_login_other_modes(make_env: Callable[..., Env], clock: FakeClock, mode: str) -> None:
    """Session and both modes issue their credential only after the second factor."""
    env = make_env(mode)
    env.register()
    client = env.client
    b = env.browser()
    env.login(browser=b)
    setup = b.post("/auth/mfa/totp/setup", json={"password": PASSWORD})
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    ok = b.post("/auth/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).at(clock())})
    assert ok.status_code == 200, ok.text
    clock.advance(60)
    fresh = env.browser()
    first = fresh.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert first.json()["mfa_required"] is True
    assert fresh.cookie is None
    done = fresh.post(
        "/auth/login/mfa",
        json={"mfa_token": first.json()["mfa_token"], "code": pyotp.TOTP(secret).at(clock())},
    )
    assert done.status_code == 200, done.text
    assert fresh.cookie is not None
    assert client is env.client


def _post(app: Any, body: dict[str, Any]) -> Any:
    data = json.dumps(body).encode()
    return call(
        app,
        "POST",
        "/auth/login/mfa",
        [(b"content-type", b"application/json"), (b"host", b"testserver")],
        data,
    )


def _code(secret: str, clock: FakeClock, steps: int) -> str:
    return pyotp.TOTP(secret).at(clock() + 30 * steps)


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param("replayed_code", id="totp-code-replayed-RFC6238-5.2"),
        pytest.param("window_minus_2", id="totp-window-minus-2-RFC6238-5.2"),
        pytest.param("window_plus_2", id="totp-window-plus-2-RFC6238-5.2"),
        pytest.param("token_twice", id="mfa-token-used-twice-ASVS-6.5.1"),
        pytest.param("token_expired", id="mfa-token-expired-ASVS-6.5.2"),
        pytest.param("token_as_access", id="mfa-token-as-bearer-ASVS-6.5.1"),
        pytest.param("password_changed", id="mfa-token-after-password-change-ASVS-7.4.3"),
        pytest.param("recovery_twice", id="recovery-code-used-twice-ASVS-6.5.1"),
        pytest.param("garbage_code", id="malformed-code-never-500"),
    ],
)
def test_second_factor_attacks(mfa_env: Any, attack: str) -> None:
    """Each attack on the second step is refused with a 4xx and no credential."""
    env, clock, secret, codes = mfa_env
    post = env.client.post
    if attack == "replayed_code":
        code = _code(secret, clock, 0)
        assert (
            post("/auth/login/mfa", json={"mfa_token": _first(env), "code": code}).status_code
            == 200
        )
        r = post("/auth/login/mfa", json={"mfa_token": _first(env), "code": code})
    elif attack in ("window_minus_2", "window_plus_2"):
        code = _code(secret, clock, -2 if attack == "window_minus_2" else 2)
        r = post("/auth/login/mfa", json={"mfa_token": _first(env), "code": code})
    elif attack == "token_twice":
        token = _first(env)
        assert (
            post(
                "/auth/login/mfa", json={"mfa_token": token, "code": _code(secret, clock, 0)}
            ).status_code
            == 200
        )
        clock.advance(30)
        r = post("/auth/login/mfa", json={"mfa_token": token, "code": _code(secret, clock, 0)})
    elif attack == "token_expired":
        token = _first(env)
        clock.advance(301)
        r = post("/auth/login/mfa", json={"mfa_token": token, "code": _code(secret, clock, 0)})
    elif attack == "token_as_access":
        r = env.me(**bearer(_first(env)))
    elif attack == "password_changed":
        token = _first(env)
        clock.advance(30)
        other = _first(env)
        full = post("/auth/login/mfa", json={"mfa_token": other, "code": _code(secret, clock, 0)})
        changed = post(
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": "another long passphrase"},
            headers=bearer(full.json()["access_token"]),
        )
        assert changed.status_code == 200, changed.text
        clock.advance(30)
        r = post("/auth/login/mfa", json={"mfa_token": token, "code": _code(secret, clock, 0)})
    elif attack == "recovery_twice":
        assert (
            post("/auth/login/mfa", json={"mfa_token": _first(env), "code": codes[0]}).status_code
            == 200
        )
        r = post("/auth/login/mfa", json={"mfa_token": _first(env), "code": codes[0]})
    else:
        r = post("/auth/login/mfa", json={"mfa_token": _first(env), "code": ["x"]})
    assert 400 <= r.status_code < 500, r.text
    assert "access_token" not in r.text


def test_brute_force_burst_is_throttled(mfa_env: Any) -> None:
    """300 parallel guesses on one account: at most the per-user limit are evaluated."""
    env, clock, secret, _ = mfa_env
    tokens = [_first(env) for _ in range(60)]
    right = _code(secret, clock, 0)
    wrong = "000000" if right != "000000" else "111111"
    app = env.client.app

    async def burst() -> list[int]:
        calls = [_post(app, {"mfa_token": tokens[i % 60], "code": wrong}) for i in range(300)]
        return [r.status for r in await asyncio.gather(*calls)]

    statuses = asyncio.run(burst())
    assert 500 not in statuses
    failed = [e for e in env.sink.events if e.kind.value == "mfa_challenge_failed"]
    assert len(failed) <= env.container.settings().mfa.codes_per_user[0]


def test_recovery_code_burst_one_winner(mfa_env: Any) -> None:
    """50 parallel logins with one recovery code: exactly one succeeds."""
    env, _, _, codes = mfa_env
    tokens = [_first(env) for _ in range(50)]
    app = env.client.app

    async def burst() -> list[int]:
        calls = [_post(app, {"mfa_token": t, "code": codes[1]}) for t in tokens]
        return [r.status for r in await asyncio.gather(*calls)]

    statuses = asyncio.run(burst())
    assert statuses.count(200) == 1
    assert 500 not in statuses


def test_disable_needs_fresh_login_then_reauthenticate(mfa_env: Any) -> None:
    """A stale login gets 401 reauthentication_required; /reauthenticate makes it fresh."""
    env, clock, secret, _ = mfa_env
    done = env.client.post(
        "/auth/login/mfa", json={"mfa_token": _first(env), "code": _code(secret, clock, 0)}
    )
    access = done.json()["access_token"]
    clock.advance(400)
    body = {"password": PASSWORD, "code": _code(secret, clock, 0)}
    stale = env.client.post("/auth/mfa/totp/disable", json=body, headers=bearer(access))
    assert stale.status_code == 401
    assert stale.json()["reason"] == "reauthentication_required"
    assert "insufficient_user_authentication" in stale.headers["www-authenticate"]
    again = env.client.post("/auth/reauthenticate", json=body, headers=bearer(access))
    assert again.status_code == 200, again.text
    clock.advance(30)
    body["code"] = _code(secret, clock, 0)
    off = env.client.post(
        "/auth/mfa/totp/disable", json=body, headers=bearer(again.json()["access_token"])
    )
    assert off.status_code == 204, off.text
    plain = env.client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert "access_token" in plain.json()


def test_setup_without_password_and_no_secret_in_events(mfa_env: Any) -> None:
    """Setup without the password is refused; no secret or code reached any event."""
    env, _, secret, codes = mfa_env
    r = env.client.post("/auth/mfa/totp/setup", json={})
    assert r.status_code in (400, 401)
    text = repr(list(env.sink.events))
    assert secret not in text
    assert not any(c in text for c in codes)


@pytest.mark.parametrize("owner_action", ["logout-all", "password"])
def test_login_mfa_held_mid_flight_gives_no_live_credential(
    mfa_env: Any, owner_action: str
) -> None:
    """An /auth/login/mfa whose first factor predates a logout-all or password change
    issues nothing that works (the mfa_token is bound to the generation read before)."""
    env, clock, secret, _ = mfa_env
    held = _first(env)  # first factor done; the second is "in flight"
    clock.advance(30)
    other = env.client.post(
        "/auth/login/mfa", json={"mfa_token": _first(env), "code": _code(secret, clock, 0)}
    )
    access = other.json()["access_token"]
    if owner_action == "logout-all":
        done = env.client.post("/auth/logout-all", headers=bearer(access))
    else:
        body = {"current_password": PASSWORD, "new_password": "another long passphrase"}
        done = env.client.post("/auth/password", json=body, headers=bearer(access))
    assert done.status_code in (200, 204), done.text
    clock.advance(30)
    late = env.client.post(
        "/auth/login/mfa", json={"mfa_token": held, "code": _code(secret, clock, 0)}
    )
    assert late.status_code == 401
    assert "access_token" not in late.text


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        pytest.param("/auth/login/mfa", b"{", id="truncated-json-ASVS-1.5.1"),
        pytest.param(
            "/auth/login/mfa", b'{"mfa_token": 1, "code": 2}', id="wrong-types-ASVS-1.5.1"
        ),
        pytest.param(
            "/auth/login/mfa", b'{"mfa_token": "x", "code": "1", "z": 1}', id="unknown-field"
        ),
        pytest.param(
            "/auth/login/mfa",
            b'{"mfa_token": "' + b"a" * 500 + b'", "code": "1"}',
            id="oversized-token",
        ),
        pytest.param("/auth/mfa/totp/confirm", b'{"code": null}', id="confirm-null-code"),
        pytest.param("/auth/mfa/totp/setup", b"[]", id="setup-array-body"),
        pytest.param("/auth/reauthenticate", b'{"password": ""}', id="reauth-empty-password"),
    ],
)
def test_malformed_bodies_never_500(mfa_env: Any, path: str, raw: bytes) -> None:
    """Malformed MFA bodies get a 4xx JSON error, never a 500 or a credential."""
    env = mfa_env[0]
    access = env.client.post(
        "/auth/login/mfa",
        json={"mfa_token": _first(env), "code": mfa_env[3][2]},
    ).json()["access_token"]
    headers = {"content-type": "application/json", **bearer(access)}
    r = env.client.post(path, content=raw, headers=headers)
    assert 400 <= r.status_code < 500, r.text
    assert "access_token" not in r.text
