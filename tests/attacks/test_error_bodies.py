"""A refused credential's response reveals nothing useful: every cause looks the same.

Expired, forged, wrong-kid, revoked and unknown-user tokens (and a few more rows of the
token table) must get byte-identical 401 responses: status, body and every header but
``date``. The reason lives in logs only.
"""

from __future__ import annotations

import dataclasses
import functools
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dependency_injector import providers
from http_attack_support import REFUSED_BODY, bearer, open_client
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient
from support.attack_cases import ATTACKS, AttackKit

from nexios_auth_di import SimpleUser, current_user, install, login_required
from nexios_auth_di.backends.jwt import JWTAuthBackend
from nexios_auth_di.middleware import AuthenticationMiddleware
from nexios_auth_di.request_auth import CONTAINER_KEY
from nexios_auth_di.testing import make_test_container

ISSUER = "https://issuer.test"
AUDIENCE = "api.test"
USERS = {"alice": SimpleUser("alice")}
BY_ID = {case.id: case for case in ATTACKS}
#: words that would tell an attacker why a credential failed
TELLTALES = ("expired", "signature", "kid", "revok", "unknown", "user", "alg", "malformed")


def _row(case_id: str) -> Callable[[AttackKit], str]:
    return lambda kit: str(BY_ID[case_id].make(kit))


def _other(char: str) -> str:
    return "B" if char == "A" else "A"


def _unknown_user(kit: AttackKit) -> str:
    return kit.honest(sub="mallory")


#: (name, how to make the token, whether the row needs the container's revocation)
CAUSES: list[tuple[str, Callable[[AttackKit], str], bool]] = [
    ("expired", _row("expired"), False),
    ("forged (wrong key)", _row("wrong-secret"), False),
    ("wrong kid", _row("kid-unknown"), False),
    ("tampered payload", _row("tampered-payload"), False),
    ("alg none", _row("alg-none-unsigned"), False),
    ("malformed", _row("bad-base64-payload"), False),
    ("oversized", _row("one-megabyte"), False),
    ("refresh as access", _row("refresh-as-access"), False),
    ("unknown user", _unknown_user, False),
    ("revoked jti", _row("revoked-jti"), True),
]


def _fingerprint(response: Any) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() != "date")
    return response.status_code, response.content, headers


def _me(app: NexiosApp) -> None:
    @app.get("/me")
    @login_required
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id}


@pytest.fixture(scope="module")
def container_client() -> Iterator[tuple[TestClient, AttackKit]]:
    """``install(app, container)`` matching a kit; the kit revokes in the app's stores."""
    kit = AttackKit.create(secrets.token_urlsafe(48), issuer=ISSUER, audience=AUDIENCE)
    container = make_test_container(
        USERS, jwt={"secret_key": kit.secret, "issuer": ISSUER, "audience": AUDIENCE}
    )
    container.clock.override(providers.Object(kit.clock))
    app = NexiosApp()
    _me(app)
    install(app, container)
    with open_client(app) as client:
        yield client, dataclasses.replace(kit, service=container.token_service())


@pytest.fixture(scope="module")
def guide_client() -> Iterator[tuple[TestClient, AttackKit]]:
    """The guide's ``JWTAuthBackend(secret_key=..., authenticate_func=...)`` form."""
    kit = AttackKit.create(
        secrets.token_urlsafe(48), issuer=ISSUER, audience=AUDIENCE, now=time.time()
    )
    backend = JWTAuthBackend(
        secret_key=kit.secret,
        algorithm="HS256",
        authenticate_func=lambda identity: USERS.get(str(identity)),
    )
    app = NexiosApp()
    app.add_middleware(AuthenticationMiddleware(backend=backend))
    _me(app)
    with open_client(app) as client:
        yield client, kit


def _responses(client: TestClient, kit: AttackKit, *, revocation: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, make, needs_store in CAUSES:
        if needs_store and not revocation:
            continue
        token = make(kit)
        if needs_store:
            assert client.portal is not None
            client.portal.call(functools.partial(kit.service.revoke, token))
        out[name] = client.get("/me", headers=bearer(token))
    return out


def _assert_identical(responses: dict[str, Any]) -> None:
    prints = {name: _fingerprint(r) for name, r in responses.items()}
    first_name, first = next(iter(prints.items()))
    assert first[0] == 401
    assert first[1] == b'{"error": "not_authenticated", "detail": "Authentication required"}'
    for name, fingerprint in prints.items():
        assert fingerprint == first, f"{name} differs from {first_name}"
    for response in responses.values():
        assert response.json() == REFUSED_BODY
        text = (response.text + " " + response.headers["www-authenticate"]).lower()
        leaked = [w for w in TELLTALES if w in text.replace("not_authenticated", "")]
        assert not leaked, leaked


def test_container_refusals_are_byte_identical(
    container_client: tuple[TestClient, AttackKit],
) -> None:
    """Expired, forged, wrong-kid, revoked and unknown-user tokens look the same (container)."""
    client, kit = container_client
    responses = _responses(client, kit, revocation=True)
    assert len(responses) == len(CAUSES)
    _assert_identical(responses)


def test_guide_refusals_are_byte_identical(guide_client: tuple[TestClient, AttackKit]) -> None:
    """The guide form's refusals look the same too (it has no revocation to test)."""
    client, kit = guide_client
    _assert_identical(_responses(client, kit, revocation=False))


def test_controls_pass(
    container_client: tuple[TestClient, AttackKit], guide_client: tuple[TestClient, AttackKit]
) -> None:
    """Control row: an honest token gets a 200 in both apps, so the comparison means something."""
    for client, kit in (container_client, guide_client):
        assert client.get("/me", headers=bearer(kit.honest())).json() == {"user": "alice"}


def test_api_key_refusals_match_token_refusals(
    container_client: tuple[TestClient, AttackKit],
) -> None:
    """Junk, unknown, revoked and expired API keys get the very same 401 as a bad token."""
    client, kit = container_client
    portal = client.portal
    assert portal is not None
    service = client.app.state[CONTAINER_KEY].api_key_service()
    live, _ = portal.call(functools.partial(service.create, "alice"))
    gone, record = portal.call(functools.partial(service.create, "alice"))
    portal.call(service.revoke, record.key_id)
    short, _ = portal.call(functools.partial(service.create, "alice", ttl=60))
    unknown_owner, _ = portal.call(functools.partial(service.create, "mallory"))
    assert client.get("/me", headers={"X-API-Key": live}).status_code == 200
    kit.clock.advance(61)  # ``short`` expires; nothing else here has a shorter life
    responses = {
        "bad token": client.get("/me", headers=bearer(_row("wrong-secret")(kit))),
        "junk key": client.get("/me", headers={"X-API-Key": "nxa_junk"}),
        "bad checksum": client.get("/me", headers={"X-API-Key": live[:-1] + _other(live[-1])}),
        "revoked key": client.get("/me", headers={"X-API-Key": gone}),
        "expired key": client.get("/me", headers={"X-API-Key": short}),
        "unknown owner": client.get("/me", headers={"X-API-Key": unknown_owner}),
    }
    _assert_identical(responses)
