"""RateLimitMiddleware through real Nexios, in both install forms."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from typing import Any

import pytest
from nexios import NexiosApp
from nexios.testclient import TestClient

from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.http.throttling import RateLimitMiddleware

THROTTLED_BODY = {"error": "throttled", "detail": "Too many requests"}


def _app() -> NexiosApp:
    app = NexiosApp()

    @app.get("/ping")
    async def ping(request: Any, response: Any) -> Any:
        return response.json({"ok": True})

    @app.get("/login")
    async def login_page(request: Any, response: Any) -> Any:
        return response.json({"ok": True})

    @app.post("/login")
    async def login(request: Any, response: Any) -> Any:
        return response.json({"ok": True})

    @app.get("/login/reset")
    async def reset(request: Any, response: Any) -> Any:
        return response.json({"ok": True})

    @app.get("/api/items")
    async def items(request: Any, response: Any) -> Any:
        return response.json({"ok": True})

    return app


def guide_form(**kw: Any) -> NexiosApp:
    app = _app()
    app.add_middleware(RateLimitMiddleware(**kw))
    return app


def asgi_form(**kw: Any) -> NexiosApp:
    app = _app()
    app.wrap_asgi(RateLimitMiddleware, **kw)
    return app


FORMS = [pytest.param(guide_form, id="add_middleware"), pytest.param(asgi_form, id="wrap_asgi")]
Form = Callable[..., NexiosApp]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("form", FORMS)
def test_429_with_retry_after_past_the_limit(form: Form) -> None:
    """The guide's RateLimitMiddleware answers 429 JSON with an integer Retry-After."""
    with TestClient(form(rate_limit=3, time_window=60)) as client:
        assert [client.get("/ping").status_code for _ in range(3)] == [200, 200, 200]
        blocked = client.get("/ping")
    assert blocked.status_code == 429
    assert blocked.json() == THROTTLED_BODY
    assert 1 <= int(blocked.headers["retry-after"]) <= 60


@pytest.mark.parametrize("form", FORMS)
def test_unselected_paths_are_never_limited(form: Form) -> None:
    """Only selected paths (prefix or glob) and methods count; others are never limited."""
    app = form(rate_limit=1, time_window=60, paths=["/login", "/api/*"], methods=["POST", "GET"])
    with TestClient(app) as client:
        assert all(client.get("/ping").status_code == 200 for _ in range(5))
        assert client.get("/login").status_code == 200
        assert client.get("/login/reset").status_code == 429  # prefix covers sub-paths
        assert client.get("/api/items").status_code == 429  # glob


@pytest.mark.parametrize("form", FORMS)
def test_method_selection(form: Form) -> None:
    """With methods=["POST"], GETs to the same path are not counted."""
    with TestClient(form(rate_limit=1, time_window=60, methods=["post"])) as client:
        assert all(client.get("/login").status_code == 200 for _ in range(3))
        assert client.post("/login").status_code == 200
        assert client.post("/login").status_code == 429


@pytest.mark.parametrize("form", FORMS)
def test_key_func_separates_buckets(form: Form) -> None:
    """A custom key_func (given the ASGI scope) gives each key its own budget."""

    def by_tenant(scope: Any) -> str:
        return dict(scope["headers"]).get(b"x-tenant", b"").decode()

    with TestClient(form(rate_limit=1, time_window=60, key_func=by_tenant)) as client:
        assert client.get("/ping", headers={"x-tenant": "a"}).status_code == 200
        assert client.get("/ping", headers={"x-tenant": "a"}).status_code == 429
        assert client.get("/ping", headers={"x-tenant": "b"}).status_code == 200


@pytest.mark.parametrize("form", FORMS)
def test_storage_down_is_503_not_500(form: Form) -> None:
    """An unreachable Redis fails closed with 503 JSON, never a 500 and never open."""
    app = form(rate_limit=5, time_window=60, storage_uri=f"redis://127.0.0.1:{_closed_port()}")
    with TestClient(app) as client:
        response = client.get("/ping")
    assert response.status_code == 503
    assert response.json()["error"] == "store_unavailable"
    assert "Traceback" not in response.text
    assert response.headers["retry-after"] == "1"


async def _asgi_call(mw: RateLimitMiddleware, client: tuple[str, int], xff: str | None) -> int:
    """Drive the middleware as raw ASGI so the peer address can be set."""
    headers = [(b"host", b"testserver")]
    if xff is not None:
        headers.append((b"x-forwarded-for", xff.encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/ping", "raw_path": b"/ping", "root_path": "",
        "query_string": b"", "headers": headers, "client": client, "server": ("testserver", 80),
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await mw(scope, receive, send)
    return int(sent[0]["status"])


async def test_per_ip_buckets_and_spoofed_forwarded_for() -> None:
    """Each client IP has its own budget; X-Forwarded-For from an untrusted peer is ignored,
    from a trusted proxy it selects the bucket."""
    mw = RateLimitMiddleware(_app(), rate_limit=1, time_window=60, trusted_proxies=["10.0.0.0/8"])
    assert await _asgi_call(mw, ("198.51.100.1", 1), None) == 200
    assert await _asgi_call(mw, ("198.51.100.1", 1), None) == 429
    # Rotating a spoofed header from the same untrusted peer does not buy new budget.
    assert await _asgi_call(mw, ("198.51.100.1", 1), "203.0.113.9") == 429
    assert await _asgi_call(mw, ("198.51.100.2", 1), None) == 200
    # Behind the trusted proxy, the forwarded client address is the key.
    assert await _asgi_call(mw, ("10.1.2.3", 1), "203.0.113.10") == 200
    assert await _asgi_call(mw, ("10.9.9.9", 1), "203.0.113.10") == 429
    assert await _asgi_call(mw, ("10.1.2.3", 1), "203.0.113.11") == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate_limit": 0},
        {"time_window": 0},
        {"storage_uri": "nonsense"},
        {"storage_uri": "ftp://example"},
        {"trusted_proxies": ["not-an-ip"]},
    ],
)
def test_bad_configuration_fails_at_setup(kwargs: dict[str, Any]) -> None:
    """Misconfiguration raises ConfigurationError when building, not per request."""
    with pytest.raises(ConfigurationError):
        RateLimitMiddleware(**kwargs)


def test_positional_rate_limit_is_refused() -> None:
    """RateLimitMiddleware(5, 60) is ambiguous with the ASGI form and fails clearly."""
    with pytest.raises(ConfigurationError, match="keywords"):
        RateLimitMiddleware(5, 60)


@pytest.mark.redis
def test_real_redis_shared_limit(redis_url: str) -> None:
    """Two middleware instances on one Redis share the budget (multi-worker deployments)."""
    url = redis_url
    key = json.dumps(os.urandom(8).hex())
    kw: dict[str, Any] = {"rate_limit": 2, "time_window": 60, "storage_uri": url}
    kw["key_func"] = lambda scope: key
    with TestClient(asgi_form(**kw)) as one, TestClient(guide_form(**kw)) as two:
        assert one.get("/ping").status_code == 200
        assert two.get("/ping").status_code == 200
        assert one.get("/ping").status_code == 429
        blocked = two.get("/ping")
    assert blocked.status_code == 429
    assert blocked.json() == THROTTLED_BODY
