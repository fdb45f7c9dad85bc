"""Initial schema: every table of ``tables.py`` (stores and ``nxauth_users``).

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nxauth_api_key_stamps",
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("stamp", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_nxauth_api_key_stamps")),
    )
    op.create_index(
        op.f("ix_nxauth_api_key_stamps_expires_at"),
        "nxauth_api_key_stamps",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "nxauth_api_keys",
        sa.Column("key_id", sa.String(length=255), nullable=False),
        sa.Column("prefix", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("last_used", sa.Double(), nullable=True),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.Column("purge_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_nxauth_api_keys")),
    )
    op.create_index(op.f("ix_nxauth_api_keys_owner"), "nxauth_api_keys", ["owner"], unique=False)
    op.create_index(
        op.f("ix_nxauth_api_keys_purge_at"), "nxauth_api_keys", ["purge_at"], unique=False
    )
    op.create_table(
        "nxauth_credentials",
        sa.Column("kind", sa.String(length=255), nullable=False),
        sa.Column("credential_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("last_used", sa.Double(), nullable=True),
        sa.Column("expires_at", sa.Double(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "credential_id", name=op.f("pk_nxauth_credentials")),
    )
    op.create_index(
        op.f("ix_nxauth_credentials_expires_at"), "nxauth_credentials", ["expires_at"], unique=False
    )
    op.create_index(
        "ix_nxauth_credentials_user_id_kind",
        "nxauth_credentials",
        ["user_id", "kind"],
        unique=False,
    )
    op.create_table(
        "nxauth_one_time",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_nxauth_one_time")),
    )
    op.create_index(
        op.f("ix_nxauth_one_time_expires_at"), "nxauth_one_time", ["expires_at"], unique=False
    )
    op.create_table(
        "nxauth_refresh_login",
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("family", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "family", name=op.f("pk_nxauth_refresh_login")),
    )
    op.create_index(
        op.f("ix_nxauth_refresh_login_expires_at"),
        "nxauth_refresh_login",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "nxauth_revoked_family",
        sa.Column("family", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("family", name=op.f("pk_nxauth_revoked_family")),
    )
    op.create_index(
        op.f("ix_nxauth_revoked_family_expires_at"),
        "nxauth_revoked_family",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "nxauth_revoked_jti",
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_nxauth_revoked_jti")),
    )
    op.create_index(
        op.f("ix_nxauth_revoked_jti_expires_at"), "nxauth_revoked_jti", ["expires_at"], unique=False
    )
    op.create_table(
        "nxauth_sessions",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nxauth_sessions")),
    )
    op.create_index(
        op.f("ix_nxauth_sessions_expires_at"), "nxauth_sessions", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_nxauth_sessions_subject"), "nxauth_sessions", ["subject"], unique=False
    )
    op.create_table(
        "nxauth_spent_refresh",
        sa.Column("family", sa.String(length=255), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("family", "jti", name=op.f("pk_nxauth_spent_refresh")),
    )
    op.create_index(
        op.f("ix_nxauth_spent_refresh_expires_at"),
        "nxauth_spent_refresh",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "nxauth_subject_not_before",
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("not_before", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_nxauth_subject_not_before")),
    )
    op.create_index(
        op.f("ix_nxauth_subject_not_before_expires_at"),
        "nxauth_subject_not_before",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "nxauth_throttle_counters",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_nxauth_throttle_counters")),
    )
    op.create_index(
        op.f("ix_nxauth_throttle_counters_expires_at"),
        "nxauth_throttle_counters",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "nxauth_users",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("username_key", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("permissions", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("email_key", sa.String(length=255), nullable=True),
        sa.Column("email_verified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nxauth_users")),
        sa.UniqueConstraint("email_key", name=op.f("uq_nxauth_users_email_key")),
        sa.UniqueConstraint("username_key", name=op.f("uq_nxauth_users_username_key")),
    )


def downgrade() -> None:
    op.drop_table("nxauth_users")
    op.drop_index(
        op.f("ix_nxauth_throttle_counters_expires_at"), table_name="nxauth_throttle_counters"
    )
    op.drop_table("nxauth_throttle_counters")
    op.drop_index(
        op.f("ix_nxauth_subject_not_before_expires_at"), table_name="nxauth_subject_not_before"
    )
    op.drop_table("nxauth_subject_not_before")
    op.drop_index(op.f("ix_nxauth_spent_refresh_expires_at"), table_name="nxauth_spent_refresh")
    op.drop_table("nxauth_spent_refresh")
    op.drop_index(op.f("ix_nxauth_sessions_subject"), table_name="nxauth_sessions")
    op.drop_index(op.f("ix_nxauth_sessions_expires_at"), table_name="nxauth_sessions")
    op.drop_table("nxauth_sessions")
    op.drop_index(op.f("ix_nxauth_revoked_jti_expires_at"), table_name="nxauth_revoked_jti")
    op.drop_table("nxauth_revoked_jti")
    op.drop_index(op.f("ix_nxauth_revoked_family_expires_at"), table_name="nxauth_revoked_family")
    op.drop_table("nxauth_revoked_family")
    op.drop_index(op.f("ix_nxauth_refresh_login_expires_at"), table_name="nxauth_refresh_login")
    op.drop_table("nxauth_refresh_login")
    op.drop_index(op.f("ix_nxauth_one_time_expires_at"), table_name="nxauth_one_time")
    op.drop_table("nxauth_one_time")
    op.drop_index("ix_nxauth_credentials_user_id_kind", table_name="nxauth_credentials")
    op.drop_index(op.f("ix_nxauth_credentials_expires_at"), table_name="nxauth_credentials")
    op.drop_table("nxauth_credentials")
    op.drop_index(op.f("ix_nxauth_api_keys_purge_at"), table_name="nxauth_api_keys")
    op.drop_index(op.f("ix_nxauth_api_keys_owner"), table_name="nxauth_api_keys")
    op.drop_table("nxauth_api_keys")
    op.drop_index(op.f("ix_nxauth_api_key_stamps_expires_at"), table_name="nxauth_api_key_stamps")
    op.drop_table("nxauth_api_key_stamps")
