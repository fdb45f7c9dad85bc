"""TOTP (RFC 6238) secrets, sealed at rest, and code checks that are throttled and
refuse a replayed step.

The secret is stored AES-GCM sealed under a key derived from ``mfa.secret_key`` (else the
JWT/session secret), so a copy of the credential store alone does not yield codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

import pyotp
import segno
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nexios_auth_di.exceptions import ConfigurationError, Throttled
from nexios_auth_di.stores.protocols import CredentialRecord
from nexios_auth_di.throttle.limiter import Rule

__all__ = ["check_code", "enrolled", "mfa_key", "new_secret", "open_secret", "qr_svg", "seal"]

KIND = "totp"


def mfa_key(container: Any, label: bytes) -> bytes:
    """A 32-byte key for ``label``, the same on every worker."""
    settings = container.settings()
    secret = settings.mfa.secret_key or settings.jwt.secret_key or settings.session.secret_key
    if not secret:
        raise ConfigurationError("mfa needs mfa.secret_key (or jwt/session secret_key)")
    return hmac.new(secret.encode(), b"nexios_auth_di.mfa." + label, "sha256").digest()


def seal(container: Any, secret: str, user_id: str) -> str:
    nonce = secrets.token_bytes(12)
    box = AESGCM(mfa_key(container, b"totp")).encrypt(nonce, secret.encode(), user_id.encode())
    return base64.urlsafe_b64encode(nonce + box).decode()


def open_secret(container: Any, sealed: str, user_id: str) -> str:
    raw = base64.urlsafe_b64decode(sealed.encode())
    key = AESGCM(mfa_key(container, b"totp"))
    return key.decrypt(raw[:12], raw[12:], user_id.encode()).decode()


def new_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits (RFC 4226 §4 recommends 160)


def totp_for(container: Any, secret: str) -> pyotp.TOTP:
    mfa = container.settings().mfa
    return pyotp.TOTP(secret, digits=mfa.digits, interval=mfa.period, issuer=mfa.issuer)


def qr_svg(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_inline(scale=4))


async def enrolled(container: Any, user_id: str) -> CredentialRecord | None:
    record: CredentialRecord | None = await container.credential_store().get(KIND, user_id)
    return record


async def reserve_guess(container: Any, user_id: str, extra: str | None = None) -> list[Rule]:
    """Count one code guess per user (and per mfa_token) *before* checking it."""
    settings = container.settings()
    limit, window = settings.mfa.codes_per_user
    limiter = container.login_throttle().limiter
    now = container.clock()()
    digest = hashlib.sha256(f"mfa-user\x00{user_id}".encode()).hexdigest()
    base = settings.throttle
    rules = [
        Rule(f"nexios_auth_di/mfa/{digest}", limit, float(window), base.base_delay, base.max_delay)
    ]
    if extra is not None:
        tries = settings.mfa.tries_per_token
        rules.append(Rule(f"nexios_auth_di/mfa-token/{extra}", tries, float(window)))
    granted: list[Rule] = []
    for rule in rules:
        decision = await limiter.reserve(rule, now)
        if not decision.allowed:
            for earlier in granted:
                await limiter.release(earlier, now)
            raise Throttled(decision.retry_after, reason="mfa_code_rate")
        granted.append(rule)
    return granted


async def clear_guesses(container: Any, rules: list[Rule]) -> None:
    for rule in rules:
        await container.login_throttle().limiter.clear(rule.key)


async def check_code(container: Any, user_id: str, secret: str, code: str) -> bool:
    """True for a code of the current step ±valid_window not used before (the matched
    step is claimed once: a replay within the window is refused, RFC 6238 §5.2)."""
    mfa = container.settings().mfa
    if len(code) != mfa.digits or not code.isascii() or not code.isdigit():
        return False
    totp = totp_for(container, secret)
    now = container.clock()()
    step = int(now // mfa.period)
    for offset in range(-mfa.valid_window, mfa.valid_window + 1):
        expected = totp.at((step + offset) * mfa.period)
        if hmac.compare_digest(expected, code):
            ttl = float(mfa.period * (2 * mfa.valid_window + 2))
            claimed: bool = await container.one_time_store().claim(
                f"totp:{user_id}:{step + offset}", ttl
            )
            return claimed
    return False
