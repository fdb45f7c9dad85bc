"""TokenVerifier and TokenService: claims, cache, rotation, refresh, revocation, concurrency."""

from __future__ import annotations

import asyncio

import jwt
import pytest
from support import FakeClock
from token_support import AUDIENCE, ISSUER

from nexios_auth_di.exceptions import (
    ConfigurationError,
    StoreUnavailable,
    TokenError,
    TokenReused,
    TokenRevoked,
)
from nexios_auth_di.stores.memory import MemoryRefreshFamilyStore, MemoryRevocationStore
from nexios_auth_di.tokens import TokenService, TokenVerifier
from nexios_auth_di.tokens.keys import Key, KeyRing


async def test_access_token_round_trip(service: TokenService) -> None:
    """An access token carries sub/iat/exp/jti/typ/iss/aud and custom claims, and verifies."""
    token = service.create_access_token("alice", permissions=["read"], scope="a b")
    claims = await service.verify(token)
    assert claims["sub"] == "alice"
    assert claims["typ"] == "access"
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE
    assert claims["permissions"] == ["read"]
    assert claims["exp"] - claims["iat"] == service.access_ttl
    assert len(claims["jti"]) >= 22
    assert jwt.get_unverified_header(token)["kid"] == "default"


def test_reserved_claims_cannot_be_overridden(service: TokenService) -> None:
    """Callers cannot smuggle sub/exp/typ/... through **claims."""
    for name in ("sub", "exp", "typ", "jti", "iss", "aud", "iat", "nbf", "fam"):
        with pytest.raises(ConfigurationError):
            service.create_access_token("alice", **{name: "x"})
    with pytest.raises(ConfigurationError):
        service.create_access_token("")


def test_guide_style_token_with_custom_identity(secret: str, clock: FakeClock) -> None:
    """A plain jwt.encode token (user_id/username/exp/iat, no kid/typ) verifies in compat mode."""
    verifier = TokenVerifier(
        KeyRing.from_secret(secret),
        required=("exp", "iat"),
        identity_claims=("user_id", "sub"),
        clock=clock,
    )
    now = int(clock())
    token = jwt.encode(
        {"user_id": 7, "username": "bob", "exp": now + 60, "iat": now}, secret, algorithm="HS256"
    )
    assert verifier.verify(token)["user_id"] == 7
    with pytest.raises(TokenError) as info:
        verifier.verify(token, expected_type="refresh")
    assert info.value.reason == "wrong_type"
    nobody = jwt.encode({"exp": now + 60, "iat": now}, secret, algorithm="HS256")
    with pytest.raises(TokenError) as info:
        verifier.verify(nobody)
    assert info.value.reason == "no_identity"


def test_leeway_allows_small_skew(secret: str, clock: FakeClock) -> None:
    """Leeway accepts a just-expired token and refuses one past the leeway."""
    ring = KeyRing.from_secret(secret)
    verifier = TokenVerifier(ring, leeway=10, clock=clock)
    now = clock()
    claims = {"sub": "a", "jti": "j", "iat": now, "exp": now - 5}
    token = jwt.encode(claims, secret, algorithm="HS256")
    assert verifier.verify(token)["sub"] == "a"
    late = jwt.encode({**claims, "exp": now - 11}, secret, algorithm="HS256")
    with pytest.raises(TokenError):
        verifier.verify(late)


# -- cache ---------------------------------------------------------------------------
async def test_cache_hit_returns_same_claims(service: TokenService) -> None:
    """A warm hit returns equal claims, from the cache, as a fresh dict."""
    token = service.create_access_token("alice", role="x")
    first = service.verifier.verify(token)
    assert service.verifier.cache_len == 1
    first["role"] = "tampered"
    second = service.verifier.verify(token)
    assert second["role"] == "x"
    assert second is not first


