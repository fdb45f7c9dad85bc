"""Only a storage outage becomes a 503 (and is logged); a bug in the storage stays a bug."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest
from limits.aio.storage import MemoryStorage
from limits.storage import storage_from_string

from nexios_auth_di.exceptions import StoreUnavailable
from nexios_auth_di.http.throttling import RateLimitMiddleware
from nexios_auth_di.throttle import Decision, LoginThrottle, MemoryLimiter, Rule, limiter_for

LIMITS: dict[str, Any] = {
    "per_account": (5, 300),
    "per_ip": (20, 300),
    "per_account_ip": (5, 300),
    "register_per_ip": (10, 3600),
    "base_delay": 1.0,
    "max_delay": 900.0,
}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class BuggyStorage(MemoryStorage):
    """A storage with a programming error: not an outage, so it must not read as one."""

    async def acquire_entry(self, *args: Any, **kwargs: Any) -> bool:
        raise TypeError("bug in the storage")

    async def get(self, key: str) -> int:
        raise TypeError("bug in the storage")


async def _ok_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _status(mw: RateLimitMiddleware) -> int:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "client": ("1.2.3.4", 1)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await mw(scope, receive, send)
    return int(sent[0]["status"])


def _down_redis(wrapped: bool) -> Any:
    uri = f"async+redis://127.0.0.1:{_closed_port()}"
    if wrapped:
        return uri.removeprefix("async+")  # make_storage wraps driver errors in StorageError
    return storage_from_string(uri, implementation="redispy", socket_connect_timeout=2.0)


@pytest.mark.parametrize("wrapped", [True, False], ids=["StorageError", "driver-error"])
async def test_outage_is_a_logged_503(caplog: pytest.LogCaptureFixture, wrapped: bool) -> None:
    """Redis down (wrapped by limits or raw from the driver): 503, with a warning and its
    traceback in the log so operators see why."""
    mw = RateLimitMiddleware(_ok_app, rate_limit=5, time_window=60, storage=_down_redis(wrapped))
    with caplog.at_level(logging.WARNING, logger="nexios_auth_di.throttling"):
        assert await _status(mw) == 503
    records = [r for r in caplog.records if r.name == "nexios_auth_di.throttling"]
    assert records
    assert records[0].exc_info is not None


async def test_storage_bug_is_not_a_503() -> None:
    """A TypeError inside the storage propagates: a programming bug must not look like an
    outage (and must not be retried by clients as one)."""
    mw = RateLimitMiddleware(_ok_app, rate_limit=5, time_window=60, storage=BuggyStorage())
    with pytest.raises(TypeError, match="bug in the storage"):
        await _status(mw)


class BuggyLimiter(MemoryLimiter):
    """A throttle storage with a programming error: not an outage."""

    async def reserve(self, rule: Rule, now: float) -> Decision:
        raise TypeError("bug in the storage")


async def test_login_throttle_outage_and_bug() -> None:
    """LoginThrottle: an outage is StoreUnavailable, a storage bug is not converted."""
    down = LoginThrottle(limiter_for(f"redis://127.0.0.1:{_closed_port()}"), **LIMITS)
    with pytest.raises(StoreUnavailable):
        await down.reserve("alice", "1.2.3.4")
    with pytest.raises(TypeError):
        await LoginThrottle(BuggyLimiter(), **LIMITS).reserve("alice", "1.2.3.4")
    await down.close()
