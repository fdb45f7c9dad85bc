"""Fuzzing the installed app over raw ASGI: never a 5xx, never an escaped exception.

Hypothesis generates credential headers (Authorization, Cookie, X-API-Key, CSRF) and
bodies for every ready-made route that reads one, and sends them byte for byte. The
module runs over 20,000 examples (see EXAMPLES); a fixed seed keeps CI
deterministic, and `HYPOTHESIS_SEED=random` style exploration is one edit away.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher
from dependency_injector import providers
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from nexios import NexiosApp
from nexios.dependencies import Depend
from support.asgi import call

from nexios_auth_di import auth_router, current_user, install
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import MemoryUserRepository, user_loader_for

#: examples per test; 6 header tests and 6 body tests -> 6*2600 + 6*1000 = 21,600
HEADER_EXAMPLES = 2600
BODY_EXAMPLES = 1000
FUZZ = settings(
    max_examples=HEADER_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


FUZZ_PASSWORD = "fuzzing password 123"


@dataclass
class Env:
    app: Any
    #: a valid bearer header, so routes behind authentication parse the fuzzed bodies
    bearer: tuple[bytes, bytes]


def _env() -> Env:
    container = make_test_container(
        backends=["jwt", "session", "api_key"],
        throttle={"per_account": [1000000, 60], "per_ip": [1000000, 60],
                  "per_account_ip": [1000000, 60], "register_per_ip": [1000000, 60]},
    )  # fmt: skip
    users = MemoryUserRepository()
    container.user_repository.override(providers.Object(users))
    container.user_loader.override(providers.Object(user_loader_for(users)))
    hashed = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(FUZZ_PASSWORD)
    record = asyncio.run(users.create("fuzzer", hashed))
    token = container.token_service().create_access_token(record.id)
    app = NexiosApp(debug=False)

    @app.route("/me", methods=["GET", "POST", "PUT", "DELETE", "PURGE"])
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"id": str(user.identity)}

    install(app, container)
    app.mount_router(auth_router(container, login_mode="both"))
    return Env(app, (b"authorization", f"Bearer {token}".encode()))


@pytest.fixture(scope="module")
def env() -> Env:
    return _env()


@pytest.fixture
def app(env: Env) -> Any:
    return env.app


# -- strategies --------------------------------------------------------------------------
header_bytes = st.binary(max_size=300)
token_like = st.builds(
    lambda a, b, c: f"{a}.{b}.{c}".encode(),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ .", max_size=60),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=60),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=60),
)
scheme = st.sampled_from([b"Bearer ", b"bearer ", b"Basic ", b"", b"Bearer  ", b"Bearer\t"])
authorization = st.one_of(header_bytes, st.builds(lambda s, t: s + t, scheme, token_like))
api_key = st.one_of(
    header_bytes,
    st.builds(
        lambda i, s: f"nxa_{i}_{s}".encode(),
        st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", max_size=20),
        st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", max_size=60),
    ),
)
cookie = st.one_of(
    header_bytes,
    st.builds(
        lambda n, v: n + b"=" + v, st.sampled_from([b"__Host-session", b"session"]), header_bytes
    ),
)
method = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PURGE"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _fields(names: list[str]) -> st.SearchStrategy[bytes]:
    """JSON objects mostly shaped like the route's body, sometimes anything at all."""
    shaped = st.fixed_dictionaries(
        {}, optional={name: json_values | st.text(max_size=80) for name in names}
    )
    valueish = st.one_of(shaped, json_values)
    return st.one_of(
        valueish.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=400),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )


content_type = st.sampled_from(
    [b"application/json", b"application/json; charset=utf-8", b"text/plain",
     b"application/x-www-form-urlencoded", b"", b"application/json; charset=latin-1"]
)  # fmt: skip


def _assert_handled(status: int, body: bytes) -> None:
    assert status < 500, (status, body[:300])
    assert b"Traceback" not in body


