"""The ready-made auth routes over Redis, for the two-worker race test: every worker
builds the same container from the environment (``RACE_REDIS_URL``, ``RACE_NAMESPACE``,
``RACE_USERS_DB``, ``RACE_REVOCATION_CACHE``)."""

from __future__ import annotations

import os
from typing import Any

from dependency_injector import providers
from nexios import Depend, NexiosApp

from nexios_auth_di import current_user, install
from nexios_auth_di.http.compat import silence_dependency_print
from nexios_auth_di.routes import auth_router
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for


def build_app() -> NexiosApp:
    store = {
        "redis_url": os.environ["RACE_REDIS_URL"],
        "namespace": os.environ["RACE_NAMESPACE"],
        "revocation_cache": os.environ.get("RACE_REVOCATION_CACHE") == "1",
    }
    container = make_test_container(backends=["jwt"], stores="redis", store=store)
    repo = SqliteUserRepository(os.environ["RACE_USERS_DB"])
    container.user_loader.override(providers.Object(user_loader_for(repo)))
    container.user_repository.override(providers.Object(repo))
    app = NexiosApp(debug=False)

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return response.json({"id": user.id, "pid": os.getpid()})

    @app.get("/pid")
    async def pid(request: Any, response: Any) -> Any:
        return response.json({"pid": os.getpid()})

    app.mount_router(auth_router(container, login_mode="tokens"))
    install(app, container)
    return app


silence_dependency_print()
app = build_app()
