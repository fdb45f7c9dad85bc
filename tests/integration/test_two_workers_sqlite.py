"""Two uvicorn processes sharing one SQLite file: the login throttle lives in that file,
so an account backing off on worker A backs off on worker B too (issue item 10: with
per-process counters, two workers gave an attacker twice the guesses)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from integration_support import Worker

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Worker, Worker]]:
    """Workers A and B (two processes) on one SQLite stores file."""
    path = tmp_path_factory.mktemp("two-workers") / "stores.sqlite3"
    env = {
        "NEXIOS_AUTH_STORES": "sqlite",
        "NEXIOS_AUTH_SQLITE_PATH": str(path),
        "NEXIOS_AUTH_NAMESPACE": f"nxauth-it-{uuid.uuid4().hex[:12]}",
    }
    a, b = Worker(env), Worker(env)
    try:
        assert len({a.wait_ready(), b.wait_ready()}) == 2, "two separate processes"
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_throttle_exhausted_on_a_answers_429_on_b(workers: tuple[Worker, Worker]) -> None:
    """Three failures counted on worker A put the account in backoff on worker B (429 +
    Retry-After); another account is untouched."""
    a, b = workers
    body = {"username": f"victim-{uuid.uuid4().hex[:8]}", "password": "a wrong guess"}
    for _ in range(3):
        assert a.request("POST", "/login-attempt", json=body).status_code == 401
    answer = b.request("POST", "/login-attempt", json=body)
    assert answer.status_code == 429, answer.text
    assert 1 <= int(answer.headers["Retry-After"]) <= 5
    other = {"username": f"other-{uuid.uuid4().hex[:8]}", "password": "a wrong guess"}
    assert b.request("POST", "/login-attempt", json=other).status_code == 401


def test_guesses_split_across_workers_share_one_budget(workers: tuple[Worker, Worker]) -> None:
    """Alternating A, B, A: the third guess (wherever it lands) starts the backoff, so the
    fourth is refused on both workers: the budget is the account's, not the process's."""
    a, b = workers
    body = {"username": f"split-{uuid.uuid4().hex[:8]}", "password": "a wrong guess"}
    assert [w.request("POST", "/login-attempt", json=body).status_code for w in (a, b, a)] == [
        401,
        401,
        401,
    ]
    assert b.request("POST", "/login-attempt", json=body).status_code == 429
    assert a.request("POST", "/login-attempt", json=body).status_code == 429
