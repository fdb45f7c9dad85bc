"""Signed, purpose-bound tokens for the links in account mails.

itsdangerous ``URLSafeTimedSerializer`` with HMAC-SHA-256 (its SHA-1 default is legacy in
ASVS 5.0 Appendix C) and **one salt per purpose**, so a verification token never passes as
a reset token or the reverse (the signature itself differs). The key is
``accounts.secret_key``, else derived from the JWT or session secret with a label of its
own, so every worker signs and checks alike and no other token of ours is ever valid here.

What a token is bound to (fingerprints only: a token in a URL ends up in logs, so it holds
no address and no hash, just a keyed digest of them):

* reset: the user id and a fingerprint of the **current password hash**. Any password
  change (this reset included) changes the hash, so the link dies with it; a nonce ``n``
  is also claimed once in the ``OneTimeStore``, so two concurrent confirms never both win.
* verify: the user id and a fingerprint of the address, so a link sent to an old address
  cannot verify a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from nexios_auth_di.config import Settings
from nexios_auth_di.exceptions import BadRequest, ConfigurationError

__all__ = ["AccountTokens", "TokenClaims", "account_key"]

PURPOSES = ("reset", "verify")
MAX_TOKEN_CHARS = 1024


def account_key(settings: Settings) -> bytes:
    """The signing key: ``accounts.secret_key``, else derived from the JWT or session
    secret (``ConfigurationError`` when there is none: a random per-process key would make
    a link sent by one worker fail on another)."""
    own = settings.accounts.secret_key
    if own:
        return own.encode()
    secret = settings.jwt.secret_key or settings.session.secret_key
    if not secret:
        raise ConfigurationError(
            "accounts.secret_key is not set (and there is no jwt/session secret to derive "
            "it from): generate one with `nexios-auth gen-secret`"
        )
    return hmac.new(secret.encode(), b"nexios_auth_di.accounts.tokens", "sha256").digest()


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    binding: str  # fingerprint of the password hash (reset) or the address (verify)
    nonce: str


class AccountTokens:
    """Mint and read the tokens of one purpose each; reading checks the signature, the
    age and the shape, and says nothing more than "invalid" about any failure."""

    def __init__(
        self,
        key: bytes,
        *,
        reset_ttl: int,
        verify_ttl: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self.ttls = {"reset": reset_ttl, "verify": verify_ttl}

        class _Signer(TimestampSigner):  # the container's clock: expiry is testable
            def get_timestamp(self) -> int:
                return int(clock())

        self._serializers = {
            purpose: URLSafeTimedSerializer(
                key,
                salt=f"nexios_auth_di.accounts.{purpose}",
                signer=_Signer,
                signer_kwargs={"digest_method": hashlib.sha256},
            )
            for purpose in PURPOSES
        }

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Callable[[], float] = time.time
    ) -> AccountTokens:
        accounts = settings.accounts
        return cls(
            account_key(settings),
            reset_ttl=accounts.reset_token_ttl,
            verify_ttl=accounts.verify_token_ttl,
            clock=clock,
        )

    def fingerprint(self, purpose: str, value: str) -> str:
        """A keyed digest of ``value``: binds a token without revealing what it binds."""
        label = f"{purpose}\x00{value}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, label, "sha256").hexdigest()[:32]

    def mint(self, purpose: str, user_id: str, bound_to: str) -> str:
        payload = {"u": user_id, "b": self.fingerprint(purpose, bound_to)}
        payload["n"] = secrets.token_urlsafe(16)
        return str(self._serializers[purpose].dumps(payload))

    def read(self, purpose: str, token: str) -> TokenClaims:
        """The claims of a valid, unexpired token of ``purpose``; else ``BadRequest``."""
        try:
            if len(token) > MAX_TOKEN_CHARS:
                raise BadData("too long")
            payload: Any = self._serializers[purpose].loads(token, max_age=self.ttls[purpose])
        except (BadData, ValueError, TypeError, UnicodeError):
            raise invalid(purpose) from None
        if not isinstance(payload, dict) or not all(
            isinstance(payload.get(k), str) and payload[k] for k in ("u", "b", "n")
        ):
            raise invalid(purpose)
        return TokenClaims(payload["u"], payload["b"], payload["n"])

    def matches(self, purpose: str, claims: TokenClaims, current: str | None) -> bool:
        """Whether the token is still bound to ``current`` (constant-time compare)."""
        if current is None:
            return False
        return hmac.compare_digest(claims.binding, self.fingerprint(purpose, current))


def invalid(purpose: str) -> BadRequest:
    """The one answer for every bad token: expired, tampered, spent or for someone else."""
    what = "reset" if purpose == "reset" else "verification"
    detail = f"The {what} link is invalid or has expired."
    return BadRequest(detail, reason=f"invalid_{purpose}_token")
