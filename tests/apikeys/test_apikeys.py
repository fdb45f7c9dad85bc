"""APIKeyService over the real memory store: format, hashing, scopes, expiry, revocation."""

from __future__ import annotations

import dataclasses
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import FakeClock

from nexios_auth_di.apikeys.service import (
    BASE62,
    TOUCH_INTERVAL,
    APIKeyService,
    checksum,
    public_view,
    scopes_as_permissions,
)
from nexios_auth_di.exceptions import ConfigurationError, StoreUnavailable
from nexios_auth_di.stores.memory import MemoryAPIKeyStore
from nexios_auth_di.stores.protocols import APIKeyRecord

KEY_RE = re.compile(r"^nxa_[0-9A-Za-z]{16}_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$")


class CountingStore(MemoryAPIKeyStore):
    """The real memory store, counting the writes that ``touch`` makes."""

    def __init__(self) -> None:
        super().__init__()
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
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def service(store: CountingStore, clock: FakeClock) -> APIKeyService:
    return APIKeyService(store, clock=clock)


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
    svc = APIKeyService(store, clock=clock, default_ttl=10)
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
    svc = APIKeyService(DownStore(), clock=clock)
    key, _ = await svc.create("alice")
    with pytest.raises(StoreUnavailable):
        await svc.authenticate(key)


@pytest.mark.parametrize(
    "kwargs",
    [{"prefix": "NX"}, {"prefix": "a_b"}, {"prefix": ""}, {"prefix": "x.*"}, {"default_ttl": 0}],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any]) -> None:
    """Prefixes that would break parsing and non-positive ttls fail at start-up."""
    with pytest.raises(ConfigurationError):
        APIKeyService(MemoryAPIKeyStore(), **kwargs)


async def test_bad_create_arguments_are_refused(service: APIKeyService) -> None:
    """Empty owners, padded scopes and negative ttls are developer errors."""
    for kwargs in ({"owner": ""}, {"owner": "a", "scopes": [" x"]}, {"owner": "a", "ttl": -1}):
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
    svc = APIKeyService(MemoryAPIKeyStore())
    assert svc.parse(raw) is None
    assert await svc.authenticate(raw) is None
