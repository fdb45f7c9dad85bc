"""The session object and its cookie: read and written by hand, defensively.

Reading is ``http.asgi.cookie``, not a framework parser: a malformed header, a
duplicated name (cookie tossing from a sibling subdomain) or a huge value must yield "no
session", never an exception. Writing is explicit too, so every attribute the developer
configured ends up in the ``Set-Cookie`` header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.http.asgi import MAX_COOKIE_BYTES

__all__ = ["MAX_COOKIE_BYTES", "CookieSpec", "Session"]

HOST_PREFIX = "__Host-"
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 token
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


@dataclass(frozen=True, slots=True)
class CookieSpec:
    """The cookie's name and attributes, validated once at start-up."""

    name: str
    max_age: int
    path: str = "/"
    domain: str | None = None
    secure: bool = True
    httponly: bool = True
    samesite: str | None = "strict"

    @classmethod
    def build(
        cls,
        *,
        cookie_name: str,
        max_age: int,
        path: str,
        domain: str | None,
        secure: bool,
        httponly: bool,
        samesite: str | None,
        host_prefix: bool,
    ) -> CookieSpec:
        """Validate the settings; mistakes raise ``ConfigurationError`` at start-up."""
        if not _TOKEN.match(cookie_name):
            raise ConfigurationError(f"invalid cookie name {cookie_name!r}")
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0:
            raise ConfigurationError("max_age must be a positive number of seconds")
        if not path.startswith("/") or any(c in path for c in ";\r\n"):
            raise ConfigurationError("cookie path must start with '/'")
        if domain is not None and not re.fullmatch(r"[A-Za-z0-9.\-]+", domain):
            raise ConfigurationError("invalid cookie domain")
        site = None if samesite is None else _SAMESITE.get(samesite.lower())
        if samesite is not None and site is None:
            raise ConfigurationError("samesite must be 'strict', 'lax', 'none' or None")
        if site == "None" and not secure:
            raise ConfigurationError("SameSite=None cookies must be Secure")
        if host_prefix:
            # RFC 6265bis §4.1.3.2: __Host- needs Secure, Path=/ and no Domain.
            if not secure or path != "/" or domain is not None:
                raise ConfigurationError("host_prefix needs secure=True, path='/' and no domain")
            cookie_name = HOST_PREFIX + cookie_name
        return cls(cookie_name, max_age, path, domain, secure, httponly, site)

    def header(self, value: str, now: float) -> bytes:
        """A ``Set-Cookie`` value that stores ``value`` for ``max_age`` seconds."""
        expires = formatdate(now + self.max_age, usegmt=True)
        return self._render(value, self.max_age, expires)

    def deletion(self) -> bytes:
        """A ``Set-Cookie`` value that makes the browser drop the cookie."""
        return self._render("", 0, "Thu, 01 Jan 1970 00:00:00 GMT")

    def _render(self, value: str, max_age: int, expires: str) -> bytes:
        parts = [f"{self.name}={value}", f"Max-Age={max_age}", f"Expires={expires}"]
        parts.append(f"Path={self.path}")
        if self.domain:
            parts.append(f"Domain={self.domain}")
        if self.secure:
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        if self.samesite:
            parts.append(f"SameSite={self.samesite}")
        return "; ".join(parts).encode("latin-1")


class Session(dict[str, Any]):
    """The per-request session: a dict that notices writes, so unchanged sessions cost
    no ``Set-Cookie`` and no store write."""

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        *,
        session_id: str | None = None,
        subject: str | None = None,
        created: float = 0.0,
    ) -> None:
        super().__init__(data or {})
        self.modified = False
        self.session_id = session_id  # random id: the store key, or the revocable cookie id
        self.subject = subject  # whose session it is, for end_other_sessions
        self.created = created
        self.had_cookie = False
        self.loaded_id = session_id  # id the request came with, to delete on rotation
        self.loaded_user: Any = None  # user id as loaded, to spot a login by assignment

    def __setitem__(self, key: str, value: Any) -> None:
        self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.modified = True
        super().__delitem__(key)

    def clear(self) -> None:
        self.modified = True
        super().clear()

    def pop(self, key: str, *default: Any) -> Any:
        self.modified = self.modified or key in self
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        self.modified = True
        return super().popitem()

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.modified = self.modified or key not in self
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.modified = True
        super().update(*args, **kwargs)

    def __ior__(self, other: Any) -> Session:  # type: ignore[override,misc]
        self.update(other)
        return self
