"""Two uvicorn processes sharing one Redis: what one worker revokes or throttles, the
other refuses (issue 5, "Two processes, one truth")."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from integration_support import Worker, example_app
from support.redis_server import node_clients

build_container = example_app().build_container

pytestmark = [pytest.mark.redis, pytest.mark.slow]

#: CachedRevocationStore's default bound (seconds) between a revoke returning and every
#: worker refusing the token; the direct engine refuses on the next request
MAX_STALENESS = 1.0


@dataclass
class Pair:
    mode: str
    env: dict[str, str]
    a: Worker
    b: Worker

    def token(self, subject: str) -> str:
        service = build_container(self.env).token_service()
        token: str = service.create_access_token(subject)
        return token


def _env(redis_url: str, cached: bool) -> dict[str, str]:
    return {
        "NEXIOS_AUTH_STORES": "redis",
        "NEXIOS_AUTH_REDIS_URL": redis_url,
        "NEXIOS_AUTH_NAMESPACE": f"nxauth-it-{uuid.uuid4().hex[:12]}",
        "NEXIOS_AUTH_REVOCATION_CACHE": "1" if cached else "0",
    }


@pytest.fixture(scope="module", params=["direct", "cached", "direct-cluster", "cached-cluster"])
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    """Two workers on one Redis server, or on the 3-master Redis Cluster (``-cluster``)."""
    mode, _, cluster = str(request.param).partition("-")
    url = request.getfixturevalue("redis_cluster_url" if cluster else "redis_url")
    env = _env(url, cached=mode == "cached")
    a, b = Worker(env), Worker(env)
    try:
        pids = {a.wait_ready(), b.wait_ready()}
        assert len(pids) == 2, "two separate processes"
        yield Pair(mode, env, a, b)
    finally:
        a.stop()
        b.stop()


def _url(pair: Pair) -> str:
    return pair.env["NEXIOS_AUTH_REDIS_URL"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refused_within_bound(pair: Pair, token: str, revoked_at: float) -> None:
    """B refuses ``token`` on the next request (direct), or within the staleness bound
    (cached): any request B accepts was sent before ``revoked_at + MAX_STALENESS``."""
    if pair.mode == "direct":
        assert pair.b.request("GET", "/me", headers=_bearer(token)).status_code == 401
        return
    deadline = revoked_at + MAX_STALENESS + 0.5
    while True:
        sent = time.monotonic()
        status = pair.b.request("GET", "/me", headers=_bearer(token)).status_code
        if status == 401:
            break
        assert status == 200, status
        assert sent < revoked_at + MAX_STALENESS, "accepted after the staleness bound"
        assert sent < deadline
        time.sleep(0.01)
    for _ in range(3):  # and never accepted again
        assert pair.b.request("GET", "/me", headers=_bearer(token)).status_code == 401


def test_workers_report_the_configured_revocation_view(pair: Pair) -> None:
    """The cached pair really runs the pub/sub view, so the other rows test what they claim."""
    direct = "ClusterRevocationStore" if "cluster" in _url(pair) else "RedisRevocationStore"
    expected = "CachedRevocationStore" if pair.mode == "cached" else direct
    for worker in (pair.a, pair.b):
        assert worker.request("GET", "/pid").json()["revocations"] == expected


def test_token_revoked_through_a_is_refused_by_b(pair: Pair) -> None:
    """A token revoked on worker A is refused by worker B (next request, or within the bound)."""
    token = pair.token("alice")
    assert pair.b.request("GET", "/me", headers=_bearer(token)).status_code == 200
    assert pair.a.request("POST", "/revoke", headers=_bearer(token)).status_code == 200
    revoked_at = time.monotonic()
    _refused_within_bound(pair, token, revoked_at)
    assert pair.a.request("GET", "/me", headers=_bearer(token)).status_code == 401
    other = pair.token("alice")  # only that jti was revoked
    assert pair.b.request("GET", "/me", headers=_bearer(other)).status_code == 200


def test_logout_all_through_a_refuses_every_token_on_b(pair: Pair) -> None:
    """Log out everywhere on worker A: worker B refuses every earlier token of that subject."""
    first, second = pair.token("bob"), pair.token("bob")
    for token in (first, second):
        assert pair.b.request("GET", "/me", headers=_bearer(token)).status_code == 200
    assert pair.a.request("POST", "/logout-all", headers=_bearer(first)).status_code == 200
    revoked_at = time.monotonic()
    for token in (first, second):
        _refused_within_bound(pair, token, revoked_at)
    root = pair.token("root")  # other subjects are untouched
    assert pair.b.request("GET", "/me", headers=_bearer(root)).status_code == 200


def test_login_throttle_exhausted_on_a_answers_429_on_b(pair: Pair) -> None:
    """Failures counted on worker A put the account in backoff on worker B (429 + Retry-After)."""
    body = {"username": f"victim-{uuid.uuid4().hex[:8]}"}
    for _ in range(3):
        assert pair.a.request("POST", "/login-attempt", json=body).status_code == 401
    answer = pair.b.request("POST", "/login-attempt", json=body)
    assert answer.status_code == 429
    assert 1 <= int(answer.headers["Retry-After"]) <= 5
    assert answer.json()["error"] == "throttled"
    other = {"username": f"other-{uuid.uuid4().hex[:8]}"}
    assert pair.b.request("POST", "/login-attempt", json=other).status_code == 401


def test_dropped_channel_on_b_still_refuses_within_the_bound(pair: Pair) -> None:
    """With B's pub/sub connection killed, a revocation on A (never delivered to B) is
    still refused by B within the bound: B falls back to Redis, then resyncs (the direct
    pair has no channel: the kill finds nothing and B refuses on the next request)."""
    token = pair.token("alice")
    assert pair.b.request("GET", "/me", headers=_bearer(token)).status_code == 200
    pid_b = pair.b.request("GET", "/pid").json()["pid"]
    prefix = f"{pair.env['NEXIOS_AUTH_NAMESPACE']}:revcache:{pid_b}:"
    killed = 0
    for client in node_clients(_url(pair)):
        with client:
            ids = [c["id"] for c in client.client_list() if c.get("name", "").startswith(prefix)]
            for ident in ids:
                client.client_kill_filter(_id=ident)
            killed += len(ids)
    assert bool(killed) == (pair.mode == "cached"), "B's subscription not found"
    assert pair.a.request("POST", "/revoke", headers=_bearer(token)).status_code == 200
    _refused_within_bound(pair, token, time.monotonic())


def test_uvicorn_workers_2_share_revocations(redis_url: str) -> None:
    """Smoke check of ``uvicorn --workers 2``: once revoked, no worker accepts the token."""
    env = _env(redis_url, cached=False)
    server = Worker(env, workers=2)
    try:
        server.wait_ready()
        pids = set()
        for _ in range(60):
            pids.add(server.request("GET", "/pid").json()["pid"])
            if len(pids) == 2:
                break
        token = build_container(env).token_service().create_access_token("alice")
        assert server.request("GET", "/me", headers=_bearer(token)).status_code == 200
        assert server.request("POST", "/revoke", headers=_bearer(token)).status_code == 200
        answers = {
            server.request("GET", "/me", headers=_bearer(token)).status_code for _ in range(20)
        }
        assert answers == {401}
        if len(pids) < 2:
            pytest.skip("the kernel sent every connection to one worker; spread not observed")
    finally:
        server.stop()
