r"""The example app: a tiny notes API with every piece wired through the container.

Serve it (README, command 1)::

    .venv/bin/nox -s demo        # uvicorn --factory examples.quickstart.app:create_app

It runs on embedded defaults: SQLite for users and auth state, nothing to install.
Try it::

    curl -s -XPOST localhost:8000/auth/register -H 'Content-Type: application/json' \
         -d '{"username":"ada","password":"correct horse"}'
    curl -s -XPOST localhost:8000/auth/login -H 'Content-Type: application/json' \
         -d '{"username":"ada","password":"correct horse"}'
    curl -s localhost:8000/me -H "Authorization: Bearer <access_token>"
    curl -s -XPOST localhost:8000/notes -H "Authorization: Bearer <access_token>" \
         -H 'Content-Type: application/json' -d '{"text":"hello"}'

Bodies are JSON only (415 otherwise); a malformed one is a 400/413 naming the problem.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from dependency_injector import providers
from nexios import NexiosApp
from nexios.dependencies import Depend

from nexios_auth_di import (
    AuthContainer,
    authorize,
    current_user,
    install,
    optional_user,
    permission_required,
    require_scopes,
)
from nexios_auth_di.http.compat import silence_dependency_print
from nexios_auth_di.policies import Access, Policy
from nexios_auth_di.routes import auth_router
from nexios_auth_di.routes.bodies import read_json_object, require_str
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

ROOT = Path(__file__).resolve().parents[2]
NOTE_FIELDS = frozenset({"text"})
MAX_NOTE_CHARS = 10_000


class OwnsNote(Policy):
    """Object-level rule: only a note's author may read it."""

    def __init__(self, notes: dict[str, dict[str, Any]]) -> None:
        self.notes = notes

    def allows(self, access: Access) -> bool:
        note = self.notes.get(access.obj)
        return note is not None and note["owner"] == access.user.id


def first_run_banner(port: str) -> str:
    """What a new user needs on the first run: where it serves, where the docs are, and a
    curl line that works as pasted (JSON bodies need the content-type, 415 otherwise)."""
    base = f"http://127.0.0.1:{port}"
    return (
        f"quickstart serving on {base}  (API docs: {base}/docs)\n"
        f"try: curl -s -XPOST {base}/auth/register -H 'Content-Type: application/json' "
        """-d '{"username":"ada","password":"correct horse"}'\n"""
        "make ada admin: .venv/bin/nexios-auth user set-permissions ada admin "
        "--users-db example_users.sqlite3"
    )


def create_app(profile: str = "development", data_dir: str | None = None) -> NexiosApp:
    """Build the app from a YAML profile in ``containers/``; ``data_dir`` holds its SQLite
    files (default: the current directory)."""
    silence_dependency_print()  # Nexios 3.12 prints on every Depend otherwise
    folder = Path(data_dir or os.environ.get("EXAMPLE_DATA_DIR", "."))
    container = AuthContainer()
    container.config.from_yaml(str(ROOT / "containers" / f"{profile}.yaml"))
    container.config.store.sqlite_path.from_value(str(folder / "example_auth.sqlite3"))
    # any user may give their own keys this scope: it only bounds what a key may write
    container.config.api_key.grantable_scopes.from_value(["notes:write"])

    users_file = folder / "example_users.sqlite3"
    if not users_file.exists():  # first run: say how to use it
        print(first_run_banner(os.environ.get("PORT", "8000")), file=sys.stderr, flush=True)
    users = SqliteUserRepository(str(users_file))
    container.user_repository.override(providers.Object(users))
    container.user_loader.override(providers.Object(user_loader_for(users)))
    notes: dict[str, dict[str, Any]] = {}  # app data, not auth state: kept simple
    container.policies.override(providers.Dict(owns_note=providers.Object(OwnsNote(notes))))

    # debug=False: Nexios's default debug page shows tracebacks, locals and headers
    app = NexiosApp(title="nexios_auth_di example", debug=False)

    @app.get("/")
    async def index(request: Any, response: Any, user: Any = Depend(optional_user)) -> Any:
        return {"hello": user.get_display_name() if user else "stranger"}

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"id": user.id, "username": user.username, "auth": request.scope["auth"]}

    @app.get("/admin")
    @permission_required("admin")
    async def admin(request: Any, response: Any) -> Any:
        return {"admin": request.user.username}

    @app.post("/notes")  # tokens and sessions need a login; an API key needs "notes:write"
    async def create_note(
        request: Any, response: Any, user: Any = Depend(require_scopes("notes:write"))
    ) -> Any:
        # bounded, strict JSON: a malformed body is a 400/413/415 naming the problem
        body = await read_json_object(request, NOTE_FIELDS)
        text = require_str(body, "text", max_chars=MAX_NOTE_CHARS)
        note_id = str(len(notes) + 1)
        notes[note_id] = {"owner": user.id, "text": text}
        return response.json({"id": note_id}, status_code=201)

    @app.get("/notes/{note_id}")
    async def read_note(request: Any, response: Any, note_id: str) -> Any:
        await authorize(request, "owns_note", note_id)
        return notes[note_id]

    install(app, container)
    app.mount_router(auth_router(container, login_mode="tokens"))
    return app
