"""A guide-style app: session and JWT backends wired the way the Nexios guide writes
them, with the safe choices the guide's snippets leave out.

Run it::

    python examples/guide_app.py

It serves on 127.0.0.1:8000 (``GUIDE_PORT`` picks another port). Secrets come from
``GUIDE_JWT_SECRET`` and ``GUIDE_SESSION_SECRET`` when set (at least 32 bytes; make one
with ``python -c 'import secrets; print(secrets.token_urlsafe(48))'``), else each process
makes its own, so tokens and cookies die with it. Demo users: alice / alice-password (no
permissions) and root / root-password ("admin").

The safe habits it shows:

* server-side sessions (``SessionMiddleware(..., store=MemorySessionStore())``): the cookie
  is a signed random id that reveals nothing, and logout deletes the session, so a cookie
  saved before logout is dead after it (a signed-cookie session cannot be recalled);
* CSRF tokens on login *and* logout: ``GET /csrf`` hands the page its token, which
  ``POST /login`` and ``POST /logout`` echo in ``X-CSRF-Token``; login CSRF would let
  another site sign the victim in to the attacker's account;
* a JSON-only login (415 otherwise): a cross-site form cannot send JSON without a CORS
  preflight; login starts a new session id and CSRF token (session fixation);
* ``NexiosApp(debug=False)``: Nexios's debug page shows tracebacks, locals and headers.

Session cookies are ``Secure``: a browser needs https (or a TLS-terminating proxy).
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from nexios import NexiosApp

from nexios_auth_di.backends.jwt import JWTAuthBackend
from nexios_auth_di.backends.session import SessionAuthBackend
from nexios_auth_di.base import BaseUser
from nexios_auth_di.decorator import login_required, permission_required
from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.middleware import AuthenticationMiddleware, RateLimitMiddleware
from nexios_auth_di.passwords import PasswordService
from nexios_auth_di.routes.bodies import read_json_object
from nexios_auth_di.session import SessionMiddleware, csrf_token, require_csrf
from nexios_auth_di.session import login as session_login
from nexios_auth_di.session import logout as session_logout
from nexios_auth_di.stores.memory import MemorySessionStore

__all__ = ["UserDB", "UserModel", "app", "create_app", "secret_from_env"]

TOKEN_LIFETIME = timedelta(hours=24)
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2 (HS256), and what SessionMiddleware demands
CREDENTIALS = frozenset({"username", "password"})
NO_STORE = {"Cache-Control": "no-store"}
DEMO_USERS = {
    1: ("alice", "alice-password", ()),
    2: ("root", "root-password", ("admin",)),
}


class UserModel(BaseUser):
    def __init__(self, id: int, username: str, permissions: tuple[str, ...] = ()) -> None:
        self.id = id
        self.username = username
        self.permissions = frozenset(permissions)

    def get_display_name(self) -> str:
        return self.username


class UserDB:
    """Stands in for the guide's ``db``: users by id, argon2id password hashes by name."""

    def __init__(self, passwords: PasswordService) -> None:
        self.passwords = passwords
        self.users: dict[int, UserModel] = {}
        self.hashes: dict[str, tuple[int, str]] = {}

    async def seed(self) -> None:
        """Hash the demo passwords at startup (argon2 runs off the event loop)."""
        for uid, (name, password, perms) in DEMO_USERS.items():
            self.users[uid] = UserModel(uid, name, perms)
            self.hashes[name] = (uid, await self.passwords.hash(password))

    async def get_user(self, user_id: Any) -> UserModel | None:
        try:
            return self.users.get(int(user_id))
        except (TypeError, ValueError):
            return None

    async def validate_credentials(self, username: Any, password: Any) -> UserModel | None:
        if not isinstance(username, str) or not isinstance(password, str):
            return None
        found = self.hashes.get(username)
        if found is None:
            await self.passwords.dummy_verify(password)  # same cost as a real miss
            return None
        uid, hashed = found
        return self.users[uid] if await self.passwords.verify(hashed, password) else None


