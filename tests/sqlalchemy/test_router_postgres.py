"""The ready-made router with its users and every store in PostgreSQL (``stores:
sqlalchemy``, ``SqlAlchemyUserRepository``): the whole token lifecycle over real HTTP
handling, a refresh burst with one winner, and a database outage that answers 503 and
recovers without a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from nexios import Depend, NexiosApp
from nexios.testclient import TestClient
from support.postgres_server import PostgresProcess

from nexios_auth_di import AuthContainer, current_user, install
from nexios_auth_di.routes import auth_router
from nexios_auth_di.stores.sqlalchemy.users import SqlAlchemyUserRepository
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import user_loader_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
HANG_GUARD = 120  # pytest-timeout: a hang guard, never a claim about speed


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def build(url: str) -> tuple[AuthContainer, NexiosApp]:
    """A testing-profile container whose stores and users are both at ``url``."""
    container = make_test_container(stores="sqlalchemy", store={"database_url": url})
    users = SqlAlchemyUserRepository(container.stores().database)  # one pool for both
    container.user_repository.override(providers.Object(users))
    container.user_loader.override(providers.Object(user_loader_for(users)))
    app = NexiosApp()

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return response.json({"id": user.id})

    app.mount_router(auth_router(container, login_mode="tokens"))
    install(app, container)
    return container, app


def login(client: Any, password: str = PASSWORD) -> dict[str, Any]:
    answer = client.post("/auth/login", json={"username": "alice", "password": password})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def stored_user(url: str) -> Any:
    async def read() -> Any:
        repo = SqlAlchemyUserRepository(url)
        try:
            return await repo.get_by_username("ALICE")
        finally:
            await repo.close()

    return asyncio.run(read())


def test_register_login_refresh_logout_and_password_change_on_postgres(
    fresh_database_url: str,
) -> None:
    """Every step of the token lifecycle works with the users and the state in PostgreSQL,
    and each leaves its mark there (a replayed refresh token and old passwords fail)."""
    _, app = build(fresh_database_url)
    with TestClient(app, base_url="https://testserver") as client:
        made = client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
        assert made.status_code == 201, made.text
        again = client.post("/auth/register", json={"username": "Alice", "password": PASSWORD})
        assert again.status_code == 409, "usernames are unique by their NFKC+casefold key"
        pair = login(client)
        me = client.get("/me", headers=bearer(pair["access_token"]))
        assert me.json() == {"id": made.json()["id"]}

        rotated = client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert rotated.status_code == 200
        replay = client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert replay.status_code == 401
        heir = rotated.json()
        gone = client.post("/auth/refresh", json={"refresh_token": heir["refresh_token"]})
        assert gone.status_code == 401, "a reused family dies whole"

        fresh = login(client)
        out = client.post(
            "/auth/logout",
            json={"refresh_token": fresh["refresh_token"]},
            headers=bearer(fresh["access_token"]),
        )
        assert out.status_code == 204
        assert client.get("/me", headers=bearer(fresh["access_token"])).status_code == 401

        current = login(client)
        before = stored_user(fresh_database_url).password_hash
        changed = client.post(
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=bearer(current["access_token"]),
        )
        assert changed.status_code == 200, changed.text
        assert client.get("/me", headers=bearer(current["access_token"])).status_code == 401
        assert client.get("/me", headers=bearer(changed.json()["access_token"])).status_code == 200
        assert stored_user(fresh_database_url).password_hash != before
        old = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        assert old.status_code == 401
        login(client, NEW_PASSWORD)


@pytest.mark.timeout(HANG_GUARD)
async def test_fifty_concurrent_refreshes_of_one_token_have_one_winner(
    fresh_database_url: str,
) -> None:
    """A refresh token replayed 50 times at once over HTTP (ASVS 3.5.2, RFC 9700 4.14.2)
    yields exactly one new pair; the other 49 are refused, never a 500."""
    container, app = build(fresh_database_url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        made = await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
        assert made.status_code == 201
        pair = await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        token = pair.json()["refresh_token"]
        answers = await asyncio.gather(
            *[client.post("/auth/refresh", json={"refresh_token": token}) for _ in range(50)]
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 401}
    await container.stores().close()


def _wait_until(condition: Callable[[], bool]) -> None:
    """Poll; the test's timeout mark is the only bound (a hang guard)."""
    while not condition():
        time.sleep(0.05)


def _assert_short_503(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "store_unavailable"
    text = answer.text.lower()
    for leak in ("traceback", "postgres", "asyncpg", "sqlalchemy"):
        assert leak not in text


@pytest.mark.timeout(HANG_GUARD)
def test_postgres_stopped_mid_test_is_503_then_recovers(postgres_process: PostgresProcess) -> None:
    """With its database stopped, every route that reads a user or a store answers a short
    503 (fail closed: never 200, never 500); after a restart the same app works again."""
    _, app = build(postgres_process.url)
    with TestClient(app, base_url="https://testserver") as client:
        made = client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
        assert made.status_code == 201
        pair = login(client)
        assert client.get("/me", headers=bearer(pair["access_token"])).status_code == 200

        postgres_process.stop()
        _assert_short_503(client.get("/me", headers=bearer(pair["access_token"])))
        _assert_short_503(
            client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        )
        _assert_short_503(
            client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        )

        postgres_process.start()  # same port, same data
        _wait_until(
            lambda: client.get("/me", headers=bearer(pair["access_token"])).status_code == 200
        )
        rotated = client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert rotated.status_code == 200, "the refused refresh during the outage spent nothing"
        login(client)
