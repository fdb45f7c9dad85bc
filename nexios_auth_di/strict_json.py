"""Strict JSON: duplicate member names and NaN/Infinity are refused, anywhere.

Two parsers that disagree on ``{"sub": "a", "sub": "b"}`` are an attack surface (RFC 8725
§3.x, RFC 7519 §4), so tokens and request bodies share this one decoder.
"""

from __future__ import annotations

import json
from typing import Any

from nexios_auth_di.exceptions import MalformedData

__all__ = ["STRICT_DECODER"]


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise MalformedData("duplicate member name")
    return obj


def _no_constant(name: str) -> Any:
    raise MalformedData(f"{name} is not JSON")


#: reused: json.loads(..., object_pairs_hook=...) would build a decoder per call
STRICT_DECODER = json.JSONDecoder(object_pairs_hook=_strict_object, parse_constant=_no_constant)
