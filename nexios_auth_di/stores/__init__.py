"""Stores for server-side state: protocols plus memory, SQLite and Redis engines."""

from .memory import (
    MemoryApiKeyStore,
    MemoryRefreshFamilyStore,
    MemoryRevocationStore,
    MemorySessionStore,
)
from .protocols import (
    ApiKeyRecord,
    ApiKeyStore,
    RefreshFamilyStore,
    RevocationStore,
    SessionStore,
    SpendResult,
)

__all__ = [
    "ApiKeyRecord",
    "ApiKeyStore",
    "MemoryApiKeyStore",
    "MemoryRefreshFamilyStore",
    "MemoryRevocationStore",
    "MemorySessionStore",
    "RefreshFamilyStore",
    "RevocationStore",
    "SessionStore",
    "SpendResult",
]
