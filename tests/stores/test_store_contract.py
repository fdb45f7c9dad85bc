"""One contract, every engine: memory, SQLite (a real file), Redis (a real server) and
SQLAlchemy on aiosqlite (a real file) and on PostgreSQL via asyncpg (a real server)."""

from __future__ import annotations

import asyncio
import dataclasses

from store_support import Harness

from nexios_auth_di.stores.protocols import (
    API_KEY_RETENTION,
    APIKeyRecord,
    APIKeyStore,
    KeyAdd,
    RefreshFamilyStore,
    RevocationStore,
    SessionStore,
    SpendResult,
)

HOUR = 3600.0


async def test_engine_satisfies_protocols(harness: Harness) -> None:
    """Every engine's stores are usable wherever the services expect the Protocols."""
    stores = harness.stores
    assert isinstance(stores.revocations, RevocationStore)
    assert isinstance(stores.families, RefreshFamilyStore)
    assert isinstance(stores.sessions, SessionStore)
    assert isinstance(stores.api_keys, APIKeyStore)


# --- revocation ---------------------------------------------------------------------------


async def test_revoked_jti_is_refused_until_it_expires(harness: Harness) -> None:
    """A revoked jti is refused while its token lives and forgotten afterwards."""
    rev = harness.stores.revocations
    now = harness.clock()
    await rev.revoke_jti("jti-1", now + 60)
    assert await rev.is_refused("jti-1", "alice", now - 5)
    assert not await rev.is_refused("jti-2", "alice", now - 5)
    await harness.advance(61)
    assert not await rev.is_refused("jti-1", "alice", now - 5)


async def test_revoking_an_expired_jti_stores_nothing(harness: Harness) -> None:
    """Revoking a token that has already expired costs no storage and refuses nothing."""
    now = harness.clock()
    await harness.stores.revocations.revoke_jti("old", now - 1)
    assert not await harness.stores.revocations.is_refused("old", "bob", now - 100)
    if harness.engine == "redis":
        assert await harness.keys() == []


async def test_subject_not_before_refuses_older_tokens_only(harness: Harness) -> None:
    """'Log out everywhere' refuses tokens issued before the mark, not after, until the ttl."""
    rev = harness.stores.revocations
    now = harness.clock()
    await rev.revoke_subject("alice", now, ttl=HOUR)
    assert await rev.is_refused("any", "alice", now - 1)
    assert not await rev.is_refused("any", "alice", now)
    assert not await rev.is_refused("any", "alice", now + 1)
    assert not await rev.is_refused("any", "bob", now - 1)
    await harness.advance(HOUR + 1)
    assert not await rev.is_refused("any", "alice", now - 1)


async def test_subject_mark_keeps_latest_time_and_longest_ttl(harness: Harness) -> None:
    """A later, earlier-dated or shorter-lived mark never weakens an existing one."""
    rev = harness.stores.revocations
    now = harness.clock()
    await rev.revoke_subject("alice", now, ttl=HOUR)
    await rev.revoke_subject("alice", now - 100, ttl=10)
    assert await rev.is_refused("any", "alice", now - 50)
    await harness.advance(60)
    assert await rev.is_refused("any", "alice", now - 50)
    await rev.revoke_subject("alice", now + 30, ttl=10)
    assert await rev.is_refused("any", "alice", now + 20)
    await harness.advance(20)  # past the short ttl, within the first hour
    assert await rev.is_refused("any", "alice", now + 20)


# --- refresh families ----------------------------------------------------------------------


async def test_fifty_concurrent_spends_yield_exactly_one_ok(harness: Harness) -> None:
    """Racing replays of one refresh token: exactly one caller may rotate it."""
    fam = harness.stores.families
    exp = harness.clock() + HOUR
    results = await asyncio.gather(*(fam.spend("fam-1", "r-1", exp) for _ in range(50)))
    assert results.count(SpendResult.OK) == 1
    assert results.count(SpendResult.REUSED) == 49


async def test_second_spend_is_reuse(harness: Harness) -> None:
    """A spent refresh token coming back is reported as a replay."""
    fam = harness.stores.families
    exp = harness.clock() + HOUR
    assert await fam.spend("fam-1", "r-1", exp) is SpendResult.OK
    assert await fam.spend("fam-1", "r-1", exp) is SpendResult.REUSED
    assert await fam.spend("fam-1", "r-2", exp) is SpendResult.OK
    assert await fam.spend("fam-2", "r-1", exp) is SpendResult.OK


