"""Every token attack row of tests/support/attack_cases.py, sent over HTTP to real apps.

Three apps, one route each (``GET /me``: ``@login_required`` plus ``Depend(current_user)``):

* ``guide``: the guide's form, ``app.add_middleware(AuthenticationMiddleware(backend=
  JWTAuthBackend(secret_key=..., algorithm="HS256", authenticate_func=...)))``;
* ``guide-asgi``: the same backend through the pure-ASGI form,
  ``app.wrap_asgi(AuthenticationMiddleware, backends=[...])``;
* ``guide-aud-iss``: the guide's backend given ``issuer=``/``audience=``;
* ``container``: ``install(app, container)`` with the key ring, issuer, audience and
  clock of the kit, plus ``POST /refresh`` calling ``container.token_service().refresh``.

Every row is answered 401 with the generic body and a challenge, except the rows listed
below with the reason; nothing is skipped silently.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dependency_injector import providers
from http_attack_support import assert_refused, bearer, open_client
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient
from support.attack_cases import ATTACKS, DROP, AttackCase, AttackKit

from nexios_auth_di import SimpleUser, current_user, install, login_required
from nexios_auth_di.backends.jwt import JWTAuthBackend
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.request_auth import CONTAINER_KEY
from nexios_auth_di.testing import make_test_container, override_loader

ISSUER = "https://issuer.test"
AUDIENCE = "api.test"
APPS = ("guide", "guide-asgi", "guide-aud-iss", "container")
USERS = {"alice": SimpleUser("alice", permissions=["read"])}

#: rows that cannot be sent as an HTTP request at all, or mean nothing there
NOT_OVER_HTTP: dict[str, str] = {
    "trailing-newline": "CR/LF cannot appear in a field value (RFC 9110 §5.5); the client "
    "strips it, so what arrives is the honest token",
    "bytes-token": "over HTTP every header is bytes: the row tests the Python API's "
    "str-only rule, and its bytes are the honest token",
}

#: plain guide form: no audience/issuer configured, required claims only ``exp``
GUIDE_ACCEPTS: dict[str, str] = {
    **dict.fromkeys(
        ("aud-wrong", "aud-missing", "aud-list-without-ours", "aud-object"),
        "guide form configures no audience: RFC 7519 §4.1.3 has aud checked only by a "
        "recipient that has one (the guide-aud-iss app refuses this row)",
    ),
    **dict.fromkeys(
        ("iss-wrong", "iss-missing", "iss-list"),
        "guide form configures no issuer (the guide-aud-iss app refuses this row)",
    ),
    "iat-missing": "guide form requires only exp (RFC 7519 §4.1.6: iat is optional); the "
    "container requires it",
    "jti-missing": "guide form requires only exp and has no revocation, so jti has no use "
    "there; the container requires it",
}
GUIDE_AUD_ISS_ACCEPTS: dict[str, str] = {
    row: GUIDE_ACCEPTS[row] for row in ("iat-missing", "jti-missing")
}

#: stateful or refresh-only rows: the guide form has no revocation store and no refresh
CONTAINER_ONLY: dict[str, str] = {
    **{
        case.id: "refresh-only row: sent to the container app's POST /refresh; the guide "
        "form has no refresh service"
        for case in ATTACKS
        if case.use == "refresh"
    },
    "revoked-jti": "guide form has no revocation store",
    "revoked-subject": "guide form has no revocation store",
}

GOOD_CLAIMS_RULE = "control row: an honest token passes, so the suite can fail"


def _plan() -> list[Any]:
    """(app, case, expected status) for every row, with a readable id."""
    params: list[Any] = []
    accepts = {
        "guide": GUIDE_ACCEPTS,
        "guide-asgi": GUIDE_ACCEPTS,
        "guide-aud-iss": GUIDE_AUD_ISS_ACCEPTS,
        "container": {},
    }
    for case in ATTACKS:
        if case.id in NOT_OVER_HTTP:
            continue
        for app in APPS:
            if app != "container" and case.id in CONTAINER_ONLY:
                continue
            status = 200 if case.id in accepts[app] else 401
            params.append(pytest.param(app, case, status, id=f"{app}:{case.id}"))
    return params


PLAN = _plan()


# -- apps --------------------------------------------------------------------------
def _me_routes(app: NexiosApp) -> None:
    @app.get("/me")
    @login_required
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id}


def guide_app(kit: AttackKit, *, asgi: bool = False, **backend_kw: Any) -> NexiosApp:
    """The guide's JWT backend over a dict loader, via add_middleware (or wrap_asgi)."""
    app = NexiosApp()

    def load(identity: Any) -> Any:
        return USERS.get(str(identity))

    backend = JWTAuthBackend(
        secret_key=kit.secret, algorithm="HS256", authenticate_func=load, **backend_kw
    )
    if asgi:
        app.wrap_asgi(AuthenticationMiddleware, backends=[backend])
    else:
        app.add_middleware(AuthenticationMiddleware(backend=backend))
    _me_routes(app)
    return app


