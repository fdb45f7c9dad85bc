"""Authentication middleware: the lazy pure-ASGI fast path and the guide's form.

``AuthMiddleware`` is what ``install()`` wraps around the router. It only parks a
``RequestAuth`` in the scope; the caller is resolved when something asks. Being pure
ASGI it costs next to nothing, sees WebSocket connections too, and sits inside Nexios's
exception middleware, so a 401/503 raised under it reaches the exception handlers.

``AuthenticationMiddleware`` is the guide's eager form:
``app.add_middleware(AuthenticationMiddleware(backend=b))`` or ``(backends=[b1, b2])``.
It authenticates every request before the handler and sets ``scope["user"]`` and
``scope["auth"]``. Nexios turns exceptions in such middleware into 500s, so it *returns*
its error responses (a store outage is a 503) instead of raising. It also works as pure
ASGI: ``app.wrap_asgi(AuthenticationMiddleware, backends=[...])``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from nexios_auth_di.authenticator import Authenticator
from nexios_auth_di.base import AuthenticationBackend
from nexios_auth_di.config import login_url_problem
from nexios_auth_di.exceptions import ConfigurationError, HTTPAuthError
from nexios_auth_di.http.asgi import Scope
from nexios_auth_di.http.compat import fix_method_not_allowed
from nexios_auth_di.http.errors import register_error_handler
from nexios_auth_di.http.login_redirect import LOGIN_URL_KEY
from nexios_auth_di.http.openapi import document_security
from nexios_auth_di.logs import get_logger
from nexios_auth_di.request_auth import CONTAINER_KEY, STATE_KEY, PendingUser, RequestAuth

if TYPE_CHECKING:
    from nexios.http import Request, Response

    from nexios_auth_di.container import AuthContainer

__all__ = ["AuthMiddleware", "AuthenticationMiddleware"]

ASGIApp = Callable[..., Awaitable[None]]

logger = get_logger("nexios_auth_di")


class AuthMiddleware:
    """Pure-ASGI middleware placed by ``install()``; lazy unless ``eager=True``."""

    def __init__(self, app: ASGIApp, *, container: AuthContainer, eager: bool = False) -> None:
        self.app = app
        self.container = container
        self.eager = eager
        self._authenticator = container.authenticator  # the provider: overrides apply
        self._documented = False

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http" or kind == "websocket":
            if not self._documented:
                self._document(scope.get("base_app"))
            state = RequestAuth(scope, self._authenticator)
            scope[STATE_KEY] = state
            scope[CONTAINER_KEY] = self.container
            scope["auth"] = None
            if self.eager:
                await state.resolve()
            else:
                scope["user"] = PendingUser(state)
        await self.app(scope, receive, send)

    def _document(self, app: Any) -> None:
        """Once: mark routes added after ``install()`` (mounted routers) in OpenAPI."""
        self._documented = True
        if app is not None:
            try:
                document_security(app, self.container.backends())
                fix_method_not_allowed(app)
            except Exception:  # documentation must never break a request
                logger.exception("could not update the OpenAPI security of late routes")


class AuthenticationMiddleware:
    """The guide's middleware: backends tried in order, first to authenticate wins."""

    def __init__(
        self,
        app: ASGIApp | None = None,
        *,
        backend: AuthenticationBackend | Sequence[AuthenticationBackend] | None = None,
        backends: Sequence[AuthenticationBackend] | None = None,
        login_url: str | None = None,
    ) -> None:
        """``login_url``: where an anonymous browser is sent by the guards (a 302 with
        ``?next=``, ``http/login_redirect.py``); API clients keep their 401."""
        problem = login_url_problem(login_url)
        if problem:
            raise ConfigurationError(f"login_url {problem}")
        self.login_url = login_url
        chosen: list[AuthenticationBackend] = []
        if backend is not None:
            chosen.extend(backend if isinstance(backend, Sequence) else [backend])
        if backends is not None:
            chosen.extend(backends)
        if not chosen:
            raise ConfigurationError("AuthenticationMiddleware needs backend= or backends=")
        for b in chosen:
            if not isinstance(b, AuthenticationBackend) and not hasattr(b, "authenticate"):
                raise ConfigurationError(f"{b!r} is not an authentication backend")
        self.app = app
        self.authenticator = Authenticator(chosen)
        self._get = lambda: self.authenticator
        self._handlers_added = False

    async def __call__(self, first: Any, second: Any, third: Any) -> Any:
        if isinstance(first, dict):  # pure ASGI: (scope, receive, send)
            return await self._asgi(first, second, third)
        return await self._dispatch(first, second, third)

    def _add_handlers(self, app: Any) -> None:
        """The guide form has no ``install()``: on first use, register the JSON error
        handler (with the backends' ``WWW-Authenticate`` challenge) unless the app has its
        own, mend Nexios's 405 bug on the app's routes, and leave Nexios's function-
        middleware bridge when that changes nothing (``_leave_bridge``)."""
        self._handlers_added = True
        if app is not None:
            register_error_handler(app)
            fix_method_not_allowed(app)
            self._leave_bridge(app)

    def _leave_bridge(self, app: Any) -> None:
        """From the next request on, run as pure ASGI at the same place in the chain.

        ``app.add_middleware(this)`` makes Nexios run it through a bridge (a task group,
        memory streams and a cached request per request) that costs more than
        authenticating does. Nexios rebuilds its chain from ``app.http_middleware`` on
        every request, so this entry is replaced there by ``GuideASGI``: same position,
        same answers (a refusal is still returned as JSON, never raised), WebSockets still
        passed through untouched. Only when every backend is a built-in one that reads
        the scope alone; a custom backend keeps the ``Request`` the bridge gives it.
        """
        if not all(_reads_scope_only(b) for b in self.authenticator.backends):
            return
        try:
            from nexios._internals._middleware import ASGIRequestResponseBridge, DefineMiddleware
        except ImportError:  # another Nexios: keep the bridge
            return
        stack = getattr(app, "http_middleware", None)
        if not isinstance(stack, list):
            return
        for index, entry in enumerate(stack):
            bridged = getattr(entry, "cls", None) is ASGIRequestResponseBridge
            if bridged and getattr(entry, "kwargs", {}).get("dispatch") is self:
                stack[index] = DefineMiddleware(GuideASGI, auth=self)

    async def _asgi(self, scope: Scope, receive: Any, send: Any) -> None:
        if self.app is None:
            raise ConfigurationError("AuthenticationMiddleware called as ASGI without an app")
        if not self._handlers_added:
            self._add_handlers(scope.get("base_app"))
        if scope["type"] in ("http", "websocket"):
            state = RequestAuth(scope, self._get)
            scope[STATE_KEY] = state
            self._mark(scope)
            await state.resolve()
        await self.app(scope, receive, send)

    def _mark(self, scope: Scope) -> None:
        if self.login_url is not None:
            scope[LOGIN_URL_KEY] = self.login_url

    async def guide_asgi(self, app: ASGIApp, scope: Scope, receive: Any, send: Any) -> None:
        """The bridge-free form of ``_dispatch`` (see ``_leave_bridge``)."""
        if scope["type"] != "http":
            await app(scope, receive, send)  # what the bridge does with a WebSocket
            return
        state = RequestAuth(scope, self._get)
        scope[STATE_KEY] = state
        self._mark(scope)
        try:
            await state.resolve()
        except HTTPAuthError as exc:  # fail closed, as a response, like _dispatch
            from nexios.http.response import JSONResponse

            answer = JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)
            await answer(scope, receive, send)
            return
        await app(scope, receive, send)

    async def _dispatch(
        self, request: Request, response: Response, call_next: Callable[[], Awaitable[Any]]
    ) -> Any:
        scope = request.scope
        if not self._handlers_added:
            self._add_handlers(scope.get("base_app"))
        state = RequestAuth(scope, self._get)
        state.request = request
        scope[STATE_KEY] = state
        self._mark(scope)
        try:
            await state.resolve(request, response)
        except HTTPAuthError as exc:  # fail closed, as a response: raising here is a 500
            return response.json(exc.body(), status_code=exc.status_code, headers=exc.headers)
        return await call_next()


class GuideASGI:
    """What Nexios builds, per request, in place of the bridge around the guide form."""

    __slots__ = ("app", "auth")

    def __init__(self, app: ASGIApp, auth: AuthenticationMiddleware) -> None:
        self.app = app
        self.auth = auth

    def __call__(self, scope: Scope, receive: Any, send: Any) -> Awaitable[None]:
        return self.auth.guide_asgi(self.app, scope, receive, send)


def _reads_scope_only(backend: Any) -> bool:
    """A built-in backend whose ``resolve`` is its own: it never reads a ``Request``."""
    from nexios_auth_di.backends import APIKeyBackend, JWTAuthBackend, SessionAuthBackend

    own = (APIKeyBackend.resolve, JWTAuthBackend.resolve, SessionAuthBackend.resolve)
    return getattr(type(backend), "resolve", None) in own