async def test_revoked_family_refuses_every_token(harness: Harness) -> None:
    """After reuse detection revokes a family, none of its tokens spend, others still do."""
    fam = harness.stores.families
    exp = harness.clock() + HOUR
    assert await fam.spend("fam-1", "r-1", exp) is SpendResult.OK
    await fam.revoke_family("fam-1", exp)
    assert await fam.spend("fam-1", "r-2", exp) is SpendResult.REVOKED
    assert await fam.spend("fam-1", "r-1", exp) is SpendResult.REVOKED
    assert await fam.spend("fam-9", "r-2", exp) is SpendResult.OK


async def test_family_revocation_expires_with_its_tokens(harness: Harness) -> None:
    """A revoked-family marker is kept until its tokens expire, then forgotten."""
    fam = harness.stores.families
    exp = harness.clock() + 60
    await fam.revoke_family("fam-1", exp)
    await harness.advance(30)
    assert await fam.spend("fam-1", "r-1", exp) is SpendResult.REVOKED
    await harness.advance(31)
    assert await fam.spend("fam-1", "r-2", harness.clock() + 60) is SpendResult.OK


async def test_spend_of_expired_token_still_counts_once(harness: Harness) -> None:
    """Even a token already past its exp cannot be spent twice in a row."""
    fam = harness.stores.families
    past = harness.clock() - 10
    results = await asyncio.gather(*(fam.spend("fam-1", "r-1", past) for _ in range(10)))
    assert results.count(SpendResult.OK) == 1


# --- logins: family marks, generations, per-subject records ------------------------------


async def test_revoked_family_is_refused_in_the_same_lookup(harness: Harness) -> None:
    """A revoked login (family) refuses its tokens through ``is_refused`` until it ends;
    other families and family-less tokens are unaffected."""
    rev = harness.stores.revocations
    now = harness.clock()
    await rev.revoke_family("fam-1", now + 60)
    assert await rev.is_refused("jti", "alice", now, "fam-1")
    assert not await rev.is_refused("jti", "alice", now, "fam-2")
    assert not await rev.is_refused("jti", "alice", now)
    await harness.advance(61)
    assert not await rev.is_refused("jti", "alice", now, "fam-1")


async def test_generation_advances_strictly_even_at_one_clock_reading(harness: Harness) -> None:
    """Two advances at the same clock reading give two generations, and a credential of
    the older one is refused (strict ``<``); the mark lives for its ttl."""
    rev = harness.stores.revocations
    now = harness.clock()
    assert await rev.current_generation("alice") == 0.0
    first = await rev.advance_generation("alice", now, HOUR)
    second = await rev.advance_generation("alice", now, HOUR)
    assert now <= first < second
    assert await rev.current_generation("alice") == second
    assert await rev.is_refused("jti", "alice", first)
    assert not await rev.is_refused("jti", "alice", second)
    assert await rev.current_generation("bob") == 0.0
    await harness.advance(HOUR + 1)
    assert await rev.current_generation("alice") == 0.0


async def test_generation_never_moves_back_under_a_subject_mark(harness: Harness) -> None:
    """A not-before mark and an advance share one value: an advance moves past a later
    mark, and an earlier-dated mark leaves the generation where it is."""
    rev = harness.stores.revocations
    now = harness.clock()
    await rev.revoke_subject("alice", now + 50, ttl=HOUR)
    generation = await rev.advance_generation("alice", now, HOUR)
    assert generation > now + 50
    await rev.revoke_subject("alice", now, ttl=HOUR)
    assert await rev.current_generation("alice") == generation


async def test_logins_beyond_the_limit_end_the_oldest(harness: Harness) -> None:
    """The per-subject bound: starting a login past ``limit`` ends the oldest ones, whose
    refresh tokens are then refused; the others and other subjects keep working."""
    fams = harness.stores.families
    now = harness.clock()
    for i in range(1, 4):
        assert await fams.start("alice", f"f{i}", now + 100 * i, 3) == []
    assert await fams.start("bob", "b1", now + 50, 3) == []
    assert await fams.start("alice", "f4", now + 400, 3) == ["f1"]
    assert await fams.spend("f1", "j", now + 60) is SpendResult.REVOKED
    assert await fams.spend("f2", "j", now + 60) is SpendResult.OK
    assert await fams.start("alice", "f5", now + 500, 2) == ["f2", "f3"]
    assert await fams.spend("b1", "j", now + 60) is SpendResult.OK


