"""The schema of the SQLAlchemy stores and user repository, as SQLAlchemy Core tables.

One ``MetaData`` holds every table, so the Alembic migrations (``migrations/``) can be
checked against it (autogenerate finds no difference). The layout follows the SQLite
engine's tables: times are Unix seconds in ``DOUBLE PRECISION``, JSON payloads are text
(the same on every dialect), and every table that expires has an index on its deadline
for the bulk purge.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

__all__ = [
    "api_key_stamps",
    "api_keys",
    "credentials",
    "metadata",
    "one_time",
    "refresh_login",
    "revoked_family",
    "revoked_jti",
    "sessions",
    "spent_refresh",
    "subject_not_before",
    "throttle_counters",
    "users",
]

#: stable constraint names, so migrations and the models name them alike on every dialect
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: identifiers (jti, family, subject, key ids) are short tokens; 255 bounds the index size
ID = String(255)

revoked_jti = Table(
    "nxauth_revoked_jti",
    metadata,
    Column("jti", ID, primary_key=True),
    Column("expires_at", Double, nullable=False, index=True),
)

subject_not_before = Table(
    "nxauth_subject_not_before",
    metadata,
    Column("subject", ID, primary_key=True),
    Column("not_before", Double, nullable=False),
    Column("expires_at", Double, nullable=False, index=True),
)

spent_refresh = Table(
    "nxauth_spent_refresh",
    metadata,
    Column("family", ID, primary_key=True),
    Column("jti", ID, primary_key=True),
    Column("expires_at", Double, nullable=False, index=True),
)

revoked_family = Table(
    "nxauth_revoked_family",
    metadata,
    Column("family", ID, primary_key=True),
    Column("expires_at", Double, nullable=False, index=True),
)

refresh_login = Table(
    "nxauth_refresh_login",
    metadata,
    Column("subject", ID, primary_key=True),
    Column("family", ID, primary_key=True),
    Column("expires_at", Double, nullable=False, index=True),
)

sessions = Table(
    "nxauth_sessions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("subject", ID, nullable=True, index=True),
    Column("data", Text, nullable=False),
    Column("expires_at", Double, nullable=False, index=True),
)

api_keys = Table(
    "nxauth_api_keys",
    metadata,
    Column("key_id", ID, primary_key=True),
    Column("prefix", ID, nullable=False),
    Column("owner", ID, nullable=False, index=True),
    Column("secret_hash", ID, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("expires_at", Double, nullable=True),
    Column("revoked", Boolean, nullable=False),
    Column("last_used", Double, nullable=True),
    Column("extra", Text, nullable=False),
    Column("purge_at", Double, nullable=True, index=True),
)

api_key_stamps = Table(
    "nxauth_api_key_stamps",
    metadata,
    Column("owner", ID, primary_key=True),
    Column("stamp", ID, nullable=False),
    Column("expires_at", Double, nullable=False, index=True),
)

throttle_counters = Table(
    "nxauth_throttle_counters",
    metadata,
    Column("key", ID, primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("locked_until", Double, nullable=False),
    Column("expires_at", Double, nullable=False, index=True),
)

one_time = Table(
    "nxauth_one_time",
    metadata,
    Column("key", ID, primary_key=True),
    Column("value", Text, nullable=True),
    Column("expires_at", Double, nullable=False, index=True),
)

credentials = Table(
    "nxauth_credentials",
    metadata,
    Column("kind", ID, primary_key=True),
    Column("credential_id", ID, primary_key=True),
    Column("user_id", ID, nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("last_used", Double, nullable=True),
    Column("expires_at", Double, nullable=True, index=True),
    Column("version", Integer, nullable=False),
    Index("ix_nxauth_credentials_user_id_kind", "user_id", "kind"),
)

users = Table(
    "nxauth_users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("username", Text, nullable=False),
    Column("username_key", ID, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("permissions", Text, nullable=False, server_default=text("'[]'")),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("email", Text, nullable=True),
    Column("email_key", ID, nullable=True, unique=True),
    Column("email_verified", Boolean, nullable=False, server_default=text("false")),
)
