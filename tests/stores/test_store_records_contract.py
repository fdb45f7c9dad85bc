"""One contract for the one-time and credential stores, on every engine."""

from __future__ import annotations

import asyncio

from store_support import Harness

from nexios_auth_di.stores.protocols import CredentialRecord, CredentialStore, OneTimeStore


async def test_engine_satisfies_record_protocols(harness: Harness) -> None:
    """Every engine's one-time and credential stores fit the Protocols the services use."""
    assert isinstance(harness.stores.once, OneTimeStore)
    assert isinstance(harness.stores.credentials, CredentialStore)


# --- one-time ----------------------------------------------------------------------------


async def test_claim_succeeds_once_then_again_after_expiry(harness: Harness) -> None:
    """A claimed key is refused until its ttl passes (a replayed code or token is refused)."""
    once = harness.stores.once
    assert await once.claim("reset:abc", 60)
    assert not await once.claim("reset:abc", 60)
    assert await once.claim("reset:other", 60)
    await harness.advance(61)
    assert await once.claim("reset:abc", 60)


async def test_concurrent_claims_have_exactly_one_winner(harness: Harness) -> None:
    """200 parallel claims of one key: exactly one wins (check-then-act is atomic)."""
    once = harness.stores.once
    results = await asyncio.gather(*(once.claim("totp:u1:1234", 90) for _ in range(200)))
    assert results.count(True) == 1


async def test_take_returns_the_value_once(harness: Harness) -> None:
    """A stored value is read and deleted in one step, so a challenge is used once."""
    once = harness.stores.once
    await once.put("challenge:1", {"user": "u1", "n": [1, 2]}, 60)
    results = await asyncio.gather(*(once.take("challenge:1") for _ in range(50)))
    assert [r for r in results if r is not None] == [{"user": "u1", "n": [1, 2]}]
    assert await once.take("challenge:1") is None


async def test_put_expires_and_replaces(harness: Harness) -> None:
    """A value is gone after its ttl, and a second put replaces the first."""
    once = harness.stores.once
    await once.put("state:1", {"v": 1}, 60)
    await once.put("state:1", {"v": 2}, 60)
    await harness.advance(61)
    assert await once.take("state:1") is None
    await once.put("state:2", {"v": 3}, 60)
    assert await once.take("state:2") == {"v": 3}


# --- credentials -------------------------------------------------------------------------


def _record(kind: str, cid: str, user: str, at: float, **data: object) -> CredentialRecord:
    return CredentialRecord(kind, cid, user, dict(data), created_at=at)


async def test_credentials_add_get_list_and_conflict(harness: Harness) -> None:
    """Records are found by id and by user; a second record with the same id is refused."""
    creds, now = harness.stores.credentials, harness.clock()
    assert await creds.add(_record("passkey", "cred-1", "u1", now, sign_count=0))
    assert await creds.add(_record("passkey", "cred-2", "u1", now + 1, sign_count=0))
    assert await creds.add(_record("totp", "u1", "u1", now + 2, secret="s"))
    assert not await creds.add(_record("passkey", "cred-1", "u2", now))
    got = await creds.get("passkey", "cred-1")
    assert got is not None
    assert (got.user_id, got.data, got.version) == ("u1", {"sign_count": 0}, 0)
    assert await creds.get("passkey", "nope") is None
    listed = await creds.list_for_user("u1")
    assert [(r.kind, r.credential_id) for r in listed] == [
        ("passkey", "cred-1"),
        ("passkey", "cred-2"),
        ("totp", "u1"),
    ]
    assert [r.credential_id for r in await creds.list_for_user("u1", "totp")] == ["u1"]
    assert await creds.list_for_user("u2") == []


async def test_credential_update_is_compare_and_set(harness: Harness) -> None:
    """Of two updates from the same version only one lands (a sign counter never regresses)."""
    creds, now = harness.stores.credentials, harness.clock()
    await creds.add(_record("passkey", "c", "u1", now, sign_count=1))
    first = await creds.get("passkey", "c")
    assert first is not None
    results = []
    for count in (5, 3):
        attempt = CredentialRecord(**{**_fields(first), "data": {"sign_count": count}})
        results.append(await creds.update(attempt))
    assert results == [True, False]
    stored = await creds.get("passkey", "c")
    assert stored is not None
    assert (stored.data, stored.version) == ({"sign_count": 5}, 1)
    stored.last_used = now + 5
    assert await creds.update(stored)
    again = await creds.get("passkey", "c")
    assert again is not None
    assert (again.last_used, again.version) == (now + 5, 2)


def _fields(record: CredentialRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in CredentialRecord.__slots__}


async def test_concurrent_updates_from_one_version_have_one_winner(harness: Harness) -> None:
    """50 parallel updates from the same version: exactly one is stored."""
    creds, now = harness.stores.credentials, harness.clock()
    await creds.add(_record("recovery", "set", "u1", now, left=10))
    base = await creds.get("recovery", "set")
    assert base is not None
    tries = [CredentialRecord(**{**_fields(base), "data": {"left": i}}) for i in range(50)]
    results = await asyncio.gather(*(creds.update(t) for t in tries))
    assert results.count(True) == 1


async def test_delete_is_owned_and_spends_once(harness: Harness) -> None:
    """Deleting with another user's id fails; of parallel deletes exactly one succeeds."""
    creds, now = harness.stores.credentials, harness.clock()
    await creds.add(_record("recovery_code", "h1", "u1", now))
    assert not await creds.delete("recovery_code", "h1", user_id="u2")
    results = await asyncio.gather(
        *(creds.delete("recovery_code", "h1", user_id="u1") for _ in range(50))
    )
    assert results.count(True) == 1
    assert await creds.get("recovery_code", "h1") is None
    assert await creds.list_for_user("u1") == []


async def test_delete_for_user_by_kind(harness: Harness) -> None:
    """Ending a user's devices leaves their passkeys; a bare call ends everything."""
    creds, now = harness.stores.credentials, harness.clock()
    for i in range(3):
        await creds.add(_record("device", f"d{i}", "u1", now + i))
    await creds.add(_record("passkey", "p", "u1", now))
    await creds.add(_record("device", "other", "u2", now))
    assert await creds.delete_for_user("u1", "device") == 3
    assert [r.kind for r in await creds.list_for_user("u1")] == ["passkey"]
    assert await creds.delete_for_user("u1") == 1
    assert [r.credential_id for r in await creds.list_for_user("u2")] == ["other"]


async def test_expired_credentials_are_never_returned(harness: Harness) -> None:
    """A record past ``expires_at`` is invisible and its id can be used again."""
    creds, now = harness.stores.credentials, harness.clock()
    record = _record("device", "d", "u1", now)
    record.expires_at = now + 60
    assert await creds.add(record)
    await creds.touch("device", "d", now + 10)
    got = await creds.get("device", "d")
    assert got is not None
    assert got.last_used == now + 10
    await harness.advance(61)
    assert await creds.get("device", "d") is None
    assert await creds.list_for_user("u1") == []
    assert await creds.add(_record("device", "d", "u2", now + 61))


async def test_claims_and_values_do_not_collide(harness: Harness) -> None:
    """Taking a value never frees a claim of the same key, and a claim hides no value."""
    once = harness.stores.once
    assert await once.claim("k", 60)
    assert await once.take("k") is None
    assert not await once.claim("k", 60)
    await once.put("k", {"v": 1}, 60)
    assert not await once.claim("k", 60)
    assert await once.take("k") == {"v": 1}
