"""Putting an account mail on its way: the link, the template, the background send, and
the reset-request throttle.

``queue_mail`` renders and hands the message to ``container.background``; the response
never waits for SMTP. A failure is logged with the address redacted, never the link.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from nexios_auth_di.accounts.email import EmailMessage, redact_address
from nexios_auth_di.exceptions import Throttled
from nexios_auth_di.logs import get_logger
from nexios_auth_di.throttle.limiter import Rule

__all__ = ["link_for", "queue_mail", "reserve_reset", "send_now"]

logger = get_logger("nexios_auth_di.accounts")


def link_for(container: Any, kind: str, token: str) -> str:
    """``{accounts.public_url}{reset_path|verify_path}?token=...``."""
    accounts = container.settings().accounts
    path = accounts.reset_path if kind == "reset" else accounts.verify_path
    return f"{accounts.public_url.rstrip('/')}{path}?token={quote(token, safe='')}"


def compose(container: Any, kind: str, to: str, username: str, token: str) -> EmailMessage:
    settings = container.settings()
    accounts = settings.accounts
    ttl = accounts.reset_token_ttl if kind == "reset" else accounts.verify_token_ttl
    rendered = container.email_templates().render(
        kind, link=link_for(container, kind, token), username=username, minutes=str(ttl // 60)
    )
    return EmailMessage(
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        sender=settings.email.sender,
        kind=kind,
    )


async def send_now(container: Any, message: EmailMessage) -> bool:
    """Send, from a background job; ``False`` (logged, address redacted) on failure."""
    try:
        await container.email_sender().send(message)
    except Exception as exc:
        logger.warning(
            "sending the %s mail to %s failed: %s",
            message.kind,
            redact_address(message.to),
            type(exc).__name__,
        )
        return False
    return True


def queue_mail(container: Any, kind: str, to: str, username: str, token: str) -> None:
    """Render now, send in the background (the caller's response does not wait)."""
    message = compose(container, kind, to, username, token)

    async def job() -> None:
        await send_now(container, message)

    container.background().submit(job, f"{kind} mail to {redact_address(to)}")


def _rule(container: Any, pair: tuple[int, int], *parts: str) -> Rule:
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    limit, window = pair
    return Rule(f"{container.settings().store.namespace}/accounts/{digest}", limit, float(window))


async def reserve_reset(container: Any, ip: str, address_key: str, *, kind: str = "reset") -> None:
    """Count one mail request (``kind``) per IP and per address, known or not: the
    counters never look at the user table, so a 429 says nothing about the address; or
    raise ``Throttled`` having counted none."""
    accounts = container.settings().accounts
    limiter = container.login_throttle().limiter
    now = container.clock()()
    granted: list[Rule] = []
    for rule in (
        _rule(container, accounts.reset_per_ip, f"{kind}-ip", ip),
        _rule(container, accounts.reset_per_address, f"{kind}-address", address_key),
    ):
        decision = await limiter.reserve(rule, now)
        if not decision.allowed:
            for earlier in granted:
                await limiter.release(earlier, now)
            raise Throttled(decision.retry_after, reason=f"{kind}_rate")
        granted.append(rule)
