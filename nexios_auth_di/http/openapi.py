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
    token_urls = [u for r in all_routes(app) if (u := getattr(r, "oauth2_token_url", None))]
    if token_urls and requirement:  # Swagger UI's Authorize logs in with a password
        app.openapi_config.add_security_scheme(OAUTH2_SCHEME, password_flow(token_urls[0]))
        requirement.append({OAUTH2_SCHEME: []})
    if not requirement:
        return
    for route in all_routes(app):
        if is_secured(route) and not getattr(route, "security", None):
            route.security = requirement


OAUTH2_SCHEME = "oauth2Password"


def password_flow(token_url: str) -> Any:
    """The OAuth2 password-flow scheme whose token URL is our form-encoded token route."""
    from nexios.openapi.models import OAuth2, OAuthFlowPassword, OAuthFlows

    flow = OAuthFlowPassword(tokenUrl=token_url, scopes={})
    return OAuth2(flows=OAuthFlows(password=flow), description="username and password")


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
