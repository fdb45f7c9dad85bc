"""``install(app, container)``: the one call that wires authentication into an app.

It checks the container (a missing loader or secret fails here, at bootstrap, not on
the first request), wraps the router in the lazy ASGI middleware, registers the error
handlers and OpenAPI security schemes, leaves the container on ``app.state``, and ties
the container's lifetime to the app's lifespan: ``container.shutdown`` runs at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from nexios_auth_di.container import AuthContainer, shutdown, startup
from nexios_auth_di.decorator import REQUIREMENTS_ATTR
from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.http.compat import (
    all_routes,
    fix_method_not_allowed,
    silence_dependency_print,
)
from nexios_auth_di.http.errors import register_error_handler
from nexios_auth_di.http.middleware import AuthMiddleware
from nexios_auth_di.http.openapi import document_security
from nexios_auth_di.logs import get_logger
from nexios_auth_di.request_auth import CONTAINER_KEY

if TYPE_CHECKING:
    from nexios_auth_di.config import Settings

__all__ = ["document", "install"]

logger = get_logger("nexios_auth_di")

INSTALLED_FLAG = "nexios_auth_di.installed"


def _check_settings(app: Any, container: Any) -> Settings:
    """Validate the config once, refuse debug mode in production, and say loudly when a
    public dev-only secret is in use (anyone can forge tokens with it)."""
    try:
        settings: Settings = container.settings()
    except ConfigurationError:
        raise
    except Exception as exc:  # dependency-injector's own errors (strict config, bad YAML)
        raise ConfigurationError(f"could not load the auth config: {exc}") from exc
    if getattr(app, "debug", False):
        if settings.profile == "production":
            raise ConfigurationError(
                "the app runs in debug mode with the production profile: "
                "NexiosApp(debug=False) (debug pages show local variables and headers)"
            )
        logger.warning(
            "NexiosApp runs in debug mode: error pages show stack traces, local variables "
            "and request headers. Use NexiosApp(debug=False) outside development."
        )
    if settings.profile != "testing":
        for key, env in settings.dev_secrets_in_use():
            logger.warning(
                "%s is a PUBLIC dev-only fallback secret shipped with this package: anyone "
                "can forge credentials with it. Set %s before exposing this app.",
                key,
                env or "your own secret",
            )
    return settings


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
    them), configured from ``settings.session``. Without ``session.secret_key`` the app is
    expected to add its own ``SessionMiddleware``."""
    if not any(getattr(b, "name", None) == "session" for b in backends):
        return
    cfg = container.settings().session
    if not cfg.secret_key:
        logger.info("session backend without session.secret_key: add SessionMiddleware yourself")
        return
    from nexios_auth_di.sessions.middleware import SessionMiddleware

    app.wrap_asgi(
        SessionMiddleware,
        secret_key=cfg.secret_key,
        max_age=cfg.max_age,
        secure=cfg.secure,
        httponly=True,
        samesite=cfg.samesite,
        cookie_name=cfg.cookie_name,
        host_prefix=cfg.secure if cfg.host_prefix is None else cfg.host_prefix,
        user_key=cfg.user_key,
        store=container.session_store() if cfg.server_side else None,
        revocations=container.revocation_store(),
        clock=container.clock(),
    )


def _add_jwks(app: Any, container: Any) -> None:
    """Publish the ring's public keys when it has asymmetric ones (``jwt.publish_jwks``)."""
    if "jwt" not in container.settings().backends:
        return
    from nexios_auth_di.routes.jwks import jwks_route, wants_jwks

    if wants_jwks(container):
        app.add_route(jwks_route(container))


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


def _manage_lifetime(app: Any, container: AuthContainer) -> None:
    """Warm the container at startup and close what it opened at shutdown (see
    ``lifetimes.py``). Nexios skips ``on_startup``/``on_shutdown`` handlers when the app
    has its own ``lifespan``, so that one is wrapped instead."""

    async def auth_startup() -> None:
        await startup(container)

    async def auth_shutdown() -> None:
        await shutdown(container)

    theirs = getattr(app, "lifespan_context", None)
    if theirs is None:
        app.on_startup(auth_startup)
        app.on_shutdown(auth_shutdown)
        return

    @asynccontextmanager
    async def lifespan(the_app: Any) -> AsyncIterator[Any]:
        await auth_startup()
        try:
            async with theirs(the_app) as state:
                yield state
        finally:
            await auth_shutdown()

    app.lifespan_context = lifespan


def install(
    app: Any,
    container: AuthContainer,
    *,
    eager: bool = False,
    quiet_dependencies: bool = True,
) -> None:
    """Wire ``container`` into ``app``.

    ``eager=False`` (the default) authenticates only when a handler asks; ``eager=True``
    authenticates every request up front, for apps that read ``request.user`` directly.
    ``quiet_dependencies=True`` (the default) stops Nexios 3.12 printing "Resolving
    dependency:" to stdout for every ``Depend`` of every request; pass ``False`` to keep
    Nexios's output as it is.
    Routes decorated before this call are marked as secured in OpenAPI; call
    ``document(app, container)`` again after adding routes later.
    """
    if app.state.get(INSTALLED_FLAG):
        raise ConfigurationError("install() was already called on this app")
    _check_settings(app, container)
    backends = _check_container(container)
    _check_policies(app, container)
    app.wrap_asgi(AuthMiddleware, container=container, eager=eager)
    _add_sessions(app, container, backends)
    _add_jwks(app, container)
    register_error_handler(app)
    document_security(app, backends)
    fix_method_not_allowed(app)  # Nexios 3.12: one 405 would disable a route for everyone
    if quiet_dependencies:
        silence_dependency_print()
    # routes mounted after install() are documented when the first request arrives
    app.state[CONTAINER_KEY] = container
    app.state[INSTALLED_FLAG] = True
    _manage_lifetime(app, container)  # closes stores, tasks and pools on shutdown


def document(app: Any, container: AuthContainer, *, check: bool = True) -> None:
    """For routes added after ``install()``: mark them secured in OpenAPI and check
    their named policies exist. Runs by itself on the first request, without the check."""
    if check:
        _check_policies(app, container)
    document_security(app, container.backends())
    fix_method_not_allowed(app)
