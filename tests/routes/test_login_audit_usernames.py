"""Failed-login audit events never record a password typed into the username field."""

from __future__ import annotations

import json

from route_helpers import PASSWORD, Env

from nexios_auth_di.events import EventKind


def _failed(env: Env) -> list[dict[str, object]]:
    return [e.to_dict() for e in env.sink.events if e.kind is EventKind.LOGIN_FAILED]


def test_unknown_username_is_recorded_as_a_keyed_hash(env: Env) -> None:
    """A 'username' naming no account (often the password, typed in the wrong field) is
    logged only as a keyed hash, in the failure and in the throttle bookkeeping."""
    env.register("alice")
    typed = "my Secret password 99!"
    response = env.client.post("/auth/login", json={"username": typed, "password": "x" * 12})
    assert response.status_code == 401
    serialized = json.dumps([e.to_dict() for e in env.sink.events])
    assert typed not in serialized
    (failed,) = _failed(env)
    assert str(failed["detail"]["username"]).startswith("hmac-sha256:")  # type: ignore[index]


def test_same_unknown_name_hashes_the_same(env: Env) -> None:
    """Repeated tries of one unknown name correlate (same hash) without revealing it."""
    for _ in range(2):
        env.client.post("/auth/login", json={"username": "nobody-here", "password": "x" * 12})
    first, second = _failed(env)
    assert first["detail"]["username"] == second["detail"]["username"]  # type: ignore[index]


def test_existing_account_is_recorded_by_its_name(env: Env) -> None:
    """A wrong password for a real account records the account's stored username."""
    env.register("alice")
    env.client.post("/auth/login", json={"username": "alice", "password": PASSWORD + "x"})
    (failed,) = _failed(env)
    assert failed["detail"]["username"] == "alice"  # type: ignore[index]
