"""Choosing Redis Cluster: by URL scheme or by ``redis_cluster``; either way the stores use
the single-slot layout, and what a cluster cannot do is a clear ConfigurationError."""

from __future__ import annotations

import pytest

from nexios_auth_di.config import Settings
from nexios_auth_di.exceptions import ConfigurationError, StoreUnavailable
from nexios_auth_di.stores.factory import build_stores
from nexios_auth_di.stores.redis import RedisRevocationStore, RedisSessionStore
from nexios_auth_di.stores.redis_cluster import (
    ClusterRefreshFamilyStore,
    ClusterRevocationStore,
    ClusterSessionStore,
    node_url,
    parse_primaries,
)
from nexios_auth_di.stores.redis_cluster_apikeys import ClusterAPIKeyStore
from nexios_auth_di.throttle.factory import limiter_for


@pytest.mark.parametrize(
    ("config", "cluster"),
    [
        ({"redis_url": "redis://h:7000/0"}, False),
        ({"redis_url": "redis+cluster://h:7000/0"}, True),
        ({"redis_url": "rediss+cluster://h:7000"}, True),
        ({"redis_url": "redis://h:7000", "redis_cluster": True}, True),
        ({"redis_url": "redis://h:7000", "redis_cluster": "yes"}, True),
        ({"redis_url": "redis://h:7000", "redis_cluster": False}, False),
    ],
    ids=["plain", "cluster_scheme", "tls_cluster_scheme", "flag", "flag_string", "flag_off"],
)
def test_cluster_is_chosen_by_scheme_or_flag(config: dict[str, object], cluster: bool) -> None:
    """A cluster URL or the flag gives every store its cluster class; otherwise the
    single-node classes (and keys) stay exactly as before."""
    stores = build_stores({"stores": "redis", **config})
    assert stores.database.cluster is cluster
    assert isinstance(stores.revocations, ClusterRevocationStore) is cluster
    assert isinstance(stores.families, ClusterRefreshFamilyStore) is cluster
    assert isinstance(stores.sessions, ClusterSessionStore) is cluster
    assert isinstance(stores.api_keys, ClusterAPIKeyStore) is cluster
    if not cluster:
        assert type(stores.revocations) is RedisRevocationStore
        assert type(stores.sessions) is RedisSessionStore
    assert stores.database._client is None  # building connects to nothing


def test_a_cluster_url_with_another_database_is_refused() -> None:
    """Redis Cluster has only database 0: /1 is a mistake caught at start-up."""
    with pytest.raises(ConfigurationError, match="only database 0"):
        build_stores({"stores": "redis", "redis_url": "redis+cluster://h:7000/1"})


SECRET = {"jwt": {"secret_key": "k" * 48}}


def test_settings_accept_the_cluster_flag_only_with_redis_stores() -> None:
    """store.redis_cluster is a redis setting: with other stores it names itself."""
    store = {"redis_url": "redis://h:1/0", "redis_cluster": True}
    assert Settings.load({**SECRET, "stores": "redis", "store": store}).store.redis_cluster
    with pytest.raises(ConfigurationError, match=r"store\.redis_cluster"):
        Settings.load({**SECRET, "store": {"redis_cluster": True}})


def test_throttle_storage_may_name_a_cluster() -> None:
    """throttle.storage accepts redis+cluster:// and builds a cluster client for it."""
    settings = Settings.load({**SECRET, "throttle": {"storage": "redis+cluster://h:7000/0"}})
    limiter = limiter_for(settings.throttle.storage)
    assert limiter._db.cluster is True  # type: ignore[attr-defined]


NODES = "\n".join(
    [
        "a 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460",
        "b 10.0.0.2:7000@17000 master - 0 0 2 connected 5461-10922",
        "c 10.0.0.3:7000@17000 master - 0 0 3 connected 10923-16383",
        "d 10.0.0.4:7000@17000 slave a 0 0 1 connected",
    ]
)


def test_primaries_are_read_from_cluster_nodes() -> None:
    """The revocation view follows each primary serving slots (not replicas)."""
    assert parse_primaries(NODES) == ["10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"]
    assert (
        node_url("rediss://u:p@seed:1/0?x=1", "10.0.0.2:7000") == "rediss://u:p@10.0.0.2:7000/0?x=1"
    )


@pytest.mark.parametrize(
    "broken",
    [
        NODES.replace("master - 0 0 2", "master,fail - 0 0 2"),
        NODES.replace("master - 0 0 3", "master,fail? - 0 0 3"),
        NODES.replace(" 5461-10922", ""),
    ],
    ids=["failed_primary", "suspected_primary", "unassigned_slots"],
)
def test_a_view_missing_slots_is_not_trusted(broken: str) -> None:
    """Unless the healthy primaries serve all 16384 slots the view must not answer (a
    missing node's revocations would be missing from it): StoreUnavailable."""
    with pytest.raises(StoreUnavailable) as raised:
        parse_primaries(broken)
    assert "slots" in raised.value.reason


def test_the_deployment_docs_cluster_snippet_is_a_valid_configuration() -> None:
    """The YAML in docs/deployment.md's Redis Cluster section loads and selects the cluster."""
    import re
    from pathlib import Path

    import yaml

    docs = (Path(__file__).resolve().parents[2] / "docs" / "deployment.md").read_text()
    section = docs.split("## Redis Cluster", 1)[1]
    snippet = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert snippet is not None
    settings = Settings.load({**SECRET, **yaml.safe_load(snippet.group(1))})
    assert settings.store.redis_url is not None
    stores = build_stores({"stores": "redis", "redis_url": settings.store.redis_url})
    assert stores.database.cluster is True
