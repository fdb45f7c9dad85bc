"""Helpers shared by the MFA tests (a uniquely named module, so it never clashes with another
directory's conftest when the whole suite is collected)."""

from __future__ import annotations

import pyotp
from route_helpers import PASSWORD, Env, bearer


def enroll(env: Env, token: str) -> tuple[str, list[str]]:
    """Set up and confirm TOTP for the token's user; return the secret and recovery codes."""
    setup = env.client.post(
        "/auth/mfa/totp/setup", json={"password": PASSWORD}, headers=bearer(token)
    )
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert "<svg" in setup.json()["qr_svg"]
    code = pyotp.TOTP(secret).at(env.container.clock()())
    done = env.client.post("/auth/mfa/totp/confirm", json={"code": code}, headers=bearer(token))
    assert done.status_code == 200, done.text
    return secret, done.json()["recovery_codes"]
