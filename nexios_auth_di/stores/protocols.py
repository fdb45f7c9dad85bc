"""One small Protocol per kind of server-side state.

Each method is the least the services need, so a store can be written over any database.
Times are Unix seconds (float). A store that cannot reach its backend raises
``StoreUnavailable``; callers let it through so requests fail closed with a 503.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "API_KEY_RETENTION",
    "STAMP_TTL",
    "APIKeyRecord",
    "APIKeyStore",
    "CredentialRecord",
    "CredentialStore",
    "KeyAdd",
    "OneTimeStore",
    "RefreshFamilyStore",
    "RevocationStore",
    "SessionStore",
    "SpendResult",
]


@runtime_checkable
class RevocationStore(Protocol):
    """Revoked token ids and logins (refresh families), each kept until its tokens would
    expire anyway, and per-subject marks ("log out everywhere").

    A subject's mark is also its credential *generation* (security stamp): every
    credential records the generation it was issued under, and one issued before the
    mark moved is refused. A credential without one compares its issue time instead.
    """

    async def revoke_jti(self, jti: str, expires_at: float) -> None: ...

    async def revoke_family(self, family: str, expires_at: float) -> None:
        """Refuse every token of login ``family`` (access tokens too) until ``expires_at``."""
        ...

    async def revoke_subject(self, subject: str, not_before: float, ttl: float) -> None:
        """Refuse every token of ``subject`` issued before ``not_before``; keep the mark
        for ``ttl`` seconds (the longest token lifetime)."""
        ...

    async def advance_generation(self, subject: str, now: float, ttl: float) -> float:
        """Atomically move ``subject``'s mark strictly past its current value (and to at
        least ``now``); return the new generation. Kept ``ttl`` seconds."""
        ...

    async def current_generation(self, subject: str) -> float:
        """``subject``'s generation: its live mark, or 0.0 when there is none."""
        ...

    async def is_refused(
        self, jti: str, subject: str, issued_at: float, family: str | None = None
    ) -> bool:
        """One call (one round trip on a network store) for every check: ``jti`` or
        ``family`` revoked, or ``issued_at`` (the credential's generation, else its issue
        time) older than the subject's mark."""
        ...


class SpendResult(enum.Enum):
    """Outcome of spending a refresh token."""

    OK = "ok"  # first use: the caller may issue the next pair
    REUSED = "reused"  # already spent: a replay, the family must be revoked
    REVOKED = "revoked"  # family revoked: refuse


@runtime_checkable
class RefreshFamilyStore(Protocol):
    """Spent refresh-token ids and revoked families.

    Nothing is written when a token is issued (tokens are signed, so an unknown jti
    cannot be forged); a token is recorded when it is *spent*.
    """

    async def spend(self, family: str, jti: str, expires_at: float) -> SpendResult:
        """Atomically mark ``jti`` spent. Exactly one concurrent caller gets ``OK``."""
        ...

    async def revoke_family(self, family: str, expires_at: float) -> None: ...

    async def start(self, subject: str, family: str, expires_at: float, limit: int) -> list[str]:
        """Record a new login of ``subject`` (kept until ``expires_at``, its absolute end).
        Beyond ``limit`` live logins the oldest are dropped from the record and returned
        for the caller to revoke."""
        ...

    async def end(self, subject: str, family: str, expires_at: float) -> None:
        """Revoke one login (spends refused until ``expires_at``) and drop its record."""
        ...

    async def end_all(self, subject: str) -> list[str]:
        """Revoke every recorded login of ``subject`` (each until its own end) and drop
        the records; return their families."""
        ...


@runtime_checkable
class SessionStore(Protocol):
    """Server-side session data by id, indexed by subject so one can end the others."""

    async def load(self, session_id: str) -> dict[str, Any] | None: ...

    async def save(
        self,
        session_id: str,
        data: dict[str, Any],
        ttl: float,
        subject: str | None = None,
        *,
        previous: str | None = None,
    ) -> bool:
        """Write the session; with ``previous`` (the id it was loaded under) only if that
        id still exists, atomically replacing it. ``False``: it was deleted or superseded
        meanwhile (logout, logout-all, password change), so nothing was written."""
        ...

    async def delete(self, session_id: str) -> None: ...

    async def delete_for_subject(self, subject: str, keep: str | None = None) -> int:
        """Delete every session of ``subject`` except ``keep``; return how many."""
        ...


@dataclass(slots=True)
class APIKeyRecord:
    """What is stored for an API key. Never the secret: only its SHA-256."""

    key_id: str
    prefix: str
    owner: str
    secret_hash: str
    scopes: tuple[str, ...] = ()
    name: str = ""
    created_at: float = 0.0
    expires_at: float | None = None
    revoked: bool = False
    last_used: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


