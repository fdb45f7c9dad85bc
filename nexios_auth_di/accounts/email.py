"""Email senders, and delivery that never holds up a response.

Three senders share one method, ``send(message)``: ``MemoryEmailSender`` (tests read
``.outbox``), ``ConsoleEmailSender`` (development: logged, and in the production profile
with the body withheld, since a body holds a reset link) and ``SmtpEmailSender``
(aiosmtplib, STARTTLS or implicit TLS, optional login).

Routes never await a send: ``Background`` (a container provider, owned by ``lifetimes``)
runs the work as tasks and ``shutdown`` drains them, so a reset request answers in the
same time whether or not a mail goes out, and a slow SMTP server slows no one. A failed
send is logged with the address redacted (``a***@example.com``), never the body.
"""

from __future__ import annotations

import asyncio
import email.message
import email.utils
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from nexios_auth_di.logs import get_logger

__all__ = [
    "Background",
    "ConsoleEmailSender",
    "EmailMessage",
    "EmailSender",
    "MemoryEmailSender",
    "SmtpEmailSender",
    "redact_address",
]

logger = get_logger("nexios_auth_di.accounts")


def redact_address(address: str | None) -> str:
    """``alice@example.com`` -> ``a***@example.com``: enough for an operator to tell
    mails apart, not enough to harvest addresses from logs or events."""
    if not address:
        return "-"
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One mail: both a plain-text and an HTML part (``multipart/alternative``)."""

    to: str
    subject: str
    text: str
    html: str
    sender: str = "no-reply@localhost"
    #: what the mail is for ("reset", "verify"): for logs and tests, never sent
    kind: str = ""


@runtime_checkable
class EmailSender(Protocol):
    """What the account routes need: deliver one message or raise."""

    async def send(self, message: EmailMessage) -> None: ...


class MemoryEmailSender:
    """Keeps every message in ``outbox`` (tests read the links from there)."""

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.outbox.append(message)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages sent to ``address`` (compared case-insensitively)."""
        return [m for m in self.outbox if m.to.casefold() == address.casefold()]


class ConsoleEmailSender:
    """Logs each message at INFO, for development. ``reveal=False`` (the production
    profile) logs only who and what, never the body: it holds a working link."""

    def __init__(self, *, reveal: bool = True) -> None:
        self.reveal = reveal

    async def send(self, message: EmailMessage) -> None:
        if self.reveal:
            logger.info("email to %s: %s\n%s", message.to, message.subject, message.text)
        else:
            logger.info(
                "email to %s: %s (body withheld in production)",
                redact_address(message.to),
                message.subject,
            )


def mime_of(message: EmailMessage) -> email.message.EmailMessage:
    """The RFC 5322 message: text first, HTML as the preferred alternative."""
    mime = email.message.EmailMessage()
    mime["From"] = message.sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.formatdate(localtime=False)
    mime["Message-ID"] = email.utils.make_msgid(domain=message.sender.rpartition("@")[2] or None)
    mime["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    return mime


class SmtpEmailSender:
    """Delivers over SMTP with aiosmtplib: ``starttls`` upgrades a plain connection
    (port 587), ``use_tls`` speaks TLS from the start (port 465); ``username`` and
    ``password`` log in once the channel is encrypted. ``tls_context`` (default: the
    system's verified context) lets a test trust its own certificate."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        starttls: bool = True,
        use_tls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.starttls, self.use_tls = starttls, use_tls
        self.username, self.password = username, password
        self.timeout = timeout
        self.tls_context = tls_context

    async def send(self, message: EmailMessage) -> None:
        import aiosmtplib

        await aiosmtplib.send(
            mime_of(message),
            hostname=self.host,
            port=self.port,
            use_tls=self.use_tls,
            start_tls=self.starttls and not self.use_tls,
            username=self.username,
            password=self.password,
            timeout=self.timeout,
            tls_context=self.tls_context,
        )


class Background:
    """Work that must not hold up a response (mail, the reset lookup): each job is a
    task kept here until done; ``aclose`` (container shutdown) waits for them.

    A job that raises is logged by ``describe`` (a redacted address), never re-raised:
    nobody awaits it. ``drain()`` lets tests wait for the outbox deterministically.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, job: Callable[[], Awaitable[Any]], describe: str) -> None:
        """Run ``job()`` in the background; ``describe`` names it in a failure log."""

        async def run() -> None:
            try:
                await job()
            except Exception:
                logger.warning("background %s failed", describe, exc_info=True)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every job submitted so far (and any they submitted) is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
