"""Typed audit events and the sinks that record them.

Audit logs are read by many people and kept for a long time, so an event must never carry
a credential. ``AuthEvent`` runs ``redact`` on construction: detail keys that name a
secret are masked, and any value (or subject) that looks like a JWT or an API key is
masked wherever it appears. A password typed into a non-secret field cannot be detected;
callers simply never pass one.
"""

from __future__ import annotations

import enum
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from nexios_auth_di.logs import get_logger

__all__ = [
    "REDACTED",
    "AuthEvent",
    "EventKind",
    "EventSink",
    "LoggingSink",
    "MemorySink",
    "redact",
    "scrub",
]

REDACTED = "[REDACTED]"

# A key is secret when any word of it is one of these ("new_password", "set-cookie")...
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "authorization",
        "cookie",
        "credential",
        "credentials",
        "hash",
        "otp",
    }
)
# ...or when its *last* word is one of these ("api_key", "refresh_token"), so that
# non-secret ids such as "key_id" or "token_family" stay readable.
_SECRET_LAST_WORDS = frozenset({"token", "key", "jwt", "bearer", "signature", "sig"})
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])")

# Three base64url segments, the first a JSON object ("eyJ" is base64 for '{"').
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
# The package's API keys: prefix_<id>_<secret+checksum>.
_API_KEY = re.compile(r"\b[A-Za-z][A-Za-z0-9]{1,15}_[A-Za-z0-9]{6,64}_[A-Za-z0-9]{20,}\b")


class EventKind(enum.Enum):
    """What happened. Values are stable strings for log queries."""

    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    TOKEN_REFRESHED = "token_refreshed"
    REFRESH_REUSE_DETECTED = "refresh_reuse_detected"
    API_KEY_CREATED = "api_key_created"
    API_KEY_REVOKED = "api_key_revoked"
    THROTTLED = "throttled"
    PASSWORD_CHANGED = "password_changed"
    REGISTERED = "registered"
    EMAIL_VERIFICATION_SENT = "email_verification_sent"
    EMAIL_VERIFIED = "email_verified"
    EMAIL_CHANGED = "email_changed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET_SENT = "password_reset_sent"
    PASSWORD_RESET = "password_reset"
    PASSWORD_RESET_FAILED = "password_reset_failed"
    DEVICE_ENDED = "device_ended"
    MFA_ENROLLED = "mfa_enrolled"
    MFA_DISABLED = "mfa_disabled"
    MFA_CHALLENGE_FAILED = "mfa_challenge_failed"
    RECOVERY_CODE_USED = "recovery_code_used"
    REAUTHENTICATED = "reauthenticated"
    IDENTITY_LINKED = "identity_linked"  # OIDC (routes/oidc.py)
    IDENTITY_UNLINKED = "identity_unlinked"


# Kinds an operator should notice: logged at WARNING by LoggingSink.
WARNING_KINDS = frozenset(
    {EventKind.LOGIN_FAILED, EventKind.REFRESH_REUSE_DETECTED, EventKind.THROTTLED}
)


def _is_secret_key(key: str) -> bool:
    words = [w for w in _WORD_SPLIT.split(key.strip()) if w]
    words = [w.lower() for w in words]
    if not words:
        return False
    return any(w in _SECRET_WORDS for w in words) or words[-1] in _SECRET_LAST_WORDS


def scrub(value: str) -> str:
    """Mask every JWT- or API-key-shaped run inside ``value``."""
    return _API_KEY.sub(REDACTED, _JWT.sub(REDACTED, value))


def redact(detail: Mapping[str, object]) -> dict[str, str]:
    """Copy ``detail`` with secret-named keys masked and secret-shaped values scrubbed."""
    clean: dict[str, str] = {}
    for raw_key, raw_value in detail.items():
        key = scrub(str(raw_key))
        clean[key] = REDACTED if _is_secret_key(key) else scrub(str(raw_value))
    return clean


@dataclass(frozen=True, slots=True)
class AuthEvent:
    """One audit record. ``detail`` is redacted and read-only once built."""

    kind: EventKind
    subject: str | None
    ip: str | None
    detail: Mapping[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", MappingProxyType(redact(self.detail)))
        if self.subject is not None:
            object.__setattr__(self, "subject", scrub(str(self.subject)))

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (kind as its string value)."""
        return {
            "event": self.kind.value,
            "subject": self.subject,
            "ip": self.ip,
            "at": round(self.at, 3),
            "detail": dict(self.detail),
        }


@runtime_checkable
class EventSink(Protocol):
    """Where events go. Called on the request path, so it must be cheap and must not raise."""

    async def emit(self, event: AuthEvent) -> None: ...


class LoggingSink:
    """Default sink: one JSON line per event (JSON so newlines in values can't forge lines)."""

    def __init__(self, logger_name: str = "nexios_auth_di.audit") -> None:
        self.logger = get_logger(logger_name)

    async def emit(self, event: AuthEvent) -> None:
        level = logging.WARNING if event.kind in WARNING_KINDS else logging.INFO
        if self.logger.isEnabledFor(level):
            self.logger.log(level, "%s", json.dumps(event.to_dict(), sort_keys=True))


class MemorySink:
    """Keeps events in ``self.events``; for tests and debugging."""

    def __init__(self) -> None:
        self.events: list[AuthEvent] = []

    async def emit(self, event: AuthEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[EventKind]:
        """The kinds recorded so far, in order."""
        return [e.kind for e in self.events]
