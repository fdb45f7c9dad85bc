"""OpenAPI security: the backends' schemes, and which routes they secure."""

from __future__ import annotations

from typing import Any

from nexios_auth_di.decorator import REQUIREMENTS_ATTR
from nexios_auth_di.dependencies import current_user
from nexios_auth_di.http.compat import all_routes


def document_security(app: Any, backends: list[Any]) -> None:
    """Add each backend's scheme and mark the secured routes that have no security yet."""
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
        if is_secured(route) and not getattr(route, "security", None):
            route.security = requirement


def is_secured(route: Any) -> bool:
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
