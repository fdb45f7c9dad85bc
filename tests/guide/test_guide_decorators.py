"""Guide § Authentication Decorators: login_required and permission_required, stacked."""

from __future__ import annotations

from typing import Any

import pytest
from guide_support import JWT_SECRET, UserTable, guide_token
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import current_user, install
from nexios_auth_di.backends.jwt import JWTAuthBackend
from nexios_auth_di.decorator import login_required, permission_required
from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.testing import make_test_container


def get_settings() -> dict[str, str]:
    """A plain Nexios dependency that must still arrive under the decorators."""
    return {"theme": "dark"}


def add_routes(app: NexiosApp) -> None:
    """The guide's three decorated handlers plus both stacking orders with path params."""

    @app.get("/profile")
    @login_required
    async def profile(request: Any, response: Any) -> Any:
        return response.json(
            {
                "id": request.user.id,
                "username": request.user.username,
                "email": request.user.email,
            }
        )

    @app.get("/admin")
    @permission_required("admin")
    async def admin_panel(request: Any, response: Any) -> Any:
        return response.json({"message": "Welcome to admin panel"})

    @app.get("/moderate")
    @permission_required(["admin", "moderator"])
    async def moderation_panel(request: Any, response: Any) -> Any:
        return response.json({"message": "Welcome to moderation panel"})

    @app.get("/a/{item_id}")
    @login_required
    @permission_required("admin")
    async def login_outside(
        request: Any, response: Any, item_id: str, settings: Any = Depend(get_settings)
    ) -> Any:
        return {"item": item_id, "settings": settings, "user": request.user.username}

    @app.get("/b/{item_id}")
    @permission_required("admin")
    @login_required
    async def login_inside(
        request: Any, response: Any, item_id: str, settings: Any = Depend(get_settings)
    ) -> Any:
        return {"item": item_id, "settings": settings, "user": request.user.username}

    @app.get("/c/{item_id}")
    @permission_required(["admin", "moderator"])
    @login_required
    async def with_user(
        request: Any, response: Any, item_id: str, user: Any = Depend(current_user)
    ) -> Any:
        return {"item": item_id, "user": user.username}


def guide_app(db: UserTable) -> NexiosApp:
    app = NexiosApp()
    backend = JWTAuthBackend(secret_key=JWT_SECRET, authenticate_func=db.get_user)
    app.add_middleware(AuthenticationMiddleware(backend=backend))
    add_routes(app)
    return app


def container_app(db: UserTable) -> tuple[NexiosApp, Any]:
    container = make_test_container({}, backends=["jwt"])
    container.user_loader.override(db.get_user)
    app = NexiosApp()
    add_routes(app)  # decorated before install(): OpenAPI marks them secured
    install(app, container)
    return app, container


USERS = {"anon": None, "alice": 1, "root": 2, "mod": 3}


def call(form: str, db: UserTable, path: str, who: str) -> Any:
    if form == "guide":
        app = guide_app(db)
        token = None if USERS[who] is None else guide_token(db.users[USERS[who]])
    else:
        app, container = container_app(db)
        uid = USERS[who]
        token = None if uid is None else container.token_service().create_access_token(str(uid))
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with TestClient(app) as c:
        return c.get(path, headers=headers)


FORMS = ["guide", "container"]

# (path, who, status): anonymous -> 401, known without the permission -> 403
MATRIX = [
    ("/profile", "anon", 401),
    ("/profile", "alice", 200),
    ("/admin", "anon", 401),
    ("/admin", "alice", 403),
    ("/admin", "mod", 403),
    ("/admin", "root", 200),
    ("/moderate", "anon", 401),
    ("/moderate", "alice", 403),
    ("/moderate", "mod", 200),
    ("/moderate", "root", 200),
    ("/a/42", "anon", 401),
    ("/a/42", "alice", 403),
    ("/a/42", "root", 200),
    ("/b/42", "anon", 401),
    ("/b/42", "alice", 403),
    ("/b/42", "root", 200),
    ("/c/42", "alice", 403),
    ("/c/42", "mod", 200),
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("path", "who", "status"), MATRIX)
def test_decorator_matrix(form: str, db: UserTable, path: str, who: str, status: int) -> None:
    """Each decorated route answers 401 / 403 / 200 by who calls, in both app forms."""
    r = call(form, db, path, who)
    assert r.status_code == status, r.text
    if status == 401:
        assert r.headers["www-authenticate"].startswith("Bearer ")
    if status == 403:
        assert "www-authenticate" not in r.headers


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("path", ["/a/42", "/b/42"])
def test_stacked_handlers_get_path_params_and_dependencies(
    form: str, db: UserTable, path: str
) -> None:
    """Under both stacking orders the path param and the handler's Depend still arrive."""
    r = call(form, db, path, "root")
    assert r.json() == {"item": "42", "settings": {"theme": "dark"}, "user": "root"}


@pytest.mark.parametrize("form", FORMS)
def test_current_user_under_decorators_loads_once(form: str, db: UserTable) -> None:
    """Two decorators plus Depend(current_user) on one route run the user loader once."""
    r = call(form, db, "/c/7", "mod")
    assert r.json() == {"item": "7", "user": "mod"}
    assert [str(i) for i in db.loads] == ["3"]  # container subjects are strings


@pytest.mark.parametrize("form", FORMS)
def test_guide_profile_body(form: str, db: UserTable) -> None:
    """The guide's @login_required /profile returns the user's fields from request.user."""
    r = call(form, db, "/profile", "alice")
    assert r.json() == {"id": 1, "username": "alice", "email": "alice@example.com"}


def test_container_marks_decorated_routes_in_openapi(db: UserTable) -> None:
    """install() documents the bearer scheme and marks decorated routes as secured."""
    app, _ = container_app(db)
    with TestClient(app) as c:
        doc = c.get("/openapi.json").json()
    assert "bearerAuth" in doc["components"]["securitySchemes"]
    assert doc["paths"]["/admin"]["get"]["security"] == [{"bearerAuth": []}]


BROWSER_ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"


def test_guide_middleware_login_url_redirects_browsers(db: UserTable) -> None:
    """The guide form takes ``AuthenticationMiddleware(login_url=...)``: an anonymous
    browser on a guarded route gets 302 to the login page (the guide's integration test
    after logout); a JSON client and a signed-in user without the permission do not."""
    app = NexiosApp()
    backend = JWTAuthBackend(secret_key=JWT_SECRET, authenticate_func=db.get_user)
    app.add_middleware(AuthenticationMiddleware(backend=backend, login_url="/login"))
    add_routes(app)
    with TestClient(app) as c:
        page = c.get("/profile", headers={"Accept": BROWSER_ACCEPT}, follow_redirects=False)
        api = c.get("/profile", headers={"Accept": "application/json"})
        token = guide_token(db.users[1])
        denied = c.get(
            "/admin",
            headers={"Accept": BROWSER_ACCEPT, "Authorization": f"Bearer {token}"},
            follow_redirects=False,
        )
    assert page.status_code == 302
    assert page.headers["location"] == "/login?next=%2Fprofile"
    assert api.status_code == 401
    assert denied.status_code == 403


def test_guide_middleware_refuses_a_hostile_login_url() -> None:
    """A ``login_url`` a browser would read as another host fails at construction."""
    backend = JWTAuthBackend(secret_key=JWT_SECRET, authenticate_func=lambda _: None)
    with pytest.raises(ConfigurationError, match="login_url"):
        AuthenticationMiddleware(backend=backend, login_url="//evil.example/login")
