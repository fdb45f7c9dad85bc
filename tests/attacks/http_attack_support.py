"""Shared pieces of the HTTP attack suites: the one refusal body and how to check it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nexios import NexiosApp
from nexios.testclient import TestClient

#: the only body a refused credential may get, whatever the cause
REFUSED_BODY = {"error": "not_authenticated", "detail": "Authentication required"}
CSRF_BODY = {"error": "csrf_failed", "detail": "CSRF token missing or invalid"}


def header_value(value: str | bytes) -> str | bytes:
    """Text that is not Latin-1-safe ASCII goes out as raw bytes (UTF-8), as a client
    sending non-ASCII or NUL would put it on the wire."""
    if isinstance(value, bytes):
        return value
    return value if value.isascii() and "\x00" not in value else value.encode("utf-8")


def bearer(token: str | bytes) -> dict[str, str | bytes]:
    """``Authorization: Bearer <token>``, as raw bytes so any row survives the trip."""
    raw = token if isinstance(token, bytes) else token.encode("utf-8")
    return {"Authorization": b"Bearer " + raw}


def assert_refused(response: Any, rule: str) -> None:
    """401, the generic body, a challenge; nothing else."""
    assert response.status_code == 401, (rule, response.status_code, response.text[:200])
    assert response.json() == REFUSED_BODY, rule
    assert response.headers.get("www-authenticate"), rule


@contextmanager
def open_client(app: NexiosApp) -> Iterator[TestClient]:
    """A client whose portal (``client.portal``) runs coroutines in the app's loop."""
    with TestClient(app, base_url="https://testserver") as client:
        yield client