async def test_cached_token_expires(service: TokenService, clock: FakeClock) -> None:
    """A cached token fails once the clock passes its exp."""
    token = service.create_access_token("alice")
    await service.verify(token)
    clock.advance(service.access_ttl)
    with pytest.raises(TokenError) as info:
        await service.verify(token)
    assert info.value.reason == "expired"
    assert service.verifier.cache_len == 0


async def test_cache_checks_type_on_hit(service: TokenService) -> None:
    """A cached refresh token still never passes as an access token."""
    token = service.create_refresh_token("alice")
    service.verifier.verify(token, "refresh")
    with pytest.raises(TokenError) as info:
        service.verifier.verify(token)
    assert info.value.reason == "wrong_type"


async def test_ring_change_clears_cache(service: TokenService) -> None:
    """Retiring a key empties the cache, so its tokens stop verifying at once."""
    ring = service.key_ring
    token = service.create_access_token("alice")
    await service.verify(token)
    ring.add(Key.hmac("next", "n" * 32))
    ring.activate("next")
    assert (await service.verify(token))["sub"] == "alice"  # old key still verifies
    ring.retire("default")
    with pytest.raises(TokenError) as info:
        await service.verify(token)
    assert info.value.reason == "unknown_kid"


async def test_revocation_checked_on_cache_hit(service: TokenService) -> None:
    """Revoking a cached token refuses it on the next call."""
    token = service.create_access_token("alice")
    await service.verify(token)
    await service.revoke(token)
    with pytest.raises(TokenRevoked):
        await service.verify(token)


def test_cache_is_bounded_fifo(secret: str, clock: FakeClock) -> None:
    """The cache never holds more than cache_size tokens and evicts the oldest."""
    ring = KeyRing.from_secret(secret)
    verifier = TokenVerifier(ring, clock=clock, cache_size=3)
    tokens = [
        jwt.encode(
            {"sub": f"u{i}", "jti": str(i), "iat": clock(), "exp": clock() + 60},
            secret,
            algorithm="HS256",
            headers={"kid": "default"},
        )
        for i in range(5)
    ]
    for token in tokens:
        verifier.verify(token)
    assert verifier.cache_len == 3
    zero = TokenVerifier(ring, clock=clock, cache_size=0)
    zero.verify(tokens[0])
    assert zero.cache_len == 0


# -- rotation ------------------------------------------------------------------------
async def test_rotation_signs_with_new_kid(service: TokenService) -> None:
    """After activate(), new tokens carry the new kid and old ones verify until retired."""
    old = service.create_access_token("alice")
    service.key_ring.add(Key.generate("es", "ES256"))
    service.key_ring.activate("es")
    new = service.create_access_token("alice")
    assert jwt.get_unverified_header(new) == {"alg": "ES256", "kid": "es", "typ": "JWT"}
    assert (await service.verify(old))["sub"] == "alice"
    assert (await service.verify(new))["sub"] == "alice"
    service.key_ring.retire("default")
    with pytest.raises(TokenError):
        await service.verify(old)


def test_service_needs_signing_key(clock: FakeClock) -> None:
    """A verify-only active key cannot back a TokenService."""
    key = Key.generate("e", "ES256")
    ring = KeyRing([Key("pub", "ES256", None, key.verifying_key)], "pub")
    with pytest.raises(ConfigurationError):
        TokenService(ring, revocations=MemoryRevocationStore(), families=MemoryRefreshFamilyStore())


# -- refresh -------------------------------------------------------------------------
async def test_refresh_rotates_within_family(service: TokenService) -> None:
    """refresh() returns a new pair in the same family; the old refresh token is spent."""
    first = service.create_refresh_token("alice")
    access, second = await service.refresh(first)
    assert (await service.verify(access))["sub"] == "alice"
    fam = service.verifier.verify(second, "refresh")["fam"]
    assert fam == service.verifier.verify(first, "refresh")["fam"]
    third = (await service.refresh(second))[1]
    assert third != second


