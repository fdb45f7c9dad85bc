"""PasswordService: argon2id hashing, policy, rehash-on-login and anti-enumeration."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import extract_parameters

from nexios_auth_di.exceptions import BadRequest, ConfigurationError
from nexios_auth_di.passwords import COMMON_PASSWORDS, PasswordService, common_passwords
from nexios_auth_di.passwords.profiles import (
    DEFAULT,
    OWASP_MINIMUM,
    RFC_9106_LOW_MEMORY,
    TEST_ONLY_CHEAP,
    Argon2Profile,
    profile_by_name,
)

CHEAP_B = Argon2Profile("cheap_b", time_cost=2, memory_cost=16, parallelism=1, hash_len=16)
# Costly enough (a few ms) that a hash spans many loop iterations, cheap enough for CI.
MODERATE = Argon2Profile("moderate", time_cost=2, memory_cost=4096, parallelism=1)


@pytest.fixture
def svc() -> PasswordService:
    return PasswordService(TEST_ONLY_CHEAP, allow_cheap=True)


async def test_roundtrip(svc: PasswordService) -> None:
    """A hash verifies with its password and is argon2id with the profile's parameters."""
    hashed = await svc.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert await svc.verify(hashed, "correct horse battery")
    params = extract_parameters(hashed)
    assert (params.time_cost, params.memory_cost, params.parallelism) == (1, 8, 1)


@pytest.mark.parametrize(
    ("stored", "attempt"),
    [
        ("correct horse battery", "correct horse batterY"),
        ("correct horse battery", "correct horse battery "),
        ("correct horse battery", ""),
    ],
)
async def test_wrong_password_is_false(svc: PasswordService, stored: str, attempt: str) -> None:
    """A wrong password returns False instead of raising."""
    assert await svc.verify(await svc.hash(stored), attempt) is False


@pytest.mark.parametrize(
    "bad_hash",
    ["", "not-a-hash", "$argon2id$v=19$m=8,t=1,p=1$garbage", "$2b$12$" + "a" * 53],
)
async def test_invalid_hash_is_false(svc: PasswordService, bad_hash: str) -> None:
    """A corrupt or foreign stored hash makes verify False, never an exception (no 500)."""
    assert await svc.verify(bad_hash, "whatever-password") is False
    assert svc.needs_rehash(bad_hash) is True


async def test_rehash_on_login_when_profile_changes() -> None:
    """A login under a new profile saves a new hash that the new profile accepts as current."""
    old = PasswordService(TEST_ONLY_CHEAP, allow_cheap=True)
    new = PasswordService(CHEAP_B, allow_cheap=True)
    hashed = await old.hash("migrate me please")
    assert new.needs_rehash(hashed)
    saved: list[str] = []

    async def save(h: str) -> None:
        saved.append(h)

    assert await new.verify_and_update(hashed, "migrate me please", save)
    assert len(saved) == 1
    assert saved[0] != hashed
    assert not new.needs_rehash(saved[0])
    assert await new.verify(saved[0], "migrate me please")
    # A current hash is not rewritten, and a wrong password saves nothing.
    assert await new.verify_and_update(saved[0], "migrate me please", save)
    assert not await new.verify_and_update(saved[0], "wrong password!", save)
    assert len(saved) == 1


async def test_rehash_ignores_newer_min_length() -> None:
    """A short password accepted under an old policy still logs in (and rehashes) after
    min_length grows."""
    old = PasswordService(TEST_ONLY_CHEAP, min_length=4, allow_cheap=True)
    new = PasswordService(CHEAP_B, min_length=12, allow_cheap=True)
    hashed = await old.hash("short1")
    saved: list[str] = []

    async def save(h: str) -> None:
        saved.append(h)

    assert await new.verify_and_update(hashed, "short1", save)
    assert saved
    assert await new.verify(saved[0], "short1")


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("a" * 4096, True),  # exactly 4 KiB of ASCII
        ("a" * 4097, False),  # one byte over
        ("é" * 2048, True),  # 2048 chars, 4096 bytes
        ("é" * 2048 + "a", False),  # 2049 chars but 4097 bytes: counted in bytes
        ("😀" * 1024, True),  # 4-byte chars: exactly 4096 bytes
        ("😀" * 1024 + "a", False),
    ],
)
async def test_4kib_boundary_in_utf8_bytes(
    svc: PasswordService, password: str, accepted: bool
) -> None:
    """Passwords up to 4096 UTF-8 bytes hash and verify; longer ones are rejected, not cut."""
    if accepted:
        assert await svc.verify(await svc.hash(password), password)
    else:
        with pytest.raises(BadRequest, match="4096 bytes"):
            await svc.hash(password)
        assert await svc.verify(await svc.hash(password[:-1]), password) is False


async def test_no_truncation(svc: PasswordService) -> None:
    """Two 4000-char passwords differing only in the last char do not verify each other."""
    a = "x" * 3999 + "a"
    b = "x" * 3999 + "b"
    assert not await svc.verify(await svc.hash(a), b)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 8"),
        ("", "at least 8"),
        (12345678, "must be a string"),
        (None, "must be a string"),
        (b"bytes-password", "must be a string"),
        ("bad\ud800surrogate", "valid Unicode"),  # lone surrogate from JSON "\ud800"
    ],
)
async def test_validate_rejects_with_400(
    svc: PasswordService, password: object, message: str
) -> None:
    """Unacceptable new passwords raise BadRequest (400) with a clear message."""
    with pytest.raises(BadRequest, match=message) as info:
        svc.validate(password)
    assert info.value.status_code == 400


