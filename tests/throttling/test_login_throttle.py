"""LoginThrottle: per-account and per-IP backoff, resets, and no account enumeration."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import pytest
from nexios import NexiosApp
from nexios.testclient import TestClient
from support import FakeClock

from nexios_auth_di.exceptions import HTTPAuthError, StoreUnavailable, Throttled
from nexios_auth_di.http.throttling import LoginThrottle
from nexios_auth_di.passwords import PasswordService
from nexios_auth_di.passwords.profiles import TEST_ONLY_CHEAP


async def _retry_after(throttle: LoginThrottle, account: str, ip: str) -> int | None:
    try:
        await throttle.check(account, ip)
    except Throttled as exc:
        return exc.retry_after
    return None


async def test_account_backoff_doubles_and_is_capped() -> None:
    """After the limit, each further failure doubles the wait, up to max_delay."""
    clock = FakeClock(time.time())
    t = LoginThrottle(per_account=(3, 300), per_ip=(1000, 300), max_delay=20, clock=clock)
    for _ in range(3):
        assert await _retry_after(t, "alice", "192.0.2.1") is None
        await t.failed("alice", "192.0.2.1")
    waits = []
    for _ in range(7):
        wait = await _retry_after(t, "alice", "192.0.2.1")
        assert wait is not None
        waits.append(wait)
        clock.advance(wait - 0.5)
        assert await _retry_after(t, "alice", "192.0.2.1") == 1  # not yet
        clock.advance(0.5)
        assert await _retry_after(t, "alice", "192.0.2.1") is None  # the wait is over...
        await t.failed("alice", "192.0.2.1")  # ...and the next guess is wrong again
    assert waits == [1, 2, 4, 8, 16, 20, 20]
    # Another account from the same IP is unaffected: no collateral lockout.
    assert await _retry_after(t, "bob", "192.0.2.1") is None


async def test_success_resets_account_but_not_ip() -> None:
    """A successful login clears the account's backoff; the IP's failure count remains."""
    clock = FakeClock(time.time())
    t = LoginThrottle(per_account=(2, 300), per_ip=(3, 300), clock=clock)
    await t.failed("alice", "192.0.2.1")
    await t.failed("alice", "192.0.2.1")
    assert await _retry_after(t, "alice", "192.0.2.1") == 1
    await t.succeeded("alice", "192.0.2.1")
    assert await _retry_after(t, "alice", "192.0.2.1") is None
    await t.failed("alice", "192.0.2.1")  # counter restarted: one failure, no lock
    assert await _retry_after(t, "alice", "192.0.2.9") is None
    # But that was the IP's third failure: the IP now backs off, whatever the account.
    assert await _retry_after(t, "carol", "192.0.2.1") == 1


async def test_per_ip_limit_across_accounts() -> None:
    """Spraying many usernames from one IP trips the per-IP backoff; other IPs are fine."""
    clock = FakeClock(time.time())
    t = LoginThrottle(per_account=(5, 300), per_ip=(4, 300), clock=clock)
    for i in range(4):
        await t.failed(f"user{i}", "198.51.100.7")
    assert await _retry_after(t, "fresh-user", "198.51.100.7") == 1
    assert await _retry_after(t, "fresh-user", "198.51.100.8") is None


@pytest.mark.parametrize("variant", ["alice", "Alice", " ALICE ", "alice\t"])
async def test_username_normalised(variant: str) -> None:
    """Case and padding variants share one counter, so they cannot multiply the budget."""
    clock = FakeClock(time.time())
    t = LoginThrottle(per_account=(2, 300), per_ip=(1000, 300), clock=clock)
    await t.failed("alice", "192.0.2.1")
    await t.failed(variant, "192.0.2.2")
    assert await _retry_after(t, "alice", "192.0.2.3") == 1


async def test_storage_keys_do_not_contain_usernames_or_ips() -> None:
    """Keys are SHA-256 digests, so usernames and IPs never appear in the storage."""
    t = LoginThrottle(per_account=(1, 300), per_ip=(1, 300))
    await t.failed("alice@example.com", "203.0.113.5")
    keys = list(t.storage.storage) + list(t.storage.expirations)  # limits MemoryStorage
    assert keys
    assert not any("alice" in k or "203.0.113.5" in k for k in keys)


async def test_storage_down_fails_closed() -> None:
    """An unreachable Redis makes check/failed/succeeded raise StoreUnavailable (503)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    t = LoginThrottle(f"async+redis://127.0.0.1:{port}")
    for call in (t.check, t.failed, t.succeeded):
        with pytest.raises(StoreUnavailable) as info:
            await call("alice", "192.0.2.1")
        assert info.value.status_code == 503


