"""API-key attacks over HTTP: the container path (``APIKeyService``) and the guide's form.

Container app: ``install(app, container)``; keys come from
``container.api_key_service().create(owner, scopes=[...])`` and the clock is a fake one
injected before anything is built. Guide app: ``APIKeyBackend(key_name="X-API-Key",
authenticate_func=...)`` behind ``AuthenticationMiddleware``, with a constant-time
dictionary lookup. Every row gets the generic 401 (a 400 only for a duplicated header),
never a 200 or a 5xx.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from dependency_injector import providers
from http_attack_support import assert_refused, header_value, open_client
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient
from support import FakeClock

from nexios_auth_di import SimpleUser, current_user, install, login_required, permission_required
from nexios_auth_di.apikeys.service import BASE62, CHECKSUM_LEN, checksum
from nexios_auth_di.backends.apikey import APIKeyBackend
from nexios_auth_di.container import AuthContainer
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.testing import make_test_container

USERS = {
    "alice": SimpleUser("alice", permissions=["read"]),
    "admin": SimpleUser("admin", permissions=["read", "admin"]),
}
PERMISSION_DENIED = {"error": "permission_denied", "detail": "Permission denied"}
Headers = list[tuple[str, str | bytes]]


@dataclass
class Env:
    """One app, its client and a valid key for it (plus the container, if any)."""

    client: TestClient
    key: str
    container: AuthContainer | None = None
    clock: FakeClock | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def create(self, owner: str, **kw: Any) -> str:
        assert self.container is not None
        assert self.client.portal is not None
        create = functools.partial(self.container.api_key_service().create, owner, **kw)
        key, _ = self.client.portal.call(create)
        return str(key)


def _routes(app: NexiosApp) -> None:
    @app.route("/me", methods=["GET", "POST"])
    @login_required
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id, "auth": request.scope["auth"]}

    @app.get("/admin")
    @permission_required("admin")
    async def admin(request: Any, response: Any) -> Any:
        return {"ok": True}


def constant_time_lookup(table: dict[str, Any]) -> Callable[[str], Any]:
    """The guide's ``authenticate_func``, done right: every entry compared, no early exit."""

    def lookup(raw: str) -> Any:
        given = raw.encode("utf-8", "surrogatepass")
        found = None
        for candidate, user in table.items():
            if hmac.compare_digest(candidate.encode(), given):
                found = user
        return found

    return lookup


@pytest.fixture(scope="module")
def container_env() -> Iterator[Env]:
    """``install(app, container)`` with a fake clock; a read-scoped key for alice."""
    clock = FakeClock()
    container = make_test_container(USERS)
    container.clock.override(providers.Object(clock))
    app = NexiosApp()
    _routes(app)
    install(app, container)
    with open_client(app) as client:
        env = Env(client, "", container, clock)
        env.key = env.create("alice", scopes=["read"])
        yield env


@pytest.fixture(scope="module")
def guide_env() -> Iterator[Env]:
    """The guide's ``APIKeyBackend(key_name=..., authenticate_func=...)`` form."""
    key = "gk_" + secrets.token_urlsafe(32)
    app = NexiosApp()
    backend = APIKeyBackend(
        key_name="X-API-Key", authenticate_func=constant_time_lookup({key: USERS["alice"]})
    )
    app.add_middleware(AuthenticationMiddleware(backend=backend))
    _routes(app)
    with open_client(app) as client:
        yield Env(client, key)


@pytest.fixture(params=["container", "guide"])
def env(request: pytest.FixtureRequest) -> Env:
    """Each generic row runs against both apps."""
    chosen: Env = request.getfixturevalue(f"{request.param}_env")
    chosen.client.cookies.clear()
    return chosen


# -- generic rows: a valid key, mutated ------------------------------------------------
def _other_char(c: str) -> str:
    return "B" if c == "A" else "A"


def _value(fn: Callable[[str], str | bytes]) -> Callable[[Env], Headers]:
    return lambda e: [("X-API-Key", header_value(fn(e.key)))]


