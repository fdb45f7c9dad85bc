"""Every Lua script the Redis stores run on a cluster keeps its keys in one hash slot.

A cluster refuses (or worse, on one node, half-runs) a script whose keys span slots, so
this is checked without a server: each row names a script and the keys its store passes,
built by the store's own helpers, for awkward sample ids; redis-py's ``key_slot`` must
give one slot. A second table reads every script's source: no key is built in Lua.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from redis.crc import key_slot

from nexios_auth_di.stores import redis_records
from nexios_auth_di.stores.factory import StoreSet, build_stores
from nexios_auth_di.stores.redis_cluster_scripts import CLUSTER_SCRIPTS, SHARED_SCRIPTS
from nexios_auth_di.stores.redis_scripts import SCRIPTS
from nexios_auth_di.throttle import redis as throttle_redis

#: ids that stress hash tags: empty, braces of their own, separators, non-ASCII, long
SAMPLE_IDS = ["42", "", "user:42", "{x}", "a}b{c", "}{", "ünï", "a" * 300]

KeysFor = Callable[[StoreSet, str], list[str]]


def _db(stores: StoreSet):  # type: ignore[no-untyped-def]
    return stores.database


#: script name -> the keys its store passes for one sample id (used as user, family, jti...)
SCRIPT_KEYS: dict[str, KeysFor] = {
    "spend": lambda s, i: s.families.spend_keys(i, i + "-jti"),  # type: ignore[attr-defined]
    "mark": lambda s, i: [_db(s).key("rev", "jti", i)],
    "not_before": lambda s, i: [_db(s).key("rev", "nbf", i)],
    "generation": lambda s, i: [_db(s).key("rev", "nbf", i)],
    "key_touch": lambda s, i: s.api_keys.record_keys(i),  # type: ignore[attr-defined]
    "c_login_admit": lambda s, i: s.families.login_keys(i),  # type: ignore[attr-defined]
    "c_session_enlist": lambda s, i: s.sessions.subject_keys(i),  # type: ignore[attr-defined]
    "c_session_cut": lambda s, i: s.sessions.subject_keys(i),  # type: ignore[attr-defined]
    "c_session_take": lambda s, i: s.sessions.session_keys(i),  # type: ignore[attr-defined]
    "c_session_rewrite": lambda s, i: s.sessions.session_keys(i),  # type: ignore[attr-defined]
    "c_session_drop": lambda s, i: s.sessions.session_keys(i),  # type: ignore[attr-defined]
    "c_swap": lambda s, i: s.sessions.session_keys(i),  # type: ignore[attr-defined]
    "c_key_admit": lambda s, i: s.api_keys.owner_keys(i),  # type: ignore[attr-defined]
    "c_key_sweep": lambda s, i: s.api_keys.owner_keys(i),  # type: ignore[attr-defined]
    "c_key_entry": lambda s, i: s.api_keys.owner_keys(i)[:1],  # type: ignore[attr-defined]
    "c_key_entries_retired": lambda s, i: s.api_keys.owner_keys(i)[:1],  # type: ignore[attr-defined]
    "c_key_count_live": lambda s, i: s.api_keys.owner_keys(i)[:1],  # type: ignore[attr-defined]
    "c_key_write": lambda s, i: s.api_keys.record_keys(i),  # type: ignore[attr-defined]
    "c_key_retire": lambda s, i: s.api_keys.record_keys(i),  # type: ignore[attr-defined]
    "credentials.update": lambda s, i: [s.credentials._key("totp", i)],  # type: ignore[attr-defined]
    "credentials.swap": lambda s, i: [s.credentials._key("totp", i)],  # type: ignore[attr-defined]
    "credentials.delete": lambda s, i: [s.credentials._key("totp", i)],  # type: ignore[attr-defined]
    "throttle.reserve": lambda s, i: [_db(s).key("thr", i)],
    "throttle.release": lambda s, i: [_db(s).key("thr", i)],
}

#: every script source a cluster may run, by the names above
SOURCES: dict[str, str] = {
    **{name: SCRIPTS[name] for name in SHARED_SCRIPTS},
    **CLUSTER_SCRIPTS,
    "credentials.update": redis_records._UPDATE,
    "credentials.swap": redis_records._SWAP,
    "credentials.delete": redis_records._DELETE,
    "throttle.reserve": throttle_redis._RESERVE,
    "throttle.release": throttle_redis._RELEASE,
}


@pytest.fixture(scope="module")
def cluster_stores() -> StoreSet:
    """Cluster-layout stores; building connects to nothing."""
    return build_stores({"stores": "redis", "redis_url": "redis+cluster://127.0.0.1:1/0"})


def test_the_table_covers_every_cluster_script() -> None:
    """A script added to the cluster layout without a row here fails this test."""
    assert set(SCRIPT_KEYS) == set(SOURCES)


@pytest.mark.parametrize("sample", SAMPLE_IDS, ids=[f"id{n}" for n in range(len(SAMPLE_IDS))])
@pytest.mark.parametrize("name", sorted(SCRIPT_KEYS))
def test_script_keys_share_one_hash_slot(name: str, sample: str, cluster_stores: StoreSet) -> None:
    """All keys one call of the script passes hash to a single cluster slot."""
    keys = SCRIPT_KEYS[name](cluster_stores, sample)
    assert keys, name
    assert len({key_slot(k.encode()) for k in keys}) == 1, keys


#: a redis.call whose first argument is not KEYS[...] (PUBLISH names a channel, not a key)
_CALL = re.compile(r"redis\.call\('(\w+)',\s*([^,)]+)")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_script_touches_only_declared_keys(name: str) -> None:
    """No cluster script builds a key inside Lua: every command's key is a KEYS entry."""
    for command, first in _CALL.findall(SOURCES[name]):
        if command == "PUBLISH":
            continue
        assert first.strip().startswith("KEYS["), f"{name}: {command} {first}"


@pytest.mark.parametrize("name", ["login_start", "login_end_all", "session_save", "key_add"])
def test_single_node_scripts_that_span_slots_are_not_registered_on_a_cluster(
    name: str, cluster_stores: StoreSet
) -> None:
    """The single-node scripts that build keys from a prefix cannot run on a cluster."""
    db = _db(cluster_stores)
    db.client  # noqa: B018 - builds the client and registers the scripts, connecting nothing
    assert name not in db._scripts
    assert name in SCRIPTS
