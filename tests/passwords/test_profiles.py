"""Our argon2id profiles: argon2-cffi's own where it has one, checked additions otherwise."""

from __future__ import annotations

import logging

import pytest
from argon2 import Parameters, PasswordHasher, Type, extract_parameters
from argon2 import profiles as argon2_profiles

from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.passwords import PasswordService
from nexios_auth_di.passwords.profiles import (
    DEFAULT,
    OWASP_MINIMUM,
    RFC_9106_LOW_MEMORY,
    TEST_ONLY_CHEAP,
    Argon2Profile,
    below_owasp_minimum,
    profile_by_name,
    profile_name,
)


def test_rfc_9106_profile_is_argon2_cffis_own_object() -> None:
    """The RFC 9106 profile (and the default) is argon2-cffi's Parameters object, not a copy
    that could drift from it."""
    assert RFC_9106_LOW_MEMORY is argon2_profiles.RFC_9106_LOW_MEMORY
    assert DEFAULT is argon2_profiles.RFC_9106_LOW_MEMORY
    assert profile_by_name("rfc9106_low_memory") is argon2_profiles.RFC_9106_LOW_MEMORY


@pytest.mark.parametrize(
    ("profile", "costs"),
    [
        # OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1
        (OWASP_MINIMUM, (Type.ID, 19, 2, 19 * 1024, 1, 32, 16)),
        # test-only: the smallest argon2 accepts, but a 16-byte hash and an 8-byte salt
        (TEST_ONLY_CHEAP, (Type.ID, 19, 1, 8, 1, 16, 8)),
    ],
    ids=["owasp_minimum", "test_only_cheap"],
)
def test_our_profiles_are_argon2id_parameters(
    profile: Parameters, costs: tuple[object, ...]
) -> None:
    """Profiles argon2-cffi lacks are argon2id ``Parameters`` with the cited numbers, and a
    hasher loaded from them writes hashes with exactly those parameters."""
    assert isinstance(profile, Parameters)
    got = (profile.type, profile.version, profile.time_cost, profile.memory_cost)
    assert (*got, profile.parallelism, profile.hash_len, profile.salt_len) == costs
    if profile is TEST_ONLY_CHEAP:  # only the cheap one is fast enough to hash here
        hashed = PasswordHasher.from_parameters(profile).hash("a password")
        assert extract_parameters(hashed) == Parameters(
            type=Type.ID,
            version=19,
            salt_len=8,
            hash_len=16,
            time_cost=1,
            memory_cost=8,
            parallelism=1,
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time_cost": 0, "memory_cost": 64, "parallelism": 1}, "costs must be >= 1"),
        ({"time_cost": 1, "memory_cost": 64, "parallelism": 0}, "costs must be >= 1"),
        ({"time_cost": 1, "memory_cost": 64, "parallelism": 1, "salt_len": 4}, "salt_len"),
        ({"time_cost": 1, "memory_cost": 16, "parallelism": 4}, "8 \\* parallelism"),
    ],
    ids=["zero_time", "zero_lanes", "short_salt", "memory_below_8_per_lane"],
)
def test_custom_profiles_are_checked_at_creation(kwargs: dict[str, int], message: str) -> None:
    """A custom profile argon2 would reject (or that weakens the salt) fails at setup with
    ConfigurationError, not at the first login."""
    with pytest.raises(ConfigurationError, match=message):
        Argon2Profile("custom", **kwargs)


def test_names_and_owasp_floor() -> None:
    """Logs name every profile (configured names first), and only sub-OWASP ones are cheap."""
    assert profile_name(RFC_9106_LOW_MEMORY) == "rfc9106_low_memory"
    assert profile_name(OWASP_MINIMUM) == "owasp_minimum"
    custom = Parameters(
        type=Type.ID,
        version=19,
        salt_len=16,
        hash_len=32,
        time_cost=4,
        memory_cost=1024,
        parallelism=2,
    )
    assert profile_name(custom) == "t=4, m=1024 KiB, p=2"
    assert [below_owasp_minimum(p) for p in (RFC_9106_LOW_MEMORY, OWASP_MINIMUM)] == [False] * 2
    assert below_owasp_minimum(TEST_ONLY_CHEAP)
    assert below_owasp_minimum(custom)


def test_service_accepts_argon2_cffis_parameters(caplog: pytest.LogCaptureFixture) -> None:
    """PasswordService takes any ``argon2.Parameters`` (e.g. argon2's CHEAPEST) and warns,
    by its costs, when it is below the OWASP floor."""
    with caplog.at_level(logging.WARNING, logger="nexios_auth_di.passwords"):
        PasswordService(argon2_profiles.CHEAPEST)
    assert "t=1, m=8 KiB, p=1" in caplog.text
