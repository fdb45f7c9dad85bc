"""Runs the backends in order and turns their answers into one outcome.

Rules, in the order the guide gives them: the first backend that authenticates wins; a
backend that refuses a credential (bad token, bad key, missing CSRF token) only means
"not me"; a backend that crashes is logged and treated the same way, so a bug never
turns into a 500 or into a login. A store outage is different: it is raised as a 503,
because answering "anonymous" or skipping a revocation check would fail open.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from types import CoroutineType, GeneratorType
from typing import Any

from nexios_auth_di.base import AuthenticationBackend, UnauthenticatedUser
from nexios_auth_di.exceptions import AuthenticationFailed, HTTPAuthError, StoreUnavailable
from nexios_auth_di.http.asgi import Scope
from nexios_auth_di.logs import get_logger

__all__ = ["Authenticator", "Outcome", "call_loader"]

logger = get_logger("nexios_auth_di")

#: (user, auth type or None, deferred error explaining why nobody authenticated)
Outcome = tuple[Any, str | None, HTTPAuthError | None]

BackendsSource = Callable[[], Sequence[AuthenticationBackend]]


async def call_loader(loader: Callable[[Any], Any], identity: Any) -> Any:
    """Call an app loader that may be sync or async."""
    result = loader(identity)
    kind = type(result)
    # cheap tests first: only a type with __await__, or a generator (a @types.coroutine
    # one), can be awaited; inspect.isawaitable's ABC check is the slow part for users
    if kind is CoroutineType or (
        (kind is GeneratorType or hasattr(kind, "__await__")) and inspect.isawaitable(result)
    ):
        result = await result
    return result


class Authenticator:
    """The ordered backends plus the test-time user override.

    Both are read through zero-argument callables (container providers), so a provider
    override made after this object was built still applies on the next request.
    """

    __slots__ = ("_backends", "_override")

    def __init__(
        self,
        backends: BackendsSource | Sequence[AuthenticationBackend],
        override: Callable[[], Any] | None = None,
    ) -> None:
        if callable(backends):
            self._backends: BackendsSource = backends
        else:
            fixed = tuple(backends)
            self._backends = lambda: fixed
        self._override = override

    @property
    def backends(self) -> Sequence[AuthenticationBackend]:
        return self._backends()

    async def authenticate(self, scope: Scope, request: Any, response: Any) -> Outcome:
        if self._override is not None:
            forced = self._override()
            if forced is not None:
                return forced, "override", None
        errors: list[HTTPAuthError] = []
        for backend in self._backends():
            try:
                result = await backend.resolve(scope, request, response)
            except StoreUnavailable:
                raise
            except HTTPAuthError as exc:
                logger.debug("%s refused the credential: %s", type(backend).__name__, exc.reason)
                errors.append(exc)
                continue
            except Exception:
                logger.exception("%s raised; treated as not authenticated", type(backend).__name__)
                continue
            if result is not None:
                return result[0], result[1], None
        return UnauthenticatedUser(), None, self._deferred(errors)

    def _deferred(self, errors: list[HTTPAuthError]) -> HTTPAuthError | None:
        """A 403 (CSRF) beats a 401; a 401 gets this app's challenge, whatever its cause."""
        if not errors:
            return None
        worst = max(errors, key=lambda e: e.status_code)
        if worst.status_code != 401:
            return worst
        failed = AuthenticationFailed(headers=self.challenge_headers(invalid=True))
        failed.reason = worst.reason
        return failed

    def challenge_headers(self, *, invalid: bool = False) -> dict[str, str]:
        challenges = [c for b in self._backends() if (c := b.challenge(invalid=invalid))]
        return {"WWW-Authenticate": ", ".join(challenges)} if challenges else {}

    def credentials_present(self, scope: Scope) -> bool:
        return any(b.has_credentials(scope) for b in self._backends())