INPUT = "CWE-20 improper input validation"
GENERIC_ROWS: list[tuple[str, str, Callable[[Env], Headers], tuple[int, ...]]] = [
    ("last char changed", "CWE-287: a key must match exactly",
     _value(lambda k: k[:-1] + _other_char(k[-1])), (401,)),
    ("first char changed", "CWE-287: a key must match exactly",
     _value(lambda k: _other_char(k[0]) + k[1:]), (401,)),
    ("truncated", "CWE-287: no prefix matching", _value(lambda k: k[:-1]), (401,)),
    ("extended", "CWE-287: no prefix matching", _value(lambda k: k + "A"), (401,)),
    ("case swapped", "CWE-178 improper handling of case sensitivity",
     _value(lambda k: k.swapcase()), (401,)),
    ("100 KB header", "CWE-400 resource consumption: oversized key refused before lookup",
     _value(lambda k: k + "A" * 100_000), (401,)),
    ("100 KB junk", "CWE-400 resource consumption", _value(lambda k: "A" * 100_000), (401,)),
    ("empty", INPUT, _value(lambda k: ""), (401,)),
    ("whitespace", INPUT, _value(lambda k: "   "), (401,)),
    ("space inside", INPUT, _value(lambda k: k[:8] + " " + k[8:]), (401,)),
    ("NUL appended", "CWE-158 NUL byte", _value(lambda k: k + "\x00"), (401,)),
    ("NUL inside", "CWE-158 NUL byte", _value(lambda k: k[:8] + "\x00" + k[9:]), (401,)),
    ("unicode char", "CWE-176 unicode handling", _value(lambda k: k[:-1] + "é"), (401,)),
    ("fullwidth underscore", "CWE-176 unicode handling (NFKC look-alike)",
     _value(lambda k: k.replace("_", "\uff3f")), (401,)),
    ("latin-1 bytes", "RFC 9110 §5.5 obs-text is opaque", _value(lambda k: b"\xff" + k.encode()),
     (401,)),
    ("missing last segment", "GitHub token format: prefix_id_secret+checksum",
     _value(lambda k: k.rsplit("_", 1)[0]), (401,)),
    ("missing first segment", "GitHub token format: prefix_id_secret+checksum",
     _value(lambda k: k.split("_", 1)[1]), (401,)),
    ("extra underscore", "GitHub token format: prefix_id_secret+checksum",
     _value(lambda k: k.replace("_", "__", 1)), (401,)),
    ("trailing underscore", "GitHub token format: prefix_id_secret+checksum",
     _value(lambda k: k + "_"), (401,)),
    ("scheme prefix left in", INPUT, _value(lambda k: "ApiKey " + k), (401,)),
    ("key in Authorization", "the key is only read from its configured header",
     lambda e: [("Authorization", f"Bearer {e.key}")], (401,)),
    ("key in another header", "the key is only read from its configured header",
     lambda e: [("X-Api-Token", e.key)], (401,)),
    ("duplicate header, bogus first", "RFC 9110 §5.3: two copies of a credential are ambiguous",
     lambda e: [("X-API-Key", "bogus"), ("X-API-Key", e.key)], (400,)),
    ("duplicate header, real first", "RFC 9110 §5.3: two copies of a credential are ambiguous",
     lambda e: [("X-API-Key", e.key), ("X-API-Key", "bogus")], (400,)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "rule", "headers", "allowed"), GENERIC_ROWS, ids=[r[0] for r in GENERIC_ROWS]
)
def test_mutated_key_is_refused(
    env: Env,
    name: str,
    rule: str,
    headers: Callable[[Env], Headers],
    allowed: tuple[int, ...],
) -> None:
    """A key that is not exactly a live key gets the generic 401, never a 200 or a 5xx."""
    response = env.client.get("/me", headers=headers(env))
    assert response.status_code in allowed, (rule, response.status_code, response.text[:200])
    if response.status_code == 400:  # only the duplicated-header rows allow it
        assert response.json()["error"] == "bad_request", rule
    else:
        assert_refused(response, rule)


def test_key_in_query_string_is_ignored(env: Env) -> None:
    """OWASP REST cheat sheet: credentials in URLs leak into logs, so they are never read."""
    for name in ("api_key", "apikey", "key", "X-API-Key"):
        assert_refused(env.client.get("/me", params={name: env.key}), "credentials in URL")


# -- container-only rows: the service's format, store and lifecycle ----------------------
def _parts(key: str) -> tuple[str, str, str, str]:
    """(prefix, key_id, secret, checksum) of a service key."""
    prefix, key_id, rest = key.split("_", 2)
    return prefix, key_id, rest[:-CHECKSUM_LEN], rest[-CHECKSUM_LEN:]


