"""Step-up on the routes that hand out lasting access: API keys, the recovery email, and
the password change (its new pair would otherwise be a fresh login for a token thief)."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from route_helpers import PASSWORD, Env, bearer
from support.clock import FakeClock

ROUTES = [
    pytest.param(
        "/auth/api-keys", {"name": "ci", "password": PASSWORD}, 201,
        id="api-key-create-ASVS-V3.7.1",
    ),
    pytest.param(
        "/auth/email", {"email": "new@example.com", "password": PASSWORD}, 200,
        id="email-change-ASVS-V3.7.1",
    ),
    pytest.param(
        "/auth/password",
        {"current_password": PASSWORD, "new_password": "a brand new passphrase 9"}, 200,
        id="password-change-mints-a-fresh-pair-ASVS-V3.7.1",
    ),
]  # fmt: skip


def _mfa_login(env: Env, secret: str, clock: FakeClock) -> str:
    first = env.client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    token = first.json()["mfa_token"]
    code = pyotp.TOTP(secret).at(clock())
    done = env.client.post("/auth/login/mfa", json={"mfa_token": token, "code": code})
    assert done.status_code == 200, done.text
    return str(done.json()["access_token"])


@pytest.mark.parametrize(("path", "body", "ok"), ROUTES)
def test_enrolled_stale_login_needs_reauthentication(
    mfa_env: Any, path: str, body: dict[str, Any], ok: int
) -> None:
    """With TOTP on, a stale token plus the password is refused until /reauthenticate."""
    env, clock, secret, _ = mfa_env
    access = _mfa_login(env, secret, clock)
    clock.advance(400)  # past mfa.fresh_max_age (300)
    stale = env.client.post(path, json=body, headers=bearer(access))
    assert stale.status_code == 401, stale.text
    assert stale.json()["reason"] == "reauthentication_required"
    clock.advance(30)  # a new TOTP step
    proof = {"password": PASSWORD, "code": pyotp.TOTP(secret).at(clock())}
    again = env.client.post("/auth/reauthenticate", json=proof, headers=bearer(access))
    assert again.status_code == 200, again.text
    fresh = env.client.post(path, json=body, headers=bearer(again.json()["access_token"]))
    assert fresh.status_code == ok, fresh.text


@pytest.mark.parametrize(("path", "body", "ok"), ROUTES)
def test_enrolled_fresh_login_goes_straight_through(
    mfa_env: Any, path: str, body: dict[str, Any], ok: int
) -> None:
    """A login that just passed the code needs no extra step (the password still does)."""
    env, clock, secret, _ = mfa_env
    access = _mfa_login(env, secret, clock)
    field = "current_password" if "current_password" in body else "password"
    wrong = {**body, field: "not the password"}
    assert env.client.post(path, json=wrong, headers=bearer(access)).status_code == 403
    r = env.client.post(path, json=body, headers=bearer(access))
    assert r.status_code == ok, r.text


@pytest.mark.parametrize(("path", "body", "ok"), ROUTES)
def test_not_enrolled_password_in_body_is_enough(
    make_env: Any, clock: FakeClock, path: str, body: dict[str, Any], ok: int
) -> None:
    """Without a second factor the body's password is itself the fresh check, at any age."""
    env = make_env("tokens")
    env.register()
    access = env.login()["access_token"]
    clock.advance(400)
    r = env.client.post(path, json=body, headers=bearer(access))
    assert r.status_code == ok, r.text
