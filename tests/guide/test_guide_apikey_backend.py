"""Guide § Authentication Middleware / API Key backend, and the API-key management example."""

from __future__ import annotations

from typing import Any

import pytest
from guide_support import UserTable
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import current_user, inject, install
from nexios_auth_di.backends.apikey import APIKeyBackend
from nexios_auth_di.decorator import login_required
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.testing import make_test_container


def guide_app(db: UserTable) -> NexiosApp:
    """The guide's API-key setup, with a guide-style handler and a decorated one."""
    app = NexiosApp()

    async def get_user_by_api_key(api_key: str) -> Any:
        return await db.find_user_by_api_key(api_key)

    api_key_backend = APIKeyBackend(key_name="X-API-Key", authenticate_func=get_user_by_api_key)
    app.add_middleware(AuthenticationMiddleware(backend=api_key_backend))

    @app.get("/whoami")
    async def whoami(request: Any, response: Any) -> Any:
        if not request.user.is_authenticated:
            return response.json({"error": "Authentication required"}, status_code=401)
        return {"username": request.user.username, "auth": request.scope["auth"]}

    @app.get("/guarded")
    @login_required
    async def guarded(request: Any, response: Any) -> Any:
        return {"username": request.user.username}

    return app


def test_valid_key_authenticates(db: UserTable) -> None:
    """A known X-API-Key loads its user and sets scope["auth"] to "api_key"."""
    with TestClient(guide_app(db)) as c:
        r = c.get("/whoami", headers={"X-API-Key": "key-root-0123456789"})
    assert r.status_code == 200
    assert r.json() == {"username": "root", "auth": "api_key"}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-key"),
        pytest.param({"X-API-Key": "key-unknown-000000"}, id="unknown-key"),
        pytest.param({"X-API-Key": "   "}, id="blank-key"),
        pytest.param({"X-API-Key": "k" * 600}, id="oversized-key"),
    ],
)
def test_missing_or_bad_key_is_anonymous(db: UserTable, headers: dict[str, str]) -> None:
    """Without a good key the request goes on as anonymous, never a 500."""
    with TestClient(guide_app(db)) as c:
        r = c.get("/whoami", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"error": "Authentication required"}


def test_bad_key_on_a_guarded_route_gets_an_apikey_challenge(db: UserTable) -> None:
    """@login_required refuses a bad key with 401 and the ApiKey challenge naming the header."""
    with TestClient(guide_app(db)) as c:
        r = c.get("/guarded", headers={"X-API-Key": "key-unknown-000000"})
        ok = c.get("/guarded", headers={"X-API-Key": "key-alice-0123456789"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'ApiKey realm="api", header="X-API-Key"'
    assert "key-unknown" not in r.text
    assert ok.status_code == 200
    assert ok.json() == {"username": "alice"}


# --- API Key Management example, container form ----------------------------------------------
# The guide's generate_secure_api_key() / db.store_api_key() / db.revoke_api_key() become
# container.api_key_service: prefixed, checksummed keys stored only as a SHA-256.


def management_app() -> tuple[NexiosApp, Any]:
    users = {"1": UserTable().users[1]}  # alice, id 1
    container = make_test_container(users, backends=["api_key", "jwt"])
    app = NexiosApp()
    install(app, container)

    @app.post("/api-keys")
    async def create_api_key(
        request: Any,
        response: Any,
        user: Any = Depend(current_user),
        keys: Any = inject("api_key_service"),
    ) -> Any:
        api_key, record = await keys.create(str(user.id), scopes=["read"], name="cli")
        return response.json({"api_key": api_key, "key_id": record.key_id}, status_code=201)

    @app.delete("/api-keys/{key_id}")
    async def revoke_api_key(
        request: Any,
        response: Any,
        key_id: str,
        user: Any = Depend(current_user),
        keys: Any = inject("api_key_service"),
    ) -> Any:
        revoked = await keys.revoke(key_id, owner=str(user.id))
        return {"message": "API key revoked" if revoked else "No such key"}

    @app.get("/whoami")
    async def whoami(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"username": user.username, "read": user.has_permission("read")}

    return app, container


def test_api_key_lifecycle_create_use_revoke() -> None:
    """A key made by POST /api-keys authenticates until DELETE /api-keys/{key_id} revokes it."""
    app, container = management_app()
    bearer = {"Authorization": "Bearer " + container.token_service().create_access_token("1")}
    with TestClient(app) as c:
        assert c.post("/api-keys").status_code == 401
        made = c.post("/api-keys", headers=bearer)
        assert made.status_code == 201
        key, key_id = made.json()["api_key"], made.json()["key_id"]
        assert key.startswith("nxa_")
        r = c.get("/whoami", headers={"X-API-Key": key})
        assert r.status_code == 200
        assert r.json() == {"username": "alice", "read": True}
        # a read-scoped key cannot write (DELETE) through a login-only route: 403
        assert c.delete(f"/api-keys/{key_id}", headers={"X-API-Key": key}).status_code == 403
        gone = c.delete(f"/api-keys/{key_id}", headers=bearer)
        assert gone.json() == {"message": "API key revoked"}
        after = c.get("/whoami", headers={"X-API-Key": key})
    assert after.status_code == 401
    assert after.headers["www-authenticate"].startswith("ApiKey")
