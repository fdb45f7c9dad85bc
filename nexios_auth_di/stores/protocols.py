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
    "APIKeyRecord",
    "APIKeyStore",
    "RefreshFamilyStore",
    "RevocationStore",
    "SessionStore",
    "SpendResult",
]


@runtime_checkable
class RevocationStore(Protocol):
    """Revoked token ids (kept until the token would expire anyway) and per-subject
    not-before marks ("log out everywhere")."""

    async def revoke_jti(self, jti: str, expires_at: float) -> None: ...

    async def revoke_subject(self, subject: str, not_before: float, ttl: float) -> None:
        """Refuse every token of ``subject`` issued before ``not_before``; keep the mark
        for ``ttl`` seconds (the longest token lifetime)."""
        ...

    async def is_refused(self, jti: str, subject: str, issued_at: float) -> bool:
        """One call (one round trip on a network store) for both checks."""
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


@runtime_checkable
class SessionStore(Protocol):
    """Server-side session data by id, indexed by subject so one can end the others."""

    async def load(self, session_id: str) -> dict[str, Any] | None: ...

    async def save(
        self, session_id: str, data: dict[str, Any], ttl: float, subject: str | None = None
    ) -> None: ...

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


@runtime_checkable
class APIKeyStore(Protocol):
    async def put(self, record: APIKeyRecord) -> None: ...

    async def get(self, key_id: str) -> APIKeyRecord | None: ...

    async def list_for_owner(self, owner: str) -> list[APIKeyRecord]: ...

    async def revoke(self, key_id: str) -> bool: ...

    async def touch(self, key_id: str, when: float) -> None: ...
