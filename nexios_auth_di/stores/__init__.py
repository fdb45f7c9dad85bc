"""Stores for server-side state: protocols plus memory, SQLite and Redis engines.

The SQLite and Redis engines import their drivers lazily: reach them through
``build_stores(config)`` or import ``nexios_auth_di.stores.sqlite`` / ``.redis``.
"""

from nexios_auth_di.stores.factory import ENGINES, StoreSet, build_stores
from nexios_auth_di.stores.memory import (
    MemoryAPIKeyStore,
    MemoryRefreshFamilyStore,
    MemoryRevocationStore,
    MemorySessionStore,
)
from nexios_auth_di.stores.memory_records import MemoryCredentialStore, MemoryOneTimeStore
from nexios_auth_di.stores.protocols import (
    APIKeyRecord,
    APIKeyStore,
    CredentialRecord,
    CredentialStore,
    OneTimeStore,
    RefreshFamilyStore,
    RevocationStore,
    SessionStore,
    SpendResult,
)

__all__ = [
    "ENGINES",
    "APIKeyRecord",
    "APIKeyStore",
    "CredentialRecord",
    "CredentialStore",
    "MemoryAPIKeyStore",
    "MemoryCredentialStore",
    "MemoryOneTimeStore",
    "MemoryRefreshFamilyStore",
    "MemoryRevocationStore",
    "MemorySessionStore",
    "OneTimeStore",
    "RefreshFamilyStore",
    "RevocationStore",
    "SessionStore",
    "SpendResult",
    "StoreSet",
    "build_stores",
]
