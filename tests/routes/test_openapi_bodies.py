"""OpenAPI documents every ready-made route's bodies, the docs match what the routes
accept, and the OAuth2 password flow (``POST /auth/token``) logs in as Swagger UI does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from route_helpers import PASSWORD, Env, bearer

from nexios_auth_di.routes.schemas import ROUTE_DOCS

POSTS = {
    "/auth/register": "register",
    "/auth/login": "login",
    "/auth/logout": "logout",
    "/auth/logout-all": "logout_all",
    "/auth/refresh": "refresh",
    "/auth/password": "change_password",
    "/auth/api-keys": "create_key",
    "/auth/verify-email/request": "verify_email_request",
    "/auth/verify-email/confirm": "verify_email_confirm",
    "/auth/password-reset/request": "password_reset_request",
    "/auth/password-reset/confirm": "password_reset_confirm",
    "/auth/email": "change_email",
}


@pytest.fixture
def api(make_env: Callable[..., Env]) -> Env:
    env = make_env(login_mode="tokens")
    env.register()
    return env


def _spec(env: Env) -> dict[str, Any]:
    response = env.client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


def test_every_auth_route_documents_its_bodies(api: Env) -> None:
    """No placeholder schema is left: each route names its fields, limits and error bodies."""
    spec = _spec(api)
    ours = {path: item for path, item in spec["paths"].items() if path.startswith("/auth")}
    assert "This is an example" not in str(ours)  # Nexios's placeholder
    for path, name in POSTS.items():
        operation = spec["paths"][path]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        documented = ROUTE_DOCS[name]["request_model"].model_fields
        assert set(schema["properties"]) == set(documented), path
        assert schema.get("additionalProperties") is False, path
        for code in ("400", "413", "415"):
            error = operation["responses"][code]["content"]["application/json"]["schema"]
            assert set(error["properties"]) == {"error", "detail"}, (path, code)
    login = spec["paths"]["/auth/login"]["post"]["requestBody"]["content"]["application/json"]
    assert login["schema"]["properties"]["password"]["maxLength"] == 4096
    ok = spec["paths"]["/auth/login"]["post"]["responses"]["200"]["content"]["application/json"]
    assert {"access_token", "refresh_token", "expires_in"} <= set(ok["schema"]["properties"])
    keys = spec["paths"]["/auth/api-keys"]["get"]["responses"]["200"]["content"]
    assert "keys" in keys["application/json"]["schema"]["properties"]


def test_password_flow_is_a_security_scheme(api: Env) -> None:
    """Swagger UI's Authorize uses the form-encoded token route; secured routes accept it."""
    spec = _spec(api)
    scheme = spec["components"]["securitySchemes"]["oauth2Password"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["password"]["tokenUrl"] == "/auth/token"
    token = spec["paths"]["/auth/token"]["post"]["requestBody"]["content"]
    assert set(token) == {"application/x-www-form-urlencoded"}
    assert {"oauth2Password": []} in spec["paths"]["/me"]["get"]["security"]
    assert {"bearerAuth": []} in spec["paths"]["/auth/logout"]["post"]["security"]


@pytest.mark.parametrize(("path", "name"), list(POSTS.items()))
def test_documented_fields_are_exactly_what_the_route_reads(api: Env, path: str, name: str) -> None:
    """A body holding every documented field plus one more is refused for that one only."""
    access = api.login()["access_token"]
    fields = dict.fromkeys(ROUTE_DOCS[name]["request_model"].model_fields, None)
    response = api.client.post(path, json={**fields, "zz_undocumented": 1}, headers=bearer(access))
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "zz_undocumented" in detail
    assert not any(f"'{field}'" in detail for field in fields)


def _token(env: Env, **form: str) -> httpx.Response:
    env.client.cookies.clear()
    return env.client.post("/auth/token", data=form)


def test_password_grant_logs_in_and_the_token_works(api: Env) -> None:
    """The RFC 6749 §4.3 grant returns a bearer pair that opens signed-in routes."""
    response = _token(api, grant_type="password", username="alice", password=PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers  # never a session: no login CSRF
    assert api.me(**bearer(body["access_token"])).status_code == 200
    rotated = _token(api, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert rotated.status_code == 200
    replay = _token(api, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert replay.json()["error"] == "invalid_grant"


TOKEN_ATTACKS = [
    pytest.param({"grant_type": "password", "username": "alice", "password": "nope"},
                 400, "invalid_grant", id="wrong-password-RFC6749-5.2"),
    pytest.param({"grant_type": "password", "username": "nobody", "password": PASSWORD},
                 400, "invalid_grant", id="unknown-user-same-answer"),
    pytest.param({"grant_type": "client_credentials"}, 400, "unsupported_grant_type",
                 id="unsupported-grant-RFC6749-5.2"),
    pytest.param({"username": "alice", "password": PASSWORD}, 400, "unsupported_grant_type",
                 id="missing-grant-type"),
    pytest.param({"grant_type": "password", "username": "alice"}, 400, "invalid_request",
                 id="missing-password"),
    pytest.param({"grant_type": "password", "username": "alice", "password": "x" * 4097},
                 400, "invalid_request", id="password-over-4KiB-never-truncated"),
    pytest.param({"grant_type": "refresh_token", "refresh_token": "not.a.jwt"},
                 400, "invalid_grant", id="forged-refresh-token"),
]  # fmt: skip


@pytest.mark.parametrize(("form", "status", "error"), TOKEN_ATTACKS)
def test_token_route_refuses_bad_grants(
    api: Env, form: dict[str, str], status: int, error: str
) -> None:
    """Every bad grant gets its RFC 6749 §5.2 error, never a 500 and never a token."""
    response = _token(api, **form)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert "access_token" not in response.text


RAW_ATTACKS = [
    pytest.param("application/json", b'{"grant_type":"password"}', 415, id="json-body-415"),
    pytest.param("application/x-www-form-urlencoded", b"grant_type=password&grant_type=x",
                 400, id="parameter-twice-RFC6749-3.1"),
    pytest.param("application/x-www-form-urlencoded", b"grant_type=%ff%fe", 400,
                 id="invalid-utf8-percent-encoding"),
    pytest.param("application/x-www-form-urlencoded", b"a=1&" * 20, 400,
                 id="too-many-fields"),
    pytest.param("application/x-www-form-urlencoded", b"x=" + b"a" * 70000, 413,
                 id="oversized-body"),
    pytest.param("application/x-www-form-urlencoded", "grant_type=pässword".encode(), 400,
                 id="raw-non-ascii"),
]  # fmt: skip


@pytest.mark.parametrize(("content_type", "raw", "status"), RAW_ATTACKS)
def test_token_route_refuses_malformed_bodies(
    api: Env, content_type: str, raw: bytes, status: int
) -> None:
    """Malformed forms get a 4xx with a JSON body, never a 500."""
    response = api.client.post("/auth/token", content=raw, headers={"content-type": content_type})
    assert response.status_code == status
    assert response.json()["error"]


async def test_parallel_guesses_through_the_token_route_are_throttled(api: Env) -> None:
    """300 parallel wrong passwords at /auth/token: at most the limit are evaluated."""
    transport = httpx.ASGITransport(api.client.app)
    form = {"grant_type": "password", "username": "alice", "password": "wrong-guess"}
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        results = await asyncio.gather(*(client.post("/auth/token", data=form) for _ in range(300)))
    statuses = [r.status_code for r in results]
    evaluated = statuses.count(400)
    assert evaluated <= api.container.settings().throttle.per_account_ip[0]
    assert set(statuses) <= {400, 429, 503}
    assert statuses.count(429) >= 250


def test_session_mode_mounts_no_token_route(make_env: Callable[..., Env]) -> None:
    """A router that issues no tokens has no token endpoint."""
    env = make_env(login_mode="session", backends=["session"])
    assert env.client.post("/auth/token", data={"grant_type": "password"}).status_code == 404
