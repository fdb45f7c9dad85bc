"""Account pieces around the flows: events and logs never hold a token, malformed
bodies, repositories (memory and SQLite, and the SQLite migration), templates, the
console sender, and the routes in OpenAPI."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from accounts_support import NEW_PASSWORD, PASSWORD, Env, bearer

from nexios_auth_di.accounts.email import ConsoleEmailSender, EmailMessage, redact_address
from nexios_auth_di.accounts.templates import EmailTemplates
from nexios_auth_di.exceptions import ConfigurationError, Conflict
from nexios_auth_di.users import MemoryUserRepository, SqliteUserRepository


async def test_no_token_appears_in_events_or_logs(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    """After every flow, no reset/verification/access token and no full address is in any
    event or in this library's log lines (a driver's own DEBUG log of SQL parameters is
    the operator's to keep off); addresses appear redacted."""
    caplog.set_level(logging.DEBUG)
    await env.register()
    verify = await env.token_from_mail("alice@example.com", "verify")
    await env.post("/auth/verify-email/confirm", {"token": verify})
    tokens = await env.login("alice@example.com")
    await env.post(
        "/auth/email",
        {"email": "al@example.org", "password": PASSWORD},
        headers=bearer(tokens["access_token"]),
    )
    await env.post("/auth/password-reset/request", {"email": "al@example.org"})
    await env.post("/auth/password-reset/request", {"email": "ghost@example.com"})
    reset = await env.token_from_mail("al@example.org", "reset")
    await env.post("/auth/password-reset/confirm", {"token": reset, "new_password": NEW_PASSWORD})
    await env.post("/auth/password-reset/confirm", {"token": reset, "new_password": NEW_PASSWORD})
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("nexios_auth_di")]
    text = "\n".join(ours) + "\n".join(
        f"{e.kind} {e.subject} {e.ip} {e.detail}" for e in env.sink.events
    )
    assert env.secrets, "the flows handed out tokens to look for"
    for secret in env.secrets:
        assert secret not in text
    for address in ("alice@example.com", "al@example.org", "ghost@example.com"):
        assert address not in text
    assert "a***@example.com" in text
    assert "g***@example.com" in text


@pytest.mark.parametrize(
    ("path", "content", "headers", "status"),
    [
        pytest.param("/auth/password-reset/request", b"", {}, 400, id="empty-body-ASVS-1.5.1"),
        pytest.param(
            "/auth/password-reset/request",
            b"email=a@b.c",
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
            id="form-post-CSRF-ASVS-3.5.2",
        ),
        pytest.param(
            "/auth/password-reset/request",
            b'{"email": 7}',
            {"Content-Type": "application/json"},
            400,
            id="wrong-type-ASVS-1.5.1",
        ),
        pytest.param(
            "/auth/password-reset/request",
            b'{"email": "a@b.example", "x": 1}',
            {"Content-Type": "application/json"},
            400,
            id="unknown-field-ASVS-1.5.1",
        ),
        pytest.param(
            "/auth/password-reset/request",
            b'{"email": "a@b.example", "email": "c@d.example"}',
            {"Content-Type": "application/json"},
            400,
            id="duplicate-field-RFC8259-4",
        ),
        pytest.param(
            "/auth/password-reset/request",
            b'{"email": "' + b"a" * 70000 + b'"}',
            {"Content-Type": "application/json"},
            413,
            id="oversized-body-ASVS-4.3.1",
        ),
        pytest.param(
            "/auth/password-reset/confirm",
            b'{"token": "x"}',
            {"Content-Type": "application/json"},
            400,
            id="missing-password-ASVS-1.5.1",
        ),
        pytest.param(
            "/auth/password-reset/confirm",
            b'{"token": "' + b"x" * 2000 + b'", "new_password": "abcdefghij"}',
            {"Content-Type": "application/json"},
            400,
            id="overlong-token-ASVS-1.5.1",
        ),
        pytest.param(
            "/auth/password-reset/confirm",
            b'{"token": "\\ud800", "new_password": "abcdefghij"}',
            {"Content-Type": "application/json"},
            400,
            id="lone-surrogate-ASVS-1.5.1",
        ),
        pytest.param(
            "/auth/verify-email/confirm",
            b"[1, 2]",
            {"Content-Type": "application/json"},
            400,
            id="not-an-object-ASVS-1.5.1",
        ),
        pytest.param(
            "/auth/verify-email/confirm",
            b'{"token": "a.b.c"}',
            {"Content-Type": "application/json"},
            400,
            id="garbage-token-ASVS-1.5.1",
        ),
        pytest.param(
            "/auth/register",
            b'{"username": "zed", "password": "abcdefghij", "email": null}',
            {"Content-Type": "application/json"},
            201,
            id="null-email-is-absent-ASVS-1.5.1",
        ),
    ],
)
async def test_malformed_bodies_never_give_500(
    env: Env, path: str, content: bytes, headers: dict[str, str], status: int
) -> None:
    """Bad input is a 4xx with a JSON body, never a 500."""
    env.client.cookies.clear()
    answer = await env.client.post(path, content=content, headers=headers)
    assert answer.status_code == status, answer.text
    assert isinstance(answer.json(), dict)


