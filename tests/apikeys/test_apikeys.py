"""APIKeyService over the real memory store: format, hashing, scopes, expiry, revocation."""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import FakeClock

from nexios_auth_di.apikeys.service import (
    BASE62,
    TOUCH_INTERVAL,
    APIKeyLimitReached,
    APIKeyService,
    checksum,
    public_view,
    scopes_as_permissions,
)
from nexios_auth_di.exceptions import (
    ConfigurationError,
    Conflict,
    PermissionDenied,
    StoreUnavailable,
)
from nexios_auth_di.stores.memory import MemoryAPIKeyStore
from nexios_auth_di.stores.protocols import APIKeyRecord, APIKeyStore

DAY = 86400.0

KEY_RE = re.compile(r"^nxa_[0-9A-Za-z]{16}_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$")


class CountingStore(MemoryAPIKeyStore):
    """The real memory store, counting the writes that ``touch`` makes."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.touches = 0

    async def touch(self, key_id: str, when: float) -> None:
        self.touches += 1
        await super().touch(key_id, when)


class DownStore(MemoryAPIKeyStore):
    """A store whose backend is unreachable."""

    async def get(self, key_id: str) -> APIKeyRecord | None:
        raise StoreUnavailable("down")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> CountingStore:
    return CountingStore(clock)  # the store judges expiry by the same clock


def make_service(store: APIKeyStore, clock: Callable[[], float] = time.time, **over: Any) -> Any:
    """A service with every setting explicit (the service carries no defaults)."""
    settings: dict[str, Any] = {
        "prefix": "nxa",
        "default_ttl": None,
        "max_ttl": 10 * 365 * DAY,
        "max_per_user": 100,
    }
    return APIKeyService(store, clock=clock, **(settings | over))


@pytest.fixture
def service(store: CountingStore, clock: FakeClock) -> APIKeyService:
    return make_service(store, clock)  # type: ignore[no-any-return]


async def test_key_format_is_prefixed_and_checksummed(service: APIKeyService) -> None:
    """Keys keep the scanner-friendly shape prefix_id_secret+crc32."""
    key, record = await service.create("alice")
    assert KEY_RE.match(key)
    body, check = key[:-6], key[-6:]
    assert check == checksum(body)
    assert key.split("_")[1] == record.key_id
    assert service.parse(key) == (record.key_id, key.split("_")[2][:-6])


async def test_checksum_detects_every_single_char_change(service: APIKeyService) -> None:
    """Any one-character typo in id, secret or checksum is rejected offline."""
    key, _ = await service.create("alice")
    for i in range(4, len(key)):
        if key[i] == "_":
            continue
        other = BASE62[(BASE62.index(key[i]) + 1) % 62]
        assert service.parse(key[:i] + other + key[i + 1 :]) is None, i


async def test_only_the_hash_is_stored(service: APIKeyService, store: CountingStore) -> None:
    """The raw secret appears in no field of the stored record."""
    key, record = await service.create("alice", scopes=["read"], name="ci")
    secret = key.split("_")[2][:-6]
    stored = await store.get(record.key_id)
    assert stored is not None
    text = json.dumps(dataclasses.asdict(stored))
    assert secret not in text
    assert key not in text
    assert len(stored.secret_hash) == 64


async def test_hash_compared_in_constant_time(
    service: APIKeyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored hash is checked with hmac.compare_digest, not ==."""
    key, record = await service.create("alice")
    seen: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert await service.authenticate(key) is not None
    assert any(record.secret_hash in pair for pair in seen)


async def test_scopes_become_permissions(service: APIKeyService) -> None:
    """A key grants exactly its scopes."""
    key, _ = await service.create("alice", scopes=["read", "write"])
    record = await service.authenticate(key)
    assert record is not None
    assert record.scopes == ("read", "write")
    assert scopes_as_permissions(record) == frozenset({"read", "write"})


async def test_expiry_uses_the_clock(service: APIKeyService, clock: FakeClock) -> None:
    """A key works until its ttl elapses and not a second after."""
    key, _ = await service.create("alice", ttl=100)
    clock.now += 99
    assert await service.authenticate(key) is not None
    clock.now += 1
    assert await service.authenticate(key) is None


async def test_default_ttl_applies(store: CountingStore, clock: FakeClock) -> None:
    """default_ttl is used when create() is given no ttl."""
    svc = make_service(store, clock, default_ttl=10)
    key, record = await svc.create("alice")
    assert record.expires_at == clock.now + 10
    clock.now += 10
    assert await svc.authenticate(key) is None


async def test_revocation_and_owner_check(service: APIKeyService) -> None:
    """Only the owner (or an unscoped admin call) can revoke; revoked keys fail."""
    key, record = await service.create("alice")
    assert await service.revoke(record.key_id, owner="mallory") is False
    assert await service.authenticate(key) is not None
    assert await service.revoke(record.key_id, owner="alice") is True
    assert await service.authenticate(key) is None
    assert await service.revoke(record.key_id) is False
    assert await service.revoke("nosuchkey0000000") is False


