"""The one place the package reads a request: method, headers, cookies, body metadata
and the client address, straight from the raw ASGI scope.

It is on the hot path, so nothing here builds a ``Request`` or runs a regex. Header
names are matched exactly: the ASGI spec has servers lower-case them, and callers pass
lower-case bytes.

One duplicate-field policy (RFC 9110 §5.3: a field may repeat only if its grammar is a
comma-separated list):

* singleton fields (credentials, ``Content-Type``, ``Content-Length``, the CSRF header)
  read through ``header``; a repeat is refused with ``BadRequest("duplicate_header")``,
  because two ``Authorization`` headers mean "which one did the proxy check?";
* list fields (``X-Forwarded-For``, ``Forwarded``) read through ``header_values``: the
  repeats are joined in order, as the RFC allows;
* ``Cookie`` may arrive split over several fields (RFC 9113 §8.2.3); all are read, and a
  cookie *name* seen twice is ambiguous (cookie tossing) and reads as absent.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from nexios_auth_di.exceptions import BadRequest, ConfigurationError

__all__ = [
    "MAX_COOKIE_BYTES",
    "SAFE_METHODS",
    "Network",
    "Scope",
    "after_scheme",
    "client_ip",
    "content_length",
    "cookie",
    "forwarded_hops",
    "has_header",
    "header",
    "header_values",
    "is_safe_method",
    "media_type",
    "method",
    "trusted_networks",
]

Scope = MutableMapping[str, Any]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: RFC 9110 §9.2.1. Every other method, known or invented (PURGE, PROPFIND, "post"...),
#: may change state and so needs CSRF protection when a cookie authenticated it.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

#: what browsers keep per cookie (RFC 6265 §6.1 minimum); longer values are ignored
MAX_COOKIE_BYTES = 4096


# --- method ------------------------------------------------------------------------------


def method(scope: Mapping[str, Any]) -> str:
    """The request method, upper-cased (``GET`` when the scope has none)."""
    return str(scope.get("method", "GET")).upper()


def is_safe_method(name: str) -> bool:
    """True only for GET, HEAD, OPTIONS and TRACE (any case); unknown verbs are unsafe."""
    return name.upper() in SAFE_METHODS


# --- headers -----------------------------------------------------------------------------


def _single(scope: Mapping[str, Any], name: bytes) -> bytes | None:
    found: bytes | None = None
    for key, value in scope.get("headers") or ():
        if key == name:
            if found is not None:
                raise BadRequest(f"Duplicate {name.decode()} header", reason="duplicate_header")
            found = value
    return found


def header(scope: Mapping[str, Any], name: bytes) -> str | None:
    """The one value of singleton header ``name`` (lower-case bytes), or ``None``.

    Raises ``BadRequest`` (``duplicate_header``) when it appears more than once.
    """
    found = _single(scope, name)
    return None if found is None else found.decode("latin-1")


def has_header(scope: Mapping[str, Any], name: bytes, prefix: bytes = b"") -> bool:
    """Cheap presence check, no decoding: is ``name`` sent, starting with ``prefix``
    (lower-case; compared case-insensitively, as auth schemes are, RFC 9110 §11.1)?

    Duplicates are not judged here; reading the value with ``header`` refuses them.
    """
    size = len(prefix)
    for key, value in scope.get("headers") or ():
        if key == name and (not size or value[:size].lower() == prefix):
            return True
    return False


def header_values(scope: Mapping[str, Any], name: bytes) -> list[str]:
    """Every comma-separated element of list header ``name``, over all its lines."""
    lines = [v.decode("latin-1") for k, v in scope.get("headers") or () if k == name]
    return ",".join(lines).split(",") if lines else []


def after_scheme(value: str, scheme: str) -> str | None:
    """The credential in ``"<scheme> <credential>"``, or ``None`` for another scheme.

    ``scheme`` is matched case-insensitively (RFC 9110 §11.1); an empty scheme means the
    whole value is the credential. The result is stripped and may be empty.
    """
    if not scheme:
        return value.strip()
    size = len(scheme) + 1
    if value[:size].lower() != scheme.lower() + " ":
        return None
    return value[size:].strip()


def content_length(scope: Mapping[str, Any]) -> int | None:
    """The declared body size, or ``None``; anything but ASCII digits is a 400."""
    raw = _single(scope, b"content-length")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:  # bytes.isdigit: ASCII digits only
        raise BadRequest("Invalid Content-Length header.", reason="bad_content_length")
    return int(raw)


def media_type(scope: Mapping[str, Any]) -> str | None:
    """The lower-cased media type of ``Content-Type`` without parameters, or ``None``."""
    raw = header(scope, b"content-type")
    return None if raw is None else raw.split(";", 1)[0].strip().lower()


# --- cookies -----------------------------------------------------------------------------


def cookie(scope: Mapping[str, Any], name: str) -> str | None:
    """The single value of cookie ``name``, or ``None``.

    ``None`` also when the name appears more than once (which one is ours?), or the value
    is over ``MAX_COOKIE_BYTES`` or not printable ASCII: a bad cookie is no cookie, never
    an error.
    """
    found: str | None = None
    seen = False
    wanted = name.encode("ascii")
    for key, raw in scope.get("headers") or ():
        if key != b"cookie" or wanted not in raw:
            continue
        for part in raw.split(b";"):
            cname, sep, value = part.partition(b"=")
            if not sep or cname.strip() != wanted:
                continue
            if seen:
                return None
            seen = True
            value = value.strip()
            if len(value) > MAX_COOKIE_BYTES or not value.isascii():
                continue
            text = value.decode("ascii").strip('"')
            found = text if text.isprintable() else None
    return found or None


# --- client address ----------------------------------------------------------------------


def trusted_networks(trusted: Iterable[str | Network]) -> tuple[Network, ...]:
    """Parse proxy addresses/CIDRs once; a bad entry is a ``ConfigurationError``."""
    out: list[Network] = []
    for item in trusted:
        try:
            out.append(item if not isinstance(item, str) else ipaddress.ip_network(item, False))
        except ValueError as exc:
            raise ConfigurationError(f"bad trusted proxy {item!r}: {exc}") from exc
    return tuple(out)


def _clean_host(raw: str) -> str:
    """Strip quotes, brackets and port; normalise real IPs (IPv4-mapped IPv6 → IPv4)."""
    host = raw.strip().strip('"')
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)


def _is_trusted(host: str, nets: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in net for net in nets)


def forwarded_hops(scope: Mapping[str, Any], name: str = "x-forwarded-for") -> list[str]:
    """The hops of ``X-Forwarded-For`` (or RFC 7239 ``Forwarded``'s ``for=``), in order."""
    name = name.lower()
    rfc7239 = name == "forwarded"
    hops: list[str] = []
    for element in header_values(scope, name.encode("latin-1")):
        if rfc7239:
            fors = [
                p.split("=", 1)[1]
                for p in element.split(";")
                if p.strip().lower().startswith("for=")
            ]
            element = fors[0] if fors else ""
        if element.strip():
            hops.append(_clean_host(element))
    return hops


def client_ip(
    scope: Mapping[str, Any],
    trusted_proxies: Iterable[str | Network] = (),
    *,
    header: str = "x-forwarded-for",
) -> str:
    """The client's address: the ASGI peer, or, behind trusted proxies, the right-most
    untrusted hop of ``header`` (``x-forwarded-for`` or RFC 7239 ``forwarded``).

    Only one header is read, the one your proxy sets, so a client cannot pick the other.
    Hops left of the first untrusted one are client-written and ignored.
    """
    client = scope.get("client")
    peer = _clean_host(str(client[0])) if client else "unknown"
    nets = trusted_networks(trusted_proxies)
    if not nets or not _is_trusted(peer, nets):
        return peer
    hops = forwarded_hops(scope, header)
    for hop in reversed(hops):
        if not _is_trusted(hop, nets):
            return hop
    return hops[0] if hops else peer


def same_origin_or_allowed(scope: Mapping[str, Any], allowed: Iterable[str] = ()) -> bool:
    """True when the request's ``Origin`` is this host's own or listed in ``allowed``.

    For cookie-authenticated WebSockets (cross-site WebSocket hijacking, CWE-1385):
    browsers always send ``Origin`` on a WebSocket handshake (RFC 6455 §4.1), and a
    cookie rides along whatever site opened it. Missing or ``null`` is refused; the
    comparison is on host and port (a TLS proxy may change the scheme).
    """
    origin = header(scope, b"origin")
    if not origin or origin == "null":
        return False
    if origin.rstrip("/") in {a.rstrip("/") for a in allowed}:
        return True
    host = header(scope, b"host")
    _, sep, netloc = origin.partition("://")
    return bool(sep) and host is not None and netloc.rstrip("/").lower() == host.lower()
