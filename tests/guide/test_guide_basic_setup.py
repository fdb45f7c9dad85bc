"""Guide § Basic Authentication Setup: session backend + middleware, /profile and /admin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest
from guide_support import (
    HTTPS,
    JWT_SECRET,
    SESSION_SECRET,
    UserTable,
    add_session_login,
    parse_set_cookie,
)
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import AuthContainer, ConfigurationError, current_user, install, optional_user
from nexios_auth_di.backends.session import SessionAuthBackend
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.session import SessionMiddleware

REPO = Path(__file__).resolve().parents[2]


def guide_app(db: UserTable) -> NexiosApp:
    """The guide's basic setup, its /profile and /admin handlers, and a login to get in."""
    app = NexiosApp()

    async def get_user_by_id(user_id: int) -> Any:
        return await db.get_user(user_id)

    auth_backend = SessionAuthBackend(authenticate_func=get_user_by_id)
    app.add_middleware(AuthenticationMiddleware(backend=auth_backend))
    # added last, so it runs first: the session is loaded before authentication
    app.add_middleware(SessionMiddleware(secret_key=SESSION_SECRET))

    add_session_login(app, db)

    @app.get("/profile")
    async def profile(request: Any, response: Any) -> Any:
        if request.user.is_authenticated:
            return response.json(
                {
                    "id": request.user.id,
                    "username": request.user.username,
                    "email": request.user.email,
                }
            )
        return response.redirect("/login")

    @app.get("/admin")
    async def admin_panel(request: Any, response: Any) -> Any:
        if not request.user.is_authenticated:
            return response.json({"error": "Authentication required"}, status_code=401)
        if not request.user.is_admin:
            return response.json({"error": "Admin access required"}, status_code=403)
        return response.json({"message": "Welcome to admin panel"})

    return app


