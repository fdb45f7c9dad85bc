"""Workarounds for measured bugs of Nexios 3.12 (see docs/design.md §6).

Each one changes Nexios's behaviour, so each runs only from a visible call at bootstrap:
``install()`` and the guide-form ``AuthenticationMiddleware`` call
``fix_method_not_allowed`` on the app's routes (the 405 bug lets an anonymous client
disable protected routes); ``install()`` also calls ``silence_dependency_print`` unless
``quiet_dependencies=False``. Nothing runs at import.
"""

from __future__ import annotations

from types import MethodType
from typing import Any

__all__ = ["fix_method_not_allowed", "safe_handle", "silence_dependency_print"]

_FIXED = "_nexios_auth_safe_405"


def _quiet(*args: Any, **kwargs: Any) -> None:
    return None


def silence_dependency_print() -> None:
    """Stop ``nexios.dependencies`` printing "Resolving dependency:" on every ``Depend``.

    Nexios 3.12.3 calls ``print`` once per dependency per request: noise in logs and a
    stdout write on the hot path. This shadows ``print`` in that module only.
    """
    import nexios.dependencies as deps

    deps.print = _quiet


async def safe_handle(route: Any, scope: Any, receive: Any, send: Any) -> None:
    """``Route.handle`` that answers a wrong method with 405 *without* replacing the route.

    Nexios 3.12.3's ``Route.handle`` assigns its 405 response to ``route.app``, so one
    anonymous ``OPTIONS``/``POST`` to a GET route makes every later request to it a 405,
    including authenticated ones: a denial of service anyone can trigger (CWE-400).
    """
    if route.methods and scope["method"] not in route.methods:
        from nexios.http.response import JSONResponse

        allowed: set[str] = set()
        for other in getattr(scope.get("app"), "routes", [route]):
            pattern = getattr(other, "pattern", None)
            if pattern is not None and pattern.match(scope["path"]):
                allowed |= set(getattr(other, "methods", ()))
        answer = JSONResponse(
            {"error": "method_not_allowed", "detail": "Method not allowed"},
            status_code=405,
            headers={"Allow": ", ".join(sorted(allowed or route.methods))},
        )
        await answer(scope, receive, send)
        return
    await route.app(scope, receive, send)


def all_routes(app: Any) -> list[Any]:
    """The app's real route objects (``get_all_routes()`` returns copies)."""
    found: list[Any] = []
    pending = [app.router]
    while pending:
        router = pending.pop()
        for route in getattr(router, "routes", ()):
            base = getattr(route, "_base_app", None)  # mount_router wraps a Router in a Group
            if base is not None and hasattr(base, "routes"):
                pending.append(base)
            else:
                found.append(route)
        pending.extend(getattr(router, "sub_routers", {}).values())
    return found


def fix_method_not_allowed(app: Any) -> int:
    """Give every route of ``app`` the fixed ``handle``; returns how many were patched.

    ``install()`` and the guide-form ``AuthenticationMiddleware`` call this (again on the
    first request, for routes added later), because the bug lets an anonymous client
    disable protected routes.
    """
    from nexios.routing import Route

    patched = 0
    for route in all_routes(app):
        if isinstance(route, Route) and not getattr(route, _FIXED, False):
            route.handle = MethodType(safe_handle, route)
            setattr(route, _FIXED, True)
            patched += 1
    return patched
