"""User repositories for the ready-made routes (``nexios_auth_di.users``, a stable path)."""

from nexios_auth_di.routes.users import (
    MemoryUserRepository,
    UserRecord,
    UserRepository,
    user_from_record,
    user_loader_for,
    username_key,
)
from nexios_auth_di.routes.users_sqlite import SqliteUserRepository

__all__ = [
    "MemoryUserRepository",
    "SqliteUserRepository",
    "UserRecord",
    "UserRepository",
    "user_from_record",
    "user_loader_for",
    "username_key",
]