def log_in(client: TestClient, username: str, password: str) -> None:
    r = client.post("/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text


def test_anonymous_profile_redirects_to_login(db: UserTable) -> None:
    """The guide's /profile sends an anonymous visitor to /login with a 302."""
    with TestClient(guide_app(db), base_url=HTTPS) as c:
        r = c.get("/profile", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == "/login"
    assert db.loads == []  # no session, so the loader never ran


def test_logged_in_profile_shows_the_session_user(db: UserTable) -> None:
    """After the guide's login, /profile returns the user that SessionAuthBackend loaded."""
    with TestClient(guide_app(db), base_url=HTTPS) as c:
        log_in(c, "alice", "password123")
        r = c.get("/profile")
    assert r.status_code == 200
    assert r.json() == {"id": 1, "username": "alice", "email": "alice@example.com"}
    assert db.loads == [1]


def test_wrong_password_leaves_the_visitor_anonymous(db: UserTable) -> None:
    """A failed login answers 401 and sets no session, so /profile still redirects."""
    with TestClient(guide_app(db), base_url=HTTPS) as c:
        r = c.post("/login", json={"username": "alice", "password": "nope"})
        assert r.status_code == 401
        assert r.json() == {"error": "Invalid credentials"}
        assert "set-cookie" not in r.headers
        assert c.get("/profile", follow_redirects=False).status_code == 302


@pytest.mark.parametrize(
    ("who", "status", "body"),
    [
        (None, 401, {"error": "Authentication required"}),
        (("alice", "password123"), 403, {"error": "Admin access required"}),
        (("root", "root-password"), 200, {"message": "Welcome to admin panel"}),
    ],
)
def test_admin_panel_three_outcomes(
    db: UserTable, who: tuple[str, str] | None, status: int, body: dict[str, str]
) -> None:
    """The guide's hand-written /admin checks see anonymous, plain and admin users apart."""
    with TestClient(guide_app(db), base_url=HTTPS) as c:
        if who:
            log_in(c, *who)
        r = c.get("/admin")
    assert r.status_code == status
    assert r.json() == body


def test_session_cookie_is_not_sent_over_plain_http(db: UserTable) -> None:
    """The Secure session cookie never returns over http://, so the user stays anonymous."""
    with TestClient(guide_app(db), base_url="http://testserver") as c:
        log_in(c, "alice", "password123")
        r = c.get("/profile", follow_redirects=False)
    assert r.status_code == 302


# --- the same app, container form ----------------------------------------------------------


def container_app(db: UserTable, *, eager: bool = False) -> tuple[NexiosApp, AuthContainer]:
    """Container form: config names the backend and session secret, install() wires it."""
    container = AuthContainer()
    container.config.from_dict(
        {"backends": ["session"], "session": {"secret_key": SESSION_SECRET, "max_age": 3600}}
    )
    container.user_loader.override(db.get_user)
    app = NexiosApp()
    install(app, container, eager=eager)

    add_session_login(app, db)

    @app.get("/profile")
    async def profile(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"id": user.id, "username": user.username, "email": user.email}

    @app.get("/hello")
    async def hello(request: Any, response: Any, user: Any = Depend(optional_user)) -> Any:
        return {"hello": user.username if user else "anonymous"}

    @app.get("/raw")
    async def raw(request: Any, response: Any) -> Any:
        return {"authenticated": request.user.is_authenticated, "auth": request.scope["auth"]}

    @app.get("/pending")
    async def pending(request: Any, response: Any) -> Any:
        try:
            return {"authenticated": request.user.is_authenticated}
        except ConfigurationError as exc:
            return {"refused": "Depend(current_user)" in str(exc)}

    @app.get("/after")
    async def after(request: Any, response: Any, user: Any = Depend(optional_user)) -> Any:
        return {"username": request.user.username, "same": request.user is user}

    return app, container


def test_container_profile_needs_a_user(db: UserTable) -> None:
    """Depend(current_user) answers an anonymous caller with a 401 and a Session challenge."""
    app, _ = container_app(db)
    with TestClient(app, base_url=HTTPS) as c:
        r = c.get("/profile")
    assert r.status_code == 401
    assert r.json() == {"error": "not_authenticated", "detail": "Authentication required"}
    assert r.headers["www-authenticate"] == 'Session realm="api"'


def test_container_profile_after_login(db: UserTable) -> None:
    """install() adds the configured SessionMiddleware, so the guide's login works as is."""
    app, _ = container_app(db)
    with TestClient(app, base_url=HTTPS) as c:
        log_in(c, "alice", "password123")
        r = c.get("/profile")
        hello = c.get("/hello")
    assert r.status_code == 200
    assert r.json() == {"id": 1, "username": "alice", "email": "alice@example.com"}
    assert hello.json() == {"hello": "alice"}


def test_container_optional_user_is_none_for_anonymous(db: UserTable) -> None:
    """Depend(optional_user) gives None instead of a 401 when nobody is logged in."""
    app, _ = container_app(db)
    with TestClient(app, base_url=HTTPS) as c:
        r = c.get("/hello")
    assert r.status_code == 200
    assert r.json() == {"hello": "anonymous"}


def test_lazy_request_user_without_credentials_is_anonymous(db: UserTable) -> None:
    """In lazy mode request.user with no credential in the request reads as anonymous."""
    app, _ = container_app(db)
    with TestClient(app, base_url=HTTPS) as c:
        r = c.get("/raw")
    assert r.json() == {"authenticated": False, "auth": None}
    assert db.loads == []


def test_eager_install_fills_request_user(db: UserTable) -> None:
    """install(eager=True) authenticates up front, so guide handlers can read request.user."""
    app, _ = container_app(db, eager=True)
    with TestClient(app, base_url=HTTPS) as c:
        log_in(c, "alice", "password123")
        r = c.get("/raw")
    assert r.json() == {"authenticated": True, "auth": "session"}


def test_lazy_request_user_with_a_credential_refuses_to_guess(db: UserTable) -> None:
    """Unresolved request.user with a session credential raises instead of saying anonymous."""
    app, _ = container_app(db)
    with TestClient(app, base_url=HTTPS) as c:
        log_in(c, "alice", "password123")
        r = c.get("/pending")
    assert r.json() == {"refused": True}
    assert db.loads == []  # reading request.user did not run the loader


def test_lazy_request_user_after_a_dependency_is_the_user(db: UserTable) -> None:
    """Once a Depend resolved the caller, request.user is that same user object."""
    app, _ = container_app(db)
    with TestClient(app, base_url=HTTPS) as c:
        log_in(c, "alice", "password123")
        r = c.get("/after")
    assert r.json() == {"username": "alice", "same": True}


GUIDE_YAML = f"""
backends: [session, jwt]
jwt:
  secret_key: {JWT_SECRET}
  algorithm: HS256
  access_ttl: 900
session:
  secret_key: {SESSION_SECRET}
  max_age: 3600
"""


def test_yaml_config_drives_the_container(db: UserTable, tmp_path: Path) -> None:
    """config.from_yaml with the docs/design.md §3 keys sets backends, token TTL, cookie max_age."""
    path = tmp_path / "auth.yaml"
    path.write_text(GUIDE_YAML)
    container = AuthContainer()
    container.config.from_yaml(str(path))
    container.user_loader.override(db.get_user)
    app = NexiosApp()
    install(app, container)

    @app.post("/login")
    async def login(request: Any, response: Any) -> Any:
        request.session["user_id"] = 1
        return {"ok": True}

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"username": user.username}

    token = container.token_service().create_access_token("2")
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 900
    with TestClient(app, base_url=HTTPS) as c:
        by_token = c.get("/me", headers={"Authorization": f"Bearer {token}"})
        cookie = c.post("/login").headers["set-cookie"]
        by_session = c.get("/me")
    assert by_token.json() == {"username": "root"}
    assert by_session.json() == {"username": "alice"}
    assert parse_set_cookie(cookie)[2]["max-age"] == "3600"


def test_shipped_testing_profile_loads(db: UserTable) -> None:
    """containers/testing.yaml is a complete profile: install() accepts it as is."""
    container = AuthContainer()
    container.config.from_yaml(str(REPO / "containers" / "testing.yaml"))
    container.user_loader.override(db.get_user)
    app = NexiosApp()
    install(app, container)

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"username": user.username}

    token = container.token_service().create_access_token("1")
    with TestClient(app, base_url=HTTPS) as c:
        r = c.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"username": "alice"}
