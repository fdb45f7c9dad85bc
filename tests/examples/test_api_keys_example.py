"""examples/api_keys: keys made with the CLI, used by a service over real Nexios."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from nexios.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from examples.api_keys import app as example  # noqa: E402
from nexios_auth_di.cli import cli  # noqa: E402


def docstring_commands() -> list[list[str]]:
    """The ``nexios-auth`` lines of the example's docstring, as argv (continuations joined)."""
    text = (example.__doc__ or "").replace("\\\n", " ")
    block = [line.strip() for line in text.splitlines() if line.startswith("    ")]
    lines = [line.split("| ", 1)[-1] for line in block if "nexios-auth " in line]
    return [shlex.split(line)[1:] for line in lines]


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Run the docstring's CLI lines in the service's directory; return the printed key."""
    monkeypatch.chdir(tmp_path)
    create_user, create_key = docstring_commands()
    runner = CliRunner()
    made = runner.invoke(cli, create_user, input="a long service password\n")
    assert made.exit_code == 0, made.output
    key = runner.invoke(cli, create_key)
    assert key.exit_code == 0, key.output
    found = re.search(r"nxa_\S+", key.output)
    assert found, key.output
    return {"X-API-Key": found.group(0)}


def test_scoped_key_reads_but_cannot_write(setup: dict[str, str], tmp_path: Path) -> None:
    """The CLI-made key with reports:read lists reports and is refused a write (403)."""
    with TestClient(example.create_app(str(tmp_path)), base_url="https://testserver") as c:
        r = c.get("/reports", headers=setup)
        assert r.json() == {"caller": "svc-worker", "reports": ["daily", "weekly"]}
        assert c.post("/reports", headers=setup).status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-key-ASVS-V2.1"),
        pytest.param({"X-API-Key": "nxa_forged"}, id="forged-key-ASVS-V2.1"),
    ],
)
def test_without_a_valid_key_401(headers: dict[str, str], tmp_path: Path) -> None:
    """No key or a forged one: 401 with a JSON error body."""
    with TestClient(example.create_app(str(tmp_path)), base_url="https://testserver") as c:
        r = c.get("/reports", headers=headers)
        assert r.status_code == 401
        assert r.json()["error"]


def test_revoked_key_is_refused_next_request(setup: dict[str, str], tmp_path: Path) -> None:
    """`nexios-auth api-key revoke` ends the key on the next request."""
    with TestClient(example.create_app(str(tmp_path)), base_url="https://testserver") as c:
        assert c.get("/reports", headers=setup).status_code == 200
        store = ["--users-db", example.USERS_DB, "--store-db", example.STORE_DB]
        listing = CliRunner().invoke(cli, ["api-key", "list", "svc-worker", *store])
        assert listing.exit_code == 0, listing.output
        key_id = listing.output.split()[0]
        revoke = ["api-key", "revoke", key_id, "--store-db", example.STORE_DB]
        revoked = CliRunner().invoke(cli, revoke)
        assert revoked.exit_code == 0, revoked.output
        assert c.get("/reports", headers=setup).status_code == 401
