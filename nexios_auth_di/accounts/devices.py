"""Device records: one ``CredentialRecord(kind="device")`` per live login.

* A token login is its refresh family: the device id *is* the family id (``fam``, which
  every access and refresh token of that login carries), so the current device is read
  from the caller's token and ending it is ending the family.
* A session login gets a random device id kept in the session data (``DEVICE_KEY``); the
  record holds the session id server-side only, never in a response, so listing devices
  cannot hand out a session.

Records are written at login (``AuthRoutes.issue_login``), touched on refresh, and for a
session by ``touch_session`` (the device routes call it) at most once per
``accounts.device_touch_interval``: the touch time is kept in the session, so a request
in between writes nothing. Records of logins that ended
another way (family evicted past ``max_families_per_user``, session expired) are
dropped when the list is read. Logout, logout-all, password change and reset delete them.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from nexios_auth_di.exceptions import TokenError
from nexios_auth_di.http.asgi import header
from nexios_auth_di.routes.support import bearer_token, caller_ip, sessions_active
from nexios_auth_di.sessions.middleware import GENERATION_KEY
from nexios_auth_di.stores.protocols import CredentialRecord

__all__ = [
    "DEVICE_KEY",
    "KIND",
    "current_device",
    "end_device",
    "forget_current",
    "forget_devices",
    "known_source",
    "live_devices",
    "record_login",
    "touch_refresh",
    "touch_session",
]

KIND = "device"
DEVICE_KEY = "_device"
SEEN_KEY = "_device_seen"
MAX_AGENT_CHARS = 256


def _agent(scope: Mapping[str, Any]) -> str:
    raw = header(scope, b"user-agent") or ""
    return "".join(ch for ch in raw[:MAX_AGENT_CHARS] if ch.isprintable())


def _family_of(container: Any, token: str, typ: str | None) -> str | None:
    try:
        claims = container.token_service().verifier.verify(token, typ)
    except TokenError:
        return None
    fam = claims.get("fam")
    return fam if isinstance(fam, str) and fam else None


async def record_login(
    container: Any, request: Any, subject: str, payload: Mapping[str, Any], method: str
) -> None:
    """Write a record for each credential ``issue_login`` just issued."""
    c, scope = container, request.scope
    store, now = c.credential_store(), c.clock()()
    data = {"ip": caller_ip(c, scope), "user_agent": _agent(scope), "method": method}
    refresh = payload.get("refresh_token")
    if isinstance(refresh, str):
        family = _family_of(c, refresh, "refresh")
        if family is not None:
            tokens = c.token_service()
            generation = await c.revocation_store().current_generation(subject)
            await store.add(
                CredentialRecord(
                    KIND, family, subject, {**data, "type": "token", "gen": generation},
                    created_at=now, last_used=now, expires_at=now + tokens.refresh_absolute_ttl,
                )
            )  # fmt: skip
    if sessions_active(scope) and scope["session"].session_id:
        session = scope["session"]
        device = secrets.token_urlsafe(16)
        session[DEVICE_KEY] = device
        session[SEEN_KEY] = now
        max_age = c.settings().session.max_age
        await store.add(
            CredentialRecord(
                KIND, device, subject,
                {**data, "type": "session", "sid": session.session_id,
                 "gen": session.get(GENERATION_KEY)},
                created_at=now, last_used=now, expires_at=now + max_age,
            )
        )  # fmt: skip


async def touch_refresh(container: Any, new_refresh: str) -> None:
    """Last-used of a token login, on refresh (rare: at most once per access TTL)."""
    family = _family_of(container, new_refresh, "refresh")
    if family is not None:
        await container.credential_store().touch(KIND, family, container.clock()())


async def touch_session(container: Any, scope: Mapping[str, Any]) -> None:
    """Last-used of the caller's session login, at most once per interval: the time of
    the last touch rides in the session, so most requests compare and write nothing."""
    if not sessions_active(scope):
        return
    session = scope["session"]
    device, seen, now = session.get(DEVICE_KEY), session.get(SEEN_KEY), container.clock()()
    interval = container.settings().accounts.device_touch_interval
    if not isinstance(device, str) or (isinstance(seen, int | float) and now - seen < interval):
        return
    session[SEEN_KEY] = now
    await container.credential_store().touch(KIND, device, now)


def current_device(container: Any, scope: Mapping[str, Any]) -> str | None:
    """The device id of the login making this request, if it has one."""
    token = bearer_token(container, scope)
    if token is not None:
        return _family_of(container, token, None)
    if sessions_active(scope):
        device = scope["session"].get(DEVICE_KEY)
        return device if isinstance(device, str) else None
    return None


async def _alive(container: Any, record: CredentialRecord) -> bool:
    data, subject = record.data, record.user_id
    gen = data.get("gen")
    stamp = float(gen) if isinstance(gen, int | float) else record.created_at
    revocations = container.revocation_store()
    if data.get("type") == "token":
        return not await revocations.is_refused("", subject, stamp, record.credential_id)
    sid = str(data.get("sid") or "")
    if container.settings().session.server_side:
        return await container.session_store().load(sid) is not None
    return not await revocations.is_refused(sid, subject, stamp)


#: looked up for an unknown name too, so a known account costs the same store round trip
NOBODY = "\x00no-such-account"


async def known_source(container: Any, subject: str | None, ip: str) -> bool:
    """Whether ``subject`` has signed in with its password from ``ip`` before and that
    login is still on record (a password change or logout-all forgets every record), so
    the login throttle need not count this source on the account-wide counter."""
    records = await container.credential_store().list_for_user(subject or NOBODY, KIND)
    if subject is None or not ip or ip == "unknown":
        return False
    return any(r.data.get("ip") == ip for r in records)


async def live_devices(container: Any, subject: str) -> list[CredentialRecord]:
    """The subject's device records whose login still stands (the others are dropped)."""
    store = container.credential_store()
    live = []
    for record in await store.list_for_user(subject, KIND):
        if await _alive(container, record):
            live.append(record)
        else:
            await store.delete(KIND, record.credential_id, user_id=subject)
    return live


async def end_device(container: Any, subject: str, device: str) -> bool:
    """End one login of ``subject`` at once (shared stores: on every worker); ``False``
    when the id is not one of theirs (another user's id looks exactly like a missing one)."""
    store = container.credential_store()
    record = await store.get(KIND, device)
    if record is None or record.user_id != subject:
        return False
    if not await store.delete(KIND, device, user_id=subject):
        return False  # a concurrent end won: it did the work
    now = container.clock()()
    if record.data.get("type") == "token":
        await container.token_service().end_login(subject, device)
    else:
        sid = str(record.data.get("sid") or "")
        if container.settings().session.server_side:
            await container.session_store().delete(sid)
        else:
            ttl = container.settings().session.max_age
            await container.revocation_store().revoke_jti(sid, now + ttl)
    return True


async def forget_current(container: Any, scope: Mapping[str, Any], subject: str) -> None:
    """Logout: the caller's own device record goes with its login."""
    device = current_device(container, scope)
    if device is not None:
        await container.credential_store().delete(KIND, device, user_id=subject)


async def forget_devices(container: Any, subject: str) -> None:
    """Logout-all, password change, reset: every login ended, so every record goes."""
    await container.credential_store().delete_for_user(subject, KIND)
