"""The guide's import path for middleware.

``RateLimitMiddleware`` is loaded on first use: it pulls in the ``limits`` library, which
an app that never rate-limits should not pay for at import time.
"""

from typing import TYPE_CHECKING, Any

from nexios_auth_di.http.middleware import AuthenticationMiddleware, AuthMiddleware

if TYPE_CHECKING:
    from nexios_auth_di.http.throttling import RateLimitMiddleware

__all__ = ["AuthMiddleware", "AuthenticationMiddleware", "RateLimitMiddleware"]


def __getattr__(name: str) -> Any:
    if name == "RateLimitMiddleware":
        from nexios_auth_di.http.throttling import RateLimitMiddleware

        return RateLimitMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
