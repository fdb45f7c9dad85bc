"""Stores for server-side state: protocols plus memory, SQLite and Redis engines.

The SQLite and Redis engines import their drivers lazily: reach them through
``build_stores(config)`` or import ``nexios_auth_di.stores.sqlite`` / ``.redis``.
"""

from .factory import ENGINES, StoreSet, build_stores
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
    "ENGINES",
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
    "StoreSet",
    "build_stores",
]
