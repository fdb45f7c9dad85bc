"""``Depend`` targets: the current user, and any container provider.

Nexios calls these with a ``Context`` whose request carries our per-request state, so
the first ask verifies the credential and loads the user and every later ask (nested
dependencies, decorators, policies) reuses it. Nexios has no override API for
``Depend``; overrides live in the container instead, which is why providers are wrapped
in plain functions that call the provider at request time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nexios.dependencies import Context, Depend

from nexios_auth_di.apikeys.scopes import ScopedUser, check_key_reach
from nexios_auth_di.base import UnauthenticatedUser, is_authenticated
from nexios_auth_di.exceptions import AuthenticationFailed, ConfigurationError
from nexios_auth_di.http.login_redirect import for_browser
from nexios_auth_di.request_auth import CONTAINER_KEY, STATE_KEY, RequestAuth, request_auth

__all__ = [
    "auth_type",
    "current_user",
    "inject",
    "optional_user",
    "require_user",
    "resolve_user",
    "websocket_user",
]


async def resolve_user(request: Any, response: Any = None) -> Any:
    """The caller of ``request``: resolved once per request, then cached in its scope."""
    scope = request.scope
    state = scope.get(STATE_KEY)
    if not isinstance(state, RequestAuth):
        # guide-form middleware (or none at all): read what it attached
        return scope.get("user") or UnauthenticatedUser()
    if state.resolved:
        return state.user
    return await state.resolve(request, response)


async def require_user(request: Any, response: Any = None, *, login_url: str | None = None) -> Any:
    """Like ``resolve_user`` but raises the 401 (or deferred 403) when nobody is there; a
    browser is sent to the login page instead (``http/login_redirect.py``)."""
    user = await resolve_user(request, response)
    if is_authenticated(user):
        return user
    state = request_auth(request.scope)
    error = state.unauthenticated() if state is not None else AuthenticationFailed()
    raise for_browser(error, request.scope, login_url)


async def current_user(ctx: Context = Context()) -> Any:
    """``user=Depend(current_user)``: the authenticated user, or a 401 (a 302 to the login
    page for a browser when one is configured). A scoped API key on an unsafe method gets
    a 403 unless the route named its scopes (``require_scopes``)."""
    request = ctx.request
    state = request.scope.get(STATE_KEY)
    if not isinstance(state, RequestAuth):
        user = await require_user(request)
    else:
        user = state.user if state.resolved else await state.resolve(request)
        if not is_authenticated(user):
            raise for_browser(state.unauthenticated(), request.scope)
    if isinstance(user, ScopedUser):
        check_key_reach(request.scope, user)
    return user


async def optional_user(ctx: Context = Context()) -> Any:
    """``user=Depend(optional_user)``: the authenticated user, or ``None`` (a scoped API
    key is bounded as in ``current_user``)."""
    user = await resolve_user(ctx.request)
    if isinstance(user, ScopedUser):
        check_key_reach(ctx.request.scope, user)
    return user if is_authenticated(user) else None


async def auth_type(ctx: Context = Context()) -> str | None:
    """``kind=Depend(auth_type)``: ``"jwt"``, ``"session"``, ``"api_key"``... or ``None``."""
    await resolve_user(ctx.request)
    value = ctx.request.scope.get("auth")
    return None if value is None else str(value)


def inject(provider: Any) -> Any:
    """``svc=inject(container.token_service)`` or ``inject("token_service")``.

    A provider object is called at request time, so ``provider.override(...)`` applies.
    A name is looked up on the container that ``install()`` attached to this request, so
    the same handler works with whichever container the app (or a test) installed.
    """
    if isinstance(provider, str):
        name = provider

        def by_name(ctx: Context = Context()) -> Any:
            container = ctx.request.scope.get(CONTAINER_KEY)
            if container is None:
                raise ConfigurationError(f"inject({name!r}) needs install(app, container)")
            return getattr(container, name)()

        by_name.__name__ = f"inject_{name}"
        return Depend(by_name)
    if not callable(provider):
        raise ConfigurationError(f"inject() takes a provider or a provider name, not {provider!r}")
    call: Callable[[], Any] = provider

    def by_provider() -> Any:
        return call()

    return Depend(by_provider)


async def websocket_user(websocket: Any, *, close_code: int = 1008) -> Any:
    """The authenticated user of a WebSocket, or ``None`` after closing it.

    A WebSocket has no HTTP response to carry a 401, so an anonymous connection is
    closed with 1008 (policy violation, RFC 6455 §7.4.1) before it is accepted.
    """
    user = await resolve_user(websocket)
    if is_authenticated(user):
        return user
    await websocket.close(code=close_code)
    return None
