"""benchmarks/loadtest/app.py in-process: every route the load test and the soak measure
answers as they expect, so the benchmark cannot rot between runs (memory stores here;
``nox -s loadtest`` serves it under uvicorn over Redis)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from nexios.testclient import TestClient

APP = Path(__file__).resolve().parents[2] / "benchmarks" / "loadtest" / "app.py"


@pytest.fixture(scope="module")
def module() -> ModuleType:
    """The load-test app's module, loaded from its file (benchmarks/ is no package)."""
    spec = importlib.util.spec_from_file_location("loadtest_app", APP)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def served(module: ModuleType) -> Iterator[tuple[TestClient, Any]]:
    """A client over a fresh container on memory stores, and that container."""
    container = module.build_container({})
    with TestClient(module.build_app(container), base_url="https://testserver") as client:
        yield client, container


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_config_follows_the_environment(module: ModuleType) -> None:
    """With a Redis URL the app runs Redis stores and the cached view, as the load test
    claims; without one, memory (and the view off, which needs Redis)."""
    redis = module.config_from_env({"NEXIOS_AUTH_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert redis["stores"] == "redis"
    assert redis["store"]["revocation_cache"] is True
    assert module.config_from_env({})["stores"] == "memory"
    assert module.config_from_env({})["store"]["revocation_cache"] is False


def test_bare_route_asks_for_nobody(served: tuple[TestClient, Any]) -> None:
    """The baseline answers 200 with no credential."""
    client, _ = served
    r = client.get("/bare")
    assert r.status_code == 200
    assert r.json() == {"ok": True}


def test_me_with_a_token_warm_and_cold(served: tuple[TestClient, Any]) -> None:
    """A repeated token (warm) and a never-seen one (cold) each reach the user."""
    client, container = served
    tokens = container.token_service()
    warm = tokens.create_access_token("u1")
    for _ in range(3):
        assert client.get("/me", headers=bearer(warm)).json() == {"user": "u1"}
    cold = [tokens.create_access_token("u2") for _ in range(3)]
    assert [client.get("/me", headers=bearer(t)).status_code for t in cold] == [200] * 3


def test_me_with_an_api_key(served: tuple[TestClient, Any]) -> None:
    """A key minted by the service, as the load generator mints it, authenticates."""
    client, container = served
    key, _ = asyncio.run(container.api_key_service().create("u3"))
    r = client.get("/me", headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    assert r.json() == {"user": "u3"}


def test_session_cookie_minted_from_a_token(served: tuple[TestClient, Any]) -> None:
    """POST /session turns a token into a session cookie that /me then accepts alone."""
    client, container = served
    token = container.token_service().create_access_token("u4")
    r = client.post("/session", headers=bearer(token))
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"].split(";", 1)[0]
    client.cookies.clear()
    r = client.get("/me", headers={"Cookie": cookie})
    assert r.status_code == 200, r.text
    assert r.json() == {"user": "u4"}


@pytest.mark.parametrize(
    ("user", "status"),
    [("u5", 200), ("nobody", 403), (None, 401)],
    ids=["has read: 200", "lacks read: 403 (ASVS V8.2.1)", "anonymous: 401 (ASVS V8.3.1)"],
)
def test_perm_route(served: tuple[TestClient, Any], user: str | None, status: int) -> None:
    """permission_required("read") lets readers in, 403s others, 401s nobody."""
    client, container = served
    headers = {} if user is None else bearer(container.token_service().create_access_token(user))
    assert client.get("/perm", headers=headers).status_code == status


def test_issue_refresh_revoke_cycle(served: tuple[TestClient, Any]) -> None:
    """The soak's cycle: issue, refresh, revoke; the revoked token is then 401."""
    client, _ = served
    pair = client.post("/issue", json={"user": "u6"}).json()
    assert client.get("/me", headers=bearer(pair["access_token"])).status_code == 200
    fresh = client.post("/refresh", json={"refresh_token": pair["refresh_token"]})
    assert fresh.status_code == 200, fresh.text
    access = fresh.json()["access_token"]
    assert client.get("/me", headers=bearer(access)).status_code == 200
    assert client.post("/revoke", headers=bearer(access)).status_code == 200
    assert client.get("/me", headers=bearer(access)).status_code == 401


def test_refresh_replay_ends_the_login(served: tuple[TestClient, Any]) -> None:
    """A spent refresh token sent again is 401 and ends its login: the access token of
    the pair it already bought is refused too (RFC 9700 §4.14.2 reuse detection)."""
    client, _ = served
    pair = client.post("/issue", json={"user": "u7"}).json()
    fresh = client.post("/refresh", json={"refresh_token": pair["refresh_token"]}).json()
    assert client.post("/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert client.get("/me", headers=bearer(fresh["access_token"])).status_code == 401


BAD_ISSUE = [
    ("unknown user", {"user": "mallory"}, 400, "no login for a name outside USERS"),
    ("user a number", {"user": 7}, 400, "type check, never 500"),
    ("extra field", {"user": "u1", "admin": True}, 400, "mass assignment (ASVS V15.3.3)"),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "rule"), BAD_ISSUE, ids=[f"{c[0]}: {c[3]}" for c in BAD_ISSUE]
)
def test_bad_issue_body_is_a_clear_4xx(
    served: tuple[TestClient, Any], case: str, body: dict[str, Any], status: int, rule: str
) -> None:
    """A malformed /issue body is a 4xx with a JSON detail, never a 500."""
    client, _ = served
    r = client.post("/issue", json=body)
    assert r.status_code == status, (rule, r.text)
    assert r.json()["detail"]
