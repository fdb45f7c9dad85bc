"""The state of one redirect round trip, kept server-side and bound to the browser.

``GET .../login`` stores ``{state, nonce, verifier, next, ...}`` in the one-time store
under a random flow id, and gives the browser that id in a short-lived cookie
(HttpOnly, Secure, SameSite=Lax: Lax, because the provider's redirect back is a
cross-site top-level GET). The callback finds the flow only through the cookie of the
browser that started it and ``take()``s it (read and delete in one step), so a state
from another browser finds nothing (RFC 6749 §10.12), and a state is good once however
many callbacks race.
"""

from __future__ import annotations

import secrets
from typing import Any

from nexios_auth_di.exceptions import BadRequest
from nexios_auth_di.http.redirects import MAX_NEXT_CHARS, is_safe_next

__all__ = ["FLOW_PREFIX", "cookie_name", "flow_cookie", "new_flow", "safe_next"]

FLOW_PREFIX = "oidc_flow:"


def safe_next(raw: str | None) -> str:
    """``raw`` when it is a same-origin relative path (``http.redirects.is_safe_next``),
    else 400 (an open redirect is CWE-601, OWASP ASVS 5.1.5). ``"/"`` when absent."""
    if raw is None or raw == "":
        return "/"
    if len(raw) > MAX_NEXT_CHARS:
        raise BadRequest("The return URL is too long.", reason="oidc_next_too_long")
    if not is_safe_next(raw):
        raise BadRequest("The return URL must be a path on this site.", reason="oidc_next")
    return raw


def cookie_name(base: str, secure: bool) -> str:
    """``__Host-`` on a Secure cookie: a sibling subdomain cannot plant one."""
    return f"__Host-{base}" if secure else base


def flow_cookie(name: str, value: str, max_age: int, *, secure: bool) -> str:
    """The Set-Cookie value binding one flow to this browser (empty value: clear it)."""
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age if value else 0}", "HttpOnly"]
    parts.append("SameSite=Lax")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def new_flow(provider: str, next_url: str, now: float, link_user: str | None) -> dict[str, Any]:
    """Fresh random values for one round trip (each 256 bits; RFC 7636 §4.1 verifier)."""
    return {
        "provider": provider,
        "state": secrets.token_urlsafe(32),
        "nonce": secrets.token_urlsafe(32),
        "verifier": secrets.token_urlsafe(48),  # 64 chars, within 43..128
        "next": next_url,
        "started": now,
        "link_user": link_user,
    }
