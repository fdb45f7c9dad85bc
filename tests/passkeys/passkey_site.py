"""A test-only site for the real-browser passkey test: the ready-made auth router, a
``/me`` route, and one HTML page whose JavaScript runs the WebAuthn ceremonies with
``navigator.credentials.create/get`` (the same code docs/passkeys.md shows).

Served by uvicorn on 127.0.0.1 and browsed as ``http://localhost:PORT`` (a secure
context, RP id ``localhost``). Environment: ``PASSKEY_SITE_PORT`` (the origin's port)
and ``PASSKEY_SITE_USERS`` (the SQLite users file).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from dependency_injector import providers
from nexios import Depend, NexiosApp

from nexios_auth_di import AuthContainer, current_user, install
from nexios_auth_di.http.compat import silence_dependency_print
from nexios_auth_di.routes import auth_router
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

__all__ = ["app", "browser_js", "build_app", "build_container", "page"]

HERE = Path(__file__).resolve().parent
GUIDE = HERE.parents[1] / "docs" / "passkeys.md"


def browser_js() -> str:
    """The one ``javascript`` block of docs/passkeys.md: the page runs what the guide shows."""
    found = re.findall(r"```javascript\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(found) == 1, "docs/passkeys.md must have exactly one javascript block"
    return str(found[0])


def page() -> str:
    return (HERE / "passkey_site.html").read_text().replace("{{PASSKEY_JS}}", browser_js())


def build_container(port: int, users: Path) -> AuthContainer:
    """Passkeys for ``http://localhost:port``; users in SQLite; tokens in memory."""
    origin = f"http://localhost:{port}"
    container = make_test_container(
        passkeys={"rp_id": "localhost", "origins": [origin], "rp_name": "Passkey test site"},
    )
    repo = SqliteUserRepository(users)
    container.user_repository.override(providers.Object(repo))
    container.user_loader.override(providers.Object(user_loader_for(repo)))
    return container


def build_app(container: AuthContainer) -> NexiosApp:
    app = NexiosApp(debug=False)
    html = page()

    @app.get("/")
    async def home(request: Any, response: Any) -> Any:
        return response.html(html)

    @app.get("/pid")  # tests/support/uvicorn.py polls it until the worker answers
    async def pid(request: Any, response: Any) -> Any:
        return response.json({"pid": os.getpid()})

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        record = await container.user_repository().get_by_id(user.id)
        name = None if record is None else record.username
        return response.json({"id": user.id, "username": name})

    app.mount_router(auth_router(container, login_mode="tokens"))
    install(app, container)
    return app


silence_dependency_print()
app = build_app(
    build_container(
        int(os.environ.get("PASSKEY_SITE_PORT", "8000")),
        Path(os.environ.get("PASSKEY_SITE_USERS", "passkey_site_users.sqlite3")),
    )
)
