"""argon2id parameter profiles: argon2-cffi's own where it has one, ours where it lacks one.

A profile is an ``argon2.Parameters`` (load it with ``PasswordHasher.from_parameters``).
RFC 9106's recommendation comes straight from ``argon2.profiles``; this module adds only
what that lacks: OWASP's minimum, a test-only cheap set, checked custom sets
(``Argon2Profile``) and the name lookup behind the ``passwords.profile`` setting, so
configuration names one of a few vetted sets instead of inventing costs. Changing the
profile of a running app is safe: ``PasswordService.verify_and_update`` rehashes on the
next login.
"""

from __future__ import annotations

from argon2 import Parameters, Type
from argon2 import profiles as argon2_profiles

from nexios_auth_di.exceptions import ConfigurationError

__all__ = [
    "DEFAULT",
    "OWASP_MINIMUM",
    "RFC_9106_LOW_MEMORY",
    "TEST_ONLY_CHEAP",
    "Argon2Profile",
    "below_owasp_minimum",
    "profile_by_name",
    "profile_name",
]

# Below this memory cost (KiB) no OWASP-listed argon2id configuration exists (the weakest
# listed one is m=7 MiB, t=5), so a service built with less logs a warning.
OWASP_FLOOR_KIB = 7 * 1024


class Argon2Profile(Parameters):
    """A named argon2id (version 19) ``Parameters`` whose costs are checked at creation,
    for the sets ``argon2.profiles`` lacks. ``memory_cost`` is in KiB, as argon2 expects."""

    __slots__ = ("name",)

    def __init__(
        self,
        name: str,
        *,
        time_cost: int,
        memory_cost: int,
        parallelism: int,
        hash_len: int = 32,
        salt_len: int = 16,
    ) -> None:
        if min(time_cost, memory_cost, parallelism, hash_len) < 1:
            raise ConfigurationError(f"argon2 profile {name!r}: costs must be >= 1")
        if salt_len < 8:
            raise ConfigurationError(f"argon2 profile {name!r}: salt_len must be >= 8")
        if memory_cost < 8 * parallelism:
            raise ConfigurationError(
                f"argon2 profile {name!r}: memory_cost must be >= 8 * parallelism KiB"
            )
        super().__init__(
            type=Type.ID,
            version=19,
            salt_len=salt_len,
            hash_len=hash_len,
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
        )
        self.name = name


# SECOND RECOMMENDED option per RFC 9106 (§4, for when 2 GiB per hash is too much):
# t=3, m=64 MiB, p=4. argon2-cffi's own object, not a copy (it is also its default);
# about 0.2 s per hash on this project's 2-core reference machine.
RFC_9106_LOW_MEMORY: Parameters = argon2_profiles.RFC_9106_LOW_MEMORY

# MINIMUM per the OWASP Password Storage Cheat Sheet (its first argon2id line):
# m=19 MiB, t=2, p=1. For small hosts where 64 MiB per concurrent login is too much.
OWASP_MINIMUM = Argon2Profile("owasp_minimum", time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Only for testing! Takes microseconds and protects nothing. Unlike argon2's CHEAPEST
# (4-byte hashes) it keeps a 16-byte hash, so hashes still look like real ones.
# PasswordService logs a warning when built with it unless told ``allow_cheap=True``.
TEST_ONLY_CHEAP = Argon2Profile(
    "test_only_cheap", time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=8
)

DEFAULT = RFC_9106_LOW_MEMORY

_BY_NAME: dict[str, Parameters] = {
    "rfc9106_low_memory": RFC_9106_LOW_MEMORY,
    OWASP_MINIMUM.name: OWASP_MINIMUM,
    TEST_ONLY_CHEAP.name: TEST_ONLY_CHEAP,
}


def profile_by_name(name: str) -> Parameters:
    """Resolve a configuration string to a profile; unknown names fail at setup."""
    try:
        return _BY_NAME[name.strip().lower()]
    except (KeyError, AttributeError):
        known = ", ".join(sorted(_BY_NAME))
        raise ConfigurationError(
            f"unknown password profile {name!r}; expected one of: {known}"
        ) from None


def profile_name(profile: Parameters) -> str:
    """A name for logs: the configuration name, else the costs."""
    if isinstance(profile, Argon2Profile):
        return profile.name
    for name, known in _BY_NAME.items():
        if known is profile:
            return name
    return f"t={profile.time_cost}, m={profile.memory_cost} KiB, p={profile.parallelism}"


def below_owasp_minimum(profile: Parameters) -> bool:
    """True for profiles too cheap for real passwords (tests and benchmarks only)."""
    return profile.memory_cost < OWASP_FLOOR_KIB
