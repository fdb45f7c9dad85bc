"""``api-key create | list | revoke``: the container's ``APIKeyService`` on the configured
store, so keys made here follow the same caps, ttl limits and format as the routes'."""

from __future__ import annotations

import time
from typing import Any

import click

from nexios_auth_di.cli.common import (
    Failure,
    container_options,
    open_container,
    refuse_memory_stores,
    run,
    user_record,
)

__all__ = ["api_key"]


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "never"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


@click.group("api-key")
def api_key() -> None:
    """Create, list and revoke API keys."""


@api_key.command("create")
@click.argument("username")
@click.option("--scope", "scopes", multiple=True, help="Grant a scope (repeatable).")
@click.option("--name", default="", help="A label to recognise the key by.")
@click.option(
    "--ttl",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds until it expires (default: api_key.default_ttl).",
)
@container_options(store=True)
def create(
    username: str,
    scopes: tuple[str, ...],
    name: str,
    ttl: float | None,
    profile: str | None,
    config_path: str | None,
    users_db: str,
    store_db: str | None,
) -> None:
    """Create a key for USERNAME and print it once (only its hash is stored)."""
    c = open_container(
        profile=profile, config_path=config_path, users_db=users_db, store_db=store_db
    )
    refuse_memory_stores(c, "API keys")

    async def work() -> tuple[str, Any]:
        record = await user_record(c, username)
        if not record.is_active:
            raise Failure(f"user {record.username!r} is deactivated")
        key, made = await c.api_key_service().create(record.id, scopes=scopes, name=name, ttl=ttl)
        return key, made

    key, made = run(c, work)
    click.echo(f"id {made.key_id}, expires {_when(made.expires_at)} (shown once):", err=True)
    click.echo(key)


@api_key.command("list")
@click.argument("username")
@container_options(store=True)
def list_keys(
    username: str,
    profile: str | None,
    config_path: str | None,
    users_db: str,
    store_db: str | None,
) -> None:
    """List USERNAME's live keys, newest first (never a secret)."""
    c = open_container(
        profile=profile, config_path=config_path, users_db=users_db, store_db=store_db
    )

    async def work() -> list[Any]:
        record = await user_record(c, username)
        return list(await c.api_key_service().list(record.id))

    records = run(c, work)
    if not records:
        click.echo(f"{username} has no live API keys", err=True)
    for r in records:
        scopes = ",".join(r.scopes) or "-"
        click.echo(
            f"{r.key_id}  {r.name or '-'}  scopes={scopes}  created={_when(r.created_at)}  "
            f"expires={_when(r.expires_at)}"
        )


@api_key.command("revoke")
@click.argument("key_id")
@container_options(users=False, store=True)
def revoke(key_id: str, profile: str | None, config_path: str | None, store_db: str | None) -> None:
    """Revoke the key KEY_ID (the id that `api-key list` shows)."""
    c = open_container(profile=profile, config_path=config_path, store_db=store_db)
    refuse_memory_stores(c, "API keys")
    if not 0 < len(key_id) <= 64:
        raise Failure(f"no live API key with id {key_id!r}")

    async def work() -> bool:
        return bool(await c.api_key_service().revoke(key_id))

    if not run(c, work):
        raise Failure(f"no live API key with id {key_id!r}")
    click.echo(f"revoked {key_id}")
