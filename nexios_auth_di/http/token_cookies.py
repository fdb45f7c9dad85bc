"""JWTs in cookies for single-page apps (``jwt.transport: cookie | both``).

Why cookies: a token in ``localStorage`` is readable by any script an XSS injects; an
``HttpOnly`` cookie is not. The price is CSRF, since the browser attaches the cookie to
cross-site requests, so this module also does the **signed double-submit** defence (OWASP
CSRF cheat sheet): login and refresh set a readable CSRF cookie whose value is a nonce plus
an HMAC of (login family, nonce); an unsafe request authenticated *by the cookie* must send
the same value in ``X-CSRF-Token``. A cross-site page can neither read the value nor set the
header, and a value planted by a sibling subdomain (cookie tossing) fails the HMAC.

Cookies (``__Host-``/``__Secure-`` prefixed when Secure, RFC 6265bis §4.1.3):
- access token: ``HttpOnly``, ``Path=/``, lives as long as the token;
- refresh token: ``HttpOnly``, ``Path=jwt.refresh_cookie_path`` only, so no other route
  (and no script) ever sees it;
- CSRF value: readable by the page's own script (not ``HttpOnly``), ``Path=/``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nexios_auth_di.exceptions import BadRequest, ConfigurationError
from nexios_auth_di.http.asgi import cookie, header, is_safe_method, method
from nexios_auth_di.sessions.cookies import CookieSpec

__all__ = ["CSRF_HEADER", "TRANSPORTS", "TokenCookies", "csrf_key"]

TRANSPORTS = ("header", "cookie", "both")
CSRF_HEADER = "X-CSRF-Token"
_CSRF_HEADER_BYTES = CSRF_HEADER.lower().encode("latin-1")
SECURE_PREFIX = "__Secure-"


def csrf_key(jwt_secret: str | None, session_secret: str | None) -> bytes:
    """The key binding CSRF values to logins; the same on every worker (derived from a
    configured secret), so any worker can check a value another one issued."""
    secret = jwt_secret or session_secret
    if not secret:
        raise ConfigurationError(
            "jwt.transport cookie needs jwt.secret_key or session.secret_key "
            "(the key that signs CSRF values)"
        )
    return hmac.new(secret.encode(), b"nexios_auth_di.jwt.cookie_csrf", "sha256").digest()


@dataclass(frozen=True, slots=True)
class TokenCookies:
    """The three cookies and the CSRF key; built once from settings by the container."""

    access: CookieSpec
    refresh: CookieSpec
    csrf: CookieSpec
    key: bytes

    @classmethod
    def build(
        cls,
        *,
        key: bytes,
        access_ttl: int,
        refresh_ttl: int,
        refresh_path: str,
        secure: bool,
        samesite: str,
        names: tuple[str, str, str] = ("access_token", "refresh_token", "csrf_token"),
    ) -> TokenCookies:
        access_name, refresh_name, csrf_name = names

        def spec(name: str, max_age: int, path: str, httponly: bool, host: bool) -> CookieSpec:
            built = CookieSpec.build(
                cookie_name=name,
                max_age=max_age,
                path=path,
                domain=None,
                secure=secure,
                httponly=httponly,
                samesite=samesite,
                host_prefix=host and secure,
            )
            if secure and not host:  # RFC 6265bis §4.1.3.1: Secure, any path
                built = CookieSpec(SECURE_PREFIX + built.name, *_attrs(built))
            return built

        return cls(
            spec(access_name, access_ttl, "/", True, True),
            spec(refresh_name, refresh_ttl, refresh_path, True, False),
            spec(csrf_name, refresh_ttl, "/", False, True),
            key,
        )

    # -- reading ------------------------------------------------------------------------
    def access_token(self, scope: Mapping[str, Any]) -> str | None:
        return cookie(scope, self.access.name)

    def refresh_token(self, scope: Mapping[str, Any]) -> str | None:
        return cookie(scope, self.refresh.name)

    def csrf_passes(self, scope: Mapping[str, Any], family: str | None) -> bool:
        """Safe methods pass; otherwise header == cookie, and the value was issued for
        this login (``family``, from the verified token) by a holder of the key."""
        if is_safe_method(method(scope)):
            return True
        try:
            given = header(scope, _CSRF_HEADER_BYTES)
        except BadRequest:  # two headers: ambiguous, so no value
            return False
        stored = cookie(scope, self.csrf.name)
        if not given or not stored or not family:
            return False
        if not hmac.compare_digest(given.encode(), stored.encode()):
            return False
        nonce, _, mac = given.partition(".")
        return bool(nonce) and hmac.compare_digest(mac, self._mac(family, nonce))

    def _mac(self, family: str, nonce: str) -> str:
        message = f"{family}.{nonce}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:32]

    # -- writing ------------------------------------------------------------------------
    def new_csrf(self, family: str) -> str:
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._mac(family, nonce)}"

    def login_cookies(
        self, access: str, refresh: str, family: str, now: float
    ) -> tuple[str, list[str]]:
        """``(csrf value, Set-Cookie values)`` for a new pair. The CSRF value also goes
        in the body, so the page need not parse cookies."""
        value = self.new_csrf(family)
        pairs = ((self.access, access), (self.refresh, refresh), (self.csrf, value))
        return value, [spec.header(content, now).decode("latin-1") for spec, content in pairs]

    def clearing(self) -> list[str]:
        """Set-Cookie values that make the browser drop all three (logout)."""
        return [
            spec.deletion().decode("latin-1") for spec in (self.access, self.refresh, self.csrf)
        ]


def _attrs(spec: CookieSpec) -> tuple[Any, ...]:
    return (spec.max_age, spec.path, spec.domain, spec.secure, spec.httponly, spec.samesite)
