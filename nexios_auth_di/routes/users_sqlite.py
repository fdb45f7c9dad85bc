"""The SQLite user repository (aiosqlite), the one the tests and examples use.

Usernames are unique by ``usernames.username_key`` (NFKC + casefold); files written under
the older key (strip + casefold) are re-keyed once when first opened (``PRAGMA
user_version`` 1, see ``_rekey``), and the email columns are added once (version 2).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from nexios_auth_di.exceptions import ConfigurationError, Conflict, StoreUnavailable
from nexios_auth_di.logs import get_logger
from nexios_auth_di.routes.users import (
    EMAIL_TAKEN,
    TAKEN,
    UserRecord,
    email_key,
    new_user_id,
)
from nexios_auth_di.usernames import username_key

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["EMAIL_VERSION", "KEY_VERSION", "SqliteUserRepository"]

logger = get_logger(__name__)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '[]',
    is_active INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
"""
_COLUMNS = "id, username, password_hash, permissions, is_active, email, email_verified"
KEY_VERSION = 1  # PRAGMA user_version: 1 = keys are usernames.username_key (NFKC + casefold)
EMAIL_VERSION = 2  # PRAGMA user_version: 2 = email columns and their unique index exist
_DB_ERRORS = (sqlite3.Error, OSError, ValueError)


def _aiosqlite() -> Any:
    """The driver, imported on first use: the memory repository needs no ``[sqlite]``."""
    try:
        import aiosqlite
    except ImportError as exc:
        raise ConfigurationError(
            "SqliteUserRepository needs aiosqlite: pip install 'nexios-auth-di[sqlite]'"
        ) from exc
    return aiosqlite


class SqliteUserRepository:
    """Users in one SQLite file over aiosqlite; the table is created on first use.

    Each call opens its own short connection: nothing binds the repository to one event
    loop or thread, and every statement is a single atomic one. The username is unique
    by ``username_key`` in the schema itself, so two racing sign-ups cannot both win.
    Driver errors become ``StoreUnavailable`` (503): fail closed, never a 500.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        self._driver = _aiosqlite()
        self.path = os.fspath(path)
        self.busy_timeout = busy_timeout
        self._ready = False

    async def _connect(self) -> aiosqlite.Connection:
        conn: aiosqlite.Connection = await self._driver.connect(
            self.path, timeout=self.busy_timeout
        )
        try:
            if not self._ready:
                await conn.execute("PRAGMA journal_mode=WAL")
                await conn.executescript(_SCHEMA)
                await conn.commit()
                await _rekey(conn)
                await _add_email(conn)
                self._ready = True
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _fetch_one(self, sql: str, args: tuple[Any, ...]) -> UserRecord | None:
        try:
            conn = await self._connect()
            try:
                async with conn.execute(sql, args) as cursor:
                    row = await cursor.fetchone()
            finally:
                await conn.close()
        except _DB_ERRORS as exc:
            raise StoreUnavailable("user_repository") from exc
        return None if row is None else _record(tuple(row))

    async def get_by_username(self, username: str) -> UserRecord | None:
        sql = f"SELECT {_COLUMNS} FROM users WHERE username_key = ?"  # noqa: S608 - constant
        return await self._fetch_one(sql, (username_key(username),))

    async def get_by_id(self, user_id: str) -> UserRecord | None:
        return await self._fetch_one(
            f"SELECT {_COLUMNS} FROM users WHERE id = ?",  # noqa: S608 - constant
            (user_id,),
        )

    async def get_by_email(self, email: str) -> UserRecord | None:
        sql = f"SELECT {_COLUMNS} FROM users WHERE email_key = ?"  # noqa: S608 - constant
        return await self._fetch_one(sql, (email_key(email),))

    async def create(
        self,
        username: str,
        password_hash: str,
        permissions: Iterable[str] = (),
        *,
        email: str | None = None,
    ) -> UserRecord:
        record = UserRecord(new_user_id(), username, password_hash, tuple(permissions), email=email)
        await self._write(
            "INSERT INTO users (id, username, username_key, password_hash, permissions, "
            "email, email_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                username,
                username_key(username),
                password_hash,
                json.dumps(list(record.permissions)),
                email,
                None if email is None else email_key(email),
            ),
        )
        return record

    async def set_email(self, user_id: str, email: str | None, *, verified: bool = False) -> None:
        await self._write(
            "UPDATE users SET email = ?, email_key = ?, email_verified = ? WHERE id = ?",
            (
                email,
                None if email is None else email_key(email),
                int(verified and email is not None),
                user_id,
            ),
        )

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._write(
            "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
        )

    async def mark_email_verified(self, user_id: str, email: str) -> bool:
        """Verify the address only if it is still the account's: one conditional UPDATE."""
        try:
            conn = await self._connect()
            try:
                cursor = await conn.execute(
                    "UPDATE users SET email_verified = 1 WHERE id = ? AND email_key = ?",
                    (user_id, email_key(email)),
                )
                await conn.commit()
                changed = cursor.rowcount
            finally:
                await conn.close()
        except _DB_ERRORS as exc:
            raise StoreUnavailable("user_repository") from exc
        return bool(changed == 1)

    async def set_active(self, user_id: str, active: bool) -> None:
        """Deactivate or reactivate an account (admin tooling, tests)."""
        await self._write("UPDATE users SET is_active = ? WHERE id = ?", (int(active), user_id))

    async def set_permissions(self, user_id: str, permissions: Iterable[str]) -> None:
        """Replace an account's permissions (admin tooling: ``nexios-auth user``)."""
        await self._write(
            "UPDATE users SET permissions = ? WHERE id = ?",
            (json.dumps(list(permissions)), user_id),
        )

    async def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        try:
            conn = await self._connect()
            try:
                await conn.execute(sql, args)
                await conn.commit()
            finally:
                await conn.close()
        except sqlite3.IntegrityError as exc:
            if "email_key" in str(exc):
                raise Conflict(EMAIL_TAKEN, reason="email_taken") from exc
            raise Conflict(TAKEN, reason="username_taken") from exc
        except _DB_ERRORS as exc:
            raise StoreUnavailable("user_repository") from exc