def _assemble(prefix: str, key_id: str, secret: str) -> str:
    body = f"{prefix}_{key_id}_{secret}"
    return body + checksum(body)


def wrong_secret(e: Env) -> str:
    prefix, key_id, secret, _ = _parts(e.key)
    other = "".join(secrets.choice(BASE62) for _ in secret)
    return _assemble(prefix, key_id, other)  # checksum valid: reaches the hash comparison


def bad_checksum(e: Env) -> str:
    prefix, key_id, secret, check = _parts(e.key)
    return f"{prefix}_{key_id}_{secret}{check[:-1]}{_other_char(check[-1])}"


def other_prefix(e: Env) -> str:
    _, key_id, secret, _ = _parts(e.key)
    return _assemble("ghp", key_id, secret)  # same id and secret, another service's prefix


def unknown_id(e: Env) -> str:
    prefix, _, secret, _ = _parts(e.key)
    return _assemble(prefix, "".join(secrets.choice(BASE62) for _ in range(16)), secret)


def revoked(e: Env) -> str:
    key = e.create("alice", scopes=["read"])
    assert e.container is not None
    assert e.client.portal is not None
    revoke = e.container.api_key_service().revoke
    assert e.client.portal.call(revoke, _parts(key)[1])
    return key


def expired(e: Env) -> str:
    key = e.create("alice", scopes=["read"], ttl=60)
    assert e.client.get("/me", headers={"X-API-Key": key}).status_code == 200
    assert e.clock is not None
    e.clock.advance(61)
    return key


def removed_owner(e: Env) -> str:
    return e.create("bob", scopes=["read"])  # bob is not (or no longer) a user


SERVICE_ROWS: list[tuple[str, str, Callable[[Env], str]]] = [
    ("good id, wrong secret", "issue 3: SHA-256 of the secret, compared in constant time",
     wrong_secret),
    ("good id, bad checksum", "GitHub token format: CRC32 checksum refuses typos offline",
     bad_checksum),
    ("another prefix", "GitHub token format: the prefix names the issuer", other_prefix),
    ("unknown id", "CWE-287: a well-formed key that was never issued", unknown_id),
    ("revoked", "issue 3 API keys: revocation; CWE-613", revoked),
    ("expired", "issue 3 API keys: expiry; CWE-324 key past its expiration date", expired),
    ("owner removed", "OWASP Authentication cheat sheet: same answer for unknown accounts",
     removed_owner),
]  # fmt: skip


@pytest.mark.parametrize(("name", "rule", "make"), SERVICE_ROWS, ids=[r[0] for r in SERVICE_ROWS])
def test_service_row_is_refused(
    container_env: Env, name: str, rule: str, make: Callable[[Env], str]
) -> None:
    """Keys the service must not honour (forged, revoked, expired...) get the generic 401."""
    key = make(container_env)
    assert_refused(container_env.client.get("/me", headers={"X-API-Key": key}), rule)


# -- control rows --------------------------------------------------------------------------
def test_real_key_authenticates(env: Env) -> None:
    """Control row: the real key gets a 200 on GET and (no CSRF needed) on POST."""
    for method in ("GET", "POST"):
        response = env.client.request(method, "/me", headers={"X-API-Key": env.key})
        assert response.status_code == 200
        assert response.json() == {"user": "alice", "auth": "api_key"}


@pytest.mark.parametrize(
    ("owner", "scopes", "status"),
    [
        ("admin", ["read"], 403),  # the key limits its owner
        ("admin", ["read", "admin"], 200),
        ("alice", ["read", "admin"], 403),  # a key never exceeds its owner
        ("alice", [], 403),
    ],
    ids=["admin-read-key", "admin-admin-key", "alice-admin-key", "alice-no-scopes"],
)
def test_scopes_limit_permissions(
    container_env: Env, owner: str, scopes: list[str], status: int
) -> None:
    """A key's permissions are its scopes intersected with its owner's grants."""
    key = container_env.create(owner, scopes=scopes)
    me = container_env.client.get("/me", headers={"X-API-Key": key})
    assert me.status_code == 200
    response = container_env.client.get("/admin", headers={"X-API-Key": key})
    assert response.status_code == status
    if status == 403:
        assert response.json() == PERMISSION_DENIED