async def test_reuse_revokes_whole_family(service: TokenService) -> None:
    """Replaying a spent refresh token kills the family, including the holder's newer token."""
    stolen = service.create_refresh_token("alice")
    _, newer = await service.refresh(stolen)
    with pytest.raises(TokenReused):
        await service.refresh(stolen)
    with pytest.raises(TokenRevoked) as info:
        await service.refresh(newer)
    assert info.value.reason == "revoked"  # refused by the per-request family check


async def test_concurrent_refresh_exactly_one_wins(service: TokenService) -> None:
    """50 concurrent refreshes of one token: exactly one pair is issued."""
    token = service.create_refresh_token("alice")
    results = await asyncio.gather(
        *(service.refresh(token) for _ in range(50)), return_exceptions=True
    )
    wins = [r for r in results if isinstance(r, tuple)]
    assert len(wins) == 1
    losers = [r for r in results if not isinstance(r, tuple)]
    assert all(isinstance(r, TokenRevoked) for r in losers)  # reused, then family revoked
    assert any(isinstance(r, TokenReused) for r in losers)


# -- revocation ----------------------------------------------------------------------
async def test_revoke_refresh_token_revokes_family(service: TokenService) -> None:
    """Revoking a refresh token refuses it and every later token of its family."""
    first = service.create_refresh_token("alice")
    _, second = await service.refresh(first)
    await service.revoke(first)  # spent but still signed and unexpired: family goes
    with pytest.raises(TokenRevoked):
        await service.refresh(second)


async def test_revoke_invalid_token_raises(service: TokenService) -> None:
    """revoke() of a token that does not verify is a TokenError, not a silent no-op."""
    with pytest.raises(TokenError):
        await service.revoke("not.a.token")


async def test_revoke_all_kills_access_and_refresh(service: TokenService, clock: FakeClock) -> None:
    """revoke_all refuses older tokens of the subject, both types, and only that subject."""
    access = service.create_access_token("alice")
    refresh = service.create_refresh_token("alice")
    bob = service.create_access_token("bob")
    clock.advance(0.001)
    await service.revoke_all("alice")
    with pytest.raises(TokenRevoked):
        await service.verify(access)
    with pytest.raises(TokenRevoked):
        await service.refresh(refresh)
    assert (await service.verify(bob))["sub"] == "bob"


async def test_token_issued_right_after_revoke_all_works(
    service: TokenService, clock: FakeClock
) -> None:
    """A token minted in the same second as revoke_all (float iat) is accepted."""
    await service.revoke_all("alice")
    clock.advance(0.000_5)
    fresh = service.create_access_token("alice")
    assert (await service.verify(fresh))["sub"] == "alice"


async def test_store_errors_propagate(ring: KeyRing, clock: FakeClock) -> None:
    """StoreUnavailable from the revocation store fails the request closed (503)."""

    class DownStore(MemoryRevocationStore):
        async def is_refused(
            self, jti: str, subject: str, issued_at: float, family: str | None = None
        ) -> bool:
            raise StoreUnavailable()

    service = TokenService(
        ring, revocations=DownStore(clock), families=MemoryRefreshFamilyStore(clock), clock=clock
    )
    with pytest.raises(StoreUnavailable):
        await service.verify(service.create_access_token("alice"))


@pytest.mark.parametrize("alg", ["HS512", "RS256", "PS256", "ES256", "ES512", "EdDSA"])
async def test_every_algorithm_round_trips(alg: str, clock: FakeClock) -> None:
    """Tokens minted with each supported algorithm verify through the service."""
    ring = KeyRing([Key.generate("k", alg)], "k")
    service = TokenService(
        ring,
        revocations=MemoryRevocationStore(clock),
        families=MemoryRefreshFamilyStore(clock),
        clock=clock,
    )
    assert (await service.verify(service.create_access_token("alice")))["sub"] == "alice"
