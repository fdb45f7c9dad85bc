"""Request bodies for the ready-made routes: bounded reading and strict field checks.

Every failure is a 4xx with a message that names the field, never a 500:

* the body is read through the ASGI stream and abandoned at ``limit`` bytes (413), and a
  declared ``Content-Length`` over the limit is refused before a byte is read, so a 10 MB
  body is never buffered or handed to ``json.loads``;
* only ``application/json`` is accepted (415): a form or ``text/plain`` POST from another
  site would need a CORS preflight to send it, which blocks login CSRF;
* the JSON must be strict UTF-8, one object, no duplicate names, no NaN/Infinity;
* fields are checked by type (``bool`` is not a number), unknown fields are refused, and
  passwords are limited in bytes, never truncated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from nexios_auth_di.exceptions import BadRequest, PayloadTooLarge, UnsupportedMediaType
from nexios_auth_di.http.asgi import content_length, media_type
from nexios_auth_di.strict_json import STRICT_DECODER

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "MAX_PASSWORD_BYTES",
    "optional_bool",
    "optional_number",
    "optional_str",
    "optional_str_list",
    "read_form",
    "read_json_object",
    "require_password",
    "require_str",
    "require_username",
]

DEFAULT_BODY_LIMIT = 64 * 1024
MAX_PASSWORD_BYTES = 4096
MAX_USERNAME_CHARS = 150
JSON_TYPES = ("application/json",)


_DECODER = STRICT_DECODER


def _is_json(media_type: str | None) -> bool:
    return media_type is not None and (
        media_type in JSON_TYPES
        or (media_type.startswith("application/") and media_type.endswith("+json"))
    )


async def _read_bounded(request: Any, limit: int) -> bytes:
    """At most ``limit`` bytes from the stream; one more and we stop reading (413)."""
    declared = content_length(request.scope)
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"Request body must be at most {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body must be at most {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(
    request: Any,
    allowed: frozenset[str],
    *,
    limit: int = DEFAULT_BODY_LIMIT,
    optional: bool = False,
) -> dict[str, Any]:
    """The request's JSON object, checked for shape; ``{}`` for an empty body when
    ``optional`` (logout needs no body)."""
    declared_type = media_type(request.scope)
    if declared_type is not None and not _is_json(declared_type):
        raise UnsupportedMediaType("Request body must be JSON (Content-Type: application/json).")
    raw = await _read_bounded(request, limit)
    if not raw.strip():
        if optional:
            return {}
        raise BadRequest("Request body must be a JSON object.", reason="empty_body")
    if declared_type is None:
        raise UnsupportedMediaType("Request body must be JSON (Content-Type: application/json).")
    try:
        value = _DECODER.decode(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("Request body must be UTF-8 encoded JSON.") from None
    except (ValueError, RecursionError):
        raise BadRequest("Request body is not valid JSON.", reason="bad_json") from None
    if type(value) is not dict:
        raise BadRequest("Request body must be a JSON object.", reason="not_object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        names = ", ".join(repr(n[:40]) for n in unknown[:5])
        raise BadRequest(
            f"Unknown field(s): {names}; allowed: {', '.join(sorted(allowed))}.",
            reason="unknown_field",
        )
    return value


def require_str(body: Mapping[str, Any], name: str, *, max_chars: int) -> str:
    """A present, non-empty string of at most ``max_chars`` characters."""
    if name not in body:
        raise BadRequest(f"Field {name!r} is required.", reason="missing_field")
    value = body[name]
    if type(value) is not str:
        raise BadRequest(f"Field {name!r} must be a string.", reason="wrong_type")
    if not value:
        raise BadRequest(f"Field {name!r} must not be empty.", reason="empty_field")
    if len(value) > max_chars:
        raise BadRequest(
            f"Field {name!r} must be at most {max_chars} characters.", reason="too_long"
        )
    _check_encodable(name, value)
    return value


def _check_encodable(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from "\ud800" in the JSON
        raise BadRequest(f"Field {name!r} must be valid Unicode text.") from None


def require_username(body: Mapping[str, Any], name: str = "username") -> str:
    """A printable username without surrounding whitespace."""
    value = require_str(body, name, max_chars=MAX_USERNAME_CHARS)
    if value != value.strip() or not value.isprintable():
        raise BadRequest(
            f"Field {name!r} must be printable text without surrounding whitespace.",
            reason="bad_username",
        )
    return value


def require_password(body: Mapping[str, Any], name: str) -> str:
    """A non-empty string of at most 4 KiB of UTF-8: longer is refused, never cut."""
    value = require_str(body, name, max_chars=MAX_PASSWORD_BYTES)
    if len(value.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise BadRequest(
            f"Field {name!r} must be at most {MAX_PASSWORD_BYTES} bytes of UTF-8; "
            "longer passwords are rejected, not truncated.",
            reason="password_too_long",
        )
    return value


def optional_str(body: Mapping[str, Any], name: str, *, max_chars: int) -> str | None:
    """``None`` when absent or null; otherwise as ``require_str``."""
    if body.get(name) is None:
        return None
    return require_str(body, name, max_chars=max_chars)


def optional_str_list(
    body: Mapping[str, Any], name: str, *, max_items: int, max_chars: int
) -> tuple[str, ...]:
    """A list of distinct non-empty strings without padding (scopes)."""
    value = body.get(name)
    if value is None:
        return ()
    if type(value) is not list:
        raise BadRequest(f"Field {name!r} must be a list of strings.", reason="wrong_type")
    if len(value) > max_items:
        raise BadRequest(f"Field {name!r} may hold at most {max_items} items.")
    items: list[str] = []
    for item in value:
        if type(item) is not str or not item or item != item.strip() or len(item) > max_chars:
            raise BadRequest(
                f"Field {name!r} must hold non-empty strings of at most {max_chars} "
                "characters without surrounding whitespace.",
                reason="wrong_type",
            )
        _check_encodable(name, item)
        if item not in items:
            items.append(item)
    return tuple(items)


def optional_bool(body: Mapping[str, Any], name: str) -> bool:
    """``false`` when absent or null; otherwise exactly ``true`` or ``false`` (no 1, "yes")."""
    value = body.get(name)
    if value is None:
        return False
    if type(value) is not bool:
        raise BadRequest(f"Field {name!r} must be true or false.", reason="wrong_type")
    return value


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer literal too big for a float
        return False


def optional_number(
    body: Mapping[str, Any], name: str, *, minimum: float, maximum: float
) -> float | None:
    """A finite number in ``(minimum, maximum]``; booleans are not numbers."""
    value = body.get(name)
    if value is None:
        return None
    if type(value) not in (int, float) or not _finite(value):
        raise BadRequest(f"Field {name!r} must be a number.", reason="wrong_type")
    if not minimum < value <= maximum:
        raise BadRequest(
            f"Field {name!r} must be greater than {minimum:g} and at most {maximum:g}.",
            reason="out_of_range",
        )
    return float(value)


FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 16


async def read_form(request: Any, *, limit: int = DEFAULT_BODY_LIMIT) -> dict[str, str]:
    """A bounded ``application/x-www-form-urlencoded`` body (the OAuth2 token endpoint,
    RFC 6749 §4.3.2): strict UTF-8, at most ``MAX_FORM_FIELDS`` fields, none twice (§3.1).
    Unknown fields are kept for the caller to ignore (§3.2)."""
    if media_type(request.scope) != FORM_TYPE:
        raise UnsupportedMediaType(f"Request body must be {FORM_TYPE}.")
    raw = await _read_bounded(request, limit)
    try:
        text = raw.decode("ascii")  # percent-encoded: anything else is malformed
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            max_num_fields=MAX_FORM_FIELDS,
            encoding="utf-8",
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("Request body is not a valid form.", reason="bad_form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise BadRequest(f"Field {name[:40]!r} appears twice.", reason="duplicate_field")
        _check_encodable(name, value)
        form[name] = value
    return form