async def test_end_and_end_all_revoke_and_free_the_slots(harness: Harness) -> None:
    """Ending one login frees its slot; ending all revokes every recorded login once."""
    fams = harness.stores.families
    now = harness.clock()
    await fams.start("alice", "f1", now + 100, 2)
    await fams.start("alice", "f2", now + 200, 2)
    await fams.end("alice", "f1", now + 100)
    assert await fams.spend("f1", "j", now + 60) is SpendResult.REVOKED
    assert await fams.start("alice", "f3", now + 300, 2) == []
    assert sorted(await fams.end_all("alice")) == ["f2", "f3"]
    assert await fams.end_all("alice") == []
    for family in ("f2", "f3"):
        assert await fams.spend(family, "j", now + 60) is SpendResult.REVOKED


async def test_login_records_are_purged_when_they_end(harness: Harness) -> None:
    """A login's record lives only until its absolute end: nothing of it stays behind."""
    fams = harness.stores.families
    now = harness.clock()
    await fams.start("alice", "f1", now + 100, 5)
    await harness.advance(101)
    assert await fams.end_all("alice") == []
    assert await fams.start("alice", "f2", now + 200, 1) == []
    if harness.engine == "redis":
        await harness.advance(100)
        assert await harness.keys() == []


# --- sessions ------------------------------------------------------------------------------


async def test_session_create_read_rotate_delete(harness: Harness) -> None:
    """Sessions round-trip, rotate to a new id (old one gone) and delete on logout."""
    sessions = harness.stores.sessions
    data = {"user_id": "alice", "n": 1, "nested": {"roles": ["admin"]}}
    await sessions.save("sid-1", data, ttl=HOUR, subject="alice")
    assert await sessions.load("sid-1") == data
    assert await sessions.load("sid-unknown") is None
    await sessions.delete("sid-1")
    await sessions.save("sid-2", {**data, "n": 2}, ttl=HOUR, subject="alice")
    assert await sessions.load("sid-1") is None
    assert (await sessions.load("sid-2") or {})["n"] == 2
    await sessions.delete("sid-2")
    assert await sessions.load("sid-2") is None
    await sessions.delete("sid-2")  # deleting twice is harmless


async def test_session_load_returns_a_copy(harness: Harness) -> None:
    """Mutating a loaded session does not change what is stored until it is saved."""
    sessions = harness.stores.sessions
    await sessions.save("sid-1", {"roles": ["user"]}, ttl=HOUR)
    loaded = await sessions.load("sid-1")
    assert loaded is not None
    loaded["roles"].append("admin")
    assert await sessions.load("sid-1") == {"roles": ["user"]}


async def test_session_expires_on_the_server(harness: Harness) -> None:
    """A session past its ttl is gone whatever the cookie says."""
    sessions = harness.stores.sessions
    await sessions.save("sid-1", {"a": 1}, ttl=60, subject="alice")
    await harness.advance(59)
    assert await sessions.load("sid-1") == {"a": 1}
    await harness.advance(2)
    assert await sessions.load("sid-1") is None


async def test_delete_for_subject_keeps_current_session(harness: Harness) -> None:
    """'End my other sessions' removes only that subject's sessions, except the one kept."""
    sessions = harness.stores.sessions
    for sid in ("a1", "a2", "a3"):
        await sessions.save(sid, {"sid": sid}, ttl=HOUR, subject="alice")
    await sessions.save("b1", {"sid": "b1"}, ttl=HOUR, subject="bob")
    await sessions.save("anon", {"sid": "anon"}, ttl=HOUR)
    assert await sessions.delete_for_subject("alice", keep="a2") == 2
    assert await sessions.load("a1") is None
    assert await sessions.load("a3") is None
    assert await sessions.load("a2") == {"sid": "a2"}
    assert await sessions.load("b1") == {"sid": "b1"}
    assert await sessions.load("anon") == {"sid": "anon"}
    assert await sessions.delete_for_subject("alice") == 1
    assert await sessions.delete_for_subject("nobody") == 0


