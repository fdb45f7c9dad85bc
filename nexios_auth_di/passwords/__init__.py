"""Password hashing: argon2id off the event loop, with typed parameter profiles."""

from nexios_auth_di.passwords.profiles import (
    DEFAULT,
    OWASP_MINIMUM,
    RFC_9106_LOW_MEMORY,
    TEST_ONLY_CHEAP,
    Argon2Profile,
    profile_by_name,
)
from nexios_auth_di.passwords.service import COMMON_PASSWORDS, PasswordService, common_passwords

__all__ = [
    "COMMON_PASSWORDS",
    "DEFAULT",
    "OWASP_MINIMUM",
    "RFC_9106_LOW_MEMORY",
    "TEST_ONLY_CHEAP",
    "Argon2Profile",
    "PasswordService",
    "common_passwords",
    "profile_by_name",
]
