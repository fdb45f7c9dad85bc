"""The account state on the shared engines: reset-token spends (OneTimeStore), device
records (CredentialStore) and the reset throttle on SQLite, Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from accounts_support import Env, bearer


@pytest.fixture(
    params=["sqlite", "redis", pytest.param("sqlalchemy+asyncpg", marks=pytest.mark.postgres)]
)
async def engine_env(
    request: pytest.FixtureRequest, tmp_path: Path, make_env: Callable[..., Awaitable[Env]]
) -> Env:
    """An app whose stores (and throttle) are SQLite, a real Redis or PostgreSQL."""
    config: dict[str, Any]
    if request.param == "sqlite":
        config = {"stores": "sqlite", "store": {"sqlite_path": str(tmp_path / "stores.db")}}
    elif request.param == "sqlalchemy+asyncpg":
        url = request.getfixturevalue("fresh_database_url")
        config = {"stores": "sqlalchemy", "store": {"database_url": url}}
    else:
        url = request.getfixturevalue("redis_url")
        config = {
            "stores": "redis",
            "store": {"redis_url": url, "namespace": f"acc-{uuid.uuid4().hex}"},
        }
    return await make_env(**config, accounts={"reset_per_address": [5, 3600]})


async def test_parallel_confirms_have_one_winner_on_the_engine(engine_env: Env) -> None:
    """50 concurrent confirms of one link on a shared store: exactly one wins."""
    env = engine_env
    await env.register()
    assert (
        await env.post("/auth/password-reset/request", {"email": "alice@example.com"})
    ).status_code == 202
    token = await env.token_from_mail("alice@example.com", "reset")
    replies = await asyncio.gather(
        *(
            env.post(
                "/auth/password-reset/confirm",
                {"token": token, "new_password": f"engine choice {i:02d}"},
            )
            for i in range(50)
        )
    )
    assert [r.status_code for r in replies].count(200) == 1


async def test_devices_and_reset_throttle_on_the_engine(engine_env: Env) -> None:
    """Device records list and end a login; the per-address reset counter holds."""
    env = engine_env
    await env.register()
    first = await env.login()
    second = await env.login()
    env.client.cookies.clear()
    listed = (await env.client.get("/auth/devices", headers=bearer(second["access_token"]))).json()[
        "devices"
    ]
    assert len(listed) == 2
    target = next(d["id"] for d in listed if not d["current"])
    gone = await env.client.delete(
        f"/auth/devices/{target}", headers=bearer(second["access_token"])
    )
    assert gone.status_code == 204
    assert (await env.client.get("/me", headers=bearer(first["access_token"]))).status_code == 401
    codes = [
        (await env.post("/auth/password-reset/request", {"email": "x@example.com"})).status_code
        for _ in range(7)
    ]
    assert codes == [202] * 5 + [429] * 2
