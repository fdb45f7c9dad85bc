"""SmtpEmailSender against a real SMTP server (aiosmtpd on 127.0.0.1): the message's
headers and both MIME parts, STARTTLS with a certificate made here, login, implicit TLS,
and a failure logged with the address redacted."""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from nexios_auth_di.accounts.email import EmailMessage, SmtpEmailSender
from nexios_auth_di.accounts.mailer import send_now

USER, SECRET = "mailer", "smtp-pass-123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _certificate(tmp: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, pem


@dataclass
class Inbox:
    """What the server received, and how sessions authenticated."""

    messages: list[tuple[str, list[str], bytes, bool]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content, tls))
        return "250 OK"


@dataclass
class Server:
    port: int
    inbox: Inbox
    client_tls: ssl.SSLContext


@pytest.fixture
def tls_material(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key, pem = _certificate(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cadata=pem.decode())
    return server, client


def _authenticator(inbox: Inbox) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            SECRET.encode(),
        )
        if ok:
            inbox.logins.append(mechanism)
        return AuthResult(success=ok, handled=False)

    return check


@pytest.fixture
def starttls_server(tls_material: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[Server]:
    """aiosmtpd on 127.0.0.1 that requires STARTTLS before AUTH and before mail."""
    server_tls, client_tls = tls_material
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=_authenticator(inbox),
        auth_require_tls=True,
        auth_required=True,
    )
    controller.start()
    try:
        yield Server(port, inbox, client_tls)
    finally:
        controller.stop()


def _message() -> EmailMessage:
    return EmailMessage(
        to="alice@example.com",
        subject="Reset your password",
        text="Open https://app.example/reset-password?token=abc\n",
        html='<p><a href="https://app.example/reset-password?token=abc">Reset</a></p>',
        sender="no-reply@app.example",
        kind="reset",
    )


async def test_starttls_login_and_both_parts(starttls_server: Server) -> None:
    """Over STARTTLS with login, the server gets one message with From/To/Subject/Date/
    Message-ID headers and a text/plain and a text/html alternative."""
    sender = SmtpEmailSender(
        "127.0.0.1",
        starttls_server.port,
        starttls=True,
        username=USER,
        password=SECRET,
        tls_context=starttls_server.client_tls,
    )
    await sender.send(_message())
    [(mail_from, rcpt, content, tls)] = starttls_server.inbox.messages
    assert tls is True
    assert starttls_server.inbox.logins
    assert (mail_from, rcpt) == ("no-reply@app.example", ["alice@example.com"])
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert parsed["From"] == "no-reply@app.example"
    assert parsed["To"] == "alice@example.com"
    assert parsed["Subject"] == "Reset your password"
    assert parsed["Date"]
    assert parsed["Message-ID"]
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",))
    rich = parsed.get_body(("html",))
    assert plain is not None
    assert "reset-password?token=abc" in plain.get_content()
    assert rich is not None
    assert 'href="https://app.example/reset-password?token=abc"' in rich.get_content()


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(
            {"starttls": False, "username": USER, "password": SECRET},
            id="no-starttls-plaintext-auth-refused-RFC3207",
        ),
        pytest.param(
            {"starttls": True, "username": USER, "password": "wrong"}, id="wrong-password-RFC4954-6"
        ),
        pytest.param({"starttls": True}, id="no-login-when-required-RFC4954-6"),
    ],
)
async def test_refused_deliveries_are_logged_with_the_address_redacted(
    starttls_server: Server, options: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A delivery the server refuses fails; ``send_now`` logs it with a***@example.com,
    never the address or the link, and nothing is delivered."""
    sender = SmtpEmailSender(
        "127.0.0.1",
        starttls_server.port,
        tls_context=starttls_server.client_tls,
        timeout=5,
        **options,
    )

    class Holder:
        def email_sender(self) -> SmtpEmailSender:
            return sender

    ok = await send_now(Holder(), _message())
    assert ok is False
    assert starttls_server.inbox.messages == []
    logged = caplog.text
    assert "a***@example.com" in logged
    assert "alice@example.com" not in logged
    assert "token=abc" not in logged


async def test_implicit_tls(tls_material: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    """use_tls speaks TLS from the first byte (port 465 style)."""
    server_tls, client_tls = tls_material
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=server_tls)
    controller.start()
    try:
        sender = SmtpEmailSender(
            "127.0.0.1", port, starttls=False, use_tls=True, tls_context=client_tls
        )
        await sender.send(_message())
    finally:
        controller.stop()
    [(_, rcpt, _, tls)] = inbox.messages
    assert rcpt == ["alice@example.com"]
    assert tls is True
