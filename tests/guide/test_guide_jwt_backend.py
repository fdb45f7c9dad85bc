"""Guide § JWT Authentication Backend: every argument, the guide's login token, /refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from guide_support import JWT_SECRET, UserTable, guide_payload, guide_token
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import current_user, inject, install
from nexios_auth_di.backends.jwt import JWTAuthBackend
from nexios_auth_di.decorator import login_required
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.testing import make_test_container


def guide_app(db: UserTable, **backend_kw: Any) -> NexiosApp:
    """The guide's JWT backend with every argument, its login and refresh handlers."""
    app = NexiosApp()

    async def get_user_by_id(user_id: int) -> Any:
        return await db.get_user(user_id)

    kw: dict[str, Any] = {
        "secret_key": JWT_SECRET,
        "algorithm": "HS256",
        "token_prefix": "Bearer",
        "authenticate_func": get_user_by_id,
        "auth_header_name": "Authorization",
    }
    kw.update(backend_kw)
    jwt_backend = JWTAuthBackend(**kw)
    app.add_middleware(AuthenticationMiddleware(backend=jwt_backend))

    @app.post("/login")
    async def login(request: Any, response: Any) -> Any:
        data = await request.json
        user = await db.validate_credentials(data.get("username"), data.get("password"))
        if not user:
            return response.json({"error": "Invalid credentials"}, status_code=401)
        now = datetime.now(UTC)  # the guide's datetime.utcnow(), timezone-aware
        payload = {
            "user_id": user.id,
            "username": user.username,
            "exp": now + timedelta(hours=24),
            "iat": now,
        }
        token = jwt.encode(payload, JWT_SECRET, algorithm="HS256")
        return response.json({"message": "Login successful", "token": token, "expires_in": 86400})

    @app.post("/refresh")
    async def refresh_token(request: Any, response: Any) -> Any:
        if not request.user.is_authenticated:
            return response.json({"error": "Authentication required"}, status_code=401)
        now = datetime.now(UTC)
        payload = {
            "user_id": request.user.id,
            "username": request.user.username,
            "exp": now + timedelta(hours=24),
            "iat": now,
        }
        token = jwt.encode(payload, JWT_SECRET, algorithm="HS256")
        return response.json({"token": token, "expires_in": 86400})

    @app.get("/me")
    @login_required
    async def me(request: Any, response: Any) -> Any:
        return {"id": request.user.id, "auth": request.scope["auth"]}

    return app


