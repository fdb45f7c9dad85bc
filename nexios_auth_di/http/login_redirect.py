"""HTML-aware guards: a browser that must log in is sent to the login page.

``login_required``, ``permission_required`` (anonymous callers only) and
``Depend(current_user)`` pass their 401 through ``for_browser``. When the request is a
browser navigation (a safe method, ``Accept`` preferring ``text/html`` over JSON, no
``Authorization`` header) and a login URL is configured, the 401 becomes a
``LoginRedirect``, which the installed error handler answers with **302** to
``login_url?next=<path and query>``. API clients, ``*/*`` and JSON keep their 401, and a
signed-in caller without a permission still gets the 403: the redirect is only for
someone who is not logged in.

Where the login URL comes from, first found wins: the guard's own ``login_url=``, the
guide-form ``AuthenticationMiddleware(login_url=...)`` (via ``LOGIN_URL_KEY`` in the
scope), then ``session.login_url`` of the installed container's settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nexios_auth_di.exceptions import BadRequest, HTTPAuthError, LoginRedirect
from nexios_auth_di.http.asgi import header, header_values, method
from nexios_auth_di.http.negotiation import prefers_html
from nexios_auth_di.http.redirects import login_redirect_target
from nexios_auth_di.request_auth import CONTAINER_KEY

__all__ = ["LOGIN_URL_KEY", "REDIRECT_METHODS", "for_browser", "login_url_for", "wants_page"]

#: scope key where the guide-form middleware leaves its ``login_url``
LOGIN_URL_KEY = "nexios_auth_di.login_url"
#: a redirect replays the request as a GET: only for requests that were one
REDIRECT_METHODS = frozenset({"GET", "HEAD"})


def login_url_for(scope: Mapping[str, Any], explicit: str | None = None) -> str | None:
    """The login page for this request, or ``None`` when none is configured."""
    if explicit:
        return explicit
    given = scope.get(LOGIN_URL_KEY)
    if isinstance(given, str) and given:
        return given
    container = scope.get(CONTAINER_KEY)
    if container is None:
        return None
    url = container.settings().session.login_url
    return url if isinstance(url, str) and url else None


def wants_page(scope: Mapping[str, Any]) -> bool:
    """Whether this is a browser navigation that should see a page, not a JSON error."""
    if scope.get("type") != "http" or method(scope) not in REDIRECT_METHODS:
        return False
    try:
        if header(scope, b"authorization") is not None:
            return False  # explicit credentials: an API client, whatever it accepts
    except BadRequest:
        return False
    accept = ",".join(header_values(scope, b"accept")) or None
    return prefers_html(accept)


def for_browser(
    error: HTTPAuthError, scope: Mapping[str, Any], login_url: str | None = None
) -> HTTPAuthError:
    """``error`` itself, or a ``LoginRedirect`` when it is a 401 a browser should not see."""
    if error.status_code != 401 or isinstance(error, LoginRedirect):
        return error
    url = login_url_for(scope, login_url)
    if url is None or not wants_page(scope):
        return error
    return LoginRedirect(login_redirect_target(url, scope), reason=error.reason)
