"""SQLAlchemy 2 (async) stores and user repository: PostgreSQL (asyncpg) or SQLite
(aiosqlite), selected with ``stores: sqlalchemy`` and ``store.database_url``.

Modules: ``tables`` (the schema), ``database`` (the shared engine, errors, purge),
``revocations``, ``sessions``, ``apikeys``, ``records`` (one-time and credentials),
``throttle`` (login counters), ``migrate`` (Alembic, the migrations in ``migrations/``)
and ``users`` (``SqlAlchemyUserRepository``: import it from there; it belongs to the
routes' layer, so this package does not load it). Needs the ``sqlalchemy`` extra.
"""

from __future__ import annotations

from nexios_auth_di.stores.sqlalchemy.apikeys import SqlAlchemyAPIKeyStore
from nexios_auth_di.stores.sqlalchemy.database import SqlAlchemyDatabase, async_url
from nexios_auth_di.stores.sqlalchemy.records import (
    SqlAlchemyCredentialStore,
    SqlAlchemyOneTimeStore,
)
from nexios_auth_di.stores.sqlalchemy.revocations import (
    SqlAlchemyRefreshFamilyStore,
    SqlAlchemyRevocationStore,
)
from nexios_auth_di.stores.sqlalchemy.sessions import SqlAlchemySessionStore

__all__ = [
    "SqlAlchemyAPIKeyStore",
    "SqlAlchemyCredentialStore",
    "SqlAlchemyDatabase",
    "SqlAlchemyOneTimeStore",
    "SqlAlchemyRefreshFamilyStore",
    "SqlAlchemyRevocationStore",
    "SqlAlchemySessionStore",
    "async_url",
]
