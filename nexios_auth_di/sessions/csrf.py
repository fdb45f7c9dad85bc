"""Synchronizer-token CSRF defence tied to the session (OWASP CSRF cheat sheet).

The token lives in the session; an unsafe request must echo it in a header. Browsers
attach cookies to cross-site requests but a cross-site page cannot read our token, so
a forged request lacks it. This is only needed when the *cookie* authenticated the
request: the session backend calls ``require_csrf``; bearer and API-key requests are
not exposed to CSRF and are left alone.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping, MutableMapping
from typing import Any

from nexios_auth_di.exceptions import BadRequest, ContractError, CSRFFailed, UsageError
from nexios_auth_di.http.asgi import SAFE_METHODS, header, is_safe_method, method

__all__ = [
    "CSRF_HEADER",
    "CSRF_SESSION_KEY",
    "FORM_CHECKED_KEY",
    "SAFE_METHODS",
    "csrf_token",
    "require_csrf",
    "require_form_csrf",
    "rotate_csrf_token",
    "scope_of",
    "verify_csrf",
]

CSRF_SESSION_KEY = "_csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MW_SCOPE_KEY = "nexios_auth_di.session_mw"
#: set (only) by a route that checked the token from its own form body (routes/forms.py)
FORM_CHECKED_KEY = "nexios_auth_di.csrf_form_checked"


def scope_of(request_or_scope: Any) -> MutableMapping[str, Any]:
    """Accept a Nexios ``Request`` (anything with ``.scope``) or an ASGI scope dict."""
    if isinstance(request_or_scope, dict):
        return request_or_scope
    scope = getattr(request_or_scope, "scope", None)
    if not isinstance(scope, dict):
        raise ContractError("expected a Request or an ASGI scope")
    return scope


def _session(scope: Mapping[str, Any]) -> MutableMapping[str, Any] | None:
    session = scope.get("session")
    return session if isinstance(session, MutableMapping) else None


def csrf_token(request_or_scope: Any) -> str:
    """The session's CSRF token, created (and saved with the session) if missing."""
    session = _session(scope_of(request_or_scope))
    if session is None:
        raise UsageError("csrf_token() needs SessionMiddleware in front of the route")
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = rotate_csrf_token(session)
    return token


def rotate_csrf_token(session: MutableMapping[str, Any]) -> str:
    """Store a fresh 256-bit token; called at login so a pre-login token dies."""
    token = secrets.token_urlsafe(32)
    session[CSRF_SESSION_KEY] = token
    return token


def _header_name(scope: Mapping[str, Any]) -> str:
    mw = scope.get(MW_SCOPE_KEY)
    name = getattr(mw, "csrf_header", None)
    return name if isinstance(name, str) else CSRF_HEADER


def _given(scope: Mapping[str, Any], headers: Mapping[str, str] | None, name: str) -> str | None:
    if headers is not None:
        value = headers.get(name)
        if value is None:
            value = headers.get(name.lower())
        return value
    try:
        return header(scope, name.lower().encode("latin-1"))
    except BadRequest:  # two copies of the header are ambiguous: no token, so a 403
        return None


def verify_csrf(
    scope: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    *,
    header_name: str | None = None,
) -> bool:
    """True for safe methods (``is_safe_method``: GET, HEAD, OPTIONS, TRACE); for every
    other method the header must equal the session's token.

    ``headers`` may be a (case-insensitive) mapping such as ``request.headers``; when
    omitted the raw ASGI headers of ``scope`` are read.
    """
    if is_safe_method(method(scope)) or scope.get(FORM_CHECKED_KEY) is True:
        return True
    session = _session(scope)
    expected = None if session is None else session.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not expected:
        return False
    given = _given(scope, headers, header_name or _header_name(scope))
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def require_csrf(
    scope: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    *,
    header_name: str | None = None,
) -> None:
    """Raise ``CSRFFailed`` (403) unless ``verify_csrf`` passes."""
    if not verify_csrf(scope, headers, header_name=header_name):
        raise CSRFFailed(reason="csrf_token_mismatch")


#: longer ``csrf_token`` fields are refused unread (ours are 43 characters)
MAX_FORM_TOKEN_CHARS = 128


def require_form_csrf(scope: MutableMapping[str, Any], form: Mapping[str, str]) -> None:
    """For an HTML ``<form>`` (which cannot send the header): its ``csrf_token`` field must
    equal the session's token, else ``CSRFFailed`` (403). Then the request is marked
    checked (``FORM_CHECKED_KEY``), so the session backend does not ask for the header too.
    Call it on the form's fields before anything reads the user."""
    session = _session(scope)
    expected = None if session is None else session.get(CSRF_SESSION_KEY)
    given = form.get("csrf_token") or ""
    if not isinstance(expected, str) or not expected or not given:
        raise CSRFFailed(reason="csrf_form_missing")
    if len(given) > MAX_FORM_TOKEN_CHARS or not hmac.compare_digest(
        given.encode("utf-8"), expected.encode("utf-8")
    ):
        raise CSRFFailed(reason="csrf_form_mismatch")
    scope[FORM_CHECKED_KEY] = True
