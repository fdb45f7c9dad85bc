"""Session backend: the user id lives in ``request.session`` (set at login).

Cookies are sent by browsers on cross-site requests too, so an unsafe request (any method
but GET, HEAD, OPTIONS and TRACE, custom verbs included) authenticated by the session
must carry the session's CSRF token.
Bearer-token and API-key requests are unaffected: browsers never attach those on their
own. A missing or wrong token yields a 403 for routes that need the user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from nexios_auth_di.authenticator import call_loader
from nexios_auth_di.base import AuthenticationBackend
from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.http.asgi import Scope, is_safe_method, method, same_origin_or_allowed
from nexios_auth_di.logs import get_logger
from nexios_auth_di.sessions.csrf import require_csrf

if TYPE_CHECKING:
    from nexios.http import Request, Response

__all__ = ["SessionAuthBackend"]

logger = get_logger("nexios_auth_di")


class SessionAuthBackend(AuthenticationBackend):
    name = "session"

    def __init__(
        self,
        authenticate_func: Callable[[Any], Any] | None = None,
        user_key: str = "user_id",
        *,
        csrf: bool = True,
        cookie_name: str = "session",
        realm: str = "api",
        scheme_name: str = "sessionCookie",
        websocket_origins: Iterable[str] = (),
    ) -> None:
        if authenticate_func is None:
            raise ConfigurationError("SessionAuthBackend needs authenticate_func (id -> user)")
        self._loader = authenticate_func
        self.user_key = user_key
        self.csrf = csrf
        self.cookie_name = cookie_name
        self._realm = realm
        self.scheme_name = scheme_name
        #: origins besides the app's own allowed to open cookie-authenticated WebSockets
        self.websocket_origins = tuple(websocket_origins)

    def _identity(self, scope: Scope) -> Any:
        session = scope.get("session")
        if session is None:
            logger.debug("SessionAuthBackend: no SessionMiddleware in front of this route")
            return None
        return session.get(self.user_key) if hasattr(session, "get") else None

    async def resolve(
        self, scope: Scope, request: Request | None, response: Response | None
    ) -> tuple[Any, str] | None:
        identity = self._identity(scope)
        if identity is None:
            return None
        if scope.get("type") == "websocket" and not same_origin_or_allowed(
            scope, self.websocket_origins
        ):
            logger.info("session cookie on a WebSocket from a foreign Origin: refused")
            return None  # CSWSH: another site's page opened this socket with our cookie
        if self.csrf and not is_safe_method(method(scope)):
            require_csrf(scope)
        user = await call_loader(self._loader, identity)
        if user is None:
            return None  # the account is gone: the stale session is just anonymous
        return user, self.name

    async def authenticate(self, request: Request, response: Response | None) -> Any:
        return await self.resolve(request.scope, request, response)

    def has_credentials(self, scope: Scope) -> bool:
        session = scope.get("session")
        return isinstance(session, dict) and self.user_key in session

    def challenge(self, *, invalid: bool = False) -> str | None:
        return f'Session realm="{self._realm}"'

    def openapi_scheme(self) -> tuple[str, Any] | None:
        from nexios.openapi.models import APIKey

        return self.scheme_name, APIKey(name=self.cookie_name, **{"in": "cookie"})
