"""A guide-style app: session and JWT backends wired the way the Nexios guide writes them.

Run it::

    GUIDE_JWT_SECRET=... GUIDE_SESSION_SECRET=... python examples/guide_app.py

Demo users: alice / alice-password (no permissions) and root / root-password ("admin").
Secrets default to random per-process values, so tokens and cookies die with the process.
Session cookies are ``Secure``: use https (or a TLS-terminating proxy) in a browser.
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
from nexios_auth_di.middleware import AuthenticationMiddleware, RateLimitMiddleware
from nexios_auth_di.passwords import PasswordService
from nexios_auth_di.session import SessionMiddleware

__all__ = ["UserDB", "UserModel", "app", "create_app"]

TOKEN_LIFETIME = timedelta(hours=24)
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


def create_app(
    *,
    jwt_secret: str | None = None,
    session_secret: str | None = None,
    password_service: PasswordService | None = None,
) -> NexiosApp:
    jwt_secret = jwt_secret or os.environ.get("GUIDE_JWT_SECRET") or secrets.token_urlsafe(32)
    session_secret = (
        session_secret or os.environ.get("GUIDE_SESSION_SECRET") or secrets.token_urlsafe(32)
    )
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
    app.add_middleware(
        SessionMiddleware(
            secret_key=session_secret, max_age=3600, secure=True, httponly=True, samesite="strict"
        )
    )
    app.add_middleware(RateLimitMiddleware(rate_limit=5, time_window=60, paths=["/login"]))

    @app.post("/login")
    async def login(request: Any, response: Any) -> Any:
        try:
            data = await request.json
        except ValueError:
            return response.json({"error": "Invalid JSON"}, status_code=400)
        if not isinstance(data, dict):
            return response.json({"error": "Invalid JSON"}, status_code=400)
        user = await db.validate_credentials(data.get("username"), data.get("password"))
        if not user:
            return response.json({"error": "Invalid credentials"}, status_code=401)
        request.session["user_id"] = user.id
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
            }
        )

    @app.post("/logout")
    async def logout(request: Any, response: Any) -> Any:
        request.session.clear()
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

    uvicorn.run(app, host="127.0.0.1", port=8000)