#: A dead API-key record (revoked, or past ``expires_at``) is kept this long so its owner
#: can still see it, then purged by every engine: no record outlives its usefulness.
API_KEY_RETENTION = 30 * 86400.0
#: An owner's revoke-all stamp outlives any request that could have read the old one.
STAMP_TTL = 86400.0


class KeyAdd(enum.Enum):
    """Outcome of adding a new API key."""

    OK = "ok"
    LIMIT = "limit"  # the owner already has ``max_live`` live keys
    STALE = "stale"  # ``revoke_all`` ran since the caller read the owner's stamp


@runtime_checkable
class APIKeyStore(Protocol):
    """API-key records by id, indexed by owner. A record is *live* while not revoked and
    not past ``expires_at`` (by the store's clock); dead ones are purged after
    ``API_KEY_RETENTION``."""

    async def put(self, record: APIKeyRecord) -> None: ...

    async def get(self, key_id: str) -> APIKeyRecord | None: ...

    async def list_for_owner(self, owner: str) -> list[APIKeyRecord]: ...

    async def revoke(self, key_id: str) -> bool: ...

    async def touch(self, key_id: str, when: float) -> None: ...

    async def add(self, record: APIKeyRecord, *, max_live: int, stamp: str) -> KeyAdd:
        """Store a *new* record in one atomic step, unless its owner already has
        ``max_live`` live keys or the owner's stamp is no longer ``stamp``."""
        ...

    async def stamp(self, owner: str) -> str:
        """A value that changes on every ``revoke_all(owner)`` (``""`` before any)."""
        ...

    async def revoke_all(self, owner: str) -> int:
        """Change the owner's stamp, *then* revoke each live key; return how many.

        In that order, a creation in flight either lands before the sweep (and is
        revoked) or after the stamp changed (and ``add`` answers STALE).
        """
        ...

    async def count_live(self, owner: str) -> int: ...


@runtime_checkable
class OneTimeStore(Protocol):
    """Short-lived single-use state: spent reset tokens, TOTP steps already used, MFA
    tokens, WebAuthn challenges, OIDC login state.

    Every entry expires (``ttl`` seconds, at least ``MIN_MARKER_TTL``); each method is one
    atomic step on every engine, and touches one key (Redis Cluster safe).
    """

    async def claim(self, key: str, ttl: float) -> bool:
        """Mark ``key`` used; ``True`` for exactly one caller, however many race."""
        ...

    async def put(self, key: str, value: dict[str, Any], ttl: float) -> None:
        """Store ``value`` (JSON-able) under ``key``, replacing any earlier one."""
        ...

    async def take(self, key: str) -> dict[str, Any] | None:
        """Read *and delete* ``key``: exactly one concurrent caller gets the value."""
        ...


@dataclass(slots=True)
class CredentialRecord:
    """A record attached to a user, kept until deleted (or ``expires_at``).

    ``kind`` names what it is (``"totp"``, ``"recovery_code"``, ``"passkey"``,
    ``"identity"``, ``"device"``...); ``credential_id`` is unique within its kind, so a
    passkey or a linked identity is found by id alone at sign-in. ``data`` is JSON-able and
    the caller's to shape. ``version`` counts updates (optimistic concurrency: see
    ``CredentialStore.update``).
    """

    kind: str
    credential_id: str
    user_id: str
    data: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    last_used: float | None = None
    expires_at: float | None = None
    version: int = 0


@runtime_checkable
class CredentialStore(Protocol):
    """Authenticators, linked identities and device logins of each user, by
    ``(kind, credential_id)`` and by user. Expired records are never returned."""

    async def add(self, record: CredentialRecord) -> bool:
        """Store a new record; ``False`` (nothing written) when ``(kind, credential_id)``
        already exists."""
        ...

    async def get(self, kind: str, credential_id: str) -> CredentialRecord | None: ...

    async def list_for_user(self, user_id: str, kind: str | None = None) -> list[CredentialRecord]:
        """The user's records (of ``kind`` when given), oldest first."""
        ...

    async def update(self, record: CredentialRecord) -> bool:
        """Replace ``data``, ``last_used`` and ``expires_at`` only if the stored version is
        still ``record.version`` (then it becomes ``version + 1``); ``False`` when the record
        changed meanwhile or is gone. A sign counter or a code list never goes backwards."""
        ...

    async def touch(self, kind: str, credential_id: str, when: float) -> None:
        """Set ``last_used`` (best effort: no version change)."""
        ...

    async def delete(self, kind: str, credential_id: str, *, user_id: str | None = None) -> bool:
        """Delete the record (only if it belongs to ``user_id`` when given); ``True`` for
        exactly one concurrent caller, so deleting is also how a one-use code is spent."""
        ...

    async def delete_for_user(self, user_id: str, kind: str | None = None) -> int:
        """Delete the user's records (of ``kind`` when given); return how many."""
        ...