async def test_last_used_touch_is_throttled(
    service: APIKeyService, store: CountingStore, clock: FakeClock
) -> None:
    """last_used is written at most once per interval, not once per request."""
    key, record = await service.create("alice")
    for _ in range(5):
        assert await service.authenticate(key) is not None
    assert store.touches == 1
    clock.now += TOUCH_INTERVAL - 1
    await service.authenticate(key)
    assert store.touches == 1
    clock.now += 1
    found = await service.authenticate(key)
    assert store.touches == 2
    assert found is not None
    assert found.last_used == clock.now
    stored = await store.get(record.key_id)
    assert stored is not None
    assert stored.last_used == clock.now


async def test_list_for_owner_has_no_secrets(service: APIKeyService, clock: FakeClock) -> None:
    """Listing shows only the owner's keys, newest first, and no hash or secret."""
    k1, _ = await service.create("alice", name="one")
    clock.now += 1
    k2, _ = await service.create("alice", name="two")
    await service.create("bob")
    records = await service.list("alice")
    assert [r.name for r in records] == ["two", "one"]
    views = [public_view(r) for r in records]
    text = json.dumps(views)
    assert "secret_hash" not in text
    for key in (k1, k2):
        assert key.split("_")[2][:-6] not in text
    assert records[0].secret_hash not in text


async def test_store_errors_fail_closed(clock: FakeClock) -> None:
    """An unreachable store raises StoreUnavailable (503) instead of letting keys in."""
    svc = make_service(DownStore(), clock)
    key, _ = await svc.create("alice")
    with pytest.raises(StoreUnavailable):
        await svc.authenticate(key)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prefix": "NX"},
        {"prefix": "a_b"},
        {"prefix": ""},
        {"prefix": "x.*"},
        {"default_ttl": 0},
        {"max_ttl": 0},
        {"default_ttl": 100, "max_ttl": 10},
        {"max_per_user": 0},
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any]) -> None:
    """Prefixes that would break parsing, non-positive ttls or caps and a default ttl
    beyond the maximum fail at start-up."""
    with pytest.raises(ConfigurationError):
        make_service(MemoryAPIKeyStore(), **kwargs)


async def test_bad_create_arguments_are_refused(service: APIKeyService) -> None:
    """Empty owners, padded scopes and negative ttls are developer errors."""
    bad: list[dict[str, Any]] = [
        {"owner": ""},
        {"owner": "a", "scopes": [" x"]},
        {"owner": "a", "ttl": -1},
        {"owner": "a", "ttl": 10 * 365 * DAY + 1},  # beyond max_ttl
    ]
    for kwargs in bad:
        with pytest.raises(ConfigurationError):
            await service.create(**kwargs)


# -- attacks: every row must authenticate to None and never raise ----------------------

Attack = Callable[[APIKeyService, FakeClock, str, APIKeyRecord], Awaitable[str]]


async def _wrong_secret(svc: APIKeyService, c: FakeClock, key: str, rec: APIKeyRecord) -> str:
    body = f"nxa_{rec.key_id}_{'A' * 32}"
    return body + checksum(body)


async def _bad_checksum(svc: APIKeyService, c: FakeClock, key: str, rec: APIKeyRecord) -> str:
    return key[:-6] + ("000000" if key[-6:] != "000000" else "000001")


async def _revoked(svc: APIKeyService, c: FakeClock, key: str, rec: APIKeyRecord) -> str:
    await svc.revoke(rec.key_id)
    return key


async def _expired(svc: APIKeyService, c: FakeClock, key: str, rec: APIKeyRecord) -> str:
    c.now += 10_000
    return key


async def _other_prefix(svc: APIKeyService, c: FakeClock, key: str, rec: APIKeyRecord) -> str:
    body = "ghp" + key[3:-6]
    return body + checksum(body)


async def _unknown_id(svc: APIKeyService, c: FakeClock, key: str, rec: APIKeyRecord) -> str:
    body = f"nxa_{'Z' * 16}_{key.split('_')[2][:-6]}"
    return body + checksum(body)


def _fixed(value: str) -> Attack:
    async def make(svc: APIKeyService, c: FakeClock, key: str, rec: APIKeyRecord) -> str:
        return value

    return make


def _mutate(fn: Callable[[str], str]) -> Attack:
    async def make(svc: APIKeyService, c: FakeClock, key: str, rec: APIKeyRecord) -> str:
        return fn(key)

    return make


