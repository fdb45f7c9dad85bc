"""Passkeys on every store engine (memory, SQLite, Redis): bursts of 50 parallel verifies
and gate tests, through the real app on one event loop.

The challenge is ``take()``n from the one-time store (exactly one caller gets it), a
credential id is ``add()``ed once (exactly one caller stores it), and the credential
generation is read before the signature check, so an owner acting while a sign-in is
held mid-flight leaves that sign-in nothing that works.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from authenticator import ORIGIN, PASSKEYS, Authenticator
from dependency_injector import providers
from passkey_helpers import LOGIN_VERIFY, REGISTER_VERIFY, same_credential
from route_helpers import PASSWORD, build_app
from support.redis_server import RedisProcess

from nexios_auth_di.container import shutdown
from nexios_auth_di.events import MemorySink
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

BURST = 50
NEW_PASSWORD = "a different long passphrase"
#: bounds how long a test waits for a request to reach the gate (a hang guard)
REACH_TIMEOUT = 20.0
SESSION_COOKIES = ("session", "__Host-session")


@dataclass
class Reply:
    status: int
    body: Any
    cookie: str | None


class Gate:
    """Holds the next caller of ``hold()`` (once armed) until ``open()``."""

    def __init__(self) -> None:
        self.armed = False
        self.reached = asyncio.Event()
        self._open = asyncio.Event()

    async def hold(self) -> None:
        if not self.armed:
            return
        self.armed = False
        self.reached.set()
        await self._open.wait()

    def open(self) -> None:
        self._open.set()


class GatedCredentials:
    """The real credential store; a sign-in waits at the gate when it stores the new
    counter: after the generation read and the signature check, before the issue."""

    def __init__(self, inner: Any, gate: Gate) -> None:
        self._inner, self._gate = inner, gate

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def update(self, record: Any) -> bool:
        await self._gate.hold()
        ok: bool = await self._inner.update(record)
        return ok


@dataclass
class StoreApp:
    """The real app (login mode ``both``) over one store engine, SQLite users."""

    engine: str
    container: Any
    client: httpx.AsyncClient
    gate: Gate
    sink: MemorySink

    async def call(
        self, path: str, body: Any = None, *, token: str | None = None, method: str = "POST"
    ) -> Reply:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self.client.cookies.clear()
        r = await self.client.request(method, path, json=body, headers=headers)
        self.client.cookies.clear()
        cookie = None
        for line in r.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if name.strip() in SESSION_COOKIES and value:
                cookie = f"{name.strip()}={value}"
        return Reply(r.status_code, r.json() if r.content else None, cookie)

    async def user(self, name: str = "alice") -> str:
        """Register ``name``; a fresh access token."""
        login = {"username": name, "password": PASSWORD}
        assert (await self.call("/auth/register", login)).status == 201
        reply = await self.call("/auth/login", login)
        assert reply.status == 200, reply.body
        return str(reply.body["access_token"])

    async def register_options(self, token: str) -> dict[str, Any]:
        reply = await self.call("/auth/passkeys/register/options", {}, token=token)
        assert reply.status == 200, reply.body
        options: dict[str, Any] = reply.body
        return options

    async def add_passkey(self, token: str, device: Authenticator) -> str:
        options = await self.register_options(token)
        credential = device.register(options["publicKey"], ORIGIN)
        body = {"challenge_id": options["challenge_id"], "credential": credential}
        reply = await self.call(REGISTER_VERIFY, body, token=token)
        assert reply.status == 201, reply.body
        return str(reply.body["id"])

    async def login_options(self) -> dict[str, Any]:
        reply = await self.call("/auth/passkeys/login/options", {})
        assert reply.status == 200, reply.body
        options: dict[str, Any] = reply.body
        return options

    async def survives(self, reply: Reply) -> bool:
        """Whether any credential a login reply handed out still works."""
        if reply.status != 200:
            return False
        access, refresh = reply.body.get("access_token"), reply.body.get("refresh_token")
        if (
            access is not None
            and (await self.call("/me", token=access, method="GET")).status == 200
        ):
            return True
        if reply.cookie is not None:
            self.client.cookies.clear()
            me = await self.client.get("/me", headers={"Cookie": reply.cookie})
            if me.status_code == 200:
                return True
        if refresh is None:
            return False
        return (await self.call("/auth/refresh", {"refresh_token": refresh})).status == 200

    async def passkeys(self, user_id: str) -> int:
        return len(await self.container.credential_store().list_for_user(user_id, "passkey"))


def engine_config(engine: str, tmp_path: Path, redis_url: str | None) -> dict[str, Any]:
    if engine == "sqlite":
        return {"stores": "sqlite", "store": {"sqlite_path": str(tmp_path / "auth.db")}}
    if engine == "redis":
        namespace = f"nxauth-passkeys-{uuid.uuid4().hex[:12]}"
        return {"stores": "redis", "store": {"redis_url": redis_url, "namespace": namespace}}
    return {"stores": "memory"}


@asynccontextmanager
async def store_app(engine: str, tmp_path: Path, redis_url: str | None) -> AsyncIterator[StoreApp]:
    """The app over one store engine, its credential store behind an unarmed gate."""
    config = engine_config(engine, tmp_path, redis_url)
    container = make_test_container(passkeys=PASSKEYS, **config)
    repo = SqliteUserRepository(tmp_path / "users.sqlite3")
    container.user_loader.override(providers.Object(user_loader_for(repo)))
    container.user_repository.override(providers.Object(repo))
    sink = MemorySink()
    container.event_sink.override(providers.Object(sink))
    gate = Gate()
    gated = GatedCredentials(container.credential_store(), gate)
    container.credential_store.override(providers.Object(gated))
    transport = httpx.ASGITransport(app=build_app(container, "both"))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        try:
            yield StoreApp(engine, container, client, gate, sink)
        finally:
            gate.open()
            await shutdown(container)


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreApp]:
    """The app over one store engine (Redis: a fresh namespace, deleted afterwards)."""
    engine: str = request.param
    redis_url = request.getfixturevalue("redis_url") if engine == "redis" else None
    async with store_app(engine, tmp_path, redis_url) as built:
        yield built
        if engine == "redis":
            db = built.container.stores().revocations._db
            keys = [k async for k in db.client.scan_iter(match=f"{db.namespace}:*")]
            if keys:
                await db.client.delete(*keys)


async def test_burst_one_login_challenge_has_one_winner(app: StoreApp) -> None:
    """50 parallel login/verify answering one challenge, each with a valid signature:
    exactly one signs in (the challenge is taken once), 49 get 401, none a 500."""
    token = await app.user()
    device = Authenticator()
    passkey = await app.add_passkey(token, device)
    options = await app.login_options()
    assertions = [device.get(options["publicKey"], ORIGIN) for _ in range(BURST)]
    replies = await asyncio.gather(
        *(app.call(LOGIN_VERIFY, {"challenge_id": options["challenge_id"], "credential": a})
          for a in assertions)
    )  # fmt: skip
    statuses = [r.status for r in replies]
    assert statuses.count(200) == 1, (app.engine, statuses)
    assert statuses.count(401) == BURST - 1
    [winner] = [r for r in replies if r.status == 200]
    assert await app.survives(winner)
    stored = await app.container.credential_store().get("passkey", passkey)
    assert 1 <= stored.data["sign_count"] <= BURST
    print(f"{app.engine}: login burst winners {statuses.count(200)}/{BURST}")


async def test_burst_one_registration_challenge_stores_one_passkey(app: StoreApp) -> None:
    """50 parallel register/verify answering one challenge with 50 new authenticators:
    exactly one passkey is stored (201), the rest 400."""
    token = await app.user()
    options = await app.register_options(token)
    creds = [Authenticator().register(options["publicKey"], ORIGIN) for _ in range(BURST)]
    replies = await asyncio.gather(
        *(app.call(REGISTER_VERIFY, {"challenge_id": options["challenge_id"], "credential": c},
                   token=token)
          for c in creds)
    )  # fmt: skip
    statuses = [r.status for r in replies]
    assert statuses.count(201) == 1, (app.engine, statuses)
    assert statuses.count(400) == BURST - 1
    me = await app.call("/me", token=token, method="GET")
    assert await app.passkeys(me.body["id"]) == 1
    print(f"{app.engine}: registration burst winners {statuses.count(201)}/{BURST}")


async def test_burst_one_credential_id_on_many_challenges_is_stored_once(app: StoreApp) -> None:
    """The same credential (same id) answering 50 separate challenges at once, 25 for
    alice and 25 for bob: the id is stored exactly once (§7.1 step 22), the rest 409."""
    tokens = [await app.user("alice"), await app.user("bob")]
    device = Authenticator()
    jobs = []
    for i in range(BURST):
        token = tokens[i % 2]
        options = await app.register_options(token)
        credential = device.register(options["publicKey"], ORIGIN)
        same_credential(device)  # every later answer reuses this id and key
        body = {"challenge_id": options["challenge_id"], "credential": credential}
        jobs.append(app.call(REGISTER_VERIFY, body, token=token))
    statuses = [r.status for r in await asyncio.gather(*jobs)]
    assert statuses.count(201) == 1, (app.engine, statuses)
    assert statuses.count(409) == BURST - 1
    ids = [(await app.call("/me", token=t, method="GET")).body["id"] for t in tokens]
    assert sum([await app.passkeys(i) for i in ids]) == 1


async def _owner_logs_out_everywhere(app: StoreApp, token: str, passkey: str) -> int:
    return (await app.call("/auth/logout-all", token=token)).status


async def _owner_changes_password(app: StoreApp, token: str, passkey: str) -> int:
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    return (await app.call("/auth/password", body, token=token)).status


async def _owner_removes_the_passkey(app: StoreApp, token: str, passkey: str) -> int:
    return (await app.call(f"/auth/passkeys/{passkey}", token=token, method="DELETE")).status


@pytest.mark.parametrize(
    ("act", "status"),
    [
        pytest.param(_owner_logs_out_everywhere, 204, id="logout-all-asvs-v3.3.3"),
        pytest.param(_owner_changes_password, 200, id="password-change-asvs-v3.3.3"),
        pytest.param(_owner_removes_the_passkey, 204, id="passkey-removed-asvs-v2.9"),
    ],
)
async def test_sign_in_held_mid_flight_while_the_owner_acts_leaves_nothing(
    app: StoreApp, act: Any, status: int
) -> None:
    """Gate: a passkey sign-in held after its signature check (generation already read)
    while the owner logs out everywhere, changes password or removes the passkey: when
    released it is refused, and nothing it could have issued works."""
    token = await app.user()
    device = Authenticator()
    passkey = await app.add_passkey(token, device)
    options = await app.login_options()
    body = {
        "challenge_id": options["challenge_id"],
        "credential": device.get(options["publicKey"], ORIGIN),
    }
    app.gate.armed = True
    login = asyncio.create_task(app.call(LOGIN_VERIFY, body))
    await asyncio.wait_for(app.gate.reached.wait(), REACH_TIMEOUT)
    assert await act(app, token, passkey) == status
    app.gate.open()
    reply = await login
    assert reply.status == 401, (app.engine, reply.body)
    assert not await app.survives(reply)
    wins = [e for e in app.sink.events if e.kind.value == "login_succeeded"]
    assert [e.detail["method"] for e in wins] == ["password"]  # the refusal is no success


@pytest.mark.redis
@pytest.mark.timeout(60)  # a hang guard, not a speed check
async def test_redis_down_fails_closed_with_503_and_recovers(
    redis_process: RedisProcess, tmp_path: Path
) -> None:
    """Redis unreachable: passkey options and verify answer a short 503 (never 500, never
    a login); the same app serves passkey options again once Redis is back."""
    async with store_app("redis", tmp_path, redis_process.url) as app:
        token = await app.user()
        device = Authenticator()
        await app.add_passkey(token, device)
        options = await app.login_options()
        body = {
            "challenge_id": options["challenge_id"],
            "credential": device.get(options["publicKey"], ORIGIN),
        }
        redis_process.kill()
        for path, sent in (("/auth/passkeys/login/options", {}), (LOGIN_VERIFY, body)):
            down = await app.call(path, sent)
            assert down.status == 503, (path, down.body)
            assert down.body == {
                "error": "store_unavailable",
                "detail": "Service temporarily unavailable",
            }
        redis_process.start()
        assert (await app.call("/auth/passkeys/login/options", {})).status == 200