def test_guide_login_token_authenticates(db: UserTable) -> None:
    """The token the guide's /login mints (user_id, username, exp, iat) is accepted."""
    with TestClient(guide_app(db)) as c:
        login = c.post("/login", json={"username": "alice", "password": "password123"})
        assert login.status_code == 200
        body = login.json()
        assert body["expires_in"] == 86400
        claims = jwt.decode(body["token"], JWT_SECRET, algorithms=["HS256"])
        assert set(claims) == {"user_id", "username", "exp", "iat"}
        r = c.get("/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert r.status_code == 200
    assert r.json() == {"id": 1, "auth": "jwt"}
    assert db.loads == [1]  # the loader got the guide's integer user_id


def test_guide_refresh_issues_a_working_token(db: UserTable) -> None:
    """The guide's /refresh needs a valid token and returns another one that works."""
    token = guide_token(db.users[3], now=datetime.now(UTC) - timedelta(hours=1))
    with TestClient(guide_app(db)) as c:
        anon = c.post("/refresh")
        assert anon.status_code == 401
        assert anon.json() == {"error": "Authentication required"}
        r = c.post("/refresh", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        new = r.json()["token"]
        assert new != token
        me = c.get("/me", headers={"Authorization": f"Bearer {new}"})
    assert me.json() == {"id": 3, "auth": "jwt"}


def _none_alg(user: Any) -> str:
    return jwt.encode(guide_payload(user), key="", algorithm="none")


# Each row is an attack or a malformed credential and the rule it exercises.
BAD_TOKENS = [
    pytest.param(lambda u: guide_token(u, now=datetime.now(UTC) - timedelta(hours=25)),
                 id="expired-RFC7519-4.1.4"),
    pytest.param(lambda u: guide_token(u, secret="another-secret-of-at-least-32-bytes!!"),
                 id="wrong-key-RFC7515-signature"),
    pytest.param(_none_alg, id="alg-none-CVE-2015-9235"),
    pytest.param(lambda u: jwt.encode({"user_id": u.id}, JWT_SECRET, algorithm="HS256"),
                 id="no-exp-required-claim"),
    pytest.param(lambda u: jwt.encode({**guide_payload(u), "user_id": 999}, JWT_SECRET,
                                      algorithm="HS256"), id="unknown-user"),
    pytest.param(lambda u: jwt.encode(guide_payload(u), JWT_SECRET, algorithm="HS512"),
                 id="alg-swap-from-header",
                 marks=pytest.mark.filterwarnings("ignore:The HMAC key")),
    pytest.param(lambda u: "x" * 9000, id="oversized-8KiB"),
]  # fmt: skip


@pytest.mark.parametrize("make", BAD_TOKENS)
def test_bad_tokens_get_401_with_invalid_token_challenge(db: UserTable, make: Any) -> None:
    """Refused tokens get 401, an RFC 6750 invalid_token challenge, and no reason in the body."""
    with TestClient(guide_app(db)) as c:
        r = c.get("/me", headers={"Authorization": f"Bearer {make(db.users[1])}"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert "expired" not in r.text.lower()
    assert "signature" not in r.text.lower()


def test_missing_token_gets_plain_bearer_challenge(db: UserTable) -> None:
    """No Authorization header: 401 with a Bearer challenge and no error attribute."""
    with TestClient(guide_app(db)) as c:
        r = c.get("/me")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="api"'


def test_custom_prefix_and_header_names_are_honoured(db: UserTable) -> None:
    """token_prefix and auth_header_name change where the backend looks for the token."""
    app = guide_app(db, token_prefix="Token", auth_header_name="X-Auth")
    token = guide_token(db.users[1])
    with TestClient(app) as c:
        ok = c.get("/me", headers={"X-Auth": f"Token {token}"})
        wrong_header = c.get("/me", headers={"Authorization": f"Token {token}"})
        wrong_prefix = c.get("/me", headers={"X-Auth": f"Bearer {token}"})
    assert ok.status_code == 200
    assert ok.json() == {"id": 1, "auth": "jwt"}
    assert wrong_header.status_code == 401
    assert wrong_prefix.status_code == 401
    assert wrong_prefix.headers["www-authenticate"].startswith("Token ")


# --- container form: the token service mints, rotates and revokes ---------------------------


def container_app() -> tuple[NexiosApp, Any]:
    users = {"1": UserTable().users[1]}
    container = make_test_container(users, backends=["jwt"])
    app = NexiosApp()
    install(app, container)

    @app.post("/login")
    async def login(request: Any, response: Any, tokens: Any = inject("token_service")) -> Any:
        return {
            "access": tokens.create_access_token("1", username="alice"),
            "refresh": tokens.create_refresh_token("1"),
        }

    @app.post("/refresh")
    async def refresh(request: Any, response: Any, tokens: Any = inject("token_service")) -> Any:
        access, refresh = await tokens.refresh((await request.json)["refresh"])
        return {"access": access, "refresh": refresh}

    @app.post("/logout")
    async def logout(
        request: Any,
        response: Any,
        user: Any = Depend(current_user),
        tokens: Any = inject("token_service"),
    ) -> Any:
        await tokens.revoke(request.headers["authorization"].split(" ", 1)[1])
        return {"message": "Logout successful"}

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"username": user.username}

    return app, container


def test_container_refresh_rotates_and_reuse_is_refused() -> None:
    """token_service.refresh rotates; a spent refresh token comes back as a 401."""
    app, _ = container_app()
    with TestClient(app) as c:
        first = c.post("/login").json()
        me = c.get("/me", headers={"Authorization": f"Bearer {first['access']}"})
        assert me.json() == {"username": "alice"}
        second = c.post("/refresh", json={"refresh": first["refresh"]})
        assert second.status_code == 200
        assert second.json()["refresh"] != first["refresh"]
        reused = c.post("/refresh", json={"refresh": first["refresh"]})
    assert reused.status_code == 401
    assert reused.json() == {"error": "not_authenticated", "detail": "Authentication required"}


def test_container_revoked_access_token_is_refused() -> None:
    """After token_service.revoke the same access token gets 401 with invalid_token."""
    app, _ = container_app()
    with TestClient(app) as c:
        access = c.post("/login").json()["access"]
        auth = {"Authorization": f"Bearer {access}"}
        assert c.post("/logout", headers=auth).status_code == 200
        r = c.get("/me", headers=auth)
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_container_refresh_token_is_not_an_access_token() -> None:
    """A refresh token sent as a bearer credential is refused (typ separates them)."""
    app, _ = container_app()
    with TestClient(app) as c:
        refresh = c.post("/login").json()["refresh"]
        r = c.get("/me", headers={"Authorization": f"Bearer {refresh}"})
    assert r.status_code == 401
