"""Helpers for the route tests: a real Nexios app, real SQLite users, a MemorySink."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
from nexios import Depend, NexiosApp
from nexios.testclient import TestClient

from nexios_auth_di import AuthContainer, current_user, install
from nexios_auth_di.events import MemorySink
from nexios_auth_di.routes import auth_router
from nexios_auth_di.users import SqliteUserRepository, UserRecord

PASSWORD = "correct horse battery"


class PeerFromHeader:
    """Test-only ASGI shim: ``X-Test-Peer`` sets the client address, so one client can
    speak from several IPs (the throttle counts per IP)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        for key, value in scope.get("headers") or ():
            if key == b"x-test-peer":
                scope["client"] = (value.decode(), 40000)
        await self.app(scope, receive, send)


class Browser:
    """One user agent's session cookie, kept apart from the shared client's jar so
    several "browsers" can talk to one app on one event loop."""

    def __init__(self, client: TestClient, cookie: str | None = None) -> None:
        self.client = client
        self.cookie = cookie
        self.csrf: str | None = None
        #: install() prefixes a Secure session cookie with __Host- by default
        self.cookie_name = "__Host-session"

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.cookie is not None:
            headers["Cookie"] = f"{self.cookie_name}={self.cookie}"
        if self.csrf is not None and method.upper() != "GET":
            headers.setdefault("X-CSRF-Token", self.csrf)
        self.client.cookies.clear()
        response = self.client.request(method, url, headers=headers, **kwargs)
        self.client.cookies.clear()
        for line in response.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            if name.strip() in ("session", "__Host-session"):
                self.cookie_name = name.strip()
                value = rest.split(";", 1)[0]
                self.cookie = None if "max-age=0" in line.lower() or not value else value
        return response

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)


@dataclass
class Env:
    """A running app and the parts tests look at."""

    client: TestClient
    container: AuthContainer
    repo: SqliteUserRepository
    sink: MemorySink
    seen_secrets: list[str] = field(default_factory=list)

    def browser(self) -> Browser:
        return Browser(self.client)

    def register(self, username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
        response = self.client.post(
            "/auth/register", json={"username": username, "password": password}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def seed(self, username: str, permissions: tuple[str, ...] = ()) -> UserRecord:
        """Create a user with permissions directly in the repository (no route sets them)."""

        async def create() -> UserRecord:
            hashed = await self.container.password_service().hash(PASSWORD)
            return await self.repo.create(username, hashed, permissions)

        return asyncio.run(create())

    def login(
        self, username: str = "alice", password: str = PASSWORD, browser: Browser | None = None
    ) -> dict[str, Any]:
        body = {"username": username, "password": password}
        sender = browser or self.browser()
        response = sender.post("/auth/login", json=body)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        if browser is not None and "csrf_token" in data:
            browser.csrf = data["csrf_token"]
        self.seen_secrets += [
            v for k, v in data.items() if k != "token_type" and isinstance(v, str)
        ]
        return data

    def remember(self, data: dict[str, Any]) -> None:
        """Note every credential a response handed out, for the audit-leak test."""
        secret = ("access_token", "refresh_token", "csrf_token", "key")
        self.seen_secrets += [str(data[k]) for k in secret if k in data]

    def me(self, **headers: str) -> httpx.Response:
        self.client.cookies.clear()
        return self.client.get("/me", headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def build_app(container: AuthContainer, login_mode: str | None) -> NexiosApp:
    app = NexiosApp()

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return response.json({"id": user.id, "permissions": sorted(user.permissions)})

    kwargs: dict[str, Any] = {} if login_mode is None else {"login_mode": login_mode}
    app.mount_router(auth_router(container, **kwargs))
    install(app, container)
    app.wrap_asgi(PeerFromHeader)
    return app
