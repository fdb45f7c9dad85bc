"""``fresh_required(max_age)``: a password (or MFA) check within ``max_age`` seconds.

Freshness is the access token's ``auth_time`` (``/auth/reauthenticate`` mints a new one in
the same family) or the session's ``_fresh_at`` / login time. Otherwise 401 with
``reason: "reauthentication_required"`` and an RFC 9470 challenge.
"""

from __future__ import annotations

from typing import Any

from nexios import Depend
from nexios.dependencies import Context

from nexios_auth_di.dependencies import current_user
from nexios_auth_di.exceptions import AuthenticationFailed, TokenError
from nexios_auth_di.request_auth import CONTAINER_KEY
from nexios_auth_di.routes.support import bearer_token, sessions_active
from nexios_auth_di.sessions.middleware import LOGIN_TIME_KEY

__all__ = [
    "FRESH_KEY",
    "ReauthenticationRequired",
    "ensure_fresh",
    "fresh_required",
    "last_auth",
]

FRESH_KEY = "_fresh_at"


class ReauthenticationRequired(AuthenticationFailed):
    error_code = "reauthentication_required"
    default_detail = "Please confirm your password again."

    def __init__(self, max_age: int) -> None:
        challenge = f'Bearer error="insufficient_user_authentication", max_age={max_age}'
        super().__init__(
            headers={"WWW-Authenticate": challenge}, reason="reauthentication_required"
        )

    def body(self) -> dict[str, str]:
        return {**super().body(), "reason": "reauthentication_required"}


def last_auth(container: Any, scope: Any) -> float | None:
    """When this request's login last proved a factor, if known."""
    if scope.get("auth") == "jwt":
        token = bearer_token(container, scope)
        if token is None:
            return None
        try:
            claims = container.token_service().verifier.verify(token, "access")
        except TokenError:
            return None
        value = claims.get("auth_time")
        return float(value) if isinstance(value, int | float) else None
    if scope.get("auth") == "session" and sessions_active(scope):
        session = scope["session"]
        times = [session.get(FRESH_KEY), session.get(LOGIN_TIME_KEY)]
        nums = [float(t) for t in times if isinstance(t, int | float)]
        return max(nums) if nums else None
    return None


def ensure_fresh(container: Any, scope: Any, max_age: int | None = None) -> None:
    """Raise ``ReauthenticationRequired`` unless this login proved a factor within
    ``max_age`` seconds (default ``mfa.fresh_max_age``)."""
    age = max_age if max_age is not None else container.settings().mfa.fresh_max_age
    when = last_auth(container, scope)
    if when is None or container.clock()() - when > age:
        raise ReauthenticationRequired(age)


def fresh_required(max_age: int | None = None) -> Any:
    """``@fresh_required(max_age=300)`` on a handler, or ``user=Depend(fresh_required(300))``
    (returns the user). API keys are never fresh."""

    async def fresh_user(ctx: Context = Context(), user: Any = Depend(current_user)) -> Any:
        scope = ctx.request.scope
        ensure_fresh(scope.get(CONTAINER_KEY), scope, max_age)
        return user

    def guard(handler: Any = None, /, *, user: Any = Depend(fresh_user)) -> Any:
        if handler is None:
            return user
        import functools

        @functools.wraps(handler)
        async def wrapper(request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
            await fresh_user(Context(request=request), await current_user(Context(request=request)))
            return await handler(request, response, *args, **kwargs)

        return wrapper

    return guard