async def test_delete_for_subject_spares_a_reassigned_session(harness: Harness) -> None:
    """A session id re-saved for another subject is not deleted through the old subject."""
    sessions = harness.stores.sessions
    await sessions.save("sid-1", {"v": 1}, ttl=HOUR, subject="alice")
    await sessions.save("sid-1", {"v": 2}, ttl=HOUR, subject="bob")
    assert await sessions.delete_for_subject("alice") == 0
    assert await sessions.load("sid-1") == {"v": 2}


# --- API keys ------------------------------------------------------------------------------


def _record(key_id: str, owner: str = "alice", **kw: object) -> APIKeyRecord:
    fields: dict[str, object] = {
        "key_id": key_id,
        "prefix": "nxa",
        "owner": owner,
        "secret_hash": "ab" * 32,
        "scopes": ("read", "write"),
        "name": f"key {key_id}",
        "created_at": 1_700_000_000.0,
        "extra": {"ip": ["10.0.0.1"]},
    }
    fields.update(kw)
    return APIKeyRecord(**fields)  # type: ignore[arg-type]


async def test_api_key_put_get_list(harness: Harness) -> None:
    """API-key records round-trip with every field and list per owner."""
    keys = harness.stores.api_keys
    first = _record("k1", expires_at=harness.clock() + HOUR, last_used=1_700_000_100.5)
    await keys.put(first)
    await keys.put(_record("k2", created_at=1_700_000_001.0))
    await keys.put(_record("k3", owner="bob"))
    assert await keys.get("k1") == first
    assert await keys.get("missing") is None
    assert [r.key_id for r in await keys.list_for_owner("alice")] == ["k1", "k2"]
    assert [r.key_id for r in await keys.list_for_owner("bob")] == ["k3"]
    assert await keys.list_for_owner("nobody") == []


async def test_api_key_revoke_and_touch(harness: Harness) -> None:
    """Revoking reports whether it changed anything; touch records the last use."""
    keys = harness.stores.api_keys
    await keys.put(_record("k1"))
    assert await keys.revoke("k1") is True
    assert await keys.revoke("k1") is False
    assert await keys.revoke("missing") is False
    await keys.touch("k1", 1_800_000_000.25)
    await keys.touch("missing", 1_800_000_000.0)
    stored = await keys.get("k1")
    assert stored is not None
    assert stored.revoked
    assert stored.last_used == 1_800_000_000.25
    assert await keys.get("missing") is None


async def test_api_key_records_are_copies(harness: Harness) -> None:
    """Changing a returned record (even its extra dict) does not change the stored one."""
    keys = harness.stores.api_keys
    record = _record("k1")
    await keys.put(record)
    record.extra["ip"].append("6.6.6.6")
    got = await keys.get("k1")
    assert got is not None
    got.extra["ip"].append("7.7.7.7")
    got.revoked = True
    assert await keys.get("k1") == dataclasses.replace(_record("k1"))


async def test_api_key_owner_change_moves_listing(harness: Harness) -> None:
    """Re-putting a key under a new owner lists it only for the new owner."""
    keys = harness.stores.api_keys
    await keys.put(_record("k1", owner="alice"))
    await keys.put(_record("k1", owner="bob"))
    assert await keys.list_for_owner("alice") == []
    assert [r.owner for r in await keys.list_for_owner("bob")] == ["bob"]


# --- API keys: per-owner cap, revoke-all stamp, purge ------------------------------------


def _live(key_id: str, harness: Harness, owner: str = "alice", **kw: object) -> APIKeyRecord:
    return _record(key_id, owner, expires_at=harness.clock() + HOUR, **kw)


