"""``db``: apply or roll back the schema migrations of the SQLAlchemy stores
(``stores: sqlalchemy``; Alembic, migrations shipped in the package).

The database is ``--url``, else ``$DATABASE_URL``, else the settings'
``store.database_url`` (``--profile`` / ``--config``). The URL may name its driver
(``postgresql+asyncpg://``, ``sqlite+aiosqlite:///``) or not (``postgresql://``,
``sqlite:///``): the async driver is added. A database that cannot be reached is one
line on stderr and exit 1.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

from nexios_auth_di.cli.common import Failure, settings_path
from nexios_auth_di.config import PROFILES
from nexios_auth_di.exceptions import ConfigurationError

__all__ = ["db"]


def _migrate() -> Any:
    try:
        from nexios_auth_di.stores.sqlalchemy import migrate
    except ImportError as exc:
        raise Failure(
            'db commands need the "sqlalchemy" extra: pip install "nexios-auth-di[sqlalchemy]"'
        ) from exc
    return migrate


def _url(url: str | None, profile: str | None, config_path: str | None) -> str:
    if url:
        return url
    if not (profile or config_path) and os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from nexios_auth_di.container import AuthContainer

    path = settings_path(profile, config_path)
    container = AuthContainer()
    try:
        container.config.from_yaml(path)  # ${VAR} interpolation, as the app reads it
    except ValueError as exc:
        raise Failure(f"{path}: {exc}") from None
    # only the URL: migrating needs no secrets, so the rest of the file is not validated
    store = (container.config() or {}).get("store") or {}
    url = store.get("database_url") if isinstance(store, dict) else None
    if not isinstance(url, str) or not url.strip():
        raise Failure(f"{path} sets no store.database_url: pass --url URL")
    return url


def _options(default_revision: str) -> Callable[[Any], Any]:
    def decorate(f: Any) -> Any:
        f = click.option(
            "--revision",
            default=default_revision,
            show_default=True,
            help="Target revision (an id, head, base, or relative such as -1).",
        )(f)
        f = click.option(
            "--config",
            "config_path",
            type=click.Path(exists=True, dir_okay=False),
            help="A YAML settings file whose store.database_url to use.",
        )(f)
        f = click.option(
            "--profile", type=click.Choice(PROFILES), default=None, help="A shipped profile."
        )(f)
        return click.option(
            "--url",
            help="Database URL (default: $DATABASE_URL, else the settings' store.database_url).",
        )(f)

    return decorate


def _apply(step: str, url: str, revision: str) -> None:
    migrate = _migrate()
    try:
        getattr(migrate, step)(url, revision)
        now = migrate.current(url)
    except ConfigurationError:
        raise
    except Exception as exc:  # the driver's, Alembic's: one line, never a traceback
        text = str(exc).strip().splitlines()
        raise Failure(f"db {step} failed: {text[0] if text else type(exc).__name__}") from None
    click.echo(f"database at revision {now or 'base'}")


@click.group()
def db() -> None:
    """Schema migrations of the SQLAlchemy stores (stores: sqlalchemy)."""


@db.command()
@_options("head")
def upgrade(url: str | None, profile: str | None, config_path: str | None, revision: str) -> None:
    """Migrate the database up to --revision (default: the newest)."""
    _apply("upgrade", _url(url, profile, config_path), revision)


@db.command()
@_options("-1")
def downgrade(url: str | None, profile: str | None, config_path: str | None, revision: str) -> None:
    """Migrate the database down to --revision (default: one step; base drops every table)."""
    _apply("downgrade", _url(url, profile, config_path), revision)


@db.command()
@_options("head")
def current(url: str | None, profile: str | None, config_path: str | None, revision: str) -> None:
    """Show the database's revision and whether it is the newest."""
    migrate = _migrate()
    target = _url(url, profile, config_path)
    try:
        now = migrate.current(target)
    except Exception as exc:
        text = str(exc).strip().splitlines()
        raise Failure(f"db current failed: {text[0] if text else type(exc).__name__}") from None
    heads = migrate.heads()
    state = "up to date" if now in heads else f"behind (head: {', '.join(heads)})"
    click.echo(f"database at revision {now or 'base'}: {state}")
