"""The JSON error answer for every ``HTTPAuthError`` and its registration on an app.

Kept apart from ``install`` so both install forms (``install()`` and the guide-form
middleware) register the same handler without importing each other.
"""

from __future__ import annotations

from typing import Any

from nexios_auth_di.exceptions import HTTPAuthError, LoginRedirect
from nexios_auth_di.logs import get_logger
from nexios_auth_di.request_auth import request_auth

logger = get_logger("nexios_auth_di")

#: the redirect depends on the caller's session: no shared cache may keep it
REDIRECT_HEADERS = {"Cache-Control": "no-store", "Vary": "Accept, Cookie"}


async def auth_error_handler(request: Any, response: Any, exc: HTTPAuthError) -> Any:
    """Default JSON body ``{"error", "detail"}``; never says why a credential failed. A
    ``LoginRedirect`` (a browser that must log in) is a 302 to the login page instead."""
    if isinstance(exc, LoginRedirect):
        return response.redirect(exc.location, status_code=302, headers=dict(REDIRECT_HEADERS))
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


def register_error_handler(app: Any) -> None:
    """Add ``auth_error_handler`` for every ``HTTPAuthError`` unless the app has one."""
    middleware = getattr(app, "exceptions_handler", None)
    existing = getattr(middleware, "_exception_handlers", {})
    if HTTPAuthError not in existing:  # an app's own handler wins, before or after install
        app.add_exception_handler(HTTPAuthError, auth_error_handler)
