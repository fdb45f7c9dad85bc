"""Fixtures for the ``nexios-auth`` command line: a runner, a settings file on real SQLite
stores in ``tmp_path``, and a user file holding ``ada``."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_support import PASSWORD, Env
from click.testing import CliRunner, Result

from nexios_auth_di.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def env(tmp_path: Path, runner: CliRunner) -> Env:
    """Settings like the testing profile's, but with SQLite stores (they outlive one
    command) and fresh secrets; ``users`` does not exist until ``user create`` runs."""
    jwt_secret, session_secret = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    config = tmp_path / "auth.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "profile": "testing",
                "backends": ["jwt", "session", "api_key"],
                "jwt": {"secret_key": jwt_secret},
                "session": {"secret_key": session_secret},
                "stores": "sqlite",
                "store": {"sqlite_path": str(tmp_path / "auth.sqlite3")},
                "passwords": {"profile": "test_only_cheap", "min_length": 8},
            }
        )
    )

    def invoke(args: list[str], input: str | None = None, obj: Any = None) -> Result:
        return runner.invoke(cli, args, input=input, obj=obj, catch_exceptions=False)

    return Env(
        tmp_path,
        config,
        tmp_path / "users.sqlite3",
        tmp_path / "auth.sqlite3",
        jwt_secret,
        session_secret,
        invoke,
    )


@pytest.fixture
def ada(env: Env) -> Env:
    """``env`` with the user ``ada`` created through the CLI."""
    result = env.invoke(env.args("user", "create", "ada"), input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    return env
