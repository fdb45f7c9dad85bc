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

import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from nexios_auth_di.base import SimpleUser
from nexios_auth_di.exceptions import Conflict
from nexios_auth_di.usernames import username_key

if TYPE_CHECKING:
    pass

__all__ = [
    "AccountRepository",
    "MemoryUserRepository",
    "UserRecord",
    "UserRepository",
    "email_key",
    "user_from_record",
    "user_loader_for",
    "username_key",
]

TAKEN = "Username is not available"
EMAIL_TAKEN = "Email is not available"


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

    async def create(
        self,
        username: str,
        password_hash: str,
        permissions: Iterable[str] = (),
        *,
        email: str | None = None,
    ) -> UserRecord:
        """As ``UserRepository.create``, with the address set in the same write, so a
        taken address (``Conflict``, reason ``email_taken``) leaves no account behind."""
        ...


def email_key(email: str) -> str:
    """The form addresses are unique and looked up under: casefolded (the routes store
    the ``email-validator`` normalised address; this only makes the match case-blind)."""
    return email.strip().casefold()


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
        self._by_email: dict[str, str] = {}

    async def get_by_username(self, username: str) -> UserRecord | None:
        user_id = self._by_name.get(username_key(username))
        return None if user_id is None else self._by_id.get(user_id)

    async def get_by_id(self, user_id: str) -> UserRecord | None:
        return self._by_id.get(user_id)

    async def get_by_email(self, email: str) -> UserRecord | None:
        user_id = self._by_email.get(email_key(email))
        return None if user_id is None else self._by_id.get(user_id)

    async def create(
        self,
        username: str,
        password_hash: str,
        permissions: Iterable[str] = (),
        *,
        email: str | None = None,
    ) -> UserRecord:
        key = username_key(username)
        if key in self._by_name:
            raise Conflict(TAKEN, reason="username_taken")
        if email is not None and email_key(email) in self._by_email:
            raise Conflict(EMAIL_TAKEN, reason="email_taken")
        record = UserRecord(new_user_id(), username, password_hash, tuple(permissions), email=email)
        self._by_id[record.id] = record
        self._by_name[key] = record.id
        if email is not None:
            self._by_email[email_key(email)] = record.id
        return record

    async def set_email(self, user_id: str, email: str | None, *, verified: bool = False) -> None:
        record = self._by_id.get(user_id)
        if record is None:
            return
        new_key = None if email is None else email_key(email)
        if new_key is not None and self._by_email.get(new_key, user_id) != user_id:
            raise Conflict(EMAIL_TAKEN, reason="email_taken")
        if record.email is not None:
            self._by_email.pop(email_key(record.email), None)
        if new_key is not None:
            self._by_email[new_key] = user_id
        self._by_id[user_id] = replace(record, email=email, email_verified=verified and bool(email))

    async def mark_email_verified(self, user_id: str, email: str) -> bool:
        """Verify the address only if it is still the account's (one step)."""
        record = self._by_id.get(user_id)
        if record is None or record.email is None or email_key(record.email) != email_key(email):
            return False
        self._by_id[user_id] = replace(record, email_verified=True)
        return True

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
