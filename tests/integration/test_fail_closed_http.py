"""Store outages over HTTP: Redis down answers 503 (never 200 for a revoked token, never a
500), recovers without an app restart; SQLite revocations survive an app restart."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from integration_support import example_app
from nexios.testclient import TestClient
from support.redis_server import RedisProcess

example = example_app()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_short_503(answer: httpx.Response) -> None:
    assert answer.status_code == 503
    assert answer.json() == {
        "error": "store_unavailable",
        "detail": "Service temporarily unavailable",
    }
    assert answer.headers["Retry-After"] == "1"
    assert "Traceback" not in answer.text
    assert "redis" not in answer.text.lower()


@pytest.mark.redis
@pytest.mark.parametrize("cached", [False, True], ids=["direct", "cached"])
def test_redis_down_is_503_never_accept_and_recovers(
    redis_process: RedisProcess, cached: bool
) -> None:
    """Killing Redis mid-test turns every authenticated request into a short 503 (a revoked
    token is never let through), and the same app recovers once Redis is back."""
    env = {
        "NEXIOS_AUTH_STORES": "redis",
        "NEXIOS_AUTH_REDIS_URL": redis_process.url,
        "NEXIOS_AUTH_REVOCATION_CACHE": "1" if cached else "0",
    }
    container = example.build_container(env)
    app = example.build_app(container)
    tokens = container.token_service()
    live, revoked = tokens.create_access_token("alice"), tokens.create_access_token("alice")
    with TestClient(app) as client:
        assert client.get("/me", headers=_bearer(live)).status_code == 200
        assert client.post("/revoke", headers=_bearer(revoked)).status_code == 200
        assert client.get("/me", headers=_bearer(revoked)).status_code == 401
        store = container.revocation_store()
        deadline = time.monotonic() + 5
        while cached and not store.healthy:  # the view, not Redis, answers from here on
            assert time.monotonic() < deadline, "revocation view never became fresh"
            time.sleep(0.01)
        if cached:
            local = store.lookups["local"]
            assert client.get("/me", headers=_bearer(revoked)).status_code == 401
            assert store.lookups["local"] == local + 1

        redis_process.kill()
        killed_at, answers = time.monotonic(), []
        # the cached view may answer for max_staleness (1 s) after its last proof of
        # freshness; the direct engine fails closed on the first request
        while time.monotonic() < killed_at + 4:
            sent = time.monotonic()
            live_status = client.get("/me", headers=_bearer(live)).status_code
            answer = client.get("/me", headers=_bearer(revoked))
            answers.append(answer.status_code)
            assert answer.status_code in (401, 503), "a revoked token was accepted"
            if live_status == 200:
                assert cached, "the direct engine answered 200 with Redis down"
                assert sent < killed_at + 1.0
                continue
            assert live_status == 503
            _assert_short_503(answer)
            break
        assert answers[-1] == 503
        _assert_short_503(client.get("/me", headers=_bearer(live)))
        attempt = client.post("/login-attempt", json={"username": "mallory"})
        _assert_short_503(attempt)

        redis_process.start()  # same port, empty data set
        deadline = time.monotonic() + 5
        while client.get("/me", headers=_bearer(live)).status_code != 200:
            assert time.monotonic() < deadline, "no recovery after Redis came back"
            time.sleep(0.05)
        again = tokens.create_access_token("alice")
        assert client.post("/revoke", headers=_bearer(again)).status_code == 200
        assert client.get("/me", headers=_bearer(again)).status_code == 401
        assert client.post("/login-attempt", json={"username": "mallory"}).status_code == 401


def _sqlite_app(path: Path) -> tuple[Any, Any]:
    container = example.build_container(
        {"NEXIOS_AUTH_STORES": "sqlite", "NEXIOS_AUTH_SQLITE_PATH": str(path)}
    )
    return container, example.build_app(container)


def test_sqlite_revocations_survive_an_app_restart(tmp_path: Path) -> None:
    """A token revoked (and a subject logged out) before a restart is still refused after it."""
    path = tmp_path / "auth.sqlite3"
    container, app = _sqlite_app(path)
    tokens = container.token_service()
    revoked, bob = tokens.create_access_token("alice"), tokens.create_access_token("bob")
    with TestClient(app) as client:
        assert client.post("/revoke", headers=_bearer(revoked)).status_code == 200
        assert client.post("/logout-all", headers=_bearer(bob)).status_code == 200
        assert client.get("/me", headers=_bearer(revoked)).status_code == 401
    asyncio.run(container.stores().close())

    container, app = _sqlite_app(path)  # a new process would build exactly this
    with TestClient(app) as client:
        assert client.get("/me", headers=_bearer(revoked)).status_code == 401
        assert client.get("/me", headers=_bearer(bob)).status_code == 401
        fresh = container.token_service().create_access_token("alice")
        assert client.get("/me", headers=_bearer(fresh)).status_code == 200
    asyncio.run(container.stores().close())
