"""Tiny readers over the raw ASGI scope, for the hot path (no ``Request`` built)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from nexios_auth_di.exceptions import BadRequest

__all__ = ["UNSAFE_METHODS", "Scope", "header", "method"]

Scope = MutableMapping[str, Any]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def header(scope: Scope, name: bytes) -> str | None:
    """The one value of header ``name`` (lower-case bytes), or ``None``.

    A repeated credential header is refused: two ``Authorization`` headers are an
    ambiguity attack (which one did the proxy check?), not something to guess about.
    """
    found: bytes | None = None
    for key, value in scope.get("headers") or ():
        if key == name:
            if found is not None:
                raise BadRequest(f"Duplicate {name.decode()} header", reason="duplicate_header")
            found = value
    return None if found is None else found.decode("latin-1")


def method(scope: Scope) -> str:
    return str(scope.get("method", "GET")).upper()
