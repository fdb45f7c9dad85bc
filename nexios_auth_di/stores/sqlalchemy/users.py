"""``SqlAlchemyUserRepository``: the ready-made routes' users in a SQLAlchemy database
(PostgreSQL via asyncpg, SQLite via aiosqlite), table ``nxauth_users``.

It behaves like ``routes.users.SqliteUserRepository``: usernames are unique by
``usernames.username_key`` and addresses by ``email_key`` in the schema itself (two
racing sign-ups cannot both win: the database's unique index decides, and the loser
gets ``Conflict`` 409), every call is one statement, and an unreachable database is
``StoreUnavailable`` (503). An app with its own users table writes its own repository
instead (``docs/sqlalchemy.md``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from nexios_auth_di.exceptions import Conflict
from nexios_auth_di.routes.users import (
    EMAIL_TAKEN,
    TAKEN,
    UserRecord,
    email_key,
    new_user_id,
    username_key,
)
from nexios_auth_di.stores.sqlalchemy import tables as t
from nexios_auth_di.stores.sqlalchemy.database import SqlAlchemyDatabase

__all__ = ["SqlAlchemyUserRepository"]

U = t.users
_COLUMNS = [U.c[name] for name in ("id", "username", "password_hash", "permissions",
                                   "is_active", "email", "email_verified")]  # fmt: skip


def _record(row: Any) -> UserRecord:
    user_id, username, password_hash, permissions, is_active, email, verified = tuple(row)
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


class SqlAlchemyUserRepository:
    """Users over a ``SqlAlchemyDatabase`` (pass the stores' one to share its pool) or a
    database URL. Satisfies ``UserRepository`` and ``AccountRepository``."""

    def __init__(self, database: SqlAlchemyDatabase | str) -> None:
        self.db = SqlAlchemyDatabase(database) if isinstance(database, str) else database

    async def _one(self, statement: Executable) -> UserRecord | None:
        rows = await self.db.run(statement)
        return _record(rows[0]) if rows else None

    async def get_by_username(self, username: str) -> UserRecord | None:
        return await self._one(select(*_COLUMNS).where(U.c.username_key == username_key(username)))

    async def get_by_id(self, user_id: str) -> UserRecord | None:
        return await self._one(select(*_COLUMNS).where(U.c.id == user_id))

    async def get_by_email(self, email: str) -> UserRecord | None:
        return await self._one(select(*_COLUMNS).where(U.c.email_key == email_key(email)))

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
            U.insert().values(
                id=record.id,
                username=username,
                username_key=username_key(username),
                password_hash=password_hash,
                permissions=json.dumps(list(record.permissions)),
                is_active=True,
                email=email,
                email_key=None if email is None else email_key(email),
                email_verified=False,
            )
        )
        return record

    async def set_email(self, user_id: str, email: str | None, *, verified: bool = False) -> None:
        await self._write(
            update(U)
            .where(U.c.id == user_id)
            .values(
                email=email,
                email_key=None if email is None else email_key(email),
                email_verified=bool(verified and email is not None),
            )
        )

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._write(update(U).where(U.c.id == user_id).values(password_hash=password_hash))

    async def mark_email_verified(self, user_id: str, email: str) -> bool:
        """Verify the address only if it is still the account's: one conditional UPDATE."""
        changed = await self.db.rowcount(
            update(U)
            .where(U.c.id == user_id, U.c.email_key == email_key(email))
            .values(email_verified=True)
        )
        return changed == 1

    async def set_active(self, user_id: str, active: bool) -> None:
        """Deactivate or reactivate an account (admin tooling, tests)."""
        await self._write(update(U).where(U.c.id == user_id).values(is_active=bool(active)))

    async def set_permissions(self, user_id: str, permissions: Iterable[str]) -> None:
        """Replace an account's permissions (admin tooling: ``nexios-auth user``)."""
        await self._write(
            update(U).where(U.c.id == user_id).values(permissions=json.dumps(list(permissions)))
        )

    async def close(self) -> None:
        """Release the pool (when the repository made its own database)."""
        await self.db.close()

    async def _write(self, statement: Executable) -> None:
        try:
            await self.db.run(statement)
        except IntegrityError as exc:
            if "email_key" in str(exc.orig):
                raise Conflict(EMAIL_TAKEN, reason="email_taken") from None
            raise Conflict(TAKEN, reason="username_taken") from None