async def _rekey(conn: aiosqlite.Connection) -> None:
    """Bring every row's ``username_key`` to the current key, once per file.

    ``PRAGMA user_version`` records that it was done; the check and the update run in
    one ``BEGIN IMMEDIATE`` transaction, so two processes opening the file at once do it
    once. Two old rows that now share a key (say "bob" and "ｂｏｂ"): the first (by id)
    takes it, the other keeps its old key and is logged by id, for an admin to rename;
    its sign-in by name then reaches the first account, as a new sign-up would.
    """
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    if row is not None and row[0] >= KEY_VERSION:
        return
    await conn.execute("BEGIN IMMEDIATE")
    try:
        async with conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        if row is None or row[0] < KEY_VERSION:
            async with conn.execute("SELECT id, username, username_key FROM users") as cursor:
                rows = list(await cursor.fetchall())
            for user_id, username, old in sorted(rows):
                new = username_key(str(username))
                if new == old:
                    continue
                try:
                    await conn.execute(
                        "UPDATE users SET username_key = ? WHERE id = ?", (new, user_id)
                    )
                except sqlite3.IntegrityError:
                    logger.warning(
                        "user %s keeps its old username key: another account has the same "
                        "NFKC + casefold name; rename one of them",
                        user_id,
                    )
            await conn.execute(f"PRAGMA user_version = {KEY_VERSION}")
        await conn.commit()
    except BaseException:
        await conn.rollback()
        raise


async def _add_email(conn: aiosqlite.Connection) -> None:
    """Add the email columns and their unique (casefolded) index, once per file
    (``PRAGMA user_version`` 2), in one ``BEGIN IMMEDIATE`` like ``_rekey``. Existing rows
    get no address; nothing else changes."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    if row is not None and row[0] >= EMAIL_VERSION:
        return
    await conn.execute("BEGIN IMMEDIATE")
    try:
        async with conn.execute("PRAGMA table_info(users)") as cursor:
            columns = {str(r[1]) for r in await cursor.fetchall()}
        for name, decl in (
            ("email", "TEXT"),
            ("email_key", "TEXT"),
            ("email_verified", "INTEGER NOT NULL DEFAULT 0"),
        ):
            if name not in columns:
                await conn.execute(f"ALTER TABLE users ADD COLUMN {name} {decl}")
        await conn.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (email_key) "
            "WHERE email_key IS NOT NULL"
        )
        await conn.execute(f"PRAGMA user_version = {EMAIL_VERSION}")
        await conn.commit()
    except BaseException:
        await conn.rollback()
        raise


def _record(row: tuple[Any, ...]) -> UserRecord:
    user_id, username, password_hash, permissions, is_active, email, verified = row
    perms = json.loads(permissions) if permissions else []
    return UserRecord(
        str(user_id),
        str(username),
        str(password_hash),
        tuple(str(p) for p in perms),
        bool(is_active),
        None if email is None else str(email),
        bool(verified),
    )
