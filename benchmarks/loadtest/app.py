"""The app ``nox -s loadtest`` and ``nox -s soak`` serve under real uvicorn.

A benchmark app, never a deployment: ``/issue`` hands out a login to any of the fixed
``USERS`` without a password, so the soak measures the token machinery rather than
argon2. Every measured route is here, with the library wired as in production:
``stores: redis``, the cached revocation view on (``NEXIOS_AUTH_REVOCATION_CACHE=1``),
the JWT, API-key and session backends, server-side sessions in Redis.

    GET  /bare              no authentication asked (the baseline)
    GET  /me                Depend(current_user): bearer token, API key or session cookie
    GET  /perm              @permission_required("read")
    POST /session           a bearer token in, a session cookie out (pre-minting)
    POST /issue             {"user": name} -> an access/refresh pair (soak)
    POST /refresh           {"refresh_token": ...} -> a new pair (soak)
    POST /revoke            revoke the bearer token sent

Configuration comes from the environment, so every worker builds the same container:
``NEXIOS_AUTH_REDIS_URL`` (unset: memory stores, for the in-process test),
``NEXIOS_AUTH_NAMESPACE``, ``NEXIOS_AUTH_JWT_SECRET``, ``NEXIOS_AUTH_REVOCATION_CACHE``,
``NEXIOS_AUTH_ACCESS_TTL``, ``NEXIOS_AUTH_REFRESH_TTL``, ``NEXIOS_AUTH_REFRESH_ABSOLUTE_TTL``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from nexios import Depend, NexiosApp
from nexios.http import Request, Response

from nexios_auth_di import AuthContainer, SimpleUser, current_user, install, permission_required
from nexios_auth_di.exceptions import BadRequest, TokenError
from nexios_auth_di.http.compat import silence_dependency_print
from nexios_auth_di.routes.bodies import read_json_object, require_str
from nexios_auth_di.sessions.middleware import login

__all__ = ["USERS", "app", "build_app", "build_container", "config_from_env"]

#: only for local benchmark runs; nothing outside 127.0.0.1 ever sees it
LOADTEST_SECRET = "loadtest-secret-not-for-production-0123456789abcdef"
SESSION_SECRET = "loadtest-session-secret-not-for-production-0123456789"

#: user ``u{i}`` may read; ``nobody`` has no permission (the 403 of ``/perm``)
USERS: dict[str, SimpleUser] = {
    **{f"u{i}": SimpleUser(f"u{i}", permissions=["read"]) for i in range(256)},
    "nobody": SimpleUser("nobody"),
}


def config_from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The container configuration, read from ``env`` (default ``os.environ``)."""
    env = os.environ if env is None else env
    redis_url = env.get("NEXIOS_AUTH_REDIS_URL")
    return {
        "backends": ["jwt", "api_key", "session"],
        "jwt": {
            "secret_key": env.get("NEXIOS_AUTH_JWT_SECRET", LOADTEST_SECRET),
            # the soak shortens these so revocation marks expire within its warm-up
            "access_ttl": int(env.get("NEXIOS_AUTH_ACCESS_TTL", "900")),
            "refresh_ttl": int(env.get("NEXIOS_AUTH_REFRESH_TTL", str(14 * 86400))),
            "refresh_absolute_ttl": int(
                env.get("NEXIOS_AUTH_REFRESH_ABSOLUTE_TTL", str(30 * 86400))
            ),
        },
        "session": {"secret_key": SESSION_SECRET, "secure": False},  # plain http on loopback
        "stores": "redis" if redis_url else "memory",
        "store": {
            "redis_url": redis_url,
            "namespace": env.get("NEXIOS_AUTH_NAMESPACE", "nxauth-loadtest"),
            "revocation_cache": bool(redis_url)
            and env.get("NEXIOS_AUTH_REVOCATION_CACHE", "1") == "1",
        },
    }


def build_container(env: Mapping[str, str] | None = None) -> AuthContainer:
    container = AuthContainer()
    container.config.from_dict(config_from_env(env))
    container.user_loader.override(lambda identity: USERS.get(str(identity)))
    return container


def _bearer(request: Request) -> str:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("no_bearer")
    return token.strip()


def build_app(container: AuthContainer) -> NexiosApp:
    app = NexiosApp(debug=False)  # Nexios's debug page shows tracebacks, locals and headers

    @app.get("/pid")
    async def pid(request: Request, response: Response) -> Any:
        return response.json({"pid": os.getpid()})

    @app.get("/bare")
    async def bare(request: Request, response: Response) -> Any:
        return response.json({"ok": True})

    @app.get("/me")
    async def me(request: Request, response: Response, user: Any = Depend(current_user)) -> Any:
        return response.json({"user": user.identity})

    @app.get("/perm")
    @permission_required("read")
    async def perm(request: Request, response: Response) -> Any:
        return response.json({"user": request.user.identity})

    @app.post("/session")
    async def session(
        request: Request, response: Response, user: Any = Depend(current_user)
    ) -> Any:
        await login(request, user.identity)
        return response.json({"user": user.identity})

    @app.post("/issue")
    async def issue(request: Request, response: Response) -> Any:
        body = await read_json_object(request, frozenset({"user"}))
        name = require_str(body, "user", max_chars=64)
        if name not in USERS:
            raise BadRequest("unknown user", reason="unknown_user")
        tokens = container.token_service()
        generation = await tokens.current_generation(name)
        access, refresh = await tokens.issue_login(name, generation)
        return response.json({"access_token": access, "refresh_token": refresh})

    @app.post("/refresh")
    async def refresh(request: Request, response: Response) -> Any:
        body = await read_json_object(request, frozenset({"refresh_token"}))
        token = require_str(body, "refresh_token", max_chars=4096)
        access, new_refresh = await container.token_service().refresh(token)
        return response.json({"access_token": access, "refresh_token": new_refresh})

    @app.post("/revoke")
    async def revoke(request: Request, response: Response, user: Any = Depend(current_user)) -> Any:
        await container.token_service().revoke(_bearer(request))
        return response.json({"revoked": True})

    install(app, container)
    return app


silence_dependency_print()  # Nexios 3.12 prints on every Depend; a bootstrap decision
app = build_app(build_container())