def container_app(kit: AttackKit) -> tuple[NexiosApp, AttackKit]:
    """``install(app, container)``; returns the kit re-pointed at the container's service,
    so stateful rows revoke and spend in the stores the app reads."""
    container = make_test_container(
        USERS, jwt={"secret_key": kit.secret, "issuer": ISSUER, "audience": AUDIENCE}
    )
    container.clock.override(providers.Object(kit.clock))  # before anything is built
    app = NexiosApp()
    _me_routes(app)

    @app.post("/refresh")
    async def refresh(request: Any, response: Any) -> Any:
        body = await request.json
        token = body.get("refresh_token") if isinstance(body, dict) else None
        access, new_refresh = await container.token_service().refresh(token)
        return {"access_token": access, "refresh_token": new_refresh}

    install(app, container)
    return app, dataclasses.replace(kit, service=container.token_service())


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, tuple[TestClient, AttackKit]]]:
    """One client per app, built once for the module."""
    # the guide form checks time against the real clock: freeze the kit at "now"
    guide_kit = AttackKit.create(
        secrets.token_urlsafe(48), issuer=ISSUER, audience=AUDIENCE, now=time.time()
    )
    c_app, c_kit = container_app(
        AttackKit.create(secrets.token_urlsafe(48), issuer=ISSUER, audience=AUDIENCE)
    )
    with (
        open_client(guide_app(guide_kit)) as guide,
        open_client(guide_app(guide_kit, asgi=True)) as guide_asgi,
        open_client(guide_app(guide_kit, issuer=ISSUER, audience=AUDIENCE)) as strict,
        open_client(c_app) as container,
    ):
        yield {
            "guide": (guide, guide_kit),
            "guide-asgi": (guide_asgi, guide_kit),
            "guide-aud-iss": (strict, guide_kit),
            "container": (container, c_kit),
        }


def _present(client: TestClient, case: AttackCase, token: str | bytes) -> Any:
    if case.use == "refresh":
        return client.post("/refresh", json={"refresh_token": token})
    return client.get("/me", headers=bearer(token))


# -- the table ---------------------------------------------------------------------
def test_every_row_is_accounted_for() -> None:
    """Each attack row runs over HTTP in some app or is listed with the reason it cannot."""
    listed = set(NOT_OVER_HTTP) | set(GUIDE_ACCEPTS) | set(CONTAINER_ONLY)
    assert listed <= {case.id for case in ATTACKS}, "a listed row no longer exists"
    ran = {p.values[1].id for p in PLAN}
    assert ran | set(NOT_OVER_HTTP) == {case.id for case in ATTACKS}
    container_rows = [p for p in PLAN if p.values[0] == "container"]
    assert len(container_rows) >= 60
    assert all(p.values[2] == 401 for p in container_rows)
    guide_refused = [p for p in PLAN if p.values[0] == "guide" and p.values[2] == 401]
    assert len(guide_refused) >= 60


@pytest.mark.parametrize("app", APPS)
def test_honest_token_is_accepted(
    clients: dict[str, tuple[TestClient, AttackKit]], app: str
) -> None:
    """Control row: the kit's honest token gets a 200 in every app, so the suite can fail."""
    client, kit = clients[app]
    response = client.get("/me", headers=bearer(kit.honest()))
    assert response.status_code == 200, GOOD_CLAIMS_RULE
    assert response.json() == {"user": "alice"}


@pytest.mark.parametrize(("app", "case", "status"), PLAN)
def test_attack_row_over_http(
    clients: dict[str, tuple[TestClient, AttackKit]], app: str, case: AttackCase, status: int
) -> None:
    """A forged, malformed or replayed token gets the generic 401, never a 200 or a 5xx."""
    client, kit = clients[app]
    token = case.make(kit)
    if case.setup is not None:
        assert isinstance(token, str)
        assert client.portal is not None
        client.portal.call(case.setup, kit, token)
    response = _present(client, case, token)
    if status == 200:  # listed in GUIDE_ACCEPTS / GUIDE_AUD_ISS_ACCEPTS with the reason
        assert response.status_code == 200, (case.rule, response.text[:200])
        return
    assert_refused(response, case.rule)


# -- rows that exist only over HTTP ----------------------------------------------------
HeaderRows = Callable[[AttackKit], list[tuple[str, str | bytes]]]

