"""Guide § Security Considerations / Rate Limiting."""

from __future__ import annotations

from typing import Any

import pytest
from nexios import NexiosApp
from nexios.testclient import TestClient

from nexios_auth_di.middleware import RateLimitMiddleware


def guide_app(**kw: Any) -> NexiosApp:
    app = NexiosApp()
    app.add_middleware(RateLimitMiddleware(rate_limit=5, time_window=60, **kw))

    @app.post("/login")
    async def login(request: Any, response: Any) -> Any:
        return {"message": "Login attempt"}  # the guide leaves the body as `pass`

    @app.get("/health")
    async def health(request: Any, response: Any) -> Any:
        return {"ok": True}

    return app


def test_sixth_request_in_the_window_is_429() -> None:
    """Five requests pass; the sixth within 60 s gets 429, Retry-After and a JSON body."""
    with TestClient(guide_app()) as c:
        first = [c.post("/login").status_code for _ in range(5)]
        sixth = c.post("/login")
    assert first == [200] * 5
    assert sixth.status_code == 429
    assert 1 <= int(sixth.headers["retry-after"]) <= 60
    assert sixth.json() == {"error": "throttled", "detail": "Too many requests"}


def test_limit_can_be_scoped_to_the_login_path() -> None:
    """With paths=["/login"], other routes are not counted or blocked."""
    with TestClient(guide_app(paths=["/login"])) as c:
        for _ in range(5):
            c.post("/login")
        assert c.post("/login").status_code == 429
        health = [c.get("/health").status_code for _ in range(8)]
    assert health == [200] * 8


@pytest.mark.parametrize("bad", [{"rate_limit": 0}, {"time_window": 0}])
def test_nonsense_limits_fail_at_setup(bad: dict[str, int]) -> None:
    """A zero limit or window is a ConfigurationError at construction, not a silent no-op."""
    from nexios_auth_di.exceptions import ConfigurationError

    kw = {"rate_limit": 5, "time_window": 60, **bad}
    with pytest.raises(ConfigurationError):
        RateLimitMiddleware(**kw)
