"""Audit events: structured logging and the guarantee that no secret reaches a sink."""

from __future__ import annotations

import dataclasses
import json
import logging
import time

import jwt
import pytest

from nexios_auth_di.config import Settings
from nexios_auth_di.events import (
    REDACTED,
    AuthEvent,
    EventKind,
    EventSink,
    LoggingSink,
    MemorySink,
    redact,
)
from nexios_auth_di.factories import build_api_key_service
from nexios_auth_di.stores.memory import MemoryAPIKeyStore

SECRET = "an-hmac-secret-that-is-at-least-32-bytes-long"


def _real_jwt() -> str:
    now = int(time.time())
    claims = {"sub": "alice", "jti": "j1", "iat": now, "exp": now + 300, "typ": "access"}
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def _real_api_key() -> tuple[str, str]:
    service = build_api_key_service(MemoryAPIKeyStore(), Settings(), time.time)
    raw, record = await service.create("alice", scopes=["read"])
    return raw, record.key_id


async def test_logging_sink_writes_one_json_line(caplog: pytest.LogCaptureFixture) -> None:
    """LoggingSink logs one parseable JSON line per event, INFO for successes."""
    sink = LoggingSink()
    event = AuthEvent(EventKind.LOGIN_SUCCEEDED, "alice", "203.0.113.7", {"method": "password"})
    with caplog.at_level(logging.INFO, logger="nexios_auth_di.audit"):
        await sink.emit(event)
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert record.name == "nexios_auth_di.audit"
    line = record.getMessage()
    assert "\n" not in line
    assert json.loads(line) == {
        "event": "login_succeeded",
        "subject": "alice",
        "ip": "203.0.113.7",
        "at": round(event.at, 3),
        "detail": {"method": "password"},
    }


@pytest.mark.parametrize(
    "kind", [EventKind.LOGIN_FAILED, EventKind.REFRESH_REUSE_DETECTED, EventKind.THROTTLED]
)
async def test_failures_log_at_warning(caplog: pytest.LogCaptureFixture, kind: EventKind) -> None:
    """Failure-type events are logged at WARNING so operators notice them."""
    with caplog.at_level(logging.INFO, logger="nexios_auth_di.audit"):
        await LoggingSink().emit(AuthEvent(kind, "bob", None))
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


async def test_log_injection_stays_on_one_line(caplog: pytest.LogCaptureFixture) -> None:
    """A username with newlines cannot forge a second audit line."""
    forged = 'eve\n{"event": "login_succeeded", "subject": "admin"}'
    with caplog.at_level(logging.INFO, logger="nexios_auth_di.audit"):
        await LoggingSink().emit(AuthEvent(EventKind.LOGIN_FAILED, forged, None))
    (record,) = caplog.records
    assert "\n" not in record.getMessage()
    assert json.loads(record.getMessage())["subject"] == forged


async def test_secrets_never_reach_a_sink(caplog: pytest.LogCaptureFixture) -> None:
    """A real JWT, a real API key and a password passed as detail are masked everywhere."""
    token = _real_jwt()
    api_key, key_id = await _real_api_key()
    password = "Tr0ub4dor&3-correct-horse"
    detail = {
        "password": password,
        "new_password": password,
        "refresh_token": token,
        "Authorization": f"Bearer {token}",
        "api_key": api_key,
        "note": f"client sent {api_key} and then {token} again",
        "Set-Cookie": f"session={token}",
        "key_id": key_id,
        "reason": "bad_password",
    }
    event = AuthEvent(EventKind.API_KEY_CREATED, token, "198.51.100.2", detail)
    memory = MemorySink()
    sink: EventSink = memory
    await sink.emit(event)
    with caplog.at_level(logging.INFO, logger="nexios_auth_di.audit"):
        await LoggingSink().emit(event)
    outputs = [caplog.text, repr(memory.events), json.dumps(event.to_dict())]
    for text in outputs:
        for secret in (token, api_key, password, token.split(".")[2]):
            assert secret not in text
    assert event.detail["key_id"] == key_id  # non-secret ids stay readable
    assert event.detail["reason"] == "bad_password"
    assert event.detail["note"] == f"client sent {REDACTED} and then {REDACTED} again"
    assert event.subject == REDACTED
    assert memory.kinds() == [EventKind.API_KEY_CREATED]


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("password", True),  # OWASP Logging CS: never log passwords
        ("currentPassword", True),
        ("client_secret", True),
        ("access_token", True),
        ("authorization", True),
        ("cookie", True),
        ("api_key", True),
        ("password_hash", True),
        ("key_id", False),
        ("token_family", False),
        ("username", False),
    ],
)
def test_redact_by_key_name(key: str, masked: bool) -> None:
    """Secret-named detail keys are masked; ids that merely mention keys/tokens are kept."""
    out = redact({key: "some value"})
    assert (out[key] == REDACTED) is masked


def test_event_is_frozen_and_detail_read_only() -> None:
    """An event cannot be altered after redaction, so no one can slip a secret back in."""
    event = AuthEvent(EventKind.LOGOUT, "alice", None, {"sessions": "1"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.subject = "mallory"  # type: ignore[misc]
    with pytest.raises(TypeError):
        event.detail["password"] = "x"  # type: ignore[index]
    assert all(isinstance(k, str) for k in EventKind.__members__)
    assert len(EventKind) == 26  # 11 core + 8 accounts + 5 MFA + 2 OIDC
