"""Per-request authentication state: the lazy, once-per-request cache.

The ASGI middleware puts one ``RequestAuth`` in the scope. Nothing is verified until a
dependency, decorator or policy asks; the first ask runs the backends and the loader, and
every later ask in the same request gets the same answer. Routes that never ask pay only
for creating this small object.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nexios_auth_di.base import BaseUser
from nexios_auth_di.exceptions import AuthenticationFailed, ConfigurationError, HTTPAuthError
from nexios_auth_di.http.asgi import Scope

if TYPE_CHECKING:
    from nexios_auth_di.authenticator import Authenticator

__all__ = ["STATE_KEY", "PendingUser", "RequestAuth", "request_auth"]

#: scope key holding the ``RequestAuth`` of the current request
STATE_KEY = "nexios_auth_di"
CONTAINER_KEY = "auth_container"


class RequestAuth:
    """Resolves the caller at most once per request and remembers the outcome.

    The first asker runs the backends; askers arriving while it runs wait on a future
    made only for them (the usual single asker pays for none), shielded so a cancelled
    waiter cannot cancel the shared work. A failure (store outage, bug) is kept and
    re-raised to every later asker.
    """

    __slots__ = (
        "_failure",
        "_get_authenticator",
        "_running",
        "_waiter",
        "auth",
        "error",
        "request",
        "resolved",
        "scope",
        "user",
    )

    def __init__(self, scope: Scope, get_authenticator: Callable[[], Authenticator]) -> None:
        self.scope = scope
        self._get_authenticator = get_authenticator
        #: True once the backends answered; ``user``/``auth``/``error`` then hold it
        self.resolved = False
        self._running = False
        self._failure: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.user: Any = None
        self.auth: str | None = None
        #: why nobody authenticated (CSRF, bad token...), raised instead of a bare 401
        self.error: HTTPAuthError | None = None
        self.request: Any = None

    async def resolve(self, request: Any = None, response: Any = None) -> Any:
        """Run the backends once; concurrent and later callers share the result."""
        if self.resolved:
            return self.user
        if self._failure is not None:
            raise self._failure
        if self._running:
            if self._waiter is None:
                self._waiter = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._waiter)
            return await self.resolve()
        self._running = True
        try:
            outcome = await self._get_authenticator().authenticate(
                self.scope, request or self.request, response
            )
        except BaseException as exc:
            # a store outage (503) or a bug: every asker sees the same failure
            self._failure = exc
            raise
        else:
            self.user, self.auth, self.error = outcome
            scope = self.scope
            scope["user"] = self.user
            scope["auth"] = self.auth
            self.resolved = True
            return self.user
        finally:
            self._running = False
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(None)

    def fresh(self) -> RequestAuth:
        """A new, unresolved state on the same scope and authenticator: re-runs every
        check (revocation, expiry, generation) for a connection that outlives a request."""
        return RequestAuth(self.scope, self._get_authenticator)

    def unauthenticated(self) -> HTTPAuthError:
        """The error for "nobody authenticated": a deferred CSRF/token error or a 401."""
        if self.error is not None:
            return self.error
        return AuthenticationFailed(headers=self._get_authenticator().challenge_headers())

    def credentials_present(self) -> bool:
        return self._get_authenticator().credentials_present(self.scope)

    def challenge_headers(self) -> dict[str, str]:
        return self._get_authenticator().challenge_headers()


def request_auth(scope: Scope) -> RequestAuth | None:
    state = scope.get(STATE_KEY)
    return state if isinstance(state, RequestAuth) else None


class PendingUser(BaseUser):
    """What ``request.user`` holds in lazy mode before anything resolved the caller.

    With no credential in the request it behaves exactly like ``UnauthenticatedUser``.
    With a credential it refuses to guess: reading it raises ``ConfigurationError`` with a
    fix, because answering "anonymous" for a request that sent a token would be a silent
    lie. Resolve with ``Depend(current_user)``, ``@login_required``, or install eagerly.
    """

    __slots__ = ("_state",)

    def __init__(self, state: RequestAuth) -> None:
        self._state = state

    def _refuse(self) -> ConfigurationError:
        return ConfigurationError(
            "request.user is resolved lazily and nothing has resolved it for this request. "
            "Ask for it with `user=Depend(current_user)` or `@login_required`, or call "
            "install(app, container, eager=True) to authenticate every request up front."
        )

    @property
    def is_authenticated(self) -> bool:
        if self._state.credentials_present():
            raise self._refuse()
        return False

    def get_display_name(self) -> str:
        if self._state.credentials_present():
            raise self._refuse()
        return "Anonymous"

    def has_permission(self, permission: str) -> bool:
        if self._state.credentials_present():
            raise self._refuse()
        return False

    @property
    def identity(self) -> str:
        if self._state.credentials_present():
            raise self._refuse()
        return ""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise self._refuse()

    def __repr__(self) -> str:
        return "PendingUser()"