def secret_from_env(name: str) -> str:
    """``$name`` if set (and long enough, or a clear error), else a per-process secret."""
    value = os.environ.get(name)
    if value is None:
        return secrets.token_urlsafe(48)
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"{name} must be at least {MIN_SECRET_BYTES} bytes (unset it for a per-process "
            "secret, or make one: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return value


def create_app(
    *,
    jwt_secret: str | None = None,
    session_secret: str | None = None,
    password_service: PasswordService | None = None,
) -> NexiosApp:
    jwt_secret = jwt_secret or secret_from_env("GUIDE_JWT_SECRET")
    session_secret = session_secret or secret_from_env("GUIDE_SESSION_SECRET")
    db = UserDB(password_service or PasswordService())
    app = NexiosApp(debug=False)  # Nexios's debug page shows tracebacks, locals and headers
    app.on_startup(db.seed)

    session_backend = SessionAuthBackend(user_key="user_id", authenticate_func=db.get_user)
    jwt_backend = JWTAuthBackend(
        secret_key=jwt_secret,
        algorithm="HS256",
        token_prefix="Bearer",
        authenticate_func=db.get_user,
        auth_header_name="Authorization",
    )
    # The last middleware added runs first: rate limit -> session -> authentication.
    app.add_middleware(AuthenticationMiddleware(backends=[session_backend, jwt_backend]))
    # store=: the session lives on the server; the cookie is only a signed random id
    app.add_middleware(
        SessionMiddleware(
            secret_key=session_secret,
            max_age=3600,
            secure=True,
            httponly=True,
            samesite="strict",
            store=MemorySessionStore(),
        )
    )
    app.add_middleware(RateLimitMiddleware(rate_limit=5, time_window=60, paths=["/login"]))

    @app.get("/csrf")
    async def csrf(request: Any, response: Any) -> Any:
        """The token this browser's page echoes in ``X-CSRF-Token`` (before login too)."""
        return response.json({"csrf_token": csrf_token(request)}, headers=NO_STORE)

    @app.post("/login")
    async def login(request: Any, response: Any) -> Any:
        require_csrf(request.scope)  # 403: login CSRF needs this browser's token
        data = await read_json_object(request, CREDENTIALS)  # 415 unless JSON; 400 if bad
        user = await db.validate_credentials(data.get("username"), data.get("password"))
        if not user:
            return response.json({"error": "Invalid credentials"}, status_code=401)
        await session_login(request, user.id)  # new session id and CSRF token (fixation)
        now = datetime.now(UTC)
        payload = {
            "user_id": user.id,
            "username": user.username,
            "exp": now + TOKEN_LIFETIME,
            "iat": now,
        }
        token = jwt.encode(payload, jwt_secret, algorithm="HS256")
        return response.json(
            {
                "message": "Login successful",
                "token": token,
                "expires_in": int(TOKEN_LIFETIME.total_seconds()),
                "csrf_token": csrf_token(request),
            },
            headers=NO_STORE,
        )

    @app.post("/logout")
    async def logout(request: Any, response: Any) -> Any:
        require_csrf(request.scope)  # 403: another site cannot log the user out
        await session_logout(request)  # deletes the stored session: old cookies are dead
        return response.json({"message": "Logout successful"})

    @app.get("/profile")
    async def profile(request: Any, response: Any) -> Any:
        if request.user.is_authenticated:
            return response.json({"id": request.user.id, "username": request.user.username})
        return response.redirect("/login")

    @app.get("/me")
    @login_required
    async def me(request: Any, response: Any) -> Any:
        return {"username": request.user.username, "auth": request.scope["auth"]}

    @app.get("/admin")
    @permission_required("admin")
    async def admin_panel(request: Any, response: Any) -> Any:
        return response.json({"message": "Welcome to admin panel"})

    return app


app = create_app()

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("GUIDE_PORT", "8000")))
