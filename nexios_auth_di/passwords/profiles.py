"""Typed argon2id parameter profiles, in the style of ``argon2.profiles``.

Profiles are values, not loose keyword arguments, so configuration names one of a few
vetted sets (``profile_by_name``) instead of inventing costs. Changing the profile of a
running app is safe: ``PasswordService.verify_and_update`` rehashes on the next login.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, Type

from nexios_auth_di.exceptions import ConfigurationError

__all__ = [
    "DEFAULT",
    "OWASP_MINIMUM",
    "RFC_9106_LOW_MEMORY",
    "TEST_ONLY_CHEAP",
    "Argon2Profile",
    "profile_by_name",
]

# Below this memory cost (KiB) no OWASP-listed argon2id configuration exists (the weakest
# listed one is m=7 MiB, t=5), so a service built with less logs a warning.
OWASP_FLOOR_KIB = 7 * 1024


@dataclass(frozen=True, slots=True)
class Argon2Profile:
    """One argon2id parameter set. ``memory_cost`` is in KiB, as argon2 expects."""

    name: str
    time_cost: int
    memory_cost: int
    parallelism: int
    hash_len: int = 32
    salt_len: int = 16

    def __post_init__(self) -> None:
        if min(self.time_cost, self.memory_cost, self.parallelism, self.hash_len) < 1:
            raise ConfigurationError(f"argon2 profile {self.name!r}: costs must be >= 1")
        if self.salt_len < 8:
            raise ConfigurationError(f"argon2 profile {self.name!r}: salt_len must be >= 8")
        if self.memory_cost < 8 * self.parallelism:
            raise ConfigurationError(
                f"argon2 profile {self.name!r}: memory_cost must be >= 8 * parallelism KiB"
            )

    @property
    def below_owasp_minimum(self) -> bool:
        """True for profiles too cheap for real passwords (tests and benchmarks only)."""
        return self.memory_cost < OWASP_FLOOR_KIB

    def hasher(self) -> PasswordHasher:
        """An argon2id ``PasswordHasher`` with exactly these parameters."""
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_cost,
            parallelism=self.parallelism,
            hash_len=self.hash_len,
            salt_len=self.salt_len,
            type=Type.ID,
        )


# RFC 9106 §4, "second recommended option" (for when 2 GiB per hash is too much):
# t=3, m=64 MiB, p=4. This is argon2-cffi's own default (argon2.profiles.RFC_9106_LOW_MEMORY);
# about 0.2 s per hash on this project's 2-core reference machine.
RFC_9106_LOW_MEMORY = Argon2Profile(
    name="rfc9106_low_memory", time_cost=3, memory_cost=64 * 1024, parallelism=4
)

# OWASP Password Storage Cheat Sheet, first argon2id line: m=19 MiB, t=2, p=1. For small
# hosts where 64 MiB per concurrent login is too much memory.
OWASP_MINIMUM = Argon2Profile(
    name="owasp_minimum", time_cost=2, memory_cost=19 * 1024, parallelism=1
)

# TEST ONLY. Takes microseconds and protects nothing: never use it for real passwords.
# PasswordService logs a warning when built with it unless told ``allow_cheap=True``.
TEST_ONLY_CHEAP = Argon2Profile(
    name="test_only_cheap", time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=8
)

DEFAULT = RFC_9106_LOW_MEMORY

_BY_NAME = {p.name: p for p in (RFC_9106_LOW_MEMORY, OWASP_MINIMUM, TEST_ONLY_CHEAP)}


def profile_by_name(name: str) -> Argon2Profile:
    """Resolve a configuration string to a profile; unknown names fail at setup."""
    try:
        return _BY_NAME[name.strip().lower()]
    except (KeyError, AttributeError):
        known = ", ".join(sorted(_BY_NAME))
        raise ConfigurationError(
            f"unknown password profile {name!r}; expected one of: {known}"
        ) from None
