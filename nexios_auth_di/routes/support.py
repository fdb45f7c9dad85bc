"""Small pieces the ready-made routes share: audit emission, the caller's credentials,
sessions, token pairs, and a route class without Nexios's sticky-405 bug."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from nexios.routing import Route

from nexios_auth_di.events import AuthEvent, EventKind
from nexios_auth_di.exceptions import PermissionDenied
from nexios_auth_di.http.asgi import after_scheme, client_ip, header
from nexios_auth_di.http.compat import safe_handle
from nexios_auth_di.logs import get_logger
from nexios_auth_di.sessions.csrf import MW_SCOPE_KEY

__all__ = [
    "NO_STORE",
    "SafeRoute",
    "bearer_token",
    "caller_ip",
    "emit",
    "refuse_api_key",
    "session_user",
    "sessions_active",
    "subject_of",
    "token_pair",
]

logger = get_logger("nexios_auth_di.routes")

#: RFC 6749 §5.1: responses carrying credentials must not be cached
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class SafeRoute(Route):  # type: ignore[misc]  # nexios is untyped
    """A ``Route`` that answers a wrong method with 405 *without* replacing its own app.

    Nexios 3.12's ``Route.handle`` assigns the 405 response to ``self.app``, so one
    ``PUT /auth/login`` would break ``POST /auth/login`` until restart (docs/design.md §6).
    """

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        await safe_handle(self, scope, receive, send)


async def emit(
    container: Any, kind: EventKind, subject: str | None, ip: str | None, **detail: object
) -> None:
    """Send one audit event. A broken sink is logged, never turned into a failed login."""
    try:
        sink = container.event_sink()
        await sink.emit(AuthEvent(kind, subject, ip, {k: str(v) for k, v in detail.items()}))
    except Exception:
        logger.exception("audit sink failed for %s", kind.value)


def logged_username(container: Any, typed: str, record: Any = None) -> str:
    """What audit events may say about a submitted username.

    The stored name when it names an existing account; otherwise a keyed hash. People
    type their password into the username field: logging an unknown name as typed would
    put passwords in the logs. The hash still lets an operator see that the same unknown
    name was tried again (same key within a deployment, ``audit_key`` in the container).
    """
    if record is not None:
        return str(record.username)
    digest = hmac.new(container.audit_key(), typed.encode("utf-8", "replace"), "sha256")
    return "hmac-sha256:" + digest.hexdigest()[:20]


def caller_ip(container: Any, scope: Mapping[str, Any]) -> str:
    """The client address, trusting forwarded headers only from configured proxies."""
    return client_ip(scope, trusted_proxies=container.settings().throttle.trusted_proxies)


def subject_of(user: Any) -> str:
    """The id tokens, sessions and keys are issued under."""
    identity = getattr(user, "identity", None)
    return str(identity if identity else getattr(user, "id", ""))


def refuse_api_key(scope: Mapping[str, Any]) -> None:
    """Account credentials are managed with a password-backed login, not an API key:
    a leaked key must not mint longer-lived keys, change the password or log the owner
    out everywhere."""
    if scope.get("auth") == "api_key":
        raise PermissionDenied(
            "API keys cannot manage account credentials; log in instead.",
            reason="api_key_account_route",
        )


def bearer_token(container: Any, scope: Mapping[str, Any]) -> str | None:
    """The raw access token this request authenticated with, if it used one."""
    if scope.get("auth") != "jwt":
        return None
    from_cookie = scope.get("nexios_auth_di.jwt_cookie")  # jwt.transport cookie|both
    if isinstance(from_cookie, str):
        return from_cookie
    jwt = container.settings().jwt
    raw = header(scope, jwt.header.lower().encode("latin-1"))
    token = None if raw is None else after_scheme(raw, jwt.prefix)
    return token or None


def sessions_active(scope: Mapping[str, Any]) -> bool:
    """True when a ``SessionMiddleware`` of ours runs in front of this request."""
    return scope.get(MW_SCOPE_KEY) is not None and scope.get("session") is not None


def session_user(container: Any, scope: Mapping[str, Any]) -> Any:
    """The user id stored in this request's session, if any."""
    if not sessions_active(scope):
        return None
    session = scope["session"]
    return session.get(container.settings().session.user_key)


async def token_pair(tokens: Any, subject: str, generation: float) -> dict[str, Any]:
    """A new login (refresh family) under ``generation``, as an access/refresh pair in the
    RFC 6749 §5.1 shape; ``TokenRevoked`` (401) if the generation moved meanwhile."""
    access, refresh = await tokens.issue_login(subject, generation)
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": int(tokens.access_ttl),
    }
