"""Guide § Session Authentication Backend: user_key, the login/logout handlers, the flow."""

from __future__ import annotations

from typing import Any

import pytest
from guide_support import HTTPS, SESSION_SECRET, UserTable, add_session_login, parse_set_cookie
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import AuthContainer, current_user, install
from nexios_auth_di.backends.session import SessionAuthBackend
from nexios_auth_di.decorator import login_required
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.session import SessionMiddleware, csrf_token
from nexios_auth_di.stores.memory import MemoryRevocationStore, MemorySessionStore


def add_guide_routes(app: NexiosApp, db: UserTable) -> None:
    """The guide's login/logout handlers, its redirecting /profile, and a CSRF-guarded POST."""

    add_session_login(app, db, logout=True)

    @app.get("/profile")
    async def profile(request: Any, response: Any) -> Any:
        if request.user.is_authenticated:
            return response.json({"username": request.user.username})
        return response.redirect("/login")

    @app.get("/csrf")
    async def csrf(request: Any, response: Any) -> Any:
        return {"csrf": csrf_token(request)}

    @app.post("/posts")
    @login_required
    async def create_post(request: Any, response: Any) -> Any:
        return response.json({"author": request.user.username}, status_code=201)


def guide_app(db: UserTable, **session_kw: Any) -> NexiosApp:
    app = NexiosApp()

    async def get_user_by_id(user_id: int) -> Any:
        return await db.get_user(user_id)

    session_backend = SessionAuthBackend(user_key="user_id", authenticate_func=get_user_by_id)
    app.add_middleware(AuthenticationMiddleware(backend=session_backend))
    app.add_middleware(SessionMiddleware(secret_key=SESSION_SECRET, **session_kw))
    add_guide_routes(app, db)
    return app


def test_guide_login_flow(db: UserTable) -> None:
    """The guide's integration test: login, profile 200, logout, profile redirects (302)."""
    with TestClient(guide_app(db), base_url=HTTPS) as c:
        r = c.post("/login", json={"username": "test_user", "password": "password123"})
        assert r.status_code == 401  # unknown user
        r = c.post("/login", json={"username": "alice", "password": "password123"})
        assert r.status_code == 200
        assert r.json() == {"message": "Login successful"}
        assert c.get("/profile").json() == {"username": "alice"}
        out = c.post("/logout")
        assert out.status_code == 200
        assert out.json() == {"message": "Logout successful"}
        name, value, attrs = parse_set_cookie(out.headers["set-cookie"])
        assert (name, value, attrs["max-age"]) == ("session", "", "0")
        r = c.get("/profile", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == "/login"


def test_user_key_names_the_session_entry(db: UserTable) -> None:
    """A backend with user_key="uid" ignores "user_id" and reads "uid" instead."""
    app = NexiosApp()
    backend = SessionAuthBackend(authenticate_func=db.get_user, user_key="uid")
    app.add_middleware(AuthenticationMiddleware(backend=backend))
    app.add_middleware(SessionMiddleware(secret_key=SESSION_SECRET))

    @app.post("/set/{key}")
    async def set_key(request: Any, response: Any, key: str) -> Any:
        request.session[key] = 2
        return {"ok": True}

    @app.get("/who")
    async def who(request: Any, response: Any) -> Any:
        u = request.user
        return {"user": u.username if u.is_authenticated else None}

    with TestClient(app, base_url=HTTPS) as c:
        c.post("/set/user_id")
        assert c.get("/who").json() == {"user": None}
        c.post("/set/uid")
        assert c.get("/who").json() == {"user": "root"}


@pytest.mark.parametrize(
    "session_kw",
    [
        pytest.param({"store": MemorySessionStore()}, id="server-side-store"),
        pytest.param({"revocations": MemoryRevocationStore()}, id="signed-cookie+revocations"),
    ],
)
def test_replayed_cookie_after_logout_is_anonymous(
    db: UserTable, session_kw: dict[str, Any]
) -> None:
    """With a store (or revocations), a cookie saved before logout no longer logs anyone in."""
    with TestClient(guide_app(db, **session_kw), base_url=HTTPS) as c:
        c.post("/login", json={"username": "alice", "password": "password123"})
        stolen = c.cookies.get("session")
        assert c.get("/profile").status_code == 200
        assert c.post("/logout").status_code == 200
        c.cookies.set("session", stolen)
        r = c.get("/profile", follow_redirects=False)
    assert r.status_code == 302


def test_unsafe_request_by_cookie_needs_the_csrf_token(db: UserTable) -> None:
    """A cookie-authenticated POST without X-CSRF-Token is a 403; with it, it goes through."""
    with TestClient(guide_app(db), base_url=HTTPS) as c:
        c.post("/login", json={"username": "alice", "password": "password123"})
        token = c.get("/csrf").json()["csrf"]
        forged = c.post("/posts")
        wrong = c.post("/posts", headers={"X-CSRF-Token": "guess"})
        ok = c.post("/posts", headers={"X-CSRF-Token": token})
    assert forged.status_code == 403
    assert forged.json() == {"error": "csrf_failed", "detail": "CSRF token missing or invalid"}
    assert wrong.status_code == 403
    assert ok.status_code == 201
    assert ok.json() == {"author": "alice"}


# --- container form ---------------------------------------------------------------------------


def test_container_sessions_are_server_side_and_logout_ends_them(db: UserTable) -> None:
    """install() adds server-side sessions: after the guide's session.clear(), a replay fails."""
    container = AuthContainer()
    container.config.from_dict(
        {"backends": ["session"], "session": {"secret_key": SESSION_SECRET, "max_age": 3600}}
    )
    container.user_loader.override(db.get_user)
    app = NexiosApp()
    install(app, container)
    add_guide_routes(app, db)

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"username": user.username}

    with TestClient(app, base_url=HTTPS) as c:
        c.post("/login", json={"username": "root", "password": "root-password"})
        stolen = c.cookies.get("session")
        assert c.get("/me").json() == {"username": "root"}
        c.post("/logout")
        c.cookies.set("session", stolen)
        r = c.get("/me")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Session realm="api"'
