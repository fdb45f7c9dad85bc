"""``user ...`` and ``sessions revoke-all`` on real SQLite files, and the README's
"make yourself admin" line against the example app."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from cli_support import PASSWORD, Env
from nexios.testclient import TestClient

from nexios_auth_di import AuthContainer
from nexios_auth_di.container import shutdown
from nexios_auth_di.exceptions import TokenRevoked
from nexios_auth_di.users import MemoryUserRepository, SqliteUserRepository

ROOT = Path(__file__).resolve().parents[2]


def stored(path: Path, username: str) -> Any:
    return asyncio.run(SqliteUserRepository(path).get_by_username(username))


def test_user_create_hashes_with_the_configured_profile(env: Env) -> None:
    """``user create`` stores the NFKC name, the permissions given and an argon2id hash
    of the stdin password under the settings' profile; the password is never echoed."""
    result = env.invoke(
        env.args("user", "create", "Ｅve", "--permission", "notes:read", "--permission", "x"),
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    record = stored(env.users, "eve")
    assert record.username == "Eve"  # NFKC: the full-width letter is stored plain
    assert record.permissions == ("notes:read", "x")
    assert record.password_hash.startswith("$argon2id$v=19$m=8,")  # test_only_cheap
    assert PasswordHasher().verify(record.password_hash, PASSWORD)
    assert f"id {record.id}" in result.stdout


def test_set_permissions_and_deactivate(ada: Env) -> None:
    """``set-permissions`` replaces the permission list (by the sign-in key, so case does
    not matter; ``--none`` empties it, never an empty argument list) and
    ``deactivate`` clears is_active; both leave the hash alone."""
    before = stored(ada.users, "ada")
    result = ada.invoke(ada.args("user", "set-permissions", "ADA", "admin", "notes:write"))
    assert result.exit_code == 0, result.output
    assert stored(ada.users, "ada").permissions == ("admin", "notes:write")
    assert ada.invoke(ada.args("user", "set-permissions", "ada", "admin")).exit_code == 0
    assert stored(ada.users, "ada").permissions == ("admin",)
    assert ada.invoke(ada.args("user", "set-permissions", "ada")).exit_code == 2  # no names
    assert stored(ada.users, "ada").permissions == ("admin",)
    assert ada.invoke(ada.args("user", "set-permissions", "ada", "x", "--none")).exit_code == 2
    assert ada.invoke(ada.args("user", "set-permissions", "ada", "--none")).exit_code == 0
    assert stored(ada.users, "ada").permissions == ()
    assert ada.invoke(ada.args("user", "deactivate", "ada")).exit_code == 0
    after = stored(ada.users, "ada")
    assert after.is_active is False
    assert after.password_hash == before.password_hash


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_repositories_set_permissions(tmp_path: Path, kind: str) -> None:
    """Both shipped repositories replace permissions in place; an unknown id is a no-op."""
    repo: Any = MemoryUserRepository() if kind == "memory" else SqliteUserRepository(
        tmp_path / "u.sqlite3")  # fmt: skip

    async def scenario() -> tuple[Any, Any]:
        record = await repo.create("ada", "hash", ["a"])
        await repo.set_permissions(record.id, ["b", "c"])
        await repo.set_permissions("no-such-id", ["z"])
        return await repo.get_by_id(record.id), await repo.get_by_id("no-such-id")

    record, missing = asyncio.run(scenario())
    assert record.permissions == ("b", "c")
    assert record.username == "ada"
    assert missing is None


def test_sessions_revoke_all_ends_tokens_and_sessions(ada: Env) -> None:
    """After ``sessions revoke-all`` an access token issued before is refused
    (TokenRevoked) and the user's server-side sessions are gone; another user's survive."""
    container = AuthContainer()
    container.config.from_yaml(str(ada.config))
    user_id = stored(ada.users, "ada").id

    async def before() -> str:
        tokens, store = container.token_service(), container.session_store()
        access, _ = await tokens.issue_login(user_id, await tokens.current_generation(user_id))
        await tokens.verify(access)  # valid now
        await store.save("s-ada-1", {"user_id": user_id}, 600, subject=user_id)
        await store.save("s-ada-2", {"user_id": user_id}, 600, subject=user_id)
        await store.save("s-bob", {"user_id": "bob"}, 600, subject="bob")
        await shutdown(container)
        return access

    access = asyncio.run(before())
    result = ada.invoke(ada.args("sessions", "revoke-all", "ada", store=True))
    assert result.exit_code == 0, result.output
    assert "2 session(s) ended" in result.stdout

    async def after() -> tuple[Any, Any]:
        store = container.session_store()
        try:
            with pytest.raises(TokenRevoked):
                await container.token_service().verify(access)
            return await store.load("s-ada-1"), await store.load("s-bob")
        finally:
            await shutdown(container)

    ada_session, bob_session = asyncio.run(after())
    assert ada_session is None
    assert bob_session == {"user_id": "bob"}


def test_deactivate_ends_every_login_for_good(ada: Env) -> None:
    """``user deactivate`` with shared stores also advances ada's generation and ends her
    sessions, so reactivating the row later does not bring a stolen token back."""
    container = AuthContainer()
    container.config.from_yaml(str(ada.config))
    user_id = stored(ada.users, "ada").id

    async def before() -> str:
        tokens = container.token_service()
        access, _ = await tokens.issue_login(user_id, await tokens.current_generation(user_id))
        await container.session_store().save("s-ada", {"user_id": user_id}, 600, subject=user_id)
        await shutdown(container)
        return access

    access = asyncio.run(before())
    result = ada.invoke(ada.args("user", "deactivate", "ada", store=True))
    assert result.exit_code == 0, result.output
    assert "every token revoked, 1 session(s) ended" in result.stdout
    asyncio.run(SqliteUserRepository(ada.users).set_active(user_id, True))  # reactivated

    async def after() -> Any:
        try:
            with pytest.raises(TokenRevoked):
                await container.token_service().verify(access)
            return await container.session_store().load("s-ada")
        finally:
            await shutdown(container)

    assert asyncio.run(after()) is None


@pytest.fixture
def example_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The README's example app with its data in ``tmp_path`` (the CLI's working dir)."""
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.chdir(tmp_path)
    from examples.quickstart.app import create_app

    with TestClient(create_app("development", str(tmp_path))) as client:
        yield client


def test_make_yourself_admin_in_the_demo(
    example_client: TestClient, runner: Any, tmp_path: Path
) -> None:
    """README "Make yourself admin": register ada in the example app, run exactly
    ``nexios-auth user set-permissions ada admin --users-db example_users.sqlite3`` in the
    data dir, and ada's existing token now opens /admin (403 before, 200 after)."""
    from nexios_auth_di.cli import cli

    body = {"username": "ada", "password": PASSWORD}
    assert example_client.post("/auth/register", json=body).status_code == 201
    token = example_client.post("/auth/login", json=body).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert example_client.get("/admin", headers=headers).status_code == 403

    line = "user set-permissions ada admin --users-db example_users.sqlite3"
    assert line in (ROOT / "README.md").read_text()  # the documented line, verbatim
    result = runner.invoke(cli, line.split())
    assert result.exit_code == 0, result.output

    r = example_client.get("/admin", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"admin": "ada"}
