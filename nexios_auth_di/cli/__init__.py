"""``nexios-auth``: the operator's command line (also ``python -m nexios_auth_di``).

Secrets and key pairs, password hashes, accounts, API keys, "log out everywhere" and a
settings check, all through the library's own container and services. Exit codes: 0 ok,
1 a problem found or an operation refused, 2 a usage error. Every error is one line on
stderr, never a traceback. ``import nexios_auth_di`` never loads this package (or click).
"""

from __future__ import annotations

from typing import Any

import click

from nexios_auth_di.cli.apikeys import api_key
from nexios_auth_di.cli.common import Failure
from nexios_auth_di.cli.config import check_config
from nexios_auth_di.cli.db import db
from nexios_auth_di.cli.secrets import gen_secret, hash_password
from nexios_auth_di.cli.users import sessions, user
from nexios_auth_di.exceptions import AuthError, HTTPAuthError

__all__ = ["cli", "main"]


def describe(exc: BaseException) -> str:
    """One line for a library error: the public detail of an HTTP error, else its text."""
    if isinstance(exc, HTTPAuthError):
        return str(exc.detail)
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class NexiosAuthGroup(click.Group):
    """Turns every error below it into ``Error: <one line>`` and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except AuthError as exc:
            raise Failure(describe(exc)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise Failure(f"{where}{exc.strerror or exc}") from None
        except Exception as exc:  # a bug: still one line, with what it was
            raise Failure(f"unexpected {type(exc).__name__}: {describe(exc)}") from None


@click.group(cls=NexiosAuthGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nexios-auth-di", prog_name="nexios-auth")
def cli() -> None:
    """Administer nexios_auth_di: secrets, passwords, users, API keys, sessions, settings."""


for command in (gen_secret, hash_password, user, api_key, sessions, check_config, db):
    cli.add_command(command)


def main() -> None:
    """The console script's entry point."""
    cli(prog_name="nexios-auth")
