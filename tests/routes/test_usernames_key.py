"""The one username key (NFKC + casefold): stable, shared by the repositories and the
login throttle, and applied to SQLite rows written under the old key."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from nexios_auth_di import LoginThrottle
from nexios_auth_di.config import USERNAME_HARD_MAX
from nexios_auth_di.routes.bodies import MAX_USERNAME_CHARS
from nexios_auth_di.usernames import scripts_of
from nexios_auth_di.users import MemoryUserRepository, SqliteUserRepository, username_key

#: (input, key): each a mapping the key must apply (RFC 8265 §3.3 UsernameCaseMapped)
KEYS = [
    ("Ada", "ada"),  # case mapping
    ("ａｄａ", "ada"),  # width mapping (fullwidth)
    ("ﾊﾟｽ", "パス"),  # width mapping (halfwidth katakana + voiced mark)
    ("𝐀𝐝𝐚", "ada"),  # mathematical alphanumerics (NFKC)
    ("Straße", "strasse"),  # full case folding, not lower()
    ("ΣΑΣ", "σασ"),  # casefold is context-free: final sigma folds too
    ("ǅemal", "džemal"),  # titlecase digraph: NFKC then fold
    ("Jose\u0301", "josé"),  # composed (the key is NFKC, not NFD)
    ("ﬁ", "fi"),  # ligature
]


@pytest.mark.parametrize(("raw", "key"), KEYS, ids=[k[0] for k in KEYS])
def test_key_maps_width_case_and_compatibility_forms(raw: str, key: str) -> None:
    """Each input keys to its plain, folded form, and keying is idempotent (a stored key
    looked up again finds itself)."""
    assert username_key(raw) == key
    assert username_key(username_key(raw)) == username_key(raw)


@pytest.mark.parametrize("raw", ["\u0130stanbul", "ΐ", "ﬃ", "ẞ", "\u1e9b\u0323", "ｶﾞ"])
def test_key_is_a_fixed_point(raw: str) -> None:
    """Casefolding can un-normalise (U+0130, U+1E9B): the key is normalised after folding
    too, so keying a key never changes it."""
    key = username_key(raw)
    assert username_key(key) == key


@pytest.mark.parametrize("raw", ["ａｄａ", "ADA", " Ada ", "𝐚𝐝𝐚", "Straße"])
def test_login_throttle_counts_under_the_same_key(raw: str) -> None:
    """The throttle's account key is the repositories' key, so width or case variants of
    a name cannot dodge its per-account backoff (OWASP ASVS V2.2.1)."""
    assert LoginThrottle.normalize(raw) == username_key(raw)


def test_scripts_treat_digits_and_ascii_punctuation_as_common() -> None:
    """Digits and ASCII punctuation belong to no script; letters name theirs."""
    assert scripts_of("ada_1.2-3") == frozenset({"LATIN"})
    assert scripts_of("мария") == frozenset({"CYRILLIC"})
    assert scripts_of("аda") == frozenset({"LATIN", "CYRILLIC"})
    assert scripts_of("123") == frozenset()


async def test_memory_repository_finds_fullwidth_as_plain() -> None:
    """The memory repository keys with the same function as SQLite."""
    repo = MemoryUserRepository()
    record = await repo.create("ada", "hash")
    found = await repo.get_by_username("ＡＤＡ")
    assert found is not None
    assert found.id == record.id


def _old_database(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """A users file as the previous release wrote it: key = strip + casefold, no
    PRAGMA user_version."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL, "
            "username_key TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, "
            "permissions TEXT NOT NULL DEFAULT '[]', is_active INTEGER NOT NULL DEFAULT 1) "
            "WITHOUT ROWID"
        )
        conn.executemany(
            "INSERT INTO users (id, username, username_key, password_hash) VALUES (?, ?, ?, ?)",
            [(uid, name, name.strip().casefold(), "h") for uid, name, _ in rows],
        )
    conn.close()


async def test_existing_sqlite_rows_are_rekeyed_once(tmp_path: Path) -> None:
    """Rows stored under the old key stay findable by every form of their name, and a
    new look-alike sign-up collides with them (the key column is migrated on open)."""
    path = tmp_path / "users.sqlite3"
    _old_database(path, [("u1", "Ｂｏｂ", ""), ("u2", "carol", "")])
    repo = SqliteUserRepository(path)
    for name in ("bob", "ＢＯＢ", "Ｂｏｂ"):
        found = await repo.get_by_username(name)
        assert found is not None
        assert found.id == "u1"
    assert (await repo.get_by_username("CAROL")) is not None
    with sqlite3.connect(path) as conn:
        keys = dict(conn.execute("SELECT id, username_key FROM users").fetchall())
        (version,) = conn.execute("PRAGMA user_version").fetchone()
    conn.close()
    assert keys == {"u1": "bob", "u2": "carol"}
    assert version >= 1


async def test_rekey_collision_keeps_both_rows_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two old rows that become one key under NFKC do not break the open: the first keeps
    the name, the other keeps its old key and is logged (by id) for an admin to rename."""
    path = tmp_path / "users.sqlite3"
    _old_database(path, [("u1", "bob", ""), ("u2", "ｂｏｂ", "")])
    repo = SqliteUserRepository(path)
    with caplog.at_level(logging.WARNING, logger="nexios_auth_di.routes.users_sqlite"):
        found = await repo.get_by_username("bob")
    assert found is not None
    assert found.id == "u1"
    assert await repo.get_by_id("u2") is not None
    assert "u2" in caplog.text
    assert "ｂｏｂ" not in caplog.text  # ids only in the log, not names


def test_length_cap_matches_the_request_cap() -> None:
    """``usernames.max_length`` may not exceed what the body reader lets through."""
    assert USERNAME_HARD_MAX == MAX_USERNAME_CHARS
