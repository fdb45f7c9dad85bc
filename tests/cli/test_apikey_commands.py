"""``api-key create | list | revoke`` through the container's APIKeyService: on a SQLite
store shared with a separate container (as a running app would be), and on the memory
store of a container handed to the CLI."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml
from cli_support import Env
from dependency_injector import providers

from nexios_auth_di import AuthContainer
from nexios_auth_di.container import shutdown
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import MemoryUserRepository


def app_side(env: Env) -> AuthContainer:
    """Another container on the same settings and files: what the app would see."""
    container = AuthContainer()
    container.config.from_yaml(str(env.config))
    container.config.store.sqlite_path.from_value(str(env.store))
    return container


def authenticate(container: AuthContainer, key: str) -> Any:
    async def check() -> Any:
        try:
            return await container.api_key_service().authenticate(key)
        finally:
            await shutdown(container)

    return asyncio.run(check())


def test_create_list_revoke_on_sqlite(ada: Env) -> None:
    """A key printed once by ``create`` authenticates in the app with its scopes and
    name, ``list`` shows its id (never the secret), and after ``revoke`` it is refused."""
    made = ada.invoke(
        ada.args("api-key", "create", "ada", "--scope", "notes:write", "--name", "ci", store=True)
    )
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert key.startswith("nxa_")
    record = authenticate(app_side(ada), key)
    assert record is not None
    assert record.scopes == ("notes:write",)
    assert record.name == "ci"

    listed = ada.invoke(ada.args("api-key", "list", "ada", store=True))
    assert listed.exit_code == 0
    assert record.key_id in listed.stdout
    assert "scopes=notes:write" in listed.stdout
    assert key not in listed.stdout
    assert key.split("_")[2] not in listed.output  # no part of the secret

    revoked = ada.invoke(ada.args("api-key", "revoke", record.key_id, store=True, users=False))
    assert revoked.exit_code == 0, revoked.output
    assert authenticate(app_side(ada), key) is None
    again = ada.invoke(ada.args("api-key", "revoke", record.key_id, store=True, users=False))
    assert again.exit_code == 1
    assert "no live API key" in again.stderr
    assert ada.invoke(ada.args("api-key", "list", "ada", store=True)).stdout == ""


def test_ttl_is_bounded_by_settings(ada: Env) -> None:
    """``--ttl`` sets the expiry; one above api_key.max_ttl is refused (exit 1)."""
    short = ada.invoke(ada.args("api-key", "create", "ada", "--ttl", "60", store=True))
    assert short.exit_code == 0
    record = authenticate(app_side(ada), short.stdout.strip())
    assert record.expires_at - record.created_at == pytest.approx(60)
    too_long = ada.invoke(ada.args("api-key", "create", "ada", "--ttl", "1e12", store=True))
    assert too_long.exit_code == 1
    assert "at most max_ttl" in too_long.stderr


def test_cap_per_user_is_enforced(ada: Env) -> None:
    """The CLI obeys api_key.max_per_user like the routes: the next key is refused."""
    settings = yaml.safe_load(ada.config.read_text())
    ada.config.write_text(yaml.safe_dump({**settings, "api_key": {"max_per_user": 2}}))
    codes = [
        ada.invoke(ada.args("api-key", "create", "ada", store=True)).exit_code for _ in range(3)
    ]
    assert codes == [0, 0, 1]
    refused = ada.invoke(ada.args("api-key", "create", "ada", store=True))
    assert "maximum number of live API keys" in refused.stderr


def test_deactivated_user_gets_no_key(ada: Env) -> None:
    """A deactivated account cannot be given a new key."""
    assert ada.invoke(ada.args("user", "deactivate", "ada")).exit_code == 0
    result = ada.invoke(ada.args("api-key", "create", "ada", store=True))
    assert result.exit_code == 1
    assert "deactivated" in result.stderr


def test_memory_store_of_a_given_container(env: Env) -> None:
    """A container passed to the CLI is used as it is (memory stores, memory users):
    keys made by one command are listed and revoked by the next."""
    users = MemoryUserRepository()
    record = asyncio.run(users.create("ada", "unused-hash"))
    container = make_test_container()
    container.user_repository.override(providers.Object(users))

    made = env.invoke(["api-key", "create", "ada", "--scope", "read"], obj=container)
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    found = authenticate(container, key)
    assert found.owner == record.id
    listed = env.invoke(["api-key", "list", "ada"], obj=container)
    assert found.key_id in listed.stdout
    assert env.invoke(["api-key", "revoke", found.key_id], obj=container).exit_code == 0
    assert authenticate(container, key) is None