ATTACKS: list[tuple[str, str, Attack]] = [
    ("wrong secret", "CWE-287 (improper authentication)", _wrong_secret),
    ("good id, bad checksum", "GitHub secret-scanning token format (CRC32)", _bad_checksum),
    ("revoked key", "OWASP ASVS 5.0 V7.4.1 (terminated credentials refused)", _revoked),
    ("expired key", "CWE-613 (insufficient expiration)", _expired),
    ("100 KB key", "CWE-400 (unbounded input size)", _fixed("nxa_" + "A" * 100_000)),
    ("other prefix, valid crc", "GitHub secret-scanning format: prefix pins issuer", _other_prefix),
    ("unknown key id", "CWE-287 (improper authentication)", _unknown_id),
    ("empty", "CWE-20 (improper input validation)", _fixed("")),
    ("whitespace", "CWE-20 (improper input validation)", _mutate(lambda k: f" {k} ")),
    ("NUL byte", "CWE-158 (null byte injection)", _mutate(lambda k: k[:10] + "\x00" + k[11:])),
    ("unicode lookalike", "CWE-176 (unicode encoding)", _mutate(lambda k: k[:-1] + "\u0430")),
    ("missing segment", "CWE-20 (improper input validation)", _mutate(lambda k: k[4:])),
    ("extra underscores", "CWE-20 (improper input validation)", _mutate(lambda k: k + "_x")),
    ("only prefix", "CWE-20 (improper input validation)", _fixed("nxa_")),
    ("underscores only", "CWE-20 (improper input validation)", _fixed("___")),
]


@pytest.mark.parametrize(("name", "rule", "attack"), ATTACKS, ids=[a[0] for a in ATTACKS])
async def test_attacks_are_refused(
    name: str, rule: str, attack: Attack, service: APIKeyService, clock: FakeClock
) -> None:
    """Each attack row yields None from authenticate and never an exception."""
    key, record = await service.create("alice", ttl=3600)
    raw = await attack(service, clock, key, record)
    assert raw != key or name in {"revoked key", "expired key"}
    assert await service.authenticate(raw) is None, rule


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
async def test_arbitrary_text_never_raises(raw: str) -> None:
    """No string at all can make authenticate raise or succeed without a real key."""
    svc = make_service(MemoryAPIKeyStore())
    assert svc.parse(raw) is None
    assert await svc.authenticate(raw) is None


# -- lifetime, per-user cap and credential changes -----------------------------------------


async def test_keys_expire_by_default(store: CountingStore, clock: FakeClock) -> None:
    """With a default ttl (the shipped default is 90 days) an unspecified key expires."""
    svc = make_service(store, clock, default_ttl=90 * DAY, max_ttl=365 * DAY)
    key, record = await svc.create("alice")
    assert record.expires_at == clock.now + 90 * DAY
    _, longer = await svc.create("alice", ttl=365 * DAY)
    assert longer.expires_at == clock.now + 365 * DAY
    clock.now += 90 * DAY
    assert await svc.authenticate(key) is None


async def test_cap_on_live_keys_per_owner(store: CountingStore, clock: FakeClock) -> None:
    """Creation beyond max_per_user live keys is a 409 naming the limit; revoked and expired
    keys free their slot, and other owners are unaffected."""
    svc = make_service(store, clock, max_per_user=2)
    await svc.create("alice", ttl=60)
    await svc.create("alice")
    with pytest.raises(APIKeyLimitReached) as caught:
        await svc.create("alice")
    assert isinstance(caught.value, Conflict)
    assert caught.value.status_code == 409
    assert caught.value.body()["error"] == "api_key_limit"
    assert caught.value.reason == "api_key_limit"
    await svc.create("bob")
    clock.now += 60  # the first key expires: its slot is free again
    await svc.create("alice")
    assert len(await svc.list("alice")) == 2


async def test_burst_of_creations_never_exceeds_the_cap(store: CountingStore) -> None:
    """Sixty concurrent creations for one owner leave exactly max_per_user live keys."""
    svc = make_service(store, max_per_user=10)
    results = await asyncio.gather(
        *(svc.create("alice") for _ in range(60)), return_exceptions=True
    )
    made = [r for r in results if isinstance(r, tuple)]
    assert len(made) == 10
    assert all(isinstance(r, APIKeyLimitReached) for r in results if not isinstance(r, tuple))
    assert await store.count_live("alice") == 10


async def test_revoke_all_kills_every_key_of_the_owner(service: APIKeyService) -> None:
    """revoke_all revokes the owner's keys only."""
    mine = [(await service.create("alice"))[0] for _ in range(3)]
    other, _ = await service.create("bob")
    assert await service.revoke_all("alice") == 3
    for key in mine:
        assert await service.authenticate(key) is None
    assert await service.authenticate(other) is not None


async def test_creation_that_read_an_old_stamp_is_refused(service: APIKeyService) -> None:
    """A creation authorised before revoke_all (a request in flight) stores nothing."""
    stamp = await service.stamp("alice")
    await service.revoke_all("alice")
    with pytest.raises(PermissionDenied) as caught:
        await service.create("alice", stamp=stamp)
    assert caught.value.reason == "api_key_stale"
    assert await service.list("alice") == []
    await service.create("alice", stamp=await service.stamp("alice"))


async def test_list_shows_live_keys_only_bounded_by_the_cap(
    store: CountingStore, clock: FakeClock
) -> None:
    """The listing is bounded: live keys only (at most max_per_user), newest first."""
    svc = make_service(store, clock, max_per_user=3)
    made = []
    for _ in range(3):
        made.append((await svc.create("alice"))[1])
        clock.now += 1
    await svc.revoke(made[0].key_id)
    listed = await svc.list("alice")
    assert [r.key_id for r in listed] == [made[2].key_id, made[1].key_id]
