"""API keys shaped for secret scanners, stored only as hashes.

A key reads ``{prefix}_{key_id}_{secret}{checksum}``, e.g. ``nxa_3kT9...``. The fixed
prefix and a CRC32 checksum (GitHub's token format) let scanners spot a leaked key with
almost no false positives, and let us reject typos and junk before touching the store.
The ``key_id`` finds the record; only SHA-256 of the secret is stored (a 190-bit random
secret needs no slow hash), compared in constant time. The full key is shown once.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
import string
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from nexios_auth_di.exceptions import ConfigurationError, Conflict, PermissionDenied
from nexios_auth_di.stores.protocols import APIKeyRecord, APIKeyStore, KeyAdd

__all__ = [
    "APIKeyLimitReached",
    "APIKeyService",
    "checksum",
    "public_view",
    "scopes_as_permissions",
]

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
KEY_ID_LEN = 16  # ~95 bits: unique without coordination
SECRET_LEN = 32  # ~190 bits from the CSPRNG (ASVS: at least 128)
CHECKSUM_LEN = 6  # 62**6 > 2**32, so any CRC32 fits
MAX_KEY_LEN = 256
TOUCH_INTERVAL = 60.0  # seconds between last_used writes for one key
_PREFIX = re.compile(r"^[a-z][a-z0-9]{1,15}$")


def _b62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(BASE62[r])
    return "".join(reversed(chars))


def _random_b62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def checksum(body: str) -> str:
    """Six base62 chars of CRC32(``body``): catches any one-char change or typo."""
    return _b62(zlib.crc32(body.encode("ascii")), CHECKSUM_LEN)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def public_view(record: APIKeyRecord) -> dict[str, Any]:
    """A JSON-ready view of a record, without ``secret_hash``."""
    return {
        "key_id": record.key_id,
        "prefix": record.prefix,
        "owner": record.owner,
        "name": record.name,
        "scopes": list(record.scopes),
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "revoked": record.revoked,
        "last_used": record.last_used,
    }


def scopes_as_permissions(record: APIKeyRecord) -> frozenset[str]:
    """A key grants exactly its scopes, never its owner's full permissions."""
    return frozenset(record.scopes)


class APIKeyLimitReached(Conflict):
    """409: the owner already has ``api_key.max_per_user`` live keys."""

    default_detail = "You have the maximum number of live API keys; revoke one first."
    error_code = "api_key_limit"

    def __init__(self) -> None:
        super().__init__(reason="api_key_limit")


