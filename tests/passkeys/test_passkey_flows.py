"""Passkeys over HTTP through the router: register while signed in, sign in with no
password (discoverable and allow-listed), list, delete, MFA interplay, and bursts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from authenticator import ORIGIN, PASSKEYS, Authenticator
from passkey_helpers import (
    add_passkey,
    login_options,
    login_verify,
    passkey_login,
    register_options,
)
from route_helpers import PASSWORD, Env, bearer
from support.asgi import call
from support.clock import FakeClock

from nexios_auth_di.stores.protocols import CredentialRecord


@pytest.fixture
def alice(make_env: Callable[..., Env]) -> tuple[Env, Authenticator, str]:
    """Tokens mode; alice registered, signed in, with one passkey: (env, device, id)."""
    env = make_env()
    env.register()
    device = Authenticator()
    return env, device, add_passkey(env, env.login()["access_token"], device)


def test_register_logout_then_sign_in_without_password(alice: Any) -> None:
    """The whole journey: a passkey added while signed in opens the account later."""
    env, device, _ = alice
    token = env.login()["access_token"]
    out = env.client.post("/auth/logout", headers=bearer(token))
    assert out.status_code == 204
    assert env.me(**bearer(token)).status_code == 401
    r = passkey_login(env, device)  # discoverable: no username, no password
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert env.me(**bearer(r.json()["access_token"])).status_code == 200
    ok = [e for e in env.sink.events if e.kind.value == "login_succeeded"]
    assert ok[-1].detail["method"] == "passkey"


def test_options_follow_config(alice: Any) -> None:
    """RP id, UV required, timeout and the user's allow-list come from the server."""
    env, _, passkey_id = alice
    options = login_options(env, "alice")["publicKey"]
    assert options["rpId"] == "testserver"
    assert options["userVerification"] == "required"
    assert options["timeout"] == 60000
    assert [c["id"] for c in options["allowCredentials"]] == [passkey_id]
    assert login_options(env)["publicKey"].get("allowCredentials", []) == []
    unknown = login_options(env, "nobody")["publicKey"]
    assert len(unknown["allowCredentials"]) == 1  # a decoy (test_passkey_attacks.py)
    reg = register_options(env, env.login()["access_token"])["publicKey"]
    assert reg["rp"] == {"id": "testserver", "name": "Test RP"}
    assert [c["id"] for c in reg["excludeCredentials"]] == [passkey_id]
    assert reg["authenticatorSelection"]["userVerification"] == "required"


def test_allow_list_login_and_counter_moves(alice: Any) -> None:
    """A named sign-in works; the stored counter follows the authenticator's."""
    env, device, passkey_id = alice
    for _ in range(3):
        assert passkey_login(env, device, "alice").status_code == 200
    stored = asyncio.run(env.container.credential_store().get("passkey", passkey_id))
    assert stored is not None
    assert stored.data["sign_count"] == 3
    assert stored.last_used is not None


def test_zero_counter_authenticators_are_accepted(alice: Any) -> None:
    """Synced passkeys always send 0 (WebAuthn L2 §6.1.1): 0 after 0 is not a regression."""
    env, device, _ = alice
    for _ in range(2):
        options = login_options(env)
        r = login_verify(
            env, options["challenge_id"], device.get(options["publicKey"], ORIGIN, count=0)
        )
        assert r.status_code == 200, r.text


