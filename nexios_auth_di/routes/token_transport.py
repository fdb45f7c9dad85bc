"""How the ready-made routes hand tokens over: in the JSON body, in cookies, or both
(``jwt.transport``; the cookies and their CSRF defence are ``http/token_cookies.py``).

With ``cookie`` the body carries no token at all (a script cannot read what it never
receives), only ``csrf_token`` and ``expires_in``; ``both`` sends both, for clients of
each kind. Nexios replaces the response object on ``response.json(...)``, so the cookies
are added after the body is set (``send``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nexios_auth_di.exceptions import CSRFFailed

__all__ = ["body_and_cookies", "clearing_cookies", "refresh_from_cookie", "send"]

TOKEN_FIELDS = ("access_token", "refresh_token")


def body_and_cookies(container: Any, payload: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The body and the Set-Cookie values for a response that carries a new pair."""
    cookies = container.token_cookies()
    if cookies is None or "refresh_token" not in payload:
        return payload, []
    tokens = container.token_service()
    family = str(tokens.verifier.verify(payload["refresh_token"], "refresh")["fam"])
    now = container.clock()()
    csrf, values = cookies.login_cookies(
        payload["access_token"], payload["refresh_token"], family, now
    )
    body = dict(payload, csrf_token=csrf)
    if container.settings().jwt.transport == "cookie":
        for name in TOKEN_FIELDS:
            body.pop(name, None)
    return body, values


def clearing_cookies(container: Any) -> list[str]:
    """Set-Cookie values that drop the token cookies (logout), or none."""
    cookies = container.token_cookies()
    return [] if cookies is None else cookies.clearing()


def refresh_from_cookie(container: Any, scope: Mapping[str, Any]) -> str | None:
    """The refresh cookie's token, once its CSRF value checks out (the browser sends the
    cookie to cross-site POSTs too); ``None`` without a cookie."""
    cookies = container.token_cookies()
    token: str | None = None if cookies is None else cookies.refresh_token(scope)
    if cookies is None or token is None:
        return None
    claims = container.token_service().verifier.verify(token, "refresh")
    if not cookies.csrf_passes(scope, claims.get("fam")):
        raise CSRFFailed(reason="csrf_token_mismatch")
    return token


def send(response: Any, payload: Any, cookies: list[str], **options: Any) -> Any:
    """``response.json(payload, **options)`` plus ``cookies``."""
    result = response.json(payload, **options)
    for value in cookies:
        response.set_header("set-cookie", value)
    return result
