"""What every ``nexios-auth`` command shares: one-line errors, the settings options,
the container they open, passwords read without argv, and running async work.

Errors: a problem the operator can fix is a ``click.ClickException`` (exit 1, one line
on stderr); ``Failure`` is the same with a name that says so. Library errors are turned
into those lines at the top (``cli.NexiosAuthGroup``), so no command shows a traceback.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from nexios_auth_di.config import PROFILES, profile_path

__all__ = [
    "DEFAULT_USERS_DB",
    "Failure",
    "container_options",
    "open_container",
    "read_password",
    "run",
    "user_record",
]

_T = TypeVar("_T")
_F = TypeVar("_F", bound=Callable[..., Any])

#: the quickstart's user file (examples/quickstart/app.py), so the demo's admin is one command away
DEFAULT_USERS_DB = "example_users.sqlite3"


class Failure(click.ClickException):
    """Exit 1 with ``Error: <message>`` on stderr: a problem found, an operation refused."""

    exit_code = 1


def container_options(*, users: bool = True, store: bool = False) -> Callable[[_F], _F]:
    """``--profile``/``--config`` (the settings), ``--users-db``, ``--store-db``."""

    def decorate(f: _F) -> _F:
        if store:
            f = click.option(
                "--store-db",
                type=click.Path(dir_okay=False),
                help="SQLite file of the auth state (API keys, sessions, revocations); "
                "default: the profile's store.sqlite_path.",
            )(f)
        if users:
            f = click.option(
                "--users-db",
                type=click.Path(dir_okay=False),
                default=DEFAULT_USERS_DB,
                show_default=True,
                help="SQLite user file (the example app's, in the current directory).",
            )(f)
        f = click.option(
            "--config",
            "config_path",
            type=click.Path(exists=True, dir_okay=False),
            help="A YAML settings file (instead of --profile).",
        )(f)
        return click.option(
            "--profile",
            type=click.Choice(PROFILES),
            default=None,
            help="A shipped settings profile (default: development).",
        )(f)

    return decorate


def settings_path(profile: str | None, config_path: str | None) -> str:
    """The YAML file the options select; both at once is a usage error."""
    if profile and config_path:
        raise click.UsageError("give --profile or --config, not both")
    return config_path or profile_path(profile or "development")


def open_container(
    *,
    profile: str | None,
    config_path: str | None,
    users_db: str | None = None,
    store_db: str | None = None,
    create_users_db: bool = False,
) -> Any:
    """A container on the selected settings, validated now (a bad file fails here with
    one line). A container passed as ``obj`` to the command (tests, embedding apps) is
    used as it is, with its own stores and users."""
    injected = click.get_current_context().find_root().obj
    if injected is not None:
        return injected
    from nexios_auth_di.container import AuthContainer

    path = settings_path(profile, config_path)
    container = AuthContainer()
    try:
        container.config.from_yaml(path)
    except ValueError as exc:  # dependency-injector: a missing environment variable
        raise Failure(f"{path}: {exc}") from None
    if store_db:
        container.config.store.sqlite_path.from_value(store_db)
    container.settings()  # validate: ConfigurationError names the key
    if users_db is not None:
        from dependency_injector import providers

        from nexios_auth_di.routes.users import user_loader_for
        from nexios_auth_di.routes.users_sqlite import SqliteUserRepository

        if not create_users_db and not Path(users_db).is_file():
            raise Failure(f"no user database at {users_db} (pass --users-db PATH)")
        users = SqliteUserRepository(users_db)
        container.user_repository.override(providers.Object(users))
        container.user_loader.override(providers.Object(user_loader_for(users)))
    return container


def refuse_memory_stores(container: Any, what: str) -> None:
    """Stores in memory die with this process: writing to them from a command is a no-op
    that looks like success, so it is refused (unless a container was passed in)."""
    injected = click.get_current_context().find_root().obj is not None
    if not injected and container.settings().stores == "memory":
        raise Failure(
            f"these settings keep {what} in memory (stores: memory): the change would "
            "vanish when this command exits; use a profile with sqlite or redis stores"
        )


async def user_record(container: Any, username: str) -> Any:
    """The stored user named ``username`` (same key as sign-in), or exit 1."""
    record = await container.user_repository().get_by_username(username)
    if record is None:
        raise Failure(f"no user named {username!r}")
    return record


def run(container: Any, work: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``work`` on a fresh event loop, then close what the container opened."""
    from nexios_auth_di.container import shutdown

    async def main() -> _T:
        try:
            return await work()
        finally:
            await shutdown(container)

    return asyncio.run(main())


def read_password(*, confirm: bool = True) -> str:
    """A hidden, confirmed prompt on a terminal; else one line of standard input.

    Never an argument: argv is visible to every user of the machine (``ps``) and kept in
    shell history.
    """
    stdin = sys.stdin  # CliRunner swaps it too
    if stdin is None:
        raise Failure("no standard input to read the password from")
    if stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm))
    line = stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise Failure("no password on standard input (got an empty line)")
    return password


def write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (never a moment world-readable);
    an existing file is never overwritten."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise Failure(f"{path} already exists: refusing to overwrite it") from None
    with os.fdopen(fd, "wb") as out:
        out.write(data)
