"""One exception tree for the whole package.

Every error a request can meet is an ``HTTPAuthError``: it carries the status, a *public*
detail that is safe to send, the response headers, and a private ``reason`` that goes to
logs and audit events only. Setup mistakes live on their own branch
(``ConfigurationError``) because they are the developer's to fix, not the client's, and
so do app bugs met at run time (``UsageError``, ``ContractError``). Nothing else escapes
the package: ``tests/core/test_layout.py`` refuses a ``raise`` of a builtin exception.

The HTTP errors also subclass Nexios's ``HTTPException``, so an app that never calls
``install()`` still answers with the right status instead of a 500.
"""

from __future__ import annotations

from collections.abc import Mapping

from nexios.exceptions import HTTPException

__all__ = [
    "AuthError",
    "AuthenticationFailed",
    "BadRequest",
    "CSRFFailed",
    "ConfigurationError",
    "Conflict",
    "ContractError",
    "HTTPAuthError",
    "LoginRedirect",
    "MalformedData",
    "Overloaded",
    "PayloadTooLarge",
    "PermissionDenied",
    "StoreUnavailable",
    "Throttled",
    "TokenError",
    "TokenReused",
    "TokenRevoked",
    "UnsupportedMediaType",
    "UsageError",
]


class AuthError(Exception):
    """Root of every exception this package raises."""


class ConfigurationError(AuthError, ValueError):
    """The app was wired or configured wrongly; raised at setup, never per request."""


class UsageError(AuthError, RuntimeError):
    """A helper called where it cannot work (``login()`` with no ``SessionMiddleware`` in
    front of the route): a bug in the app, found when that code path runs. Still a
    ``RuntimeError``, as it always was, so existing handlers keep catching it."""


class ContractError(AuthError, TypeError):
    """App code broke an interface it implements or calls (a backend returning a 3-tuple,
    something that is neither a ``Request`` nor a scope). Still a ``TypeError``."""


class MalformedData(AuthError, ValueError):
    """Bytes that do not parse (strict JSON, canonical base64url). Internal: the parsing
    callers turn it into a 400 or a 401. A ``ValueError`` like ``json``'s own errors, so
    one ``except ValueError`` covers both."""


class HTTPAuthError(AuthError, HTTPException):  # type: ignore[misc]  # nexios is untyped here
    """An error that becomes an HTTP response.

    ``detail`` is what the client sees; ``reason`` is for logs only and must never be
    rendered, because it says *why* a credential failed.
    """

    status_code: int = 400
    default_detail: str = "Bad request"
    error_code: str = "bad_request"

    def __init__(
        self,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        HTTPException.__init__(
            self, self.status_code, detail or self.default_detail, dict(headers or {})
        )
        self.reason = reason or self.error_code

    def body(self) -> dict[str, str]:
        """The JSON body of the default response: a stable code and the public detail."""
        return {"error": self.error_code, "detail": str(self.detail)}


class BadRequest(HTTPAuthError):
    """Malformed input: a body, header or cookie that cannot be parsed."""


class PayloadTooLarge(HTTPAuthError):
    """A body or credential over its size limit."""

    status_code = 413
    default_detail = "Payload too large"
    error_code = "payload_too_large"


class AuthenticationFailed(HTTPAuthError):
    """401: no usable credential. The body is the same whatever the cause."""

    status_code = 401
    default_detail = "Authentication required"
    error_code = "not_authenticated"


class LoginRedirect(AuthenticationFailed):
    """A 401 for a browser: the installed error handler answers it with a 302 to
    ``location`` (the login page, ``?next=`` the request). Still a 401 to any handler
    that does not know it, so an app's own error handler fails safe.
    """

    def __init__(self, location: str, *, reason: str | None = None) -> None:
        super().__init__(reason=reason or "login_redirect")
        self.location = location


class TokenError(AuthenticationFailed):
    """A token was presented and refused (bad signature, expired, wrong type...)."""

    def __init__(self, reason: str = "invalid_token") -> None:
        super().__init__(reason=reason)


class TokenRevoked(TokenError):
    """The token's ``jti``, family or subject was revoked."""

    def __init__(self, reason: str = "revoked") -> None:
        super().__init__(reason)


class TokenReused(TokenRevoked):
    """A spent refresh token came back: its whole family is now revoked."""

    def __init__(self, reason: str = "refresh_reused") -> None:
        super().__init__(reason)


class PermissionDenied(HTTPAuthError):
    """403: the user is known but may not do this."""

    status_code = 403
    default_detail = "Permission denied"
    error_code = "permission_denied"


class CSRFFailed(PermissionDenied):
    """403: an unsafe request authenticated by cookie lacked a valid CSRF token."""

    default_detail = "CSRF token missing or invalid"
    error_code = "csrf_failed"


class Throttled(HTTPAuthError):
    """429: too many attempts; ``retry_after`` is whole seconds."""

    status_code = 429
    default_detail = "Too many requests"
    error_code = "throttled"

    def __init__(self, retry_after: float, *, reason: str | None = None) -> None:
        self.retry_after = max(1, int(-(-retry_after // 1)))
        super().__init__(headers={"Retry-After": str(self.retry_after)}, reason=reason)


class StoreUnavailable(HTTPAuthError):
    """503: a store could not be reached; we fail closed, never open."""

    status_code = 503
    default_detail = "Service temporarily unavailable"
    error_code = "store_unavailable"

    def __init__(self, reason: str = "store_unavailable") -> None:
        super().__init__(headers={"Retry-After": "1"}, reason=reason)


class Overloaded(StoreUnavailable):
    """503: the password-hashing queue is full, so the request is shed at once instead of
    waiting behind a flood (load shedding). The body names no account and no cause."""

    default_detail = "Service busy, please retry shortly"
    error_code = "overloaded"

    def __init__(self, retry_after: float = 1.0, reason: str = "hash_queue_full") -> None:
        super().__init__(reason)
        self.retry_after = max(1, int(-(-retry_after // 1)))
        self.headers["Retry-After"] = str(self.retry_after)


class Conflict(HTTPAuthError):
    """409: the request clashes with existing state (a username already taken)."""

    status_code = 409
    default_detail = "Conflict"
    error_code = "conflict"


class UnsupportedMediaType(HTTPAuthError):
    """415: a body that is not ``application/json``. Refusing form and text bodies also
    forces browsers into a CORS preflight, which blocks login CSRF with a plain form."""

    status_code = 415
    default_detail = "Unsupported media type"
    error_code = "unsupported_media_type"
