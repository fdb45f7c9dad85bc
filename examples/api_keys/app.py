r"""Service-to-service calls with scoped API keys created through the CLI.

A "reports" service exposes ``GET /reports`` (scope ``reports:read``) and
``POST /reports`` (scope ``reports:write``). A worker calls it with a key that holds only
``reports:read``. Set it up from the directory the service runs in::

    printf 'a long service password\n' | nexios-auth user create svc-worker \
        --users-db reports_users.sqlite3
    nexios-auth api-key create svc-worker --scope reports:read --name nightly \
        --users-db reports_users.sqlite3 --store-db reports_auth.sqlite3
    uvicorn --factory examples.api_keys.app:create_app
    curl -s localhost:8000/reports -H "X-API-Key: <the printed key>"

The key is printed once; only its hash is stored. ``nexios-auth api-key revoke KEY_ID``
ends it on the next request.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dependency_injector import providers
from nexios import NexiosApp
from nexios.dependencies import Depend

from nexios_auth_di import AuthContainer, install, profile_path, require_scopes
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

USERS_DB = "reports_users.sqlite3"
STORE_DB = "reports_auth.sqlite3"


def create_app(data_dir: str | None = None) -> NexiosApp:
    """The reports service on the development profile, its files in ``data_dir``."""
    folder = Path(data_dir or os.environ.get("EXAMPLE_DATA_DIR", "."))
    container = AuthContainer()
    container.config.from_yaml(profile_path("development"))
    container.config.store.sqlite_path.from_value(str(folder / STORE_DB))
    users = SqliteUserRepository(str(folder / USERS_DB))
    container.user_repository.override(providers.Object(users))
    container.user_loader.override(providers.Object(user_loader_for(users)))
    app = NexiosApp(title="reports service", debug=False)

    @app.get("/reports")
    async def list_reports(
        request: Any, response: Any, caller: Any = Depend(require_scopes("reports:read"))
    ) -> Any:
        return {"caller": caller.username, "reports": ["daily", "weekly"]}

    @app.post("/reports")
    async def create_report(
        request: Any, response: Any, caller: Any = Depend(require_scopes("reports:write"))
    ) -> Any:
        return response.json({"created": True}, status_code=201)

    install(app, container)
    return app