def test_list_and_delete(alice: Any, make_env: Callable[..., Env]) -> None:
    """The owner lists their passkeys (no key material) and removes one; others get 404."""
    env, device, passkey_id = alice
    token = env.login()["access_token"]
    listed = env.client.get("/auth/passkeys", headers=bearer(token)).json()["passkeys"]
    assert [p["id"] for p in listed] == [passkey_id]
    assert listed[0]["name"] == "laptop"
    assert listed[0]["transports"] == ["internal", "hybrid"]
    assert set(listed[0]) == {"id", "name", "created", "last_used", "transports", "backed_up"}
    env.register("bob")
    bob = env.login("bob")["access_token"]
    other = env.client.delete(f"/auth/passkeys/{passkey_id}", headers=bearer(bob))
    assert other.status_code == 404
    assert other.json()["error"] == "not_found"
    gone = env.client.delete(f"/auth/passkeys/{passkey_id}", headers=bearer(token))
    assert gone.status_code == 204
    assert (
        env.client.delete(f"/auth/passkeys/{passkey_id}", headers=bearer(token)).status_code == 404
    )
    assert passkey_login(env, device).status_code == 401
    kinds = [e.kind.value for e in env.sink.events]
    assert "passkey_registered" in kinds
    assert "passkey_deleted" in kinds


def _passwordless(env: Env, clock: FakeClock) -> tuple[str, str]:
    """A user with no password (made by another way in) holding one passkey, signed in
    through it: (user id, access token)."""

    async def seed() -> str:
        record = await env.repo.create("carol", "")
        return record.id

    user_id = asyncio.run(seed())
    device = Authenticator()
    tokens = env.container.token_service()
    access, _ = asyncio.run(tokens.issue_login(user_id, 0.0))
    add_passkey(env, access, device)
    return user_id, access


def test_last_way_in_cannot_be_deleted(make_env: Callable[..., Env], clock: FakeClock) -> None:
    """A user without a password keeps at least one passkey (409), but may drop extras."""
    env = make_env()
    _user_id, access = _passwordless(env, clock)
    only = env.client.get("/auth/passkeys", headers=bearer(access)).json()["passkeys"]
    r = env.client.delete(f"/auth/passkeys/{only[0]['id']}", headers=bearer(access))
    assert r.status_code == 409, r.text
    spare = add_passkey(env, access, Authenticator(), name="phone")
    assert env.client.delete(f"/auth/passkeys/{spare}", headers=bearer(access)).status_code == 204


def test_uv_passkey_skips_totp_but_non_uv_does_not(
    make_env: Callable[..., Env], clock: FakeClock
) -> None:
    """Decision (docs/passkeys.md): a user-verified passkey is two factors, so an enrolled
    user gets credentials at once; without UV the TOTP step still applies."""
    env = make_env(passkeys=_relaxed())
    env.register()
    token = env.login()["access_token"]
    setup = env.client.post(
        "/auth/mfa/totp/setup", json={"password": PASSWORD}, headers=bearer(token)
    )
    code = pyotp.TOTP(setup.json()["secret"]).at(clock())
    done = env.client.post("/auth/mfa/totp/confirm", json={"code": code}, headers=bearer(token))
    assert done.status_code == 200, done.text
    with_uv, without_uv = Authenticator(uv=True), Authenticator(uv=False)
    add_passkey(env, token, with_uv)
    add_passkey(env, token, without_uv, name="key")
    strong = passkey_login(env, with_uv)
    assert strong.status_code == 200
    assert "access_token" in strong.json()
    weak = passkey_login(env, without_uv)
    assert weak.status_code == 200
    assert weak.json()["mfa_required"] is True
    assert "access_token" not in weak.json()


def _relaxed() -> dict[str, Any]:
    return {**PASSKEYS, "user_verification": "preferred"}


