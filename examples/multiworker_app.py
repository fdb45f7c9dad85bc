"""A small app for running several worker processes over one store.

Run two workers sharing Redis::

    eval "$(scripts/redis-test-server.sh)"
    NEXIOS_AUTH_STORES=redis NEXIOS_AUTH_REDIS_URL=$REDIS_URL \\
        .venv/bin/uvicorn examples.multiworker_app:app --workers 2 --port 8000

Configuration comes from the environment, so every worker builds the same container:
``NEXIOS_AUTH_STORES`` (memory | sqlite | redis), ``NEXIOS_AUTH_REDIS_URL``,
``NEXIOS_AUTH_SQLITE_PATH``, ``NEXIOS_AUTH_NAMESPACE``, ``NEXIOS_AUTH_JWT_SECRET`` and
``NEXIOS_AUTH_REVOCATION_CACHE`` (``1``: per-worker revocation view over pub/sub).
Tokens are minted by whoever holds the secret (``build_container().token_service()``);
this app has no login route, only a throttled ``/login-attempt`` that always fails, to
show that the backoff is shared by every worker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from nexios import Depend, NexiosApp
from nexios.http import Request, Response

from nexios_auth_di import AuthContainer, SimpleUser, current_user, install
from nexios_auth_di.exceptions import TokenError
from nexios_auth_di.http.compat import silence_dependency_print
from nexios_auth_di.http.throttling import client_ip
from nexios_auth_di.routes.bodies import read_json_object, require_str

__all__ = ["USERS", "app", "build_app", "build_container", "config_from_env"]

#: only for local runs and tests; production reads NEXIOS_AUTH_JWT_SECRET
DEMO_SECRET = "multiworker-demo-secret-not-for-production-0123456789"

USERS: dict[str, SimpleUser] = {
    "alice": SimpleUser("alice", permissions=["read"]),
    "bob": SimpleUser("bob", permissions=["read"]),
    "root": SimpleUser("root", permissions=["read", "admin"]),
}


def config_from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The container configuration, read from ``env`` (default ``os.environ``)."""
    env = os.environ if env is None else env
    return {
        "backends": ["jwt"],
        "jwt": {"secret_key": env.get("NEXIOS_AUTH_JWT_SECRET", DEMO_SECRET), "access_ttl": 900},
        "stores": env.get("NEXIOS_AUTH_STORES", "memory"),
        "store": {
            "sqlite_path": env.get("NEXIOS_AUTH_SQLITE_PATH", "multiworker.sqlite3"),
            "redis_url": env.get("NEXIOS_AUTH_REDIS_URL"),
            "namespace": env.get("NEXIOS_AUTH_NAMESPACE", "nxauth-demo"),
            "revocation_cache": env.get("NEXIOS_AUTH_REVOCATION_CACHE", "") == "1",
        },
        # per account: 3 failures, then 5 s, 10 s, ... of backoff; per IP generous, since
        # every local client is 127.0.0.1
        "throttle": {"per_account": [3, 300], "per_ip": [1000, 300], "base_delay": 5.0},
    }


def build_container(env: Mapping[str, str] | None = None) -> AuthContainer:
    container = AuthContainer()
    container.config.from_dict(config_from_env(env))
    container.user_loader.override(lambda identity: USERS.get(str(identity)))
    return container


def _bearer(request: Request) -> str:
    raw = request.headers.get("authorization") or ""
    scheme, _, token = raw.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("no_bearer")
    return token.strip()


def build_app(container: AuthContainer) -> NexiosApp:
    app = NexiosApp(debug=False)  # Nexios's debug page shows tracebacks, locals and headers

    @app.get("/pid")
    async def pid(request: Request, response: Response) -> Any:
        revocations = type(container.revocation_store()).__name__
        return response.json({"pid": os.getpid(), "revocations": revocations})

    @app.get("/me")
    async def me(request: Request, response: Response, user: Any = Depend(current_user)) -> Any:
        return response.json({"user": user.identity, "pid": os.getpid()})

    @app.post("/revoke")
    async def revoke(request: Request, response: Response, user: Any = Depend(current_user)) -> Any:
        await container.token_service().revoke(_bearer(request))
        return response.json({"revoked": True})

    @app.post("/logout-all")
    async def logout_all(
        request: Request, response: Response, user: Any = Depend(current_user)
    ) -> Any:
        await container.token_service().revoke_all(user.identity)
        return response.json({"logged_out": user.identity})

    @app.post("/login-attempt")
    async def login_attempt(request: Request, response: Response) -> Any:
        body = await read_json_object(request, frozenset({"username", "password"}))
        username = require_str(body, "username", max_chars=256)  # 400/413/415, never 500
        throttle, ip = container.login_throttle(), client_ip(request.scope)
        # counts the guess (this demo never accepts a password); 429 + Retry-After past it
        await throttle.reserve(username, ip)
        return response.json({"error": "invalid_credentials"}, status_code=401)

    install(app, container)
    return app


silence_dependency_print()  # Nexios 3.12 prints on every Depend; a bootstrap decision
app = build_app(build_container())