def _login_app(throttle: LoginThrottle) -> NexiosApp:
    """A minimal login route wired the way routes.py is meant to use the services."""
    passwords = PasswordService(TEST_ONLY_CHEAP, allow_cheap=True)
    users: dict[str, str] = {}
    app = NexiosApp()

    @app.post("/login")
    async def login(request: Any, response: Any) -> Any:
        body = await request.json
        username, password = str(body["username"]), str(body["password"])
        ip = "192.0.2.50"
        try:
            await throttle.check(username, ip)
            if not users:
                users["alice"] = await passwords.hash("the right password")
            stored = users.get(throttle.normalize(username))
            if stored is None:
                await passwords.dummy_verify(password)
                ok = False
            else:
                ok = await passwords.verify(stored, password)
            if not ok:
                await throttle.failed(username, ip)
                return response.json({"error": "invalid_credentials"}, status_code=401)
            await throttle.succeeded(username, ip)
            return response.json({"ok": True})
        except HTTPAuthError as exc:
            return response.json(exc.body(), status_code=exc.status_code, headers=exc.headers)

    return app


def test_known_and_unknown_accounts_throttle_identically() -> None:
    """A throttled login looks the same whether or not the account exists."""
    clock = FakeClock(time.time())
    throttle = LoginThrottle(per_account=(3, 300), per_ip=(1000, 300), clock=clock)
    answers = {}
    with TestClient(_login_app(throttle)) as client:
        for name in ("alice", "nobody-here"):
            for _ in range(3):
                r = client.post("/login", json={"username": name, "password": "wrong guess"})
                assert r.status_code == 401
            answers[name] = client.post("/login", json={"username": name, "password": "x"})
        # Even the right password is refused while the account backs off.
        right = client.post("/login", json={"username": "alice", "password": "the right password"})
        assert right.status_code == 429
        clock.advance(1)
        right = client.post("/login", json={"username": "alice", "password": "the right password"})
        assert right.status_code == 200
    known, unknown = answers["alice"], answers["nobody-here"]
    assert known.status_code == unknown.status_code == 429
    assert known.content == unknown.content
    assert known.json() == {"error": "throttled", "detail": "Too many requests"}
    assert dict(known.headers) == dict(unknown.headers)
    assert known.headers["retry-after"] == "1"


@pytest.mark.redis
async def test_real_redis_backoff(redis_url: str) -> None:
    """The same backoff works on a real Redis storage (shared by all workers)."""
    url = redis_url
    clock = FakeClock(time.time())
    user = "redis-user-" + os.urandom(6).hex()
    t = LoginThrottle(url, per_account=(2, 60), per_ip=(1000, 60), clock=clock)
    await t.failed(user, "192.0.2.1")
    await t.failed(user, "192.0.2.1")
    assert await _retry_after(t, user, "192.0.2.1") == 1
    clock.advance(1)
    await t.failed(user, "192.0.2.1")
    assert await _retry_after(t, user, "192.0.2.1") == 2
    await t.succeeded(user, "192.0.2.1")
    assert await _retry_after(t, user, "192.0.2.1") is None
