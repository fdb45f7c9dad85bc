"""``user ...`` and ``sessions revoke-all``: account administration on the configured
user repository, with the same rules as the HTTP routes (username rules, password
policy, argon2id profile from the settings)."""

from __future__ import annotations

from typing import Any

import click

from nexios_auth_di.cli.common import (
    Failure,
    container_options,
    open_container,
    read_password,
    refuse_memory_stores,
    run,
    stores_outlive_command,
    user_record,
)

__all__ = ["sessions", "user"]


def _permissions(values: tuple[str, ...]) -> tuple[str, ...]:
    """Permission names as the policies compare them: non-empty, no spaces, no repeats."""
    bad = [p for p in values if not p or p != p.strip() or any(c.isspace() for c in p)]
    if bad:
        raise click.BadParameter(f"not a permission name: {bad[0]!r}")
    return tuple(dict.fromkeys(values))


def _setter(repository: Any, name: str) -> Any:
    method = getattr(repository, name, None)
    if method is None:
        raise Failure(f"the user repository {type(repository).__name__} has no {name}()")
    return method


async def _end_logins(container: Any, user_id: str) -> int:
    """A new generation (every token ends) and no sessions; the count of sessions ended."""
    await container.token_service().revoke_all(user_id)
    return int(await container.session_store().delete_for_subject(user_id))


@click.group()
def user() -> None:
    """Create accounts and manage their permissions."""


@user.command("create")
@click.argument("username")
@click.option("--permission", "permissions", multiple=True, help="Grant a permission (repeatable).")
@container_options()
def create(
    username: str,
    permissions: tuple[str, ...],
    profile: str | None,
    config_path: str | None,
    users_db: str,
) -> None:
    """Create USERNAME; the password comes from a prompt or stdin."""
    from nexios_auth_di.usernames import enforce_username

    granted = _permissions(permissions)
    c = open_container(
        profile=profile, config_path=config_path, users_db=users_db, create_users_db=True
    )
    name = enforce_username(username, c.settings().usernames)
    password = read_password()

    async def work() -> Any:
        users, passwords = c.user_repository(), c.password_service()
        passwords.validate(password)
        await passwords.check_breached(password)
        if await users.get_by_username(name) is not None:
            raise Failure(f"a user named {name!r} already exists")
        return await users.create(name, await passwords.hash(password), granted)

    record = run(c, work)
    click.echo(f"created user {record.username} (id {record.id})")


@user.command("set-permissions")
@click.argument("username")
@click.argument("permissions", nargs=-1)
@click.option("--none", "clear", is_flag=True, help="Remove every permission.")
@container_options()
def set_permissions(
    username: str,
    permissions: tuple[str, ...],
    clear: bool,
    profile: str | None,
    config_path: str | None,
    users_db: str,
) -> None:
    """Replace USERNAME's permissions with PERMISSIONS (effective on the next request);
    ``--none`` removes them all (never by accident: no names without it is an error)."""
    if bool(permissions) == clear:
        raise click.UsageError("give PERMISSIONS, or --none to remove them all")
    granted = _permissions(permissions)
    c = open_container(profile=profile, config_path=config_path, users_db=users_db)

    async def work() -> Any:
        users = c.user_repository()
        record = await user_record(c, username)
        await _setter(users, "set_permissions")(record.id, granted)
        return record

    record = run(c, work)
    click.echo(f"{record.username}: {' '.join(granted) or '(no permissions)'}")


@user.command("deactivate")
@click.argument("username")
@container_options(store=True)
def deactivate(
    username: str,
    profile: str | None,
    config_path: str | None,
    users_db: str,
    store_db: str | None,
) -> None:
    """Deactivate USERNAME: its tokens, sessions and API keys stop working at once, and
    (with shared stores) every login is ended, so reactivating does not revive them."""
    c = open_container(
        profile=profile, config_path=config_path, users_db=users_db, store_db=store_db
    )
    # in-memory stores die with this command: only the loader's is_active check applies
    shared = stores_outlive_command(c)

    async def work() -> tuple[str, int | None]:
        record = await user_record(c, username)
        await _setter(c.user_repository(), "set_active")(record.id, False)
        if not shared:
            return record.username, None
        return record.username, await _end_logins(c, record.id)

    name, ended = run(c, work)
    if ended is None:
        click.echo(f"deactivated {name} (stores: memory: logins end only while inactive)")
    else:
        click.echo(f"deactivated {name}: every token revoked, {ended} session(s) ended")


@click.group()
def sessions() -> None:
    """End a user's logins."""


@sessions.command("revoke-all")
@click.argument("username")
@container_options(store=True)
def revoke_all(
    username: str,
    profile: str | None,
    config_path: str | None,
    users_db: str,
    store_db: str | None,
) -> None:
    """End every session, refresh family and token of USERNAME (API keys stay)."""
    c = open_container(
        profile=profile, config_path=config_path, users_db=users_db, store_db=store_db
    )
    refuse_memory_stores(c, "revocations and sessions")

    async def work() -> int:
        return await _end_logins(c, (await user_record(c, username)).id)

    ended = run(c, work)
    click.echo(f"{username}: every token revoked, {ended} session(s) ended")