@pytest.mark.parametrize("engine", ["memory", "sqlite", "sqlalchemy"])
async def test_repositories_keep_addresses(tmp_path: Path, engine: str) -> None:
    """Every repository: unique case-blind addresses, set/clear, conditional verify."""
    repo: Any = (
        MemoryUserRepository() if engine == "memory" else SqliteUserRepository(tmp_path / "u.db")
    )
    if engine == "sqlalchemy":
        from nexios_auth_di.stores.sqlalchemy.users import SqlAlchemyUserRepository

        repo = SqlAlchemyUserRepository(f"sqlite+aiosqlite:///{tmp_path / 'sa.db'}")
    alice = await repo.create("alice", "h1", email="Alice@example.com")
    assert (await repo.get_by_email("ALICE@EXAMPLE.COM")).id == alice.id
    with pytest.raises(Conflict) as taken:
        await repo.create("bob", "h2", email="alice@example.com")
    assert taken.value.reason == "email_taken"
    assert await repo.get_by_username("bob") is None
    bob = await repo.create("bob", "h2")
    with pytest.raises(Conflict):
        await repo.set_email(bob.id, "aLiCe@example.com")
    assert await repo.mark_email_verified(alice.id, "other@example.com") is False
    assert await repo.mark_email_verified(alice.id, "alice@EXAMPLE.com") is True
    assert (await repo.get_by_id(alice.id)).email_verified is True
    await repo.set_email(alice.id, "new@example.com")
    record = await repo.get_by_id(alice.id)
    assert (record.email, record.email_verified) == ("new@example.com", False)
    assert await repo.get_by_email("alice@example.com") is None
    await repo.set_email(bob.id, "alice@example.com", verified=True)  # freed: now bob's
    assert (await repo.get_by_email("alice@example.com")).id == bob.id
    await repo.set_email(bob.id, None)
    assert await repo.get_by_email("alice@example.com") is None
    if engine == "sqlalchemy":
        await repo.close()


async def test_sqlite_file_from_before_email_is_migrated(tmp_path: Path) -> None:
    """A user_version 1 file gains the email columns and index once; rows keep working."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL, "
            "username_key TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, "
            "permissions TEXT NOT NULL DEFAULT '[]', is_active INTEGER NOT NULL DEFAULT 1) "
            "WITHOUT ROWID; INSERT INTO users (id, username, username_key, password_hash) "
            "VALUES ('u1', 'carol', 'carol', 'h'); PRAGMA user_version = 1;"
        )
    conn.close()
    repo = SqliteUserRepository(path)
    carol = await repo.get_by_username("carol")
    assert carol is not None
    assert carol.email is None
    assert carol.email_verified is False
    await repo.set_email("u1", "carol@example.com")
    assert (await repo.get_by_email("CAROL@example.com")).id == "u1"
    with sqlite3.connect(path) as conn:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(users)")}
    conn.close()
    assert version == 2
    assert "users_email_key" in indexes


def test_templates_can_be_overridden_by_mapping_and_directory(tmp_path: Path) -> None:
    """Overrides replace parts; the HTML part escapes values; a bad override fails early."""
    (tmp_path / "reset.subject").write_text("Your {username} reset")
    rendered = EmailTemplates.from_dir(str(tmp_path)).render(
        "reset", link="https://x/r?token=1", username="<b>eve</b>", minutes="30"
    )
    assert rendered.subject == "Your <b>eve</b> reset"
    assert "&lt;b&gt;eve&lt;/b&gt;" in rendered.html
    assert "<b>eve</b>" not in rendered.html
    custom = EmailTemplates({"verify": {"text": "Click {link}"}}).render(
        "verify", link="L", username="u", minutes="1"
    )
    assert custom.text == "Click L"
    with pytest.raises(ConfigurationError):
        EmailTemplates({"reset": {"body": "x"}})
    with pytest.raises(ConfigurationError):
        EmailTemplates.from_dir(str(tmp_path / "missing"))


@pytest.mark.parametrize(("reveal", "shown"), [(True, True), (False, False)])
async def test_console_sender_withholds_the_body_in_production(
    caplog: pytest.LogCaptureFixture, reveal: bool, shown: bool
) -> None:
    """Development logs the mail; the production form logs only a redacted address."""
    caplog.set_level(logging.INFO)
    message = EmailMessage("bob@example.com", "Reset", "token=SECRET123", "<p>token=SECRET123</p>")
    await ConsoleEmailSender(reveal=reveal).send(message)
    assert ("SECRET123" in caplog.text) is shown
    assert ("bob@example.com" in caplog.text) is shown
    assert "Reset" in caplog.text


@pytest.mark.parametrize(
    ("address", "shown"),
    [("alice@example.com", "a***@example.com"), ("x", "***"), (None, "-"), ("@d.org", "***@d.org")],
)
def test_redact_address(address: str | None, shown: str) -> None:
    """Logs and events get the first letter and the domain, nothing more."""
    assert redact_address(address) == shown


def test_account_settings_are_validated() -> None:
    """Bad accounts/email settings fail at load, naming the key."""
    from nexios_auth_di.config import Settings

    with pytest.raises(ConfigurationError, match=r"email\.backend"):
        Settings.load({"email": {"backend": "pigeon"}, "backends": ["session"]})
    with pytest.raises(ConfigurationError, match=r"accounts\.reset_token_ttl"):
        Settings.load({"accounts": {"reset_token_ttl": 0}, "backends": ["session"]})
    with pytest.raises(ConfigurationError, match=r"accounts\.public_url"):
        Settings.load({"accounts": {"public_url": "ftp://x"}, "backends": ["session"]})
    assert Settings.load({"backends": ["session"]}).accounts.reset_token_ttl == 1800