HTTP_ROWS: list[tuple[str, str, HeaderRows, tuple[int, ...]]] = [
    ("unknown-user", "OWASP Authentication cheat sheet: same answer for unknown accounts",
     lambda k: [("Authorization", "Bearer " + k.honest(sub="mallory"))], (401,)),
    ("user_id-object", "RFC 7519 §4.1.2: an identity claim is a string, never an object",
     lambda k: [("Authorization", "Bearer " + k.honest(sub=DROP, user_id={"id": "alice"}))],
     (401,)),
    ("basic-scheme-with-jwt", "RFC 6750 §2.1: only the Bearer scheme carries a token",
     lambda k: [("Authorization", "Basic " + k.honest())], (401,)),
    ("no-scheme", "RFC 6750 §2.1: credentials = \"Bearer\" 1*SP b64token",
     lambda k: [("Authorization", k.honest())], (401,)),
    ("token-in-other-header", "RFC 6750 §2.1: the token travels in Authorization",
     lambda k: [("X-Access-Token", k.honest())], (401,)),
    ("duplicate-authorization-forged-first",
     "RFC 9110 §5.3: Authorization is a singleton field; two copies are ambiguous",
     lambda k: [("Authorization", "Bearer " + k.honest(sub="mallory")),
                ("Authorization", "Bearer " + k.honest())], (400,)),
    ("duplicate-authorization-honest-first",
     "RFC 9110 §5.3: Authorization is a singleton field; two copies are ambiguous",
     lambda k: [("Authorization", "Bearer " + k.honest()),
                ("Authorization", "Bearer " + k.honest(sub=DROP))], (400,)),
    ("scheme-only", "RFC 6750 §2.1: an empty b64token", lambda k: [("Authorization", "Bearer")],
     (401,)),
    ("latin1-bytes-header", "RFC 9110 §5.5: obs-text in a field value is opaque data",
     lambda k: [("Authorization", b"Bearer \xff\xfe" + k.honest().encode())], (401,)),
]  # fmt: skip


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize(
    ("name", "rule", "headers", "allowed"), HTTP_ROWS, ids=[r[0] for r in HTTP_ROWS]
)
def test_http_only_rows(
    clients: dict[str, tuple[TestClient, AttackKit]],
    app: str,
    name: str,
    rule: str,
    headers: HeaderRows,
    allowed: tuple[int, ...],
) -> None:
    """Header-level attacks (scheme, duplicates, unknown user) never authenticate."""
    client, kit = clients[app]
    response = client.get("/me", headers=headers(kit))
    assert response.status_code in allowed, (rule, response.status_code, response.text[:200])
    if response.status_code == 400:  # only the duplicated-header rows allow it
        assert response.json()["error"] == "bad_request", rule
    else:
        assert_refused(response, rule)


def test_token_in_query_string_is_ignored(
    clients: dict[str, tuple[TestClient, AttackKit]],
) -> None:
    """RFC 6750 §2.3 / RFC 9700 §4.3.2: a token in the URL is never accepted (it leaks)."""
    for app in APPS:
        client, kit = clients[app]
        token = kit.honest()
        for name in ("access_token", "token", "jwt"):
            assert_refused(client.get("/me", params={name: token}), "RFC 6750 §2.3")


def test_refresh_over_http_rotates_and_reuse_kills_the_family(
    clients: dict[str, tuple[TestClient, AttackKit]],
) -> None:
    """RFC 9700 §4.14.2: a spent refresh token replayed over HTTP revokes its whole family."""
    client, kit = clients["container"]
    first = kit.service.create_refresh_token("alice")
    spent = client.post("/refresh", json={"refresh_token": first})
    assert spent.status_code == 200
    pair = spent.json()
    assert client.get("/me", headers=bearer(pair["access_token"])).status_code == 200
    assert_refused(client.post("/refresh", json={"refresh_token": first}), "reuse")
    # the thief or the owner, whoever holds the newer token, must log in again
    assert_refused(client.post("/refresh", json={"refresh_token": pair["refresh_token"]}), "fam")


def test_refresh_endpoint_refuses_junk_bodies(
    clients: dict[str, tuple[TestClient, AttackKit]],
) -> None:
    """A refresh body with no token, a number or a list is a 401, never a 500."""
    client, _ = clients["container"]
    for body in ({}, {"refresh_token": None}, {"refresh_token": 7}, {"refresh_token": ["x"]}):
        assert_refused(client.post("/refresh", json=body), "RFC 6749 §5.2 invalid_grant")


def test_refused_tokens_never_reach_the_user_loader(
    clients: dict[str, tuple[TestClient, AttackKit]],
) -> None:
    """Issue 3: revocation (by jti and by subject) is checked before the user loader runs."""
    client, kit = clients["container"]
    container = client.app.state[CONTAINER_KEY]
    calls: list[Any] = []

    def counting(identity: Any) -> Any:
        calls.append(identity)
        return USERS.get(str(identity))

    assert client.portal is not None
    with override_loader(container, counting):
        for case_id in ("revoked-jti", "revoked-subject", "expired", "wrong-secret"):
            case = next(c for c in ATTACKS if c.id == case_id)
            token = case.make(kit)
            assert isinstance(token, str)
            if case.setup is not None:
                client.portal.call(case.setup, kit, token)
            assert_refused(client.get("/me", headers=bearer(token)), case.rule)
        assert calls == []
        assert client.get("/me", headers=bearer(kit.honest())).status_code == 200
        assert calls == ["alice"]  # the control reaches it, once