# -- header fuzzing ------------------------------------------------------------------------
@FUZZ
@seed(1)
@given(value=authorization, verb=method)
async def test_fuzz_authorization_header(app: Any, value: bytes, verb: str) -> None:
    """Any Authorization header bytes get 2xx/4xx, never 5xx or an escaped exception."""
    response = await call(app, verb, "/me", [(b"authorization", value)])
    _assert_handled(response.status, response.body)


@FUZZ
@seed(2)
@given(value=cookie, verb=method, csrf=st.one_of(st.none(), header_bytes))
async def test_fuzz_session_cookie_and_csrf(
    app: Any, value: bytes, verb: str, csrf: bytes | None
) -> None:
    """Any Cookie and X-CSRF-Token bytes get 2xx/4xx, never 5xx."""
    headers = [(b"cookie", value)]
    if csrf is not None:
        headers.append((b"x-csrf-token", csrf))
    response = await call(app, verb, "/me", headers)
    _assert_handled(response.status, response.body)


@FUZZ
@seed(3)
@given(value=api_key, verb=method)
async def test_fuzz_api_key_header(app: Any, value: bytes, verb: str) -> None:
    """Any X-API-Key bytes get 2xx/4xx, never 5xx."""
    response = await call(app, verb, "/me", [(b"x-api-key", value)])
    _assert_handled(response.status, response.body)


@FUZZ
@seed(4)
@given(
    names=st.lists(
        st.sampled_from([b"authorization", b"x-api-key", b"cookie", b"x-csrf-token", b"origin"]),
        min_size=1,
        max_size=5,
    ),
    values=st.lists(header_bytes, min_size=5, max_size=5),
)
async def test_fuzz_mixed_and_duplicated_credentials(
    app: Any, names: list[bytes], values: list[bytes]
) -> None:
    """Several credential headers at once, duplicated or conflicting: 2xx/4xx only."""
    headers = list(zip(names, values, strict=False))
    response = await call(app, "POST", "/me", headers)
    _assert_handled(response.status, response.body)


@FUZZ
@seed(5)
@given(value=authorization, body=st.binary(max_size=200))
async def test_fuzz_logout_with_bearer(app: Any, value: bytes, body: bytes) -> None:
    """Logout with any bearer bytes and any body: 2xx/4xx only."""
    headers = [(b"authorization", value), (b"content-type", b"application/json")]
    response = await call(app, "POST", "/auth/logout", headers, body)
    _assert_handled(response.status, response.body)


@FUZZ
@seed(6)
@given(value=authorization, body=_fields(["name", "scopes", "ttl", "password"]))
async def test_fuzz_api_key_creation(app: Any, value: bytes, body: bytes) -> None:
    """API-key creation with any bearer bytes and body: 2xx/4xx only."""
    headers = [(b"authorization", value), (b"content-type", b"application/json")]
    response = await call(app, "POST", "/auth/api-keys", headers, body)
    _assert_handled(response.status, response.body)


# -- body fuzzing --------------------------------------------------------------------------
SIGNED_IN = {"/auth/password", "/auth/logout-all", "/auth/api-keys"}
BODY_ROUTES = [
    ("/auth/login", ["username", "password"]),
    ("/auth/register", ["username", "password", "email"]),
    ("/auth/refresh", ["refresh_token"]),
    ("/auth/password", ["current_password", "new_password"]),
    ("/auth/logout-all", ["include_api_keys"]),
    ("/auth/api-keys", ["name", "scopes", "ttl", "password"]),
]


@pytest.mark.parametrize(("path", "fields"), BODY_ROUTES, ids=[r[0] for r in BODY_ROUTES])
@settings(FUZZ, max_examples=BODY_EXAMPLES)
@seed(7)
@given(data=st.data(), kind=content_type)
async def test_fuzz_route_bodies(
    env: Env, path: str, fields: list[str], data: st.DataObject, kind: bytes
) -> None:
    """Every route that reads a body answers any body and content type with 2xx/4xx
    (signed in, so routes behind authentication parse the body too)."""
    body = data.draw(_fields(fields), label="body")
    headers = [(b"content-type", kind)] if kind else []
    if path in SIGNED_IN:
        headers.append(env.bearer)
    response = await call(env.app, "POST", path, headers, body)
    _assert_handled(response.status, response.body)
