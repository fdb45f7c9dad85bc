"""install() silences Nexios 3.12's per-Depend print by default, with an opt-out."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient
from nexios_auth_di import install, optional_user
from nexios_auth_di.testing import make_test_container

app = NexiosApp(debug=False)
install(app, make_test_container(), quiet_dependencies={quiet})

@app.get("/")
async def index(request, response, user=Depend(optional_user)):
    return {{"ok": True}}

with TestClient(app) as client:
    assert client.get("/").status_code == 200
print("done")
"""


def _stdout(quiet: bool) -> str:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(quiet=quiet)],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def test_install_silences_the_dependency_print_by_default() -> None:
    """A request through an installed app writes nothing to stdout from Nexios."""
    assert _stdout(quiet=True).strip() == "done"


def test_quiet_dependencies_false_keeps_nexios_output() -> None:
    """The documented opt-out leaves Nexios's own print in place (control row)."""
    assert "Resolving dependency" in _stdout(quiet=False)
