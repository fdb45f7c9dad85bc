"""``install(app, container)``: the one call that wires authentication into an app.

It checks the container (a missing loader or secret fails here, at bootstrap, not on
the first request), wraps the router in the lazy ASGI middleware, registers the error
handlers and OpenAPI security schemes, and leaves the container on ``app.state``.
"""

from __future__ import annotations

import logging
from typing import Any

from .compat import fix_method_not_allowed
from .container import AuthContainer
from .decorator import REQUIREMENTS_ATTR
from .dependencies import current_user
from .exceptions import ConfigurationError, HTTPAuthError
from .middleware import AuthMiddleware
from .runtime import CONTAINER_KEY, request_auth

__all__ = ["auth_error_handler", "install"]

logger = logging.getLogger("nexios_auth_di")

INSTALLED_FLAG = "nexios_auth_di.installed"


async def auth_error_handler(request: Any, response: Any, exc: HTTPAuthError) -> Any:
    """Default JSON body ``{"error", "detail"}``; never says why a credential failed."""
    headers = dict(exc.headers or {})
    if exc.status_code == 401 and "WWW-Authenticate" not in headers:
        state = request_auth(request.scope)
        if state is not None:
            headers.update(state.challenge_headers())
    if exc.status_code >= 500 or exc.status_code in (401, 403):
        logger.info(
            "%s %s -> %s (%s)", request.method, request.url.path, exc.status_code, exc.reason
        )
    return response.json(exc.body(), status_code=exc.status_code, headers=headers)


def _check_container(container: Any) -> list[Any]:
    # AuthContainer() returns a DynamicContainer, so check the providers, not the class
    if not all(hasattr(container, n) for n in ("authenticator", "backends", "user_loader")):
        raise ConfigurationError("install() takes an AuthContainer (or a subclass) instance")
    try:
        loader = container.user_loader()
    except Exception as exc:
        raise ConfigurationError(
            "container.user_loader is not set: container.user_loader.override(load_user) "
            "with a function identity -> user | None"
        ) from exc
    if not callable(loader):
        raise ConfigurationError(f"container.user_loader must be callable, got {loader!r}")
    backends: list[Any] = container.backends()
    return backends


def _add_sessions(app: Any, container: Any, backends: list[Any]) -> None:
    """Sessions for the session backend: server-side by default (logout really ends
    them), configured from ``config.session``. Without ``session.secret_key`` the app is
    expected to add its own ``SessionMiddleware``."""
    if not any(getattr(b, "name", None) == "session" for b in backends):
        return
    cfg = container.config.session() or {}
    if not cfg.get("secret_key"):
        logger.info("session backend without session.secret_key: add SessionMiddleware yourself")
        return
    from .session import SessionMiddleware

    app.wrap_asgi(
        SessionMiddleware,
        secret_key=cfg["secret_key"],
        max_age=int(cfg.get("max_age", 14 * 24 * 3600)),
        secure=bool(cfg.get("secure", True)),
        httponly=True,
        samesite=cfg.get("samesite", "lax"),
        cookie_name=str(cfg.get("cookie_name", "session")),
        host_prefix=bool(cfg.get("host_prefix", False)),
        user_key=str(cfg.get("user_key", "user_id")),
        store=container.session_store() if cfg.get("server_side", True) else None,
        revocations=container.revocation_store(),
        clock=container.clock(),
    )


def register_error_handler(app: Any) -> None:
    """Add ``auth_error_handler`` for every ``HTTPAuthError`` unless the app has one."""
    middleware = getattr(app, "exceptions_handler", None)
    existing = getattr(middleware, "_exception_handlers", {})
    if HTTPAuthError not in existing:  # an app's own handler wins, before or after install
        app.add_exception_handler(HTTPAuthError, auth_error_handler)


def all_routes(app: Any) -> list[Any]:
    """The app's real route objects (``get_all_routes()`` returns copies)."""
    found: list[Any] = []
    pending = [app.router]
    while pending:
        router = pending.pop()
        found.extend(getattr(router, "routes", ()))
        pending.extend(getattr(router, "sub_routers", {}).values())
    return found


def _document(app: Any, backends: list[Any]) -> None:
    requirement: list[dict[str, list[str]]] = []
    for backend in backends:
        described = backend.openapi_scheme()
        if described is not None:
            name, scheme = described
            app.openapi_config.add_security_scheme(name, scheme)
            requirement.append({name: []})
    if not requirement:
        return
    for route in all_routes(app):
        if _secured(route) and not getattr(route, "security", None):
            route.security = requirement


def _secured(route: Any) -> bool:
    """A route is secured if a decorator guards it or a dependency asks for the user."""
    if getattr(getattr(route, "handler", None), REQUIREMENTS_ATTR, None):
        return True
    pending = list(getattr(route, "_own_resolved_dependencies", ()))
    while pending:
        dependency = pending.pop()
        if getattr(dependency, "dependency", None) is current_user:
            return True
        pending.extend(getattr(dependency, "nested_dependencies", ()))
    return False


def _check_policies(app: Any, container: Any) -> None:
    """A misspelt ``policy_required("name")`` fails here, at bootstrap."""
    known = container.policies()
    for route in all_routes(app):
        for requirement in getattr(getattr(route, "handler", None), REQUIREMENTS_ATTR, ()):
            name = requirement.removeprefix("policy:")
            if name != requirement and name not in known:
                raise ConfigurationError(
                    f"route {route.raw_path} requires policy {name!r}, "
                    "which container.policies does not define"
                )


def install(app: Any, container: AuthContainer, *, eager: bool = False) -> None:
    """Wire ``container`` into ``app``.

    ``eager=False`` (the default) authenticates only when a handler asks; ``eager=True``
    authenticates every request up front, for apps that read ``request.user`` directly.
    Routes decorated before this call are marked as secured in OpenAPI; call
    ``document(app, container)`` again after adding routes later.
    """
    if app.state.get(INSTALLED_FLAG):
        raise ConfigurationError("install() was already called on this app")
    backends = _check_container(container)
    _check_policies(app, container)
    app.wrap_asgi(AuthMiddleware, container=container, eager=eager)
    _add_sessions(app, container, backends)
    register_error_handler(app)
    _document(app, backends)
    fix_method_not_allowed(app)  # Nexios 3.12: one 405 would disable a route for everyone
    # routes mounted after install() are documented when the first request arrives
    app.state[CONTAINER_KEY] = container
    app.state[INSTALLED_FLAG] = True


def document(app: Any, container: AuthContainer, *, check: bool = True) -> None:
    """For routes added after ``install()``: mark them secured in OpenAPI and check
    their named policies exist. Runs by itself on the first request, without the check."""
    if check:
        _check_policies(app, container)
    _document(app, container.backends())
    fix_method_not_allowed(app)
