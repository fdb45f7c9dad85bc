"""API keys over HTTP after account recovery: creation asks for the password again, keys
expire by default, a password change (and logout-all on request) revokes them, an owner
holds a bounded number, and neither a burst nor a creation in flight gets around that."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from route_helpers import PASSWORD, Env, bearer

from nexios_auth_di.events import EventKind

NEW_PASSWORD = "an entirely new passphrase"
DAY = 86400


def make_key(env: Env, auth: dict[str, str], **body: Any) -> httpx.Response:
    """POST /auth/api-keys with the right password unless the body says otherwise."""
    return env.client.post("/auth/api-keys", json={"password": PASSWORD, **body}, headers=auth)


def key_works(env: Env, key: str) -> bool:
    return env.me(**{"X-API-Key": key}).status_code == 200


def test_creation_asks_for_the_current_password(env: Env) -> None:
    """A bearer token alone cannot mint a key: missing password 400, wrong password 403
    with a body that says nothing more, right password 201."""
    env.register()
    auth = bearer(env.login()["access_token"])
    missing = env.client.post("/auth/api-keys", json={"name": "ci"}, headers=auth)
    assert missing.status_code == 400
    assert "password" in missing.json()["detail"]
    wrong = make_key(env, auth, password="not the password")
    assert wrong.status_code == 403
    assert wrong.json() == {
        "error": "permission_denied",
        "detail": "Current password is incorrect.",
    }
    assert env.container.api_key_service().store is not None
    made = make_key(env, auth, name="ci")
    assert made.status_code == 201, made.text
    assert key_works(env, made.json()["key"])
    assert "password" not in made.text


def test_wrong_passwords_at_key_creation_count_towards_the_login_throttle(
    make_env: Callable[..., Env],
) -> None:
    """A stolen access token cannot guess the password through key creation: the attempts
    are counted like logins, and past the limit even the right password gets a 429."""
    env = make_env("tokens", throttle={"per_account_ip": [3, 300]})
    env.register()
    auth = bearer(env.login()["access_token"])
    statuses = [make_key(env, auth, password=f"guess {i}").status_code for i in range(3)]
    assert statuses == [403, 403, 403]
    assert make_key(env, auth).status_code == 429
    assert EventKind.THROTTLED in env.sink.kinds()


def test_keys_expire_by_default_and_ttl_is_capped(make_env: Callable[..., Env]) -> None:
    """Without a ttl a key gets api_key.default_ttl (90 days); a ttl beyond
    api_key.max_ttl is a 400; a shorter one is honoured."""
    env = make_env("tokens", api_key={"max_ttl": 365 * DAY})
    env.register()
    auth = bearer(env.login()["access_token"])
    made = make_key(env, auth).json()
    assert made["expires_at"] - made["created_at"] == 90 * DAY
    assert make_key(env, auth, ttl=365 * DAY + 1).status_code == 400
    short = make_key(env, auth, ttl=60).json()
    assert short["expires_at"] - short["created_at"] == 60


def test_password_change_revokes_every_api_key(env: Env) -> None:
    """After a password change (account recovery) a key minted earlier is dead: GET and
    POST both 401."""
    env.register()
    pair = env.login()
    auth = bearer(pair["access_token"])
    key = make_key(env, auth).json()["key"]
    assert key_works(env, key)
    changed = env.client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=auth,
    )
    assert changed.status_code == 200, changed.text
    assert not key_works(env, key)
    assert env.client.post("/auth/logout", headers={"X-API-Key": key}).status_code == 401
    fresh = bearer(changed.json()["access_token"])
    assert env.client.get("/auth/api-keys", headers=fresh).json() == {"keys": []}


def test_password_change_keeps_keys_when_configured(make_env: Callable[..., Env]) -> None:
    """api_key.revoke_on_password_change: false keeps them (an explicit choice)."""
    env = make_env("tokens", api_key={"revoke_on_password_change": False})
    env.register()
    auth = bearer(env.login()["access_token"])
    key = make_key(env, auth).json()["key"]
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert env.client.post("/auth/password", json=body, headers=auth).status_code == 200
    assert key_works(env, key)


@pytest.mark.parametrize(
    ("body", "status", "revoked"),
    [
        (None, 204, False),
        ({}, 204, False),
        ({"include_api_keys": False}, 204, False),
        ({"include_api_keys": True}, 204, True),
        ({"include_api_keys": "yes"}, 400, False),
        ({"include_api_keys": 1}, 400, False),
        ({"include_api_keys": True, "everything": True}, 400, False),
    ],
    ids=["no-body", "empty", "false", "true", "string", "number", "unknown-field"],
)
def test_logout_all_revokes_api_keys_only_when_asked(
    env: Env, body: dict[str, Any] | None, status: int, revoked: bool
) -> None:
    """logout-all keeps keys by default (automation keeps running) and revokes them with
    {"include_api_keys": true}; the body is optional and strictly typed."""
    env.register()
    auth = bearer(env.login()["access_token"])
    key = make_key(env, auth).json()["key"]
    out = env.client.post("/auth/logout-all", json=body, headers=auth)
    assert out.status_code == status, out.text
    assert key_works(env, key) is not revoked


def test_live_keys_per_user_are_capped(make_env: Callable[..., Env]) -> None:
    """Beyond api_key.max_per_user live keys creation is a 409 naming the limit; revoking
    one frees a slot, and the listing never holds more than the cap."""
    env = make_env("tokens", api_key={"max_per_user": 3})
    env.register()
    auth = bearer(env.login()["access_token"])
    made = [make_key(env, auth).json() for _ in range(3)]
    over = make_key(env, auth)
    assert over.status_code == 409
    assert over.json()["error"] == "api_key_limit"
    assert len(env.client.get("/auth/api-keys", headers=auth).json()["keys"]) == 3
    gone = env.client.delete(f"/auth/api-keys/{made[0]['id']}", headers=auth)
    assert gone.status_code == 204
    assert make_key(env, auth).status_code == 201
    listed = env.client.get("/auth/api-keys", headers=auth).json()["keys"]
    assert made[0]["id"] not in [k["key_id"] for k in listed]
    assert len(listed) == 3


def _async_client(env: Env) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=env.client.app)
    return httpx.AsyncClient(transport=transport, base_url="https://testserver")


def test_burst_of_creations_cannot_exceed_the_cap(make_env: Callable[..., Env]) -> None:
    """Sixty concurrent creations with the right password leave exactly max_per_user live
    keys: the rest get 409, none a 5xx."""
    loose = [1000, 300]
    throttle = {"per_account": loose, "per_ip": loose, "per_account_ip": loose}
    # the login throttle and the hash queue would shed most of the burst first (429/503);
    # loosened, every request reaches the cap check
    passwords = {"profile": "test_only_cheap", "min_length": 8, "queue_depth": 1000}
    env = make_env("tokens", api_key={"max_per_user": 5}, throttle=throttle, passwords=passwords)
    env.register()
    auth = bearer(env.login()["access_token"])

    async def burst() -> list[int]:
        async with _async_client(env) as client:
            body = {"password": PASSWORD}
            calls = [client.post("/auth/api-keys", json=body, headers=auth) for _ in range(60)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    statuses = asyncio.run(burst())
    assert statuses.count(201) == 5, statuses
    assert statuses.count(409) == 55, statuses
    assert len(env.client.get("/auth/api-keys", headers=auth).json()["keys"]) == 5


class GatedPasswords:
    """The real PasswordService, whose ``verify`` can be held open once (a creation in
    flight) while another request runs."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.hold: asyncio.Event | None = None
        self.entered: asyncio.Event | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    async def verify(self, password_hash: str, password: str) -> bool:
        result: bool = await self.real.verify(password_hash, password)
        hold, entered = self.hold, self.entered
        if hold is not None and entered is not None:
            self.hold = None  # only the first caller waits
            entered.set()
            await hold.wait()
        return result