async def test_api_key_add_stops_at_max_live(harness: Harness) -> None:
    """``add`` refuses a key beyond ``max_live`` live keys; dead keys do not count."""
    keys = harness.stores.api_keys
    stamp = await keys.stamp("alice")
    assert await keys.add(_live("k1", harness), max_live=2, stamp=stamp) is KeyAdd.OK
    assert await keys.add(_live("k2", harness), max_live=2, stamp=stamp) is KeyAdd.OK
    assert await keys.add(_live("k3", harness), max_live=2, stamp=stamp) is KeyAdd.LIMIT
    assert await keys.get("k3") is None
    assert await keys.count_live("alice") == 2
    assert await keys.add(_live("b1", harness, "bob"), max_live=2, stamp="") is KeyAdd.OK
    await keys.revoke("k1")
    assert await keys.count_live("alice") == 1
    assert await keys.add(_live("k3", harness), max_live=2, stamp=stamp) is KeyAdd.OK
    await harness.advance(HOUR + 1)  # every key above has expired
    assert await keys.count_live("alice") == 0
    assert await keys.add(_record("k4"), max_live=1, stamp=stamp) is KeyAdd.OK
    assert await keys.count_live("alice") == 1, "a key without expiry is live until revoked"


async def test_fifty_concurrent_adds_never_exceed_max_live(harness: Harness) -> None:
    """The cap is checked and the record written in one atomic step."""
    keys = harness.stores.api_keys
    records = [_live(f"k{i}", harness) for i in range(50)]
    results = await asyncio.gather(*(keys.add(r, max_live=7, stamp="") for r in records))
    assert results.count(KeyAdd.OK) == 7
    assert results.count(KeyAdd.LIMIT) == 43
    assert await keys.count_live("alice") == 7
    assert len(await keys.list_for_owner("alice")) == 7


async def test_revoke_all_revokes_every_live_key_and_changes_the_stamp(harness: Harness) -> None:
    """``revoke_all`` revokes the owner's keys only, and an ``add`` that read the old stamp
    (a creation in flight) is refused as STALE."""
    keys = harness.stores.api_keys
    before = await keys.stamp("alice")
    await keys.add(_live("k1", harness), max_live=10, stamp=before)
    await keys.add(_record("k2"), max_live=10, stamp=before)  # never expires
    await keys.add(_live("b1", harness, "bob"), max_live=10, stamp=await keys.stamp("bob"))
    assert await keys.revoke_all("alice") == 2
    assert await keys.revoke_all("alice") == 0
    for key_id in ("k1", "k2"):
        stored = await keys.get(key_id)
        assert stored is not None
        assert stored.revoked
    assert await keys.count_live("alice") == 0
    assert await keys.count_live("bob") == 1
    after = await keys.stamp("alice")
    assert after != before
    assert await keys.add(_live("k3", harness), max_live=10, stamp=before) is KeyAdd.STALE
    assert await keys.get("k3") is None
    assert await keys.add(_live("k3", harness), max_live=10, stamp=after) is KeyAdd.OK


async def test_dead_api_keys_are_purged_after_retention(harness: Harness) -> None:
    """Revoked keys (even ones that never expire) and expired keys are forgotten after the
    retention period: no API-key record lives forever once it is dead."""
    keys = harness.stores.api_keys
    await keys.put(_record("forever"))
    await keys.put(_live("short", harness))
    await keys.revoke("forever")
    await harness.advance(API_KEY_RETENTION + HOUR + 1)
    await keys.put(_live("fresh", harness))  # a write gives lazy engines their purge chance
    await harness.stores.api_keys.count_live("alice")
    if harness.engine == "sqlite":
        await keys._db.purge()  # type: ignore[attr-defined]
    assert await keys.get("forever") is None
    assert await keys.get("short") is None
    assert [r.key_id for r in await keys.list_for_owner("alice")] == ["fresh"]
    if harness.engine == "redis":
        client = keys._db.client  # type: ignore[attr-defined]
        for key in await harness.keys():
            assert await client.pttl(key) > 0, f"{key} would live forever"


async def test_dead_api_keys_per_owner_are_bounded(harness: Harness) -> None:
    """Create-and-revoke cycles cannot pile up records within the retention period:
    ``add`` keeps at most ``max_live`` dead records of the owner (the newest)."""
    keys = harness.stores.api_keys
    for i in range(8):
        await keys.add(_live(f"k{i}", harness, created_at=float(i)), max_live=2, stamp="")
        await keys.revoke(f"k{i}")
    kept = [r.key_id for r in await keys.list_for_owner("alice")]
    assert kept == ["k5", "k6", "k7"]
    if harness.engine == "redis":
        assert len(await harness.keys()) == 4  # three records and the owner index
