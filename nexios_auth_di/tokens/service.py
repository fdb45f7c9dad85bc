"""The token service: access/refresh pairs, rotation with reuse detection, revocation.

Verification itself is ``verifier.TokenVerifier`` (pure, cached); this adds what needs a
store: revocation by ``jti`` or subject, checked on every call, and refresh-token
rotation by family with reuse detection (RFC 9700 §4.14.2).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt

from nexios_auth_di.exceptions import ConfigurationError, TokenError, TokenReused, TokenRevoked
from nexios_auth_di.stores.protocols import RefreshFamilyStore, RevocationStore, SpendResult
from nexios_auth_di.tokens.keys import KeyRing
from nexios_auth_di.tokens.verifier import Clock, TokenVerifier

__all__ = ["RESERVED_CLAIMS", "TokenService", "TokenVerifier"]

RESERVED_CLAIMS = frozenset({"sub", "iat", "exp", "nbf", "jti", "typ", "iss", "aud", "fam"})


class TokenService:
    """Mint, verify, rotate and revoke access/refresh tokens over a ``KeyRing``.

    Access and refresh tokens carry ``typ``; a refresh token also carries ``fam``, the id
    of its rotation family. Times are float seconds so a token minted just after
    ``revoke_all`` is newer than the mark even within the same second. Store errors
    (``StoreUnavailable``) propagate unchanged: we fail closed.
    """

    def __init__(
        self,
        key_ring: KeyRing,
        *,
        revocations: RevocationStore,
        families: RefreshFamilyStore,
        issuer: str | None = None,
        audience: str | None = None,
        access_ttl: float = 900,
        refresh_ttl: float = 1_209_600,
        leeway: float = 0,
        clock: Clock = time.time,
        cache_size: int = 4096,
    ) -> None:
        if access_ttl <= 0 or refresh_ttl <= 0:
            raise ConfigurationError("access_ttl and refresh_ttl must be positive")
        if not key_ring.active.can_sign:
            raise ConfigurationError("the active key has no private key to sign with")
        self.key_ring = key_ring
        self.revocations, self.families = revocations, families
        self.issuer, self.audience = issuer, audience
        self.access_ttl, self.refresh_ttl = float(access_ttl), float(refresh_ttl)
        self.leeway = float(leeway)
        self._clock = clock
        self.verifier = TokenVerifier(
            key_ring,
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            clock=clock,
            cache_size=cache_size,
        )

    # -- minting --------------------------------------------------------------------
    def _mint(self, subject: str, typ: str, ttl: float, extra: dict[str, Any]) -> str:
        if type(subject) is not str or not subject:
            raise ConfigurationError("subject must be a non-empty string")
        now = self._clock()
        claims: dict[str, Any] = {
            **extra,
            "sub": subject,
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(16),
            "typ": typ,
        }
        if self.issuer is not None:
            claims["iss"] = self.issuer
        if self.audience is not None:
            claims["aud"] = self.audience
        key = self.key_ring.active
        if not key.can_sign:
            raise ConfigurationError(f"active key {key.kid!r} cannot sign")
        return jwt.encode(
            claims, key.signing_key, algorithm=key.algorithm, headers={"kid": key.kid}
        )

    def create_access_token(self, subject: str, **claims: Any) -> str:
        """A short-lived access token; ``claims`` add app data (permissions, scopes...)."""
        clash = RESERVED_CLAIMS.intersection(claims)
        if clash:
            raise ConfigurationError(f"reserved claims cannot be set: {sorted(clash)}")
        return self._mint(subject, "access", self.access_ttl, claims)

    def create_refresh_token(self, subject: str, *, family: str | None = None) -> str:
        """A refresh token in ``family`` (a new family when ``None``); nothing is stored yet."""
        fam = family if family is not None else secrets.token_urlsafe(16)
        return self._mint(subject, "refresh", self.refresh_ttl, {"fam": fam})

    # -- checking -------------------------------------------------------------------
    async def verify(self, token: str, expected_type: str | None = "access") -> dict[str, Any]:
        """Verify and check revocation (on every call, cache hit or not)."""
        claims = self.verifier.verify(token, expected_type)
        if await self.revocations.is_refused(claims["jti"], claims["sub"], claims["iat"]):
            raise TokenRevoked()
        return claims

    async def refresh(self, refresh_token: str) -> tuple[str, str]:
        """Spend a refresh token for a new pair in the same family.

        A second spend of the same token is a replay: the whole family is revoked, so
        whoever holds the newer token (thief or owner) must log in again.
        """
        claims = await self.verify(refresh_token, "refresh")
        family = claims.get("fam")
        if type(family) is not str or not family:
            raise TokenError("bad_family")
        result = await self.families.spend(family, claims["jti"], float(claims["exp"]))
        if result is SpendResult.REUSED:
            await self.families.revoke_family(family, self._family_expiry())
            raise TokenReused()
        if result is not SpendResult.OK:
            raise TokenRevoked("family_revoked")
        subject = claims["sub"]
        return self.create_access_token(subject), self.create_refresh_token(subject, family=family)

    # -- revoking -------------------------------------------------------------------
    async def revoke(self, token: str) -> None:
        """Revoke one token by ``jti`` until it expires; a refresh token takes its family."""
        claims = self.verifier.verify(token, expected_type=None)
        await self.revocations.revoke_jti(claims["jti"], float(claims["exp"]) + self.leeway)
        family = claims.get("fam")
        if claims.get("typ") == "refresh" and type(family) is str and family:
            await self.families.revoke_family(family, self._family_expiry())

    async def revoke_all(self, subject: str) -> None:
        """Refuse every token of ``subject`` issued before now ("log out everywhere")."""
        ttl = max(self.access_ttl, self.refresh_ttl) + self.leeway
        await self.revocations.revoke_subject(subject, self._clock(), ttl)

    def _family_expiry(self) -> float:
        return self._clock() + self.refresh_ttl + self.leeway