@pytest.mark.parametrize("recovery", ["password-change", "logout-all-with-keys"])
def test_key_created_in_flight_during_recovery_never_works(
    make_env: Callable[..., Env], recovery: str
) -> None:
    """A creation whose password check passed *before* the owner recovered the account,
    and that completes after, must not leave a working key behind."""
    env = make_env("tokens")
    env.register()
    auth = bearer(env.login()["access_token"])
    gated = GatedPasswords(env.container.password_service())
    env.container.password_service.override(providers.Object(gated))

    async def race() -> tuple[httpx.Response, httpx.Response]:
        gated.hold, gated.entered = asyncio.Event(), asyncio.Event()
        hold = gated.hold
        async with _async_client(env) as client:
            create = asyncio.ensure_future(
                client.post("/auth/api-keys", json={"password": PASSWORD}, headers=auth)
            )
            entered = asyncio.ensure_future(gated.entered.wait())
            await asyncio.wait([create, entered], return_when=asyncio.FIRST_COMPLETED)
            assert entered.done(), "the creation ended before its password check"
            if recovery == "password-change":
                body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
                done = await client.post("/auth/password", json=body, headers=auth)
            else:
                body2 = {"include_api_keys": True}
                done = await client.post("/auth/logout-all", json=body2, headers=auth)
            hold.set()
            return await create, done

    created, done = asyncio.run(race())
    assert done.status_code in (200, 204), done.text
    if created.status_code == 201:
        assert not key_works(env, created.json()["key"]), "the in-flight key survived"
    else:
        assert created.status_code == 403, created.text
    assert asyncio.run(env.container.api_key_service().store.count_live(_owner(env))) == 0


def _owner(env: Env) -> str:
    record = asyncio.run(env.repo.get_by_username("alice"))
    assert record is not None
    return str(record.id)
