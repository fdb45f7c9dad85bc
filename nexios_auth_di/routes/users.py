"""Where the ready-made routes find users: a small repository protocol.

The host app owns its users; ``routes.py`` reaches them only through
``container.user_repository``, so any database works. Two implementations ship: SQLite
(aiosqlite; the tests and examples use it) and memory. Usernames are unique by
``usernames.username_key`` (NFKC + casefold), the same key ``LoginThrottle`` counts
under, so "Alice", "alice" and "ａｌｉｃｅ" are one account, never two that could be
confused. SQLite files written under the older key (strip + casefold) are re-keyed once
when first opened (``PRAGMA user_version`` 1); see ``_rekey``.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from nexios_auth_di.base import SimpleUser
from nexios_auth_di.exceptions import ConfigurationError, Conflict, StoreUnavailable
from nexios_auth_di.logs import get_logger
from nexios_auth_di.usernames import username_key

if TYPE_CHECKING:
    import aiosqlite

__all__ = [
    "AccountRepository",
    "MemoryUserRepository",
    "SqliteUserRepository",
    "UserRecord",
    "UserRepository",
    "user_from_record",
    "user_loader_for",
    "username_key",
]

TAKEN = "Username is not available"
logger = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One stored user. ``password_hash`` never leaves the server."""

    id: str
    username: str
    password_hash: str
    permissions: tuple[str, ...] = ()
    is_active: bool = True
    #: stored as given (validated by the routes); looked up case-insensitively
    email: str | None = None
    email_verified: bool = False


@runtime_checkable
class UserRepository(Protocol):
    """What the routes need from the app's user table; nothing else."""

    async def get_by_username(self, username: str) -> UserRecord | None: ...

    async def get_by_id(self, user_id: str) -> UserRecord | None: ...

    async def create(
        self, username: str, password_hash: str, permissions: Iterable[str] = ()
    ) -> UserRecord:
        """Store a new user; raise ``Conflict`` (409) when the username is taken."""
        ...

    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...


@runtime_checkable
class AccountRepository(UserRepository, Protocol):
    """A ``UserRepository`` that also keeps email addresses: what the account-lifecycle
    routes (verification, password reset, login by email) need. Kept apart so an app's
    existing ``UserRepository`` stays valid."""

    async def get_by_email(self, email: str) -> UserRecord | None:
        """The user whose address is ``email`` (compared case-insensitively), or ``None``."""
        ...

    async def set_email(self, user_id: str, email: str | None, *, verified: bool = False) -> None:
        """Set (or clear) the address; raise ``Conflict`` (409) when another user has it."""
        ...


def new_user_id() -> str:
    """128 random bits: ids are not guessable and reveal nothing about sign-up order."""
    return secrets.token_urlsafe(16)


def user_from_record(record: UserRecord) -> SimpleUser:
    """The request-time user for a record (no hash on it)."""
    return SimpleUser(record.id, record.username, record.permissions)


def user_loader_for(
    repository: UserRepository,
) -> Callable[[Any], Awaitable[SimpleUser | None]]:
    """A ``container.user_loader`` over ``repository``: id -> user, ``None`` when the
    account is gone or deactivated (its tokens and sessions then stop working)."""

    async def load(identity: Any) -> SimpleUser | None:
        if not isinstance(identity, str) or not identity:
            return None
        record = await repository.get_by_id(identity)
        if record is None or not record.is_active:
            return None
        return user_from_record(record)

    return load


class MemoryUserRepository:
    """Users in a dict, for quick tests. Not shared between processes."""

    def __init__(self) -> None:
        self._by_id: dict[str, UserRecord] = {}
        self._by_name: dict[str, str] = {}

    async def get_by_username(self, username: str) -> UserRecord | None:
        user_id = self._by_name.get(username_key(username))
        return None if user_id is None else self._by_id.get(user_id)

    async def get_by_id(self, user_id: str) -> UserRecord | None:
        return self._by_id.get(user_id)

    async def create(
        self, username: str, password_hash: str, permissions: Iterable[str] = ()
    ) -> UserRecord:
        key = username_key(username)
        if key in self._by_name:
            raise Conflict(TAKEN, reason="username_taken")
        record = UserRecord(new_user_id(), username, password_hash, tuple(permissions))
        self._by_id[record.id] = record
        self._by_name[key] = record.id
        return record

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        record = self._by_id.get(user_id)
        if record is not None:
            self._by_id[user_id] = replace(record, password_hash=password_hash)

    async def set_active(self, user_id: str, active: bool) -> None:
        """Deactivate or reactivate an account (admin tooling, tests)."""
        record = self._by_id.get(user_id)
        if record is not None:
            self._by_id[user_id] = replace(record, is_active=active)

    async def set_permissions(self, user_id: str, permissions: Iterable[str]) -> None:
        """Replace an account's permissions (admin tooling: ``nexios-auth user``)."""
        record = self._by_id.get(user_id)
        if record is not None:
            self._by_id[user_id] = replace(record, permissions=tuple(permissions))


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
_COLUMNS = "id, username, password_hash, permissions, is_active"
KEY_VERSION = 1  # PRAGMA user_version: 1 = keys are usernames.username_key (NFKC + casefold)
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

    async def create(
        self, username: str, password_hash: str, permissions: Iterable[str] = ()
    ) -> UserRecord:
        record = UserRecord(new_user_id(), username, password_hash, tuple(permissions))
        await self._write(
            "INSERT INTO users (id, username, username_key, password_hash, permissions) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                record.id,
                username,
                username_key(username),
                password_hash,
                json.dumps(list(record.permissions)),
            ),
        )
        return record

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._write(
            "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
        )

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


def _record(row: tuple[Any, ...]) -> UserRecord:
    user_id, username, password_hash, permissions, is_active = row
    perms = json.loads(permissions) if permissions else []
    return UserRecord(
        str(user_id),
        str(username),
        str(password_hash),
        tuple(str(p) for p in perms),
        bool(is_active),
    )
