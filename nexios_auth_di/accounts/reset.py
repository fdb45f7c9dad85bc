"""Password reset: ask by address, confirm with the link's token.

Request (no enumeration): the answer is built before, and independently of, the user
table. The response path validates the syntax, counts the request per IP and per address,
emits one event and queues one background job; the job looks the address up and sends a
mail only if it names an active account. So status, body, headers and the work done
before answering are the same for a known and an unknown address (the timing benchmark
is ``benchmarks/bench_reset.py``).

Confirm (single use, three locks):

1. the token's signature, purpose (salt) and age (``accounts.reset_token_ttl``);
2. its binding to the **current password hash**: any password change since it was
   minted (this reset included) kills it; checked again after the new hash is computed,
   just before it is stored, so a change that landed during argon2 wins and the reset
   fails instead of silently overwriting it;
3. its nonce claimed in ``container.one_time_store()``: of two concurrent confirms, which
   both see the old hash, exactly one proceeds.

Then every credential of the user ends: a new generation (tokens, refresh families,
sessions bound to it), every server-side session, every API key, every device record.
"""

from __future__ import annotations

from typing import Any

from nexios_auth_di.accounts.devices import forget_devices
from nexios_auth_di.accounts.email import redact_address
from nexios_auth_di.accounts.mailer import queue_mail, reserve_reset
from nexios_auth_di.accounts.tokens import invalid
from nexios_auth_di.events import EventKind
from nexios_auth_di.routes.support import caller_ip, emit, session_user, sessions_active
from nexios_auth_di.routes.users import email_key
from nexios_auth_di.sessions.middleware import end_other_sessions
from nexios_auth_di.sessions.middleware import logout as session_logout

__all__ = ["confirm_reset", "request_reset"]

PURPOSE = "reset"


async def request_reset(container: Any, ip: str, address: str) -> None:
    """Everything the request does before answering: the same for any address."""
    await reserve_reset(container, ip, email_key(address))
    await emit(
        container, EventKind.PASSWORD_RESET_REQUESTED, None, ip, email=redact_address(address)
    )

    async def job() -> None:
        await _send_if_known(container, ip, address)

    container.background().submit(job, f"reset request for {redact_address(address)}")


async def _send_if_known(container: Any, ip: str, address: str) -> None:
    record = await container.user_repository().get_by_email(address)
    if record is None or not record.is_active or record.email is None:
        return
    token = container.account_tokens().mint(PURPOSE, record.id, record.password_hash)
    queue_mail(container, PURPOSE, record.email, record.username, token)
    await emit(
        container, EventKind.PASSWORD_RESET_SENT, record.id, ip, email=redact_address(record.email)
    )


async def confirm_reset(h: Any, request: Any, token: str, new_password: str) -> str:
    """Set the new password and end every credential; return the user id. Every failure
    of the token is the same 400 (``invalid_reset_token``)."""
    c, scope = h.container, request.scope
    ip = caller_ip(c, scope)
    tokens, users, passwords = c.account_tokens(), c.user_repository(), c.password_service()
    try:
        claims = tokens.read(PURPOSE, token)
        record = await users.get_by_id(claims.user_id)
        if record is None or not record.is_active:
            raise invalid(PURPOSE)
        if not tokens.matches(PURPOSE, claims, record.password_hash):
            raise invalid(PURPOSE)  # used, or the password changed since it was sent
        passwords.validate(new_password)  # before the claim: a weak choice keeps the link
        await passwords.check_breached(new_password)
        ttl = float(c.settings().accounts.reset_token_ttl)
        if not await c.one_time_store().claim(f"reset:{claims.nonce}", ttl):
            raise invalid(PURPOSE)  # a concurrent confirm won
        new_hash = await passwords.hash(new_password)
        current = await users.get_by_id(record.id)  # a change during argon2 wins
        if current is None or not tokens.matches(PURPOSE, claims, current.password_hash):
            raise invalid(PURPOSE)
    except Exception as exc:
        reason = getattr(exc, "reason", type(exc).__name__)
        await emit(c, EventKind.PASSWORD_RESET_FAILED, None, ip, reason=reason)
        raise
    await users.set_password_hash(record.id, new_hash)
    await end_everything(h, request, record.id, ip)
    await emit(c, EventKind.PASSWORD_RESET, record.id, ip)
    return str(record.id)


async def end_everything(h: Any, request: Any, subject: str, ip: str) -> None:
    """What a reset must end: tokens, families, sessions, API keys, device records."""
    c, scope = h.container, request.scope
    generation = await c.token_service().revoke_all(subject)
    await h._revoke_keys(subject, ip, "password_reset")
    if sessions_active(scope):
        own = session_user(c, scope) == subject
        await end_other_sessions(request, subject, generation=generation)
        if own:
            await session_logout(request)
    elif c.settings().session.server_side and "session" in c.settings().backends:
        await c.session_store().delete_for_subject(subject)
    await forget_devices(c, subject)
