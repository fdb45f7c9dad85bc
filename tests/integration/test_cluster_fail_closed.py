"""A Redis Cluster node killed mid-test: requests end at a short 503 (never a 500, never
200 for a revoked token), and the same app recovers once the node is back."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from integration_support import example_app
from nexios.testclient import TestClient
from support.redis_server import RedisClusterProcess

example = example_app()

#: seconds before a stuck test is aborted (pytest-timeout): a hang guard, not a speed check
HANG_GUARD = 120

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_short_503(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.json() == {
        "error": "store_unavailable",
        "detail": "Service temporarily unavailable",
    }
    assert "Traceback" not in answer.text
    assert "redis" not in answer.text.lower()
    assert "cluster" not in answer.text.lower()


def _wait_until(condition: Callable[[], bool]) -> None:
    """Poll until ``condition`` holds; the ``timeout`` mark is the only bound (a hang guard)."""
    while not condition():
        time.sleep(0.05)


@pytest.mark.timeout(HANG_GUARD)
@pytest.mark.parametrize("cached", [False, True], ids=["direct", "cached"])
def test_cluster_node_killed_is_503_never_accept_and_recovers(
    redis_cluster_process: RedisClusterProcess, cached: bool
) -> None:
    """Kill one of the three masters: a revoked token is never accepted, every request
    soon ends at a short 503 (the cluster refuses all slots once it marks the node
    failed), and after the node restarts the app serves and revokes again, unrestarted."""
    env = {
        "NEXIOS_AUTH_STORES": "redis",
        "NEXIOS_AUTH_REDIS_URL": redis_cluster_process.url,
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
        if cached:
            store = container.revocation_store()
            _wait_until(lambda: bool(store.healthy))

        victim = redis_cluster_process.ports[1]
        redis_cluster_process.kill(victim)
        while True:  # until the cluster notices; requests on live nodes may still pass
            live_status = client.get("/me", headers=_bearer(live)).status_code
            answer = client.get("/me", headers=_bearer(revoked))
            assert answer.status_code in (401, 503), "a revoked token was accepted"
            assert live_status in (200, 503), live_status
            if live_status == 503:
                _assert_short_503(client.get("/me", headers=_bearer(live)))
                break
            time.sleep(0.05)
        attempt = client.post("/login-attempt", json={"username": "mallory"})
        assert attempt.status_code in (401, 503)  # its counter may live on a surviving node
        if attempt.status_code == 503:
            _assert_short_503(attempt)

        redis_cluster_process.start_node(victim)  # same port and node id, empty data
        _wait_until(lambda: client.get("/me", headers=_bearer(live)).status_code == 200)
        again = tokens.create_access_token("alice")
        _wait_until(lambda: client.post("/revoke", headers=_bearer(again)).status_code == 200)
        assert client.get("/me", headers=_bearer(again)).status_code == 401
        assert client.post("/login-attempt", json={"username": "mallory"}).status_code == 401
