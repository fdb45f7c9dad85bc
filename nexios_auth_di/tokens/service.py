"""The token service: logins (refresh families), rotation with reuse detection, revocation.

Verification itself is ``verifier.TokenVerifier`` (pure, cached); this adds what needs a
store, checked on every call in one lookup: revocation by ``jti``, by login (``fam``) and
by the subject's credential generation (``gen``, its "security stamp").

A login is a refresh family: ``issue_login`` records it and mints an access/refresh pair
that both carry ``fam``, ``gen`` and ``auth_time``. Ending the login (logout, reuse
detection, the per-user bound) refuses every token of it at once. A family ends
``refresh_absolute_ttl`` after ``auth_time`` however often it rotates (RFC 9700
§4.14.2). ``revoke_all`` advances the generation and ends every family: a credential
issued under an older generation is refused, so a login or refresh that was already
past its checks when the owner acted hands out nothing that works.
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

RESERVED_CLAIMS = frozenset(
    {"sub", "iat", "exp", "nbf", "jti", "typ", "iss", "aud", "fam", "gen", "auth_time"}
)


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if type(value) not in (int, float):
        raise TokenError(f"bad_{name}")
    return float(value)


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
        refresh_absolute_ttl: float = 2_592_000,
        max_families_per_user: int = 50,
        leeway: float = 0,
        clock: Clock = time.time,
        cache_size: int = 4096,
    ) -> None:
        if min(access_ttl, refresh_ttl, refresh_absolute_ttl, max_families_per_user) <= 0:
            raise ConfigurationError(
                "access_ttl, refresh_ttl, refresh_absolute_ttl and max_families_per_user "
                "must be positive"
            )
        if not key_ring.active.can_sign:
            raise ConfigurationError("the active key has no private key to sign with")
        self.key_ring = key_ring
        self.revocations, self.families = revocations, families
        self.issuer, self.audience = issuer, audience
        self.access_ttl, self.refresh_ttl = float(access_ttl), float(refresh_ttl)
        self.refresh_absolute_ttl = float(refresh_absolute_ttl)
        self.max_families_per_user = int(max_families_per_user)
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
    def _mint(
        self, subject: str, typ: str, ttl: float, extra: dict[str, Any], end: float | None = None
    ) -> str:
        if type(subject) is not str or not subject:
            raise ConfigurationError("subject must be a non-empty string")
        now = self._clock()
        claims: dict[str, Any] = {
            **extra,
            "sub": subject,
            "iat": now,
            "exp": now + ttl if end is None else min(now + ttl, end),
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
        """A bare refresh token in ``family`` (a new family when ``None``), recorded
        nowhere and bound to no generation; logins use ``issue_login``."""
        fam = family if family is not None else secrets.token_urlsafe(16)
        return self._mint(subject, "refresh", self.refresh_ttl, {"fam": fam})

    def _pair(self, subject: str, login: dict[str, Any], claims: dict[str, Any]) -> tuple[str, str]:
        end = float(login["auth_time"]) + self.refresh_absolute_ttl
        access = self._mint(subject, "access", self.access_ttl, {**claims, **login}, end)
        return access, self._mint(subject, "refresh", self.refresh_ttl, login, end)

    # -- logins ---------------------------------------------------------------------
    async def current_generation(self, subject: str) -> float:
        """``subject``'s credential generation; read it *before* checking a password and
        pass it to ``issue_login``, so a change landing in between fails the login."""
        return await self.revocations.current_generation(subject)

    async def issue_login(self, subject: str, generation: float, **claims: Any) -> tuple[str, str]:
        """Start a login (a new refresh family) under ``generation``: an access/refresh
        pair. Fails with ``TokenRevoked`` if the generation moved on meanwhile; ends the
        subject's oldest logins beyond ``max_families_per_user``."""
        clash = RESERVED_CLAIMS.intersection(claims)
        if clash:
            raise ConfigurationError(f"reserved claims cannot be set: {sorted(clash)}")
        now = self._clock()
        family = secrets.token_urlsafe(16)
        end = now + self.refresh_absolute_ttl + self.leeway
        evicted = await self.families.start(subject, family, end, self.max_families_per_user)
        for old in evicted:  # ended before this one is handed out
            await self.revocations.revoke_family(old, end)
        if await self.revocations.current_generation(subject) != generation:
            await self._end_family(subject, family, end)
            raise TokenRevoked("stale_generation")
        login = {"fam": family, "gen": generation, "auth_time": now}
        return self._pair(subject, login, claims)

    # -- checking -------------------------------------------------------------------
    async def verify(self, token: str, expected_type: str | None = "access") -> dict[str, Any]:
        """Verify and check revocation (on every call, cache hit or not): the ``jti``,
        the login (``fam``) and the generation (``gen``, else ``iat``), in one lookup."""
        claims = self.verifier.verify(token, expected_type)
        generation = _number(claims, "gen")
        family = claims.get("fam")
        if family is not None and (type(family) is not str or not family):
            raise TokenError("bad_family")
        stamp = claims["iat"] if generation is None else generation
        # a token without a login keeps the three-argument call older stores implement
        extra = () if family is None else (family,)
        if await self.revocations.is_refused(claims["jti"], claims["sub"], stamp, *extra):
            raise TokenRevoked()
        return claims

    async def refresh(self, refresh_token: str) -> tuple[str, str]:
        """Spend a refresh token for a new pair in the same family.

        A second spend of the same token is a replay: the whole family is revoked, so
        whoever holds the newer token (thief or owner) must log in again. Past the
        family's absolute end, or if the generation moved while the token was being
        spent (a logout-all or password change landing mid-refresh), nothing is issued.
        """
        claims = await self.verify(refresh_token, "refresh")
        family = claims.get("fam")
        if type(family) is not str or not family:
            raise TokenError("bad_family")
        subject, issued = str(claims["sub"]), float(claims["iat"])
        auth_time = _number(claims, "auth_time")
        auth_time = issued if auth_time is None else auth_time
        if self._clock() >= auth_time + self.refresh_absolute_ttl:
            raise TokenRevoked("login_expired")
        result = await self.families.spend(family, claims["jti"], float(claims["exp"]))
        if result is SpendResult.REUSED:
            await self._end_family(subject, family, self._family_end(claims))
            raise TokenReused()
        if result is not SpendResult.OK:
            raise TokenRevoked("family_revoked")
        generation = _number(claims, "gen")
        current = await self.revocations.current_generation(subject)
        if (issued if generation is None else generation) < current:
            raise TokenRevoked("stale_generation")
        login: dict[str, Any] = {"fam": family, "auth_time": auth_time}
        if generation is not None:
            login["gen"] = generation
        return self._pair(subject, login, {})

    # -- revoking -------------------------------------------------------------------
    async def revoke(self, token: str) -> None:
        """Revoke one token by ``jti`` until it expires, and the login (family) it belongs
        to: logging out with an access token alone ends its refresh token too."""
        claims = self.verifier.verify(token, expected_type=None)
        await self.revocations.revoke_jti(claims["jti"], float(claims["exp"]) + self.leeway)
        family = claims.get("fam")
        if type(family) is str and family:
            await self._end_family(str(claims["sub"]), family, self._family_end(claims))

    async def revoke_all(self, subject: str) -> float:
        """ "Log out everywhere": advance ``subject``'s generation, so every credential
        issued before (or in flight) is refused, and end every login; return the new
        generation (pass it to ``issue_login`` to log the caller back in)."""
        ttl = max(self.access_ttl, self.refresh_absolute_ttl) + self.leeway
        generation = await self.revocations.advance_generation(subject, self._clock(), ttl)
        await self.families.end_all(subject)
        return generation

    async def end_login(self, subject: str, family: str) -> None:
        """End one login (refresh family) of ``subject`` by its id, without holding one of
        its tokens: the device list's "sign this device out"."""
        end = self._clock() + max(self.refresh_ttl, self.refresh_absolute_ttl) + self.leeway
        await self._end_family(subject, family, end)

    async def _end_family(self, subject: str, family: str, end: float) -> None:
        await self.revocations.revoke_family(family, end)  # its access tokens: at once
        await self.families.end(subject, family, end)  # its refresh tokens, its record

    def _family_end(self, claims: dict[str, Any]) -> float:
        """When every token of the family has expired (an upper bound)."""
        auth_time = _number(claims, "auth_time")
        if auth_time is not None:
            return auth_time + self.refresh_absolute_ttl + self.leeway
        return self._clock() + max(self.refresh_ttl, self.refresh_absolute_ttl) + self.leeway
