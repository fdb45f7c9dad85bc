"""client_ip: forwarded headers are believed only from trusted proxies."""

from __future__ import annotations

from typing import Any

import pytest

from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.http.throttling import client_ip

PROXIES = ["10.0.0.0/8", "2001:db8:ffff::/48"]


def _scope(peer: str | None, *headers: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "client": (peer, 4711) if peer is not None else None,
        "headers": [(k.encode(), v.encode()) for k, v in headers],
    }


# Each row: (what it covers, scope, trusted proxies, header, expected address).
CASES = [
    ("no proxies: the peer", _scope("198.51.100.4"), [], "x-forwarded-for", "198.51.100.4"),
    (
        "OWASP/MDN XFF spoofing: header from an untrusted peer is ignored",
        _scope("198.51.100.4", ("x-forwarded-for", "127.0.0.1")),
        PROXIES, "x-forwarded-for", "198.51.100.4",
    ),
    (
        "trusted proxy: its view of the client",
        _scope("10.0.0.2", ("x-forwarded-for", "203.0.113.9")),
        PROXIES, "x-forwarded-for", "203.0.113.9",
    ),
    (
        "client-prepended hops left of the real one are ignored (right-most untrusted)",
        _scope("10.0.0.2", ("x-forwarded-for", "1.1.1.1, 127.0.0.1, 203.0.113.9, 10.5.5.5")),
        PROXIES, "x-forwarded-for", "203.0.113.9",
    ),
    (
        "repeated XFF header lines are joined in order",
        _scope("10.0.0.2", ("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "203.0.113.9")),
        PROXIES, "x-forwarded-for", "203.0.113.9",
    ),
    (
        "all hops trusted: the left-most",
        _scope("10.0.0.2", ("x-forwarded-for", "10.1.1.1, 10.2.2.2")),
        PROXIES, "x-forwarded-for", "10.1.1.1",
    ),
    (
        "trusted proxy without a header: the peer",
        _scope("10.0.0.2"), PROXIES, "x-forwarded-for", "10.0.0.2",
    ),
    (
        "XFF hop with a port",
        _scope("10.0.0.2", ("x-forwarded-for", "203.0.113.9:5555")),
        PROXIES, "x-forwarded-for", "203.0.113.9",
    ),
    (
        "RFC 7239 Forwarded with quoted, bracketed IPv6 and port",
        _scope("2001:db8:ffff::1", ("forwarded", 'for="[2001:db8:cafe::17]:4711";proto=https')),
        PROXIES, "forwarded", "2001:db8:cafe::17",
    ),
    (
        "RFC 7239 Forwarded, several elements, right-most untrusted",
        _scope("10.0.0.2", ("forwarded", "for=6.6.6.6, for=192.0.2.60;proto=http, for=10.3.3.3")),
        PROXIES, "forwarded", "192.0.2.60",
    ),
    (
        "header choice: X-Forwarded-For is not read when the proxy sets Forwarded",
        _scope("10.0.0.2", ("x-forwarded-for", "6.6.6.6"), ("forwarded", "for=192.0.2.61")),
        PROXIES, "forwarded", "192.0.2.61",
    ),
    (
        "IPv4-mapped IPv6 peer normalised to IPv4 (one bucket per address)",
        _scope("::ffff:198.51.100.4"), [], "x-forwarded-for", "198.51.100.4",
    ),
    ("no ASGI client (e.g. some test transports)", _scope(None), PROXIES, "x-forwarded-for",
     "unknown"),
    (
        "non-IP peer is never trusted",
        _scope("testclient", ("x-forwarded-for", "6.6.6.6")),
        PROXIES, "x-forwarded-for", "testclient",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("scope", "proxies", "header", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in CASES],
)
def test_client_ip(scope: dict[str, Any], proxies: list[str], header: str, expected: str) -> None:
    """The bucket address is the peer unless a trusted proxy vouches for another."""
    assert client_ip(scope, proxies, header=header) == expected


def test_bad_proxy_is_configuration_error() -> None:
    """A malformed trusted-proxy entry fails loudly instead of trusting nothing (or all)."""
    with pytest.raises(ConfigurationError):
        client_ip(_scope("10.0.0.1"), ["10.0.0.0/33"])
