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

from nexios_auth_di import (
    IsAuthenticated,
    SimpleUser,
    authorize,
    current_user,
    install,
    login_required,
    optional_user,
    permission_required,
    policy_required,
    require_scopes,
)
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

    _scope_routes(app)


def _scope_routes(app: NexiosApp) -> None:
    """Routes that state (or do not state) what a key needs, for the scope rows."""

    @app.route("/notes", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "PURGE"])
    async def notes(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id}  # login only: names no scope

    @app.post("/notes/dep")
    async def notes_dep(
        request: Any, response: Any, user: Any = Depend(require_scopes("notes:write"))
    ) -> Any:
        return {"user": user.id}

    @app.post("/notes/deco")
    @require_scopes("notes:write")
    async def notes_deco(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id}

    @app.post("/notes/both")
    @require_scopes("notes:write", "notes:publish")
    async def notes_both(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id}

    @app.post("/notes/stacked")
    @login_required
    @require_scopes("notes:write")
    async def notes_stacked(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id}

    @app.get("/notes/read")
    @require_scopes("notes:read")
    async def notes_read(request: Any, response: Any) -> Any:
        return {"ok": True}

    @app.post("/admin/action")
    @permission_required("admin")
    async def admin_action(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id}

    @app.post("/optional")
    async def optional(request: Any, response: Any, user: Any = Depend(optional_user)) -> Any:
        return {"user": None if user is None else user.id}

    @app.post("/policy")
    @policy_required(IsAuthenticated())
    async def policy(request: Any, response: Any) -> Any:
        return {"ok": True}

    @app.post("/authorize")
    async def object_check(request: Any, response: Any) -> Any:
        await authorize(request, IsAuthenticated(), "note-1")  # the handler's only check
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
    """Control row: the real key gets a 200 on GET; on POST (no CSRF needed) the guide's
    unscoped key gets a 200 and a scoped service key a 403, because the login-only route
    names no scope (least privilege: see the scope rows below)."""
    response = env.client.get("/me", headers={"X-API-Key": env.key})
    assert response.status_code == 200
    assert response.json() == {"user": "alice", "auth": "api_key"}
    post = env.client.post("/me", headers={"X-API-Key": env.key})
    assert post.status_code == (200 if env.container is None else 403)


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


# -- scope rows: what a key may reach (least privilege) ----------------------------------
LP = "OWASP ASVS 8.2.1 least privilege: a key reaches only what its scopes name"
UNSAFE = "OWASP ASVS 8.2.1 least privilege; RFC 9110 §9.2.1: every unsafe method is a write"
BOUND = "OWASP ASVS 8.2.2 a key never exceeds its owner (scopes ∩ permissions)"
CONTROL = "control row: the bound must not block what is allowed"
SCOPE_ROWS: list[tuple[str, str, str, list[str] | None, str, str, int]] = [
    # (name, rule, owner, key scopes (None: a JWT), method, path, status)
    ("no scopes POST login-only", LP, "alice", [], "POST", "/notes", 403),
    ("read scope POST login-only", LP, "alice", ["read"], "POST", "/notes", 403),
    ("write scope POST login-only", "a scope opens only the routes that name it", "alice",
     ["notes:write"], "POST", "/notes", 403),
    ("no scopes PUT", UNSAFE, "alice", [], "PUT", "/notes", 403),
    ("no scopes PATCH", UNSAFE, "alice", [], "PATCH", "/notes", 403),
    ("no scopes DELETE", UNSAFE, "alice", [], "DELETE", "/notes", 403),
    ("no scopes custom verb", UNSAFE + " (unknown verbs are unsafe)", "alice", [], "PURGE",
     "/notes", 403),
    ("read scope POST write route (Depend)", LP, "alice", ["notes:read"], "POST", "/notes/dep",
     403),
    ("read scope POST write route (decorator)", LP, "alice", ["notes:read"], "POST",
     "/notes/deco", 403),
    ("one of two scopes", LP + " (every named scope is needed)", "alice", ["notes:write"],
     "POST", "/notes/both", 403),
    ("no scopes GET route naming a scope", LP, "alice", [], "GET", "/notes/read", 403),
    ("no scopes POST login_required", LP, "alice", [], "POST", "/me", 403),
    ("no scopes POST optional_user", LP + " (an optional login is still a login)", "alice",
     [], "POST", "/optional", 403),
    ("no scopes POST policy_required", LP + " (a policy names no scope)", "alice", [], "POST",
     "/policy", 403),
    ("no scopes POST authorize() only", LP + " (an object check names no scope)", "alice", [],
     "POST", "/authorize", 403),
    ("JWT POST authorize() only", CONTROL, "alice", None, "POST", "/authorize", 200),
    ("scope without the owner's permission", BOUND, "alice", ["admin"], "POST",
     "/admin/action", 403),
    ("owner's permission without the scope", BOUND, "admin", ["read"], "POST", "/admin/action",
     403),
    ("no scopes GET login-only", CONTROL + ": reads stay open to any valid key", "alice", [],
     "GET", "/notes", 200),
    ("write scope POST write route (Depend)", CONTROL, "alice", ["notes:write"], "POST",
     "/notes/dep", 200),
    ("write scope POST write route (decorator)", CONTROL, "alice", ["notes:write"], "POST",
     "/notes/deco", 200),
    ("both scopes", CONTROL, "alice", ["notes:write", "notes:publish"], "POST", "/notes/both",
     200),
    ("write scope under login_required", CONTROL + " (decorators stack)", "alice",
     ["notes:write"], "POST", "/notes/stacked", 200),
    ("read scope GET route naming it", CONTROL, "alice", ["notes:read"], "GET", "/notes/read",
     200),
    ("scope and permission", CONTROL, "admin", ["admin"], "POST", "/admin/action", 200),
    ("JWT POST login-only", CONTROL + ": tokens and sessions are not scoped", "alice", None,
     "POST", "/notes", 200),
    ("JWT POST write route (Depend)", CONTROL, "alice", None, "POST", "/notes/dep", 200),
    ("JWT POST write route (decorator)", CONTROL, "alice", None, "POST", "/notes/deco", 200),
    ("JWT POST login_required", CONTROL, "alice", None, "POST", "/me", 200),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "rule", "owner", "scopes", "method", "path", "status"),
    SCOPE_ROWS,
    ids=[r[0] for r in SCOPE_ROWS],
)
def test_key_scopes_bound_every_route(
    container_env: Env,
    name: str,
    rule: str,
    owner: str,
    scopes: list[str] | None,
    method: str,
    path: str,
    status: int,
) -> None:
    """A scoped key reaches a route only when its scopes meet what the route names; a
    refusal is the generic 403 and JWT callers are unaffected."""
    assert container_env.container is not None
    if scopes is None:
        token = container_env.container.token_service().create_access_token(owner)
        headers = {"Authorization": f"Bearer {token}"}
    else:
        headers = {"X-API-Key": container_env.create(owner, scopes=scopes)}
    response = container_env.client.request(method, path, headers=headers)
    assert response.status_code == status, (rule, response.status_code, response.text[:200])
    if status == 403:
        assert response.json() == PERMISSION_DENIED, rule


def test_anonymous_caller_of_a_scoped_route_gets_401(container_env: Env) -> None:
    """require_scopes implies a login: no credential is a 401 with a challenge, not a 403."""
    for path in ("/notes/dep", "/notes/deco"):
        assert_refused(container_env.client.post(path), "RFC 9110 §15.5.2")
