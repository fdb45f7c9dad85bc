"""The JWKS endpoint: public keys only, cache headers, rotation, and another service
verifying our access tokens from the served URL alone (PyJWT's ``PyJWKClient``)."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from nexios import NexiosApp
from nexios.testclient import TestClient
from support.redis_server import free_port

from nexios_auth_di import install
from nexios_auth_di.exceptions import TokenError
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.tokens.jwks import PRIVATE_MEMBERS, jwks_of
from nexios_auth_di.tokens.keys import Key, KeyRing

HS_SECRET = "s" * 48
PUBLISHED = ["EdDSA", "ES256", "ES384", "PS256", "RS256"]


def _pem(key: Key) -> str:
    return key.signing_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _app(*entries: dict[str, Any], active: str, **jwt_extra: Any) -> tuple[NexiosApp, Any]:
    container = make_test_container(
        jwt={"secret_key": None, "keys": list(entries), "active_kid": active, **jwt_extra}
    )
    app = NexiosApp(debug=False)
    install(app, container)
    return app, container


def _entry(key: Key) -> dict[str, Any]:
    return {"kid": key.kid, "algorithm": key.algorithm, "private_key": _pem(key)}


@pytest.mark.parametrize("algorithm", PUBLISHED)
def test_jwks_holds_public_members_only(algorithm: str) -> None:
    """Each asymmetric algorithm's JWK carries kid/alg/use and no private member (RFC 7517 §4)."""
    ring = KeyRing([Key.generate("k1", algorithm), Key.hmac("h", HS_SECRET)], "k1")
    document, etag = jwks_of(ring)
    (jwk,) = document["keys"]  # the HMAC key is never published
    assert (jwk["kid"], jwk["alg"], jwk["use"]) == ("k1", algorithm, "sig")
    assert not PRIVATE_MEMBERS & set(jwk)
    assert etag.startswith('"')
    assert len(etag) == 34
    parsed = jwt.PyJWK(jwk)
    token = jwt.encode({"sub": "a"}, ring.active.signing_key, algorithm=algorithm)
    assert jwt.decode(token, parsed.key, algorithms=[algorithm])["sub"] == "a"


def test_hmac_only_ring_publishes_nothing() -> None:
    """A shared secret never leaves the process: no JWKS route when the ring is HMAC-only."""
    container = make_test_container()
    app = NexiosApp(debug=False)
    install(app, container)
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/.well-known/jwks.json").status_code == 404


def test_publish_jwks_false_hides_the_route() -> None:
    """``jwt.publish_jwks: false`` keeps the route off even with asymmetric keys."""
    app, _ = _app(_entry(Key.generate("e1", "EdDSA")), active="e1", publish_jwks=False)
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/.well-known/jwks.json").status_code == 404


def test_served_jwks_has_cache_headers_and_etag() -> None:
    """The document is cacheable (max-age from config) and answers If-None-Match with 304."""
    app, _ = _app(_entry(Key.generate("e1", "EdDSA")), active="e1", jwks_max_age=120)
    with TestClient(app, base_url="https://testserver") as client:
        first = client.get("/.well-known/jwks.json")
        assert first.status_code == 200
        assert first.headers["cache-control"] == "public, max-age=120"
        assert [k["kid"] for k in first.json()["keys"]] == ["e1"]
        etag = first.headers["etag"]
        again = client.get("/.well-known/jwks.json", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.headers["etag"] == etag
        assert client.get("/.well-known/jwks.json", headers={"If-None-Match": '"x"'}).json()


def test_rotation_keeps_the_old_key_published_until_retired() -> None:
    """After a rotation the old key is still listed (its tokens still verify) until retired."""
    old, new = Key.generate("old", "EdDSA"), Key.generate("new", "ES256")
    app, container = _app(_entry(old), active="old")
    ring = container.key_ring()
    with TestClient(app, base_url="https://testserver") as client:
        before = client.get("/.well-known/jwks.json")
        ring.add(new)  # step 1: publish the new key before it signs
        published = client.get("/.well-known/jwks.json")
        assert [k["kid"] for k in published.json()["keys"]] == ["old", "new"]
        assert published.headers["etag"] != before.headers["etag"]
        ring.activate("new")  # step 2: it signs; the old one still verifies
        assert [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]] == [
            "new",
            "old",
        ]
        ring.retire("old")  # step 3: after the old key's last token expired
        assert [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]] == ["new"]


class _Server:
    """The app on a real uvicorn in a thread, so a sync client can call it over HTTP."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started, "uvicorn did not start"
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def served() -> Iterator[tuple[str, Any]]:
    old = Key.generate("ed-1", "EdDSA")
    app, container = _app(_entry(old), active="ed-1")
    with _Server(app) as url:
        yield url, container


def test_another_service_verifies_our_tokens_from_the_url_alone(
    served: tuple[str, Any],
) -> None:
    """PyJWKClient on the served URL verifies access tokens, across a rotation."""
    url, container = served
    tokens = container.token_service()
    before = tokens.create_access_token("alice")
    client = jwt.PyJWKClient(f"{url}/.well-known/jwks.json", cache_jwk_set=False)

    def check(token: str) -> dict[str, Any]:
        key = client.get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=["EdDSA", "ES256"])
        return claims

    assert check(before)["sub"] == "alice"
    ring = container.key_ring()
    ring.add(Key.generate("es-2", "ES256"))
    ring.activate("es-2")
    after = tokens.create_access_token("bob")
    assert jwt.get_unverified_header(after)["kid"] == "es-2"
    assert check(after)["sub"] == "bob"
    assert check(before)["sub"] == "alice"  # the old key is still published
    ring.retire("ed-1")
    with pytest.raises(jwt.PyJWKClientError):
        check(before)


FORGERIES = [
    pytest.param("other-key", id="right-kid-wrong-key-RFC8725-3.1"),
    pytest.param("hs-with-public-jwk", id="alg-confusion-HS256-with-published-key-GHSA-ffqj"),
]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_tokens_fail_against_the_published_keys(
    served: tuple[str, Any], forgery: str
) -> None:
    """A token not signed by our private key fails for a verifier using our JWKS."""
    url, container = served
    client = jwt.PyJWKClient(f"{url}/.well-known/jwks.json", cache_jwk_set=False)
    claims = {"sub": "mallory", "exp": int(time.time()) + 60}
    if forgery == "other-key":
        token = jwt.encode(claims, Key.generate("x", "EdDSA").signing_key, "EdDSA", {"kid": "ed-1"})
    else:
        x = client.get_jwk_set().keys[0]._jwk_data["x"]  # the raw public key: 32 bytes
        secret = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        token = jwt.encode(claims, secret, "HS256", {"kid": "ed-1"})
    signing = client.get_signing_key_from_jwt(token)
    with pytest.raises(jwt.InvalidTokenError):
        jwt.decode(token, signing.key, algorithms=[signing.algorithm_name])
    with pytest.raises(TokenError):  # our own verifier refuses it too
        asyncio.run(container.token_service().verify(token, "access"))
