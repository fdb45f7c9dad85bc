"""Guide § Error Handling: AuthenticationFailed / PermissionDenied and custom handlers."""

from __future__ import annotations

from typing import Any

import pytest
from guide_support import JWT_SECRET, guide_token
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import install, optional_user
from nexios_auth_di.backends.jwt import JWTAuthBackend
from nexios_auth_di.base import BaseUser
from nexios_auth_di.decorator import login_required
from nexios_auth_di.exceptions import AuthenticationFailed, PermissionDenied
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.testing import make_test_container


class User(BaseUser):
    """The guide's role-based user; its is_admin is a method, as protected_route calls it."""

    def __init__(self, id: int, username: str, role: str) -> None:
        self.id = id
        self.username = username
        self.role = role

    def is_admin(self) -> bool:
        return self.role == "admin"


USERS = {1: User(1, "alice", "user"), 2: User(2, "root", "admin")}


async def load(user_id: Any) -> User | None:
    return USERS.get(int(user_id))


def add_protected_route(app: NexiosApp) -> None:
    @app.get("/protected")
    async def protected_route(request: Any, response: Any) -> Any:
        if not request.user.is_authenticated:
            raise AuthenticationFailed("Authentication required")
        if not request.user.is_admin():
            raise PermissionDenied("Admin access required")
        return response.json({"message": "Access granted"})

    @app.get("/guarded")
    @login_required
    async def guarded(request: Any, response: Any) -> Any:
        return {"ok": True}


def add_guide_handlers(app: NexiosApp) -> None:
    """The guide's custom handlers, registered with the decorator form.

    The guide renders ``str(exc)``; on a Nexios HTTPException that is "HTTP 401: ...",
    so the port uses ``exc.detail``, the public message the guide meant.
    """

    @app.add_exception_handler(AuthenticationFailed)
    async def handle_auth_failed(request: Any, response: Any, exc: Any) -> Any:
        return response.json(
            {"error": "Authentication failed", "message": str(exc.detail)}, status_code=401
        )

    @app.add_exception_handler(PermissionDenied)
    async def handle_permission_denied(request: Any, response: Any, exc: Any) -> Any:
        return response.json(
            {"error": "Permission denied", "message": str(exc.detail)}, status_code=403
        )


def guide_app(*, handlers: bool = False) -> NexiosApp:
    app = NexiosApp()
    backend = JWTAuthBackend(secret_key=JWT_SECRET, authenticate_func=load)
    app.add_middleware(AuthenticationMiddleware(backend=backend))
    add_protected_route(app)
    if handlers:
        add_guide_handlers(app)
    return app


def container_app(*, handlers: str = "none") -> tuple[NexiosApp, Any]:
    container = make_test_container({}, backends=["jwt"])
    container.user_loader.override(load)
    app = NexiosApp()
    if handlers == "before":
        add_guide_handlers(app)
    install(app, container, eager=True)  # the guide's handler reads request.user directly
    if handlers == "after":
        add_guide_handlers(app)
    add_protected_route(app)

    @app.get("/di")
    async def di(request: Any, response: Any, user: Any = Depend(optional_user)) -> Any:
        if user is None:
            raise AuthenticationFailed("Authentication required")
        if not user.is_admin():
            raise PermissionDenied("Admin access required")
        return {"message": "Access granted"}

    return app, container


def bearer(uid: int | None, form: str, container: Any = None) -> dict[str, str]:
    if uid is None:
        return {}
    if form == "guide":
        return {"Authorization": f"Bearer {guide_token(USERS[uid])}"}
    token = container.token_service().create_access_token(str(uid))
    return {"Authorization": f"Bearer {token}"}


CASES = [
    (None, 401, {"error": "not_authenticated", "detail": "Authentication required"}),
    (1, 403, {"error": "permission_denied", "detail": "Admin access required"}),
    (2, 200, {"message": "Access granted"}),
]


@pytest.mark.parametrize("path", ["/protected", "/di"])
@pytest.mark.parametrize(("uid", "status", "body"), CASES)
def test_container_default_responses(
    path: str, uid: int | None, status: int, body: dict[str, str]
) -> None:
    """With install(), raised errors become JSON {error, detail}; 401s carry a challenge."""
    app, container = container_app()
    with TestClient(app) as c:
        r = c.get(path, headers=bearer(uid, "container", container))
    assert r.status_code == status
    assert r.json() == body
    if status == 401:
        assert r.headers["www-authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(("uid", "status", "body"), CASES)
def test_guide_form_status_codes(uid: int | None, status: int, body: dict[str, str]) -> None:
    """Without install() the guide's raised exceptions still map to 401 / 403, never 500."""
    with TestClient(guide_app()) as c:
        r = c.get("/protected", headers=bearer(uid, "guide"))
    assert r.status_code == status
    assert body.get("detail", body.get("message")) in r.text


@pytest.mark.parametrize(("uid", "status", "body"), CASES[:2])
def test_guide_form_error_body_matches_container_form(
    uid: int | None, status: int, body: dict[str, str]
) -> None:
    """Without install() error bodies are the same JSON object as with install()."""
    with TestClient(guide_app()) as c:
        r = c.get("/protected", headers=bearer(uid, "guide"))
    assert r.status_code == status
    assert r.json() == body


def test_guide_form_raised_401_has_a_challenge() -> None:
    """Without install(), a 401 the handler raises still carries WWW-Authenticate."""
    with TestClient(guide_app()) as c:
        r = c.get("/protected")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="api"'


def test_guide_form_decorator_401_has_a_challenge() -> None:
    """Without install(), @login_required's 401 carries the backend's Bearer challenge."""
    with TestClient(guide_app()) as c:
        r = c.get("/guarded")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="api"'


GUIDE_BODIES = [
    (None, 401, {"error": "Authentication failed", "message": "Authentication required"}),
    (1, 403, {"error": "Permission denied", "message": "Admin access required"}),
]


@pytest.mark.parametrize("form", ["guide", "before", "after"])
@pytest.mark.parametrize(("uid", "status", "body"), GUIDE_BODIES)
def test_custom_handlers_replace_the_defaults(
    form: str, uid: int | None, status: int, body: dict[str, str]
) -> None:
    """The guide's add_exception_handler handlers win, registered before or after install()."""
    if form == "guide":
        app, headers = guide_app(handlers=True), bearer(uid, "guide")
    else:
        app, container = container_app(handlers=form)
        headers = bearer(uid, "container", container)
    with TestClient(app) as c:
        r = c.get("/protected", headers=headers)
    assert r.status_code == status
    assert r.json() == body


@pytest.mark.parametrize("form", ["guide", "after"])
def test_custom_handler_also_catches_decorator_and_token_errors(form: str) -> None:
    """A refused token on @login_required reaches the app's AuthenticationFailed handler."""
    app = guide_app(handlers=True) if form == "guide" else container_app(handlers=form)[0]
    with TestClient(app) as c:
        r = c.get("/guarded", headers={"Authorization": "Bearer forged.token.value"})
    assert r.status_code == 401
    assert r.json() == {"error": "Authentication failed", "message": "Authentication required"}
    assert "forged" not in r.text


def test_str_of_the_exception_is_not_the_public_message() -> None:
    """str(exc) carries Nexios's "HTTP 401: " prefix; exc.detail is the message itself."""
    exc = AuthenticationFailed("Authentication required")
    assert str(exc) == "HTTP 401: Authentication required"
    assert exc.detail == "Authentication required"