async def test_verify_with_unencodable_password_is_false(svc: PasswordService) -> None:
    """A password with a lone surrogate makes verify False rather than a 500."""
    hashed = await svc.hash("valid password")
    assert await svc.verify(hashed, "bad\ud800") is False
    await svc.dummy_verify("bad\ud800")


async def test_dummy_verify_uses_same_parameters() -> None:
    """The dummy hash has the service's exact parameters and is made once per instance."""
    svc = PasswordService(CHEAP_B, allow_cheap=True)
    await svc.dummy_verify("unknown user's guess")
    first = svc._dummy
    assert first is not None
    real = await svc.hash("a real password")
    dummy_params = extract_parameters(first)
    assert dummy_params == extract_parameters(real)
    assert dummy_params.time_cost == CHEAP_B.time_cost
    await svc.dummy_verify("another guess")
    assert svc._dummy is first
    other = PasswordService(CHEAP_B, allow_cheap=True)
    await other.warm_up()
    assert other._dummy is not None
    assert other._dummy != first


async def test_hashing_runs_off_the_event_loop() -> None:
    """While a hash runs, other tasks on the loop keep running."""
    svc = PasswordService(MODERATE, allow_cheap=True)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        for op in (svc.hash("off the loop please"), svc.dummy_verify("guess")):
            before = ticks
            await op
            assert ticks - before > 0
    finally:
        task.cancel()


async def test_injected_executor_is_used() -> None:
    """An injected executor runs the hashing work instead of the loop's default pool."""
    seen: list[str] = []

    class RecordingPool(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(getattr(fn, "__name__", repr(fn)))
            return super().submit(fn, *args, **kwargs)

    with RecordingPool(max_workers=1) as pool:
        svc = PasswordService(TEST_ONLY_CHEAP, executor=pool, allow_cheap=True)
        hashed = await svc.hash("through the pool")
        assert await svc.verify(hashed, "through the pool")
    assert len(seen) == 2


async def test_breached_checker_sync_and_async() -> None:
    """The built-in common list and async checkers reject flagged passwords with a 400."""
    svc = PasswordService(TEST_ONLY_CHEAP, is_breached=common_passwords, allow_cheap=True)
    assert "password123" in COMMON_PASSWORDS
    with pytest.raises(BadRequest, match="too common"):
        await svc.check_breached("PassWord123")
    await svc.check_breached("a rather unusual passphrase 7")

    async def remote(pw: str) -> bool:
        await asyncio.sleep(0)
        return pw == "leaked-in-2019"

    svc2 = PasswordService(TEST_ONLY_CHEAP, is_breached=remote, allow_cheap=True)
    with pytest.raises(BadRequest, match="too common"):
        await svc2.check_breached("leaked-in-2019")
    await svc2.check_breached("not leaked")
    await PasswordService(TEST_ONLY_CHEAP, allow_cheap=True).check_breached("password")


def test_cheap_profile_warns(caplog: pytest.LogCaptureFixture) -> None:
    """Building a service with a test-only profile warns unless allow_cheap is set."""
    with caplog.at_level(logging.WARNING, logger="nexios_auth_di.passwords"):
        PasswordService(TEST_ONLY_CHEAP)
    assert "test_only_cheap" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nexios_auth_di.passwords"):
        PasswordService(TEST_ONLY_CHEAP, allow_cheap=True)
        PasswordService(OWASP_MINIMUM)
    assert caplog.text == ""


def test_profiles_and_names() -> None:
    """Named profiles resolve for config, match the RFC/OWASP numbers, and unknown names fail."""
    assert DEFAULT is RFC_9106_LOW_MEMORY
    assert (DEFAULT.time_cost, DEFAULT.memory_cost, DEFAULT.parallelism) == (3, 65536, 4)
    assert (OWASP_MINIMUM.time_cost, OWASP_MINIMUM.memory_cost) == (2, 19456)
    assert profile_by_name("OWASP_minimum ") is OWASP_MINIMUM
    assert profile_by_name("test_only_cheap") is TEST_ONLY_CHEAP
    assert profile_by_name("rfc9106_low_memory").type.name == "ID"
    with pytest.raises(ConfigurationError, match="unknown password profile"):
        profile_by_name("md5")
    with pytest.raises(ConfigurationError):
        Argon2Profile("broken", time_cost=0, memory_cost=64, parallelism=1)


async def test_concurrency_is_capped() -> None:
    """No more than max_concurrency hashes run at once, so a login flood queues instead of
    oversubscribing CPUs and memory."""
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    class CountingPool(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            def counted():  # type: ignore[no-untyped-def]
                nonlocal in_flight, peak
                with lock:
                    in_flight += 1
                    peak = max(peak, in_flight)
                try:
                    return fn(*args, **kwargs)
                finally:
                    with lock:
                        in_flight -= 1

            return super().submit(counted)

    with CountingPool(max_workers=8) as pool:
        svc = PasswordService(MODERATE, executor=pool, max_concurrency=2, allow_cheap=True)
        hashed = await svc.hash("capped concurrency")
        results = await asyncio.gather(
            *(svc.verify(hashed, "capped concurrency") for _ in range(8))
        )
    assert all(results)
    assert 1 <= peak <= 2
