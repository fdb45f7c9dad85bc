"""Email verification: a signed link, bound to the user *and* the address it was sent to.

A link sent to an old address cannot verify a new one (the token holds a keyed
fingerprint of the address, compared with the stored one on confirm), and a
verification token never passes as a reset token (another salt). Confirming twice is
harmless (already verified), so no one-time claim is needed here.
"""

from __future__ import annotations

from typing import Any

from nexios_auth_di.accounts.email import redact_address
from nexios_auth_di.accounts.mailer import queue_mail, reserve_reset
from nexios_auth_di.accounts.tokens import invalid
from nexios_auth_di.events import EventKind
from nexios_auth_di.exceptions import Throttled
from nexios_auth_di.routes.support import emit
from nexios_auth_di.routes.users import email_key

__all__ = ["confirm_verification", "send_verification"]

PURPOSE = "verify"


async def send_verification(container: Any, record: Any, ip: str) -> bool:
    """Queue a verification mail to ``record.email``; ``False`` when there is nothing to
    verify (no address, or already verified)."""
    if not record.email or record.email_verified:
        return False
    token = container.account_tokens().mint(PURPOSE, record.id, email_key(record.email))
    queue_mail(container, PURPOSE, record.email, record.username, token)
    await emit(
        container,
        EventKind.EMAIL_VERIFICATION_SENT,
        record.id,
        ip,
        email=redact_address(record.email),
    )
    return True


async def resend_on_login(container: Any, record: Any, ip: str) -> None:
    """A fresh link for a login refused as unverified, within the verification mail
    counters (per IP and per address): a right password repeated in a loop must not
    become a mail cannon aimed at the account's inbox. Over the limit, no mail, same
    answer."""
    if not record.email:
        return
    try:
        await reserve_reset(container, ip, email_key(record.email), kind="verify")
    except Throttled:
        return
    await send_verification(container, record, ip)


async def mark_verified(users: Any, user_id: str, address: str) -> None:
    """Verified only if the account still has ``address``: a repository with
    ``mark_email_verified`` does it in one conditional write (an address changed meanwhile
    is left unverified); otherwise ``set_email`` (a tiny window, documented)."""
    conditional = getattr(users, "mark_email_verified", None)
    if callable(conditional):
        if not await conditional(user_id, address):
            raise invalid(PURPOSE)
        return
    await users.set_email(user_id, address, verified=True)


async def confirm_verification(container: Any, token: str, ip: str) -> Any:
    """Mark the address verified; the record as it was. 400 for any bad token."""
    tokens, users = container.account_tokens(), container.user_repository()
    claims = tokens.read(PURPOSE, token)
    record = await users.get_by_id(claims.user_id)
    if record is None or not record.is_active or not record.email:
        raise invalid(PURPOSE)
    if not tokens.matches(PURPOSE, claims, email_key(record.email)):
        raise invalid(PURPOSE)  # sent to an address the account no longer has
    if not record.email_verified:
        await mark_verified(users, record.id, record.email)
        await emit(
            container, EventKind.EMAIL_VERIFIED, record.id, ip, email=redact_address(record.email)
        )
    return record