class APIKeyService:
    """Create, check, list and revoke API keys over an ``APIKeyStore``.

    Every setting comes from ``Settings.api_key`` (through ``factories.py``): keys expire
    after ``default_ttl`` unless the app configured ``None`` (never) explicitly, a
    requested ttl may not exceed ``max_ttl``, and an owner holds at most ``max_per_user``
    live keys (checked atomically by the store, so a burst cannot overshoot).
    Store errors (``StoreUnavailable``) propagate, so a request fails closed with 503.
    """

    def __init__(
        self,
        store: APIKeyStore,
        *,
        prefix: str,
        clock: Callable[[], float],
        default_ttl: float | None,
        max_ttl: float,
        max_per_user: int,
    ) -> None:
        if not _PREFIX.match(prefix):
            raise ConfigurationError("API-key prefix must be 2-16 of [a-z0-9], letter first")
        if max_ttl <= 0 or max_per_user <= 0:
            raise ConfigurationError("API-key max_ttl and max_per_user must be positive")
        if default_ttl is not None and not 0 < default_ttl <= max_ttl:
            raise ConfigurationError("default_ttl must be positive and at most max_ttl")
        self.store, self.prefix, self.clock, self.default_ttl = store, prefix, clock, default_ttl
        self.max_ttl, self.max_per_user = max_ttl, max_per_user
        self._shape = re.compile(
            rf"^{prefix}_([0-9A-Za-z]{{{KEY_ID_LEN}}})_"
            rf"([0-9A-Za-z]{{{SECRET_LEN}}})([0-9A-Za-z]{{{CHECKSUM_LEN}}})$"
        )

    async def create(
        self,
        owner: str,
        *,
        scopes: Iterable[str] = (),
        name: str = "",
        ttl: float | None = None,
        stamp: str | None = None,
    ) -> tuple[str, APIKeyRecord]:
        """Make a key for ``owner``. The returned string is the only copy of the secret.

        ``stamp`` is ``await stamp(owner)`` read *before* the caller checked the owner's
        password: if ``revoke_all`` ran since (a password change, logout-all), nothing is
        stored and the request gets a 403. Beyond ``max_per_user`` live keys: 409.
        """
        if not isinstance(owner, str) or not owner:
            raise ConfigurationError("owner must be a non-empty string")
        granted = tuple(scopes)
        if any(not isinstance(s, str) or not s or s != s.strip() for s in granted):
            raise ConfigurationError("scopes must be non-empty strings without padding")
        life = ttl if ttl is not None else self.default_ttl
        if life is not None and not 0 < life <= self.max_ttl:
            raise ConfigurationError("ttl must be positive and at most max_ttl")
        key_id, secret = _random_b62(KEY_ID_LEN), _random_b62(SECRET_LEN)
        body = f"{self.prefix}_{key_id}_{secret}"
        now = self.clock()
        record = APIKeyRecord(
            key_id=key_id,
            prefix=self.prefix,
            owner=owner,
            secret_hash=_hash(secret),
            scopes=granted,
            name=name,
            created_at=now,
            expires_at=None if life is None else now + life,
        )
        if stamp is None:
            stamp = await self.store.stamp(owner)
        outcome = await self.store.add(record, max_live=self.max_per_user, stamp=stamp)
        if outcome is KeyAdd.LIMIT:
            raise APIKeyLimitReached()
        if outcome is KeyAdd.STALE:
            raise PermissionDenied(
                "Your credentials changed while the key was being created; sign in again.",
                reason="api_key_stale",
            )
        return body + checksum(body), record

    async def stamp(self, owner: str) -> str:
        """Read before verifying the owner's password; hand to ``create(stamp=...)``."""
        return await self.store.stamp(owner)

    async def revoke_all(self, owner: str) -> int:
        """Revoke every key of ``owner`` (and any creation in flight); return how many."""
        return await self.store.revoke_all(owner)

    def parse(self, raw: str) -> tuple[str, str] | None:
        """``(key_id, secret)`` if ``raw`` is one of our keys by shape and checksum.

        Cheap and offline: junk, typos and other services' keys never reach the store.
        """
        if not isinstance(raw, str) or not raw or len(raw) > MAX_KEY_LEN or not raw.isascii():
            return None
        match = self._shape.match(raw)
        if match is None:
            return None
        key_id, secret, check = match.groups()
        if not hmac.compare_digest(check, checksum(f"{self.prefix}_{key_id}_{secret}")):
            return None
        return key_id, secret

    async def authenticate(self, raw: str) -> APIKeyRecord | None:
        """The record for a valid, live key, else ``None`` (the cause is not revealed)."""
        parsed = self.parse(raw)
        if parsed is None:
            return None
        key_id, secret = parsed
        record = await self.store.get(key_id)
        if record is None or record.prefix != self.prefix:
            return None
        if not hmac.compare_digest(_hash(secret), record.secret_hash):
            return None
        now = self.clock()
        if record.revoked or (record.expires_at is not None and now >= record.expires_at):
            return None
        if record.last_used is None or now - record.last_used >= TOUCH_INTERVAL:
            await self.store.touch(key_id, now)  # throttled: not one write per request
            record.last_used = now
        return record

    async def revoke(self, key_id: str, owner: str | None = None) -> bool:
        """Revoke a key; with ``owner``, only if it is theirs. True if it was live."""
        if owner is not None:
            record = await self.store.get(key_id)
            if record is None or record.owner != owner:
                return False
        return await self.store.revoke(key_id)

    async def list(self, owner: str) -> builtins.list[APIKeyRecord]:
        """The owner's live keys, newest first, at most ``max_per_user`` (records never
        hold a secret; revoked and expired ones are not listed)."""
        now = self.clock()
        records = [
            r
            for r in await self.store.list_for_owner(owner)
            if not r.revoked and (r.expires_at is None or r.expires_at > now)
        ]
        records.sort(key=lambda r: (r.created_at, r.key_id), reverse=True)
        return records[: self.max_per_user]
