"""Bad request bodies for every route, as data rows: each gets a clear 4xx, never a 500.

Each row names the rule it covers. Valid credentials are sent where a route needs them,
so every row reaches body validation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers
from nexios.testclient import TestClient
from route_helpers import PASSWORD, Env, build_app

from nexios_auth_di.events import MemorySink
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

ASVS_TYPES = "ASVS 4.0.3 V5.1.4: structured data is strongly typed and schema-checked"
ASVS_REQUIRED = "ASVS 4.0.3 V5.1.3: input is validated against an allow list of fields"
ASVS_MASS = "ASVS 4.0.3 V5.1.2: no mass assignment (unknown fields refused)"
ASVS_PW_LONG = "ASVS 4.0.3 V2.1.2/V2.1.3: long passwords refused, never truncated"
CWE_770 = "CWE-770: body size is bounded before it is read"
CSRF_CT = "OWASP CSRF cheat sheet: JSON-only endpoints force a CORS preflight"
RFC8259_UTF8 = "RFC 8259 §8.1: JSON text exchanged between systems is UTF-8"
RFC8259_DUP = "RFC 8259 §4: duplicate names are ambiguous; refused"
RFC8259_NUM = "RFC 8259 §6: NaN and Infinity are not JSON numbers"
RFC8259_SURR = "RFC 8259 §8.2: unpaired surrogates are not valid text"
CWE_674 = "CWE-674: deep nesting cannot crash the parser"

#: route -> (fields with a valid value, which of them are required)
ROUTES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "/auth/register": (
        {"username": "newuser", "password": "long enough pw"},
        ("username", "password"),
    ),
    "/auth/login": ({"username": "alice", "password": PASSWORD}, ("username", "password")),
    "/auth/refresh": ({"refresh_token": "x.y.z"}, ("refresh_token",)),
    "/auth/password": (
        {"current_password": PASSWORD, "new_password": "another passphrase"},
        ("current_password", "new_password"),
    ),
    "/auth/logout": ({"refresh_token": "x.y.z"}, ()),
    "/auth/logout-all": ({"include_api_keys": False}, ()),
    "/auth/api-keys": (
        {"name": "ci", "scopes": ["read"], "ttl": 60, "password": PASSWORD},
        ("password",),
    ),
}
PASSWORD_FIELDS = {"password", "current_password", "new_password"}
JSON_CT = {"Content-Type": "application/json"}


def _field_rows() -> Iterator[Any]:
    """Per field: missing, null, wrong JSON types, empty string."""
    for route, (valid, required) in ROUTES.items():
        for name in valid:
            wrong: list[tuple[str, Any, int]] = [
                ("number", 12345, 400),
                ("bool", True, 400),
                ("object", {"$ne": ""}, 400),
            ]
            if name != "scopes":
                wrong.append(("list", ["a", "b"], 400))
                wrong.append(("empty", "", 400))
            if name in required:
                wrong.append(("null", None, 400))
                body = {k: v for k, v in valid.items() if k != name}
                yield pytest.param(route, body, 400, ASVS_REQUIRED, id=f"{route}-{name}-missing")
            for label, value, status in wrong:
                if (name, label) in (("ttl", "number"), ("include_api_keys", "bool")):
                    continue  # the right type for that field
                body = {**valid, name: value}
                yield pytest.param(route, body, status, ASVS_TYPES, id=f"{route}-{name}-{label}")
            if name in PASSWORD_FIELDS:
                body = {**valid, name: "é" * 2049}  # 4098 bytes of UTF-8, 2049 characters
                yield pytest.param(route, body, 400, ASVS_PW_LONG, id=f"{route}-{name}-4KiB+1")
                body = {**valid, name: "\ud800surrogate"}
                yield pytest.param(route, body, 400, RFC8259_SURR, id=f"{route}-{name}-surrogate")
        if "ttl" in valid:
            for label, value in (("zero", 0), ("negative", -5), ("huge-int", 10**400)):
                body = {**valid, "ttl": value}
                yield pytest.param(route, body, 400, ASVS_TYPES, id=f"{route}-ttl-{label}")
        unknown = {**valid, "is_admin": True}
        yield pytest.param(route, unknown, 400, ASVS_MASS, id=f"{route}-unknown-field")


def _raw_rows() -> Iterator[Any]:
    """Whole-body attacks, the same for every route."""
    cases: list[tuple[str, bytes, dict[str, str], int, str]] = [
        ("10MB", b"{" + b" " * (10 * 1024 * 1024) + b"}", JSON_CT, 413, CWE_770),
        ("text-plain", b'{"username": "a"}', {"Content-Type": "text/plain"}, 415, CSRF_CT),
        (
            "form",
            b"username=a&password=b",
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
            CSRF_CT,
        ),
        ("not-json", b"username=alice", JSON_CT, 400, ASVS_TYPES),
        ("array", b'["alice", "pw"]', JSON_CT, 400, ASVS_TYPES),
        ("string", b'"alice"', JSON_CT, 400, ASVS_TYPES),
        ("number", b"42", JSON_CT, 400, ASVS_TYPES),
        ("null", b"null", JSON_CT, 400, ASVS_TYPES),
        ("invalid-utf8", b'{"username": "\xff\xfe"}', JSON_CT, 400, RFC8259_UTF8),
        ("duplicate-name", b'{"name": "a", "name": "b"}', JSON_CT, 400, RFC8259_DUP),
        ("nan", b'{"ttl": NaN}', JSON_CT, 400, RFC8259_NUM),
        ("deep-nesting", b"[" * 50_000 + b"]" * 50_000, JSON_CT, 413, CWE_770),
        ("deep-nesting-small", b'{"a":' * 5_000 + b"1" + b"}" * 5_000, JSON_CT, 400, CWE_674),
        ("truncated", b'{"username": "al', JSON_CT, 400, ASVS_TYPES),
    ]
    for route in ROUTES:
        for label, body, headers, status, rule in cases:
            yield pytest.param(route, body, headers, status, rule, id=f"{route}-{label}")


@pytest.fixture(scope="module")
def bodies_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, dict[str, str]]]:
    """One app for all rows (they change nothing): alice with a valid bearer token."""
    repo = SqliteUserRepository(tmp_path_factory.mktemp("bodies") / "users.sqlite3")
    container = make_test_container()
    container.user_loader.override(providers.Object(user_loader_for(repo)))
    container.user_repository.override(providers.Object(repo))
    sink = MemorySink()
    container.event_sink.override(providers.Object(sink))
    with TestClient(build_app(container, "tokens"), base_url="https://testserver") as client:
        env = Env(client, container, repo, sink)
        env.seed("alice", ("read",))
        token = env.login()["access_token"]
        yield env, {"Authorization": f"Bearer {token}"}


def _check(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert body["detail"]


@pytest.mark.parametrize(("route", "body", "status", "rule"), list(_field_rows()))
def test_bad_fields_get_a_clear_4xx(
    bodies_env: tuple[Env, dict[str, str]], route: str, body: Any, status: int, rule: str
) -> None:
    """Every malformed field is refused with its 4xx and a message, never a 500."""
    env, auth = bodies_env
    raw = json.dumps(body).encode("utf-8", "surrogatepass")
    response = env.client.post(route, content=raw, headers={**JSON_CT, **auth})
    _check(response, status)


@pytest.mark.parametrize(("route", "body", "headers", "status", "rule"), list(_raw_rows()))
def test_bad_bodies_get_a_clear_4xx(
    bodies_env: tuple[Env, dict[str, str]],
    route: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    rule: str,
) -> None:
    """Oversized, non-JSON, non-object and broken bodies are refused, never a 500."""
    env, auth = bodies_env
    response = env.client.post(route, content=body, headers={**headers, **auth})
    _check(response, status)


def test_valid_bodies_pass_the_same_checks(bodies_env: tuple[Env, dict[str, str]]) -> None:
    """The rows above fail for their defect alone: the valid templates are accepted."""
    env, auth = bodies_env
    made = env.client.post("/auth/api-keys", json=ROUTES["/auth/api-keys"][0], headers=auth)
    assert made.status_code == 201
    register = env.client.post("/auth/register", json=ROUTES["/auth/register"][0])
    assert register.status_code == 201
    login = env.client.post("/auth/login", json=ROUTES["/auth/login"][0])
    assert login.status_code == 200


async def test_chunked_10mb_body_is_abandoned_at_the_limit(
    bodies_env: tuple[Env, dict[str, str]],
) -> None:
    """Without Content-Length, reading stops one chunk past 64 KiB: 10 MB is not buffered
    (CWE-770)."""
    env, _ = bodies_env
    app = env.client.app
    pulled = 0
    chunk = b" " * (1024 * 1024)

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        if pulled > 10:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunk, "more_body": pulled < 10}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/auth/login",
        "raw_path": b"/auth/login",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 443),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    assert pulled == 1, f"read {pulled} MiB chunks of a body already over the limit"
