"""Guide § Multiple Authentication Backends: tried in order, the first to authenticate wins."""

from __future__ import annotations

from typing import Any

import pytest
from guide_support import HTTPS, JWT_SECRET, SESSION_SECRET, UserTable, guide_token
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import AuthContainer, ConfigurationError, auth_type, current_user, install
from nexios_auth_di.backends.jwt import JWTAuthBackend
from nexios_auth_di.backends.session import SessionAuthBackend
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.session import SessionMiddleware


def guide_app(db: UserTable, order: str = "session,jwt") -> NexiosApp:
    app = NexiosApp()

    async def get_user_by_id(user_id: int) -> Any:
        return await db.get_user(user_id)

    session_backend = SessionAuthBackend(authenticate_func=get_user_by_id)
    jwt_backend = JWTAuthBackend(secret_key=JWT_SECRET, authenticate_func=get_user_by_id)
    by_name = {"session": session_backend, "jwt": jwt_backend}
    backends = [by_name[n] for n in order.split(",")]
    app.add_middleware(AuthenticationMiddleware(backends=backends))
    app.add_middleware(SessionMiddleware(secret_key=SESSION_SECRET))

    @app.post("/login")
    async def login(request: Any, response: Any) -> Any:
        request.session["user_id"] = (await request.json)["id"]
        return {"message": "Login successful"}

    @app.get("/who")
    async def who(request: Any, response: Any) -> Any:
        user = request.user
        return {
            "user": user.username if user.is_authenticated else None,
            "auth": request.scope["auth"],
        }

    return app


def test_guide_short_secret_is_refused() -> None:
    """The guide's literal secret "your-secret-key" is under 32 bytes and fails at setup."""

    async def load(user_id: Any) -> None:
        return None

    with pytest.raises(ConfigurationError):
        JWTAuthBackend(secret_key="your-secret-key", authenticate_func=load)


def test_nothing_authenticates_gives_unauthenticated_and_none(db: UserTable) -> None:
    """With no credential, request.user is anonymous and scope["auth"] is None."""
    with TestClient(guide_app(db), base_url=HTTPS) as c:
        r = c.get("/who")
    assert r.json() == {"user": None, "auth": None}


def test_session_only_is_session(db: UserTable) -> None:
    """A session login alone is reported as auth type "session"."""
    with TestClient(guide_app(db), base_url=HTTPS) as c:
        c.post("/login", json={"id": 1})
        r = c.get("/who")
    assert r.json() == {"user": "alice", "auth": "session"}


def test_jwt_only_is_jwt(db: UserTable) -> None:
    """A bearer token alone, past a session backend that finds nothing, is type "jwt"."""
    token = guide_token(db.users[2])
    with TestClient(guide_app(db), base_url=HTTPS) as c:
        r = c.get("/who", headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"user": "root", "auth": "jwt"}


@pytest.mark.parametrize(
    ("order", "expected"),
    [("session,jwt", ("alice", "session")), ("jwt,session", ("root", "jwt"))],
)
def test_first_backend_wins(db: UserTable, order: str, expected: tuple[str, str]) -> None:
    """With a session for alice and a token for root, the first backend listed decides."""
    token = guide_token(db.users[2])
    with TestClient(guide_app(db, order), base_url=HTTPS) as c:
        c.post("/login", json={"id": 1})
        r = c.get("/who", headers={"Authorization": f"Bearer {token}"})
    assert (r.json()["user"], r.json()["auth"]) == expected


def test_bad_token_falls_through_to_the_session(db: UserTable) -> None:
    """A refused token only means "not me": the session backend still authenticates."""
    with TestClient(guide_app(db, "jwt,session"), base_url=HTTPS) as c:
        c.post("/login", json={"id": 1})
        r = c.get("/who", headers={"Authorization": "Bearer not.a.token"})
    assert r.json() == {"user": "alice", "auth": "session"}


# --- container form: config.backends is the ordered list ------------------------------------


def container_app(db: UserTable, backends: list[str]) -> tuple[NexiosApp, AuthContainer]:
    container = AuthContainer()
    container.config.from_dict(
        {
            "backends": backends,
            "jwt": {"secret_key": JWT_SECRET},
            "session": {"secret_key": SESSION_SECRET},
        }
    )
    container.user_loader.override(db.get_user)
    app = NexiosApp()
    install(app, container)

    @app.post("/login")
    async def login(request: Any, response: Any) -> Any:
        request.session["user_id"] = (await request.json)["id"]
        return {"message": "Login successful"}

    @app.get("/who")
    async def who(
        request: Any,
        response: Any,
        user: Any = Depend(current_user),
        kind: Any = Depend(auth_type),
    ) -> Any:
        return {"user": user.username, "auth": kind}

    return app, container


@pytest.mark.parametrize(
    ("backends", "expected"),
    [(["session", "jwt"], ["alice", "session"]), (["jwt", "session"], ["root", "jwt"])],
)
def test_container_backend_order(db: UserTable, backends: list[str], expected: list[str]) -> None:
    """config.backends orders the container's backends the same way; auth_type reports it."""
    app, container = container_app(db, backends)
    token = container.token_service().create_access_token("2")
    with TestClient(app, base_url=HTTPS) as c:
        c.post("/login", json={"id": 1})
        r = c.get("/who", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert [r.json()["user"], r.json()["auth"]] == expected


def test_container_challenge_lists_every_backend(db: UserTable) -> None:
    """An anonymous 401 names each configured backend's scheme in WWW-Authenticate."""
    app, _ = container_app(db, ["session", "jwt"])
    with TestClient(app, base_url=HTTPS) as c:
        r = c.get("/who")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Session realm="api", Bearer realm="api"'
