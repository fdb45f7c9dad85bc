"""``nexios-auth db``: upgrade, current and downgrade the packaged migrations from the
command line, on SQLite and PostgreSQL; mistakes are one line and exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from nexios_auth_di.cli import cli
from nexios_auth_di.stores.sqlalchemy import migrate


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_lists_the_commands_and_options(runner: CliRunner) -> None:
    """``db --help`` names every subcommand; each documents --url and --revision."""
    group = runner.invoke(cli, ["db", "--help"])
    assert group.exit_code == 0
    for name in ("upgrade", "downgrade", "current"):
        assert name in group.output
        sub = runner.invoke(cli, ["db", name, "--help"])
        assert sub.exit_code == 0
        assert "--url" in sub.output
        assert "--revision" in sub.output


def test_upgrade_current_downgrade_round_trip(runner: CliRunner, empty_database: str) -> None:
    """upgrade reaches head, current says so, downgrade to base removes the schema."""
    up = runner.invoke(cli, ["db", "upgrade", "--url", empty_database])
    assert up.exit_code == 0, up.output
    head = migrate.heads()[0]
    assert f"database at revision {head}" in up.output
    now = runner.invoke(cli, ["db", "current", "--url", empty_database])
    assert now.exit_code == 0
    assert "up to date" in now.output
    assert migrate.schema_diff(empty_database) == []
    down = runner.invoke(cli, ["db", "downgrade", "--url", empty_database, "--revision", "base"])
    assert down.exit_code == 0, down.output
    assert "database at revision base" in down.output
    behind = runner.invoke(cli, ["db", "current", "--url", empty_database])
    assert "behind" in behind.output


def test_url_comes_from_the_settings_file(runner: CliRunner, tmp_path: Path) -> None:
    """Without --url the settings' store.database_url is migrated (a driverless sqlite://
    URL gets the async driver)."""
    db = tmp_path / "from-settings.db"
    config = tmp_path / "auth.yaml"
    store = {"database_url": f"sqlite:///{db}"}
    config.write_text(
        yaml.safe_dump({"profile": "testing", "stores": "sqlalchemy", "store": store})
    )
    done = runner.invoke(cli, ["db", "upgrade", "--config", str(config)])
    assert done.exit_code == 0, done.output
    assert migrate.current(f"sqlite:///{db}") == migrate.heads()[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--url", "not a url"], "store.database_url", id="malformed-url"),
        pytest.param(["--url", "mysql://h/db"], "postgresql or sqlite", id="unsupported-dialect"),
        pytest.param(["--profile", "testing"], "sets no store.database_url", id="no-url-anywhere"),
        pytest.param(
            ["--url", "postgresql://nobody@127.0.0.1:9/none"], "db upgrade failed", id="unreachable"
        ),
        pytest.param(
            ["--url", "sqlite:///x.db", "--revision", "nope"],
            "db upgrade failed",
            id="bad-revision",
        ),
    ],
)
def test_mistakes_are_one_line_and_exit_1(
    runner: CliRunner,
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Each mistake exits 1 with one ``Error:`` line naming it, never a traceback."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["db", "upgrade", *args])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
