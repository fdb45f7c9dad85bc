"""Store outages over HTTP: Redis down answers 503 (never 200 for a revoked token, never a
500), recovers without an app restart; SQLite revocations survive an app restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from integration_support import example_app
from nexios.testclient import TestClient
from support.redis_server import RedisProcess

example = example_app()

#: seconds before a stuck test is aborted (pytest-timeout): a hang guard, not a speed check
HANG_GUARD = 60


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


def _wait_until(condition: Callable[[], bool]) -> None:
    """Poll until ``condition`` holds. No deadline here: the test's ``timeout`` mark is the
    only bound, a hang guard, never a claim about speed."""
    while not condition():
        time.sleep(0.02)


@pytest.mark.redis
@pytest.mark.timeout(HANG_GUARD)
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
        if cached:
            _wait_until(lambda: bool(store.healthy))  # the view, not Redis, answers now
            local = store.lookups["local"]
            assert client.get("/me", headers=_bearer(revoked)).status_code == 401
            assert store.lookups["local"] == local + 1

        redis_process.kill()
        # The cached view may keep answering from its last fresh copy until it goes stale;
        # the direct engine fails closed on the first request. Either way a revoked token
        # is never accepted, and the live one ends at a short 503.
        while True:
            live_status = client.get("/me", headers=_bearer(live)).status_code
            answer = client.get("/me", headers=_bearer(revoked))
            assert answer.status_code in (401, 503), "a revoked token was accepted"
            if live_status == 503:
                _assert_short_503(answer)
                break
            assert live_status == 200, live_status
            assert cached, "the direct engine answered 200 with Redis down"
            time.sleep(0.02)
        _assert_short_503(client.get("/me", headers=_bearer(live)))
        attempt = client.post("/login-attempt", json={"username": "mallory"})
        _assert_short_503(attempt)

        redis_process.start()  # same port, empty data set
        _wait_until(lambda: client.get("/me", headers=_bearer(live)).status_code == 200)
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