def test_register_needs_a_fresh_login(alice: Any, clock: FakeClock) -> None:
    """Adding a way in asks for a recent login: a token older than mfa.fresh_max_age
    (a stolen one, say) cannot plant an attacker's passkey."""
    env, _, _ = alice
    token = env.login()["access_token"]
    clock.advance(env.container.settings().mfa.fresh_max_age + 1)
    r = env.client.post("/auth/passkeys/register/options", json={}, headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["error"] == "reauthentication_required"


def test_duplicate_registration_is_409(alice: Any) -> None:
    """A credential id already registered (to anyone) is refused (WebAuthn L2 §7.1 step 22)."""
    env, _, _ = alice
    token = env.login()["access_token"]
    options = register_options(env, token)
    credential = Authenticator().register(options["publicKey"], ORIGIN)
    taken = CredentialRecord("passkey", credential["id"], "someone-else", {})
    assert asyncio.run(env.container.credential_store().add(taken))
    body = {"challenge_id": options["challenge_id"], "credential": credential}
    r = env.client.post("/auth/passkeys/register/verify", json=body, headers=bearer(token))
    assert r.status_code == 409, r.text


async def _post(app: Any, path: str, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    return await call(app, "POST", path, [(b"content-type", b"application/json")], raw)


def test_burst_one_challenge_exactly_one_login(alice: Any) -> None:
    """50 parallel verifies of one challenge (each a valid signature): exactly one wins."""
    env, device, _ = alice
    options = login_options(env)
    assertions = [device.get(options["publicKey"], ORIGIN) for _ in range(50)]
    app = env.client.app

    async def burst() -> list[int]:
        calls = [
            _post(
                app,
                "/auth/passkeys/login/verify",
                {"challenge_id": options["challenge_id"], "credential": a},
            )
            for a in assertions
        ]
        return [r.status for r in await asyncio.gather(*calls)]

    statuses = asyncio.run(burst())
    assert statuses.count(200) == 1
    assert statuses.count(401) == 49


def test_burst_distinct_challenges_counter_never_goes_back(alice: Any) -> None:
    """50 parallel sign-ins, each its own challenge and counter value: the stored counter
    ends at the highest accepted value, and every refusal is a regression or a win."""
    env, device, passkey_id = alice
    prepared = []
    for _ in range(50):
        options = login_options(env)
        prepared.append((options["challenge_id"], device.get(options["publicKey"], ORIGIN)))
    app = env.client.app

    async def burst() -> list[int]:
        calls = [
            _post(app, "/auth/passkeys/login/verify", {"challenge_id": h, "credential": a})
            for h, a in prepared
        ]
        return [r.status for r in await asyncio.gather(*calls)]

    statuses = asyncio.run(burst())
    assert set(statuses) <= {200, 401}
    assert statuses.count(200) >= 1
    stored = asyncio.run(env.container.credential_store().get("passkey", passkey_id))
    assert stored is not None
    assert stored.data["sign_count"] == 50  # the last one signed is the highest


def test_burst_register_verify_one_challenge(alice: Any) -> None:
    """50 parallel registrations answering one challenge: exactly one passkey is added."""
    env, _, _ = alice
    token = env.login()["access_token"]
    options = register_options(env, token)
    creds = [Authenticator().register(options["publicKey"], ORIGIN) for _ in range(50)]
    app = env.client.app
    auth = [(b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode())]

    async def burst() -> list[int]:
        calls = [
            call(app, "POST", "/auth/passkeys/register/verify", auth,
                 json.dumps({"challenge_id": options["challenge_id"], "credential": c}).encode())
            for c in creds
        ]  # fmt: skip
        return [r.status for r in await asyncio.gather(*calls)]

    statuses = asyncio.run(burst())
    assert statuses.count(201) == 1
    assert statuses.count(400) == 49


def test_logout_all_during_sign_in_wins(alice: Any) -> None:
    """Gate: a logout-all landing between the credential lookup and the issue (held
    mid-flight) fails that sign-in, as for a password login."""
    env, device, _ = alice
    options = login_options(env)
    assertion = device.get(options["publicKey"], ORIGIN)
    store = env.container.credential_store()
    real_update = store.update

    async def held_update(record: CredentialRecord) -> bool:
        # the owner's logout-all lands while the verify is held here
        await env.container.token_service().revoke_all(record.user_id)
        return bool(await real_update(record))

    store.update = held_update
    try:
        r = login_verify(env, options["challenge_id"], assertion)
    finally:
        store.update = real_update
    assert r.status_code == 401, r.text
    assert "access_token" not in r.text
