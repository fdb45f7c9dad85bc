"""The MFA state (TOTP secret and replay marks, recovery codes, mfa_tokens) on the shared
engines: the same single-use rules hold on SQLite and on a real Redis as in memory."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest
from mfa_support import enroll as _enroll
from route_helpers import PASSWORD, Env, bearer
from support.clock import FakeClock


@pytest.fixture(params=["sqlite", "redis"])
def engine_env(request: pytest.FixtureRequest, tmp_path: Path, make_env: Callable[..., Env]) -> Env:
    """Tokens mode with every store on SQLite or on a real Redis."""
    config: dict[str, Any]
    if request.param == "sqlite":
        config = {"stores": "sqlite", "store": {"sqlite_path": str(tmp_path / "stores.db")}}
    else:
        url = request.getfixturevalue("redis_url")
        config = {"stores": "redis", "store": {"redis_url": url, "namespace": uuid.uuid4().hex}}
    return make_env("tokens", **config)


def _start(env: Env) -> str:
    r = env.client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.json()["mfa_required"] is True, r.text
    return str(r.json()["mfa_token"])


def _finish(env: Env, token: str, code: str) -> Any:
    return env.client.post("/auth/login/mfa", json={"mfa_token": token, "code": code})


def test_single_use_rules_hold_on_the_engine(engine_env: Env, clock: FakeClock) -> None:
    """A code, an mfa_token and a recovery code each work once on a shared store."""
    env = engine_env
    env.register()
    secret, codes = _enroll(env, env.login()["access_token"])
    clock.advance(60)
    code = pyotp.TOTP(secret).at(clock())
    token = _start(env)
    done = _finish(env, token, code)
    assert done.status_code == 200, done.text
    assert env.client.get("/me", headers=bearer(done.json()["access_token"])).status_code == 200
    assert _finish(env, token, code).status_code == 401  # the mfa_token is spent
    assert _finish(env, _start(env), code).status_code == 401  # the code is marked used
    assert _finish(env, _start(env), codes[0]).status_code == 200
    assert _finish(env, _start(env), codes[0]).status_code == 401  # recovery code spent
    clock.advance(30)
    assert _finish(env, _start(env), pyotp.TOTP(secret).at(clock())).status_code == 200
