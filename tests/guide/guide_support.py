"""Shared pieces for the guide ports: the guide's user model, a tiny user table, the
guide's JWT payload, and a Set-Cookie parser. The user table plays the guide's ``db``;
it is the app's data, not the code under test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

import jwt

from nexios_auth_di.base import BaseUser

#: HMAC secrets must be >= 32 bytes; the guide's "your-secret-key" is refused on purpose
JWT_SECRET = "your-super-secret-jwt-key-at-least-32-bytes!"
SESSION_SECRET = "your-session-secret-key-at-least-32-bytes!"
HTTPS = "https://testserver"


class UserModel(BaseUser):
    """The guide's ``UserModel(id=..., username=..., email=..., is_admin=...)``."""

    def __init__(
        self,
        id: int,
        username: str,
        email: str = "",
        is_admin: bool = False,
        permissions: list[str] | None = None,
        api_key: str | None = None,
    ) -> None:
        self.id = id
        self.username = username
        self.email = email
        self.is_admin = is_admin
        self.permissions = permissions or []
        self.api_key = api_key

    def get_display_name(self) -> str:
        return self.username


class UserTable:
    """The guide's ``db``: users by id, by API key, and by username/password."""

    def __init__(self) -> None:
        self.users = {
            1: UserModel(1, "alice", "alice@example.com", permissions=["read"]),
            2: UserModel(2, "root", "root@example.com", is_admin=True, permissions=["admin"]),
            3: UserModel(3, "mod", "mod@example.com", permissions=["moderator"]),
        }
        self.passwords = {"alice": "password123", "root": "root-password", "mod": "mod-pass"}
        self.api_keys = {"key-alice-0123456789": 1, "key-root-0123456789": 2}
        self.loads: list[Any] = []

    async def get_user(self, user_id: Any) -> UserModel | None:
        self.loads.append(user_id)
        try:
            return self.users.get(int(user_id))
        except (TypeError, ValueError):
            return None

    async def find_user_by_api_key(self, api_key: str) -> UserModel | None:
        user_id = self.api_keys.get(api_key)
        return None if user_id is None else self.users[user_id]

    async def validate_credentials(self, username: Any, password: Any) -> UserModel | None:
        if not isinstance(username, str) or self.passwords.get(username) != password:
            return None
        return next(u for u in self.users.values() if u.username == username)


def guide_payload(user: Any, now: datetime | None = None, hours: int = 24) -> dict[str, Any]:
    """The guide's login payload (``datetime.utcnow()`` replaced by its aware equivalent)."""
    now = now or datetime.now(UTC)
    return {
        "user_id": user.id,
        "username": user.username,
        "exp": now + timedelta(hours=hours),
        "iat": now,
    }


def guide_token(user: Any, secret: str = JWT_SECRET, **kw: Any) -> str:
    """``jwt.encode(payload, secret, algorithm="HS256")`` exactly as the guide does."""
    return jwt.encode(guide_payload(user, **kw), secret, algorithm="HS256")


def parse_set_cookie(header: str) -> tuple[str, str, dict[str, str]]:
    """``(name, value, {lower-cased attribute: value})``; flags map to ``""``."""
    first, *rest = [p.strip() for p in header.split(";")]
    name, _, value = first.partition("=")
    attrs: dict[str, str] = {}
    for part in rest:
        key, _, val = part.partition("=")
        attrs[key.strip().lower()] = val.strip()
    # cross-check with the stdlib parser: the header must be well-formed
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    assert jar[name].value == value
    return name, value, attrs


def add_session_login(app: Any, db: UserTable, *, logout: bool = False) -> None:
    """The guide's session login handler (and, with ``logout``, its logout handler)."""

    @app.post("/login")
    async def login(request: Any, response: Any) -> Any:
        data = await request.json
        user = await db.validate_credentials(data.get("username"), data.get("password"))
        if not user:
            return response.json({"error": "Invalid credentials"}, status_code=401)
        request.session["user_id"] = user.id
        return response.json({"message": "Login successful"})

    if logout:

        @app.post("/logout")
        async def logout_handler(request: Any, response: Any) -> Any:
            request.session.clear()
            return response.json({"message": "Logout successful"})
