"""Redirect targets a browser may be sent to: ``safe_next`` and the login redirect.

``safe_next`` is the one check for a ``next`` value (a query parameter or form field the
client controls), so an attacker's link cannot bounce a user through our login page to
another site (CWE-601, OWASP ASVS 5.0 V5.1.5 / 4.0 5.1.5). It accepts only a relative path
on this origin and refuses rather than repairs: a value that needs cleaning was not
produced by our own login redirect. Browsers are lenient where it hurts: they strip tabs
and newlines inside URLs, read ``\\`` as ``/``, and some tools decode a value more than
once, so every percent-decoding layer of the value is checked too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

__all__ = ["MAX_NEXT_CHARS", "is_safe_next", "login_redirect_target", "safe_next"]

#: longer values are refused (a real path and query are far shorter)
MAX_NEXT_CHARS = 2048
#: decoding layers examined: a value still changing after these is refused
MAX_DECODE_ROUNDS = 4


def _layer_is_safe(text: str) -> bool:
    """One decoding layer: a path starting with one ``/``, no scheme, no authority, no
    backslash, no control character (browsers strip some, which would join ``/`` ``/``)."""
    if not text.startswith("/") or text.startswith(("//", "/\\")):
        return False
    if "\\" in text or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    # dot segments are resolved by the browser: ``/..//evil`` becomes ``//evil``
    segments = parts.path.split("/")[1:]
    if "//" in parts.path or any(seg in (".", "..") for seg in segments):
        return False
    return not parts.scheme and not parts.netloc


def is_safe_next(value: Any) -> bool:
    """Whether ``value`` is a same-origin relative path a browser may be sent to.

    Accepted: ``/profile``, ``/a/b?x=1#top``. Refused: absolute and scheme-relative URLs
    (``https://evil``, ``//evil``, ``/\\evil``, ``http:evil``, ``javascript:``), their
    percent-encoded and double-encoded forms (``%2F%2Fevil``, ``/%2F/evil``, ``/%5Cevil``),
    dot segments, CR/LF and other control characters raw or encoded, whitespace,
    non-ASCII characters, and values over ``MAX_NEXT_CHARS``.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_NEXT_CHARS:
        return False
    # raw form: printable ASCII only (a real path is sent percent-encoded)
    if any(not 0x21 <= ord(ch) <= 0x7E for ch in value):
        return False
    layer = value
    for _ in range(MAX_DECODE_ROUNDS):
        if not _layer_is_safe(layer):
            return False
        try:
            decoded = unquote(layer, errors="strict") if "%" in layer else layer
        except UnicodeDecodeError:  # %FF and friends: not a path we produced
            return False
        if decoded == layer:
            return True
        layer = decoded
    return False  # still decoding: nested encodings are an attack, not a path


def safe_next(value: Any, default: str = "/") -> str:
    """``value`` when ``is_safe_next`` accepts it, else ``default`` (never repaired)."""
    return value if is_safe_next(value) else default


def _original_target(scope: Mapping[str, Any]) -> str:
    """The request's own path and query, as sent (``raw_path`` when the server gives it)."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        # the ASGI spec leaves the query out of raw_path; some clients put it in
        path = raw.decode("latin-1").split("?", 1)[0]
    else:
        path = quote(str(scope.get("path") or "/"), safe="/%:@!$&'()*+,;=-._~")
    query = scope.get("query_string") or b""
    if isinstance(query, bytes) and query:
        path += "?" + query.decode("latin-1")
    return path


def login_redirect_target(login_url: str, scope: Mapping[str, Any]) -> str:
    """``login_url?next=<this request's path and query, percent-encoded>``.

    A path that ``safe_next`` would refuse (``//evil`` requested on our host) is sent as
    ``/``, so the login page never receives a hostile ``next`` from us.
    """
    target = safe_next(_original_target(scope))
    joiner = "&" if "?" in login_url else "?"
    return f"{login_url}{joiner}next={quote(target, safe='')}"
