"""build_stores: the configuration the container passes in, and its mistakes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.stores.factory import StoreSet, build_stores
from nexios_auth_di.stores.memory import MemoryRevocationStore
from nexios_auth_di.stores.redis import RedisRevocationStore
from nexios_auth_di.stores.sqlite import SqliteRevocationStore


async def test_memory_is_the_default() -> None:
    """No engine configured means the zero-set-up memory stores."""
    stores = build_stores({})
    assert stores.engine == "memory"
    assert isinstance(stores.revocations, MemoryRevocationStore)
    await stores.close()


async def test_sqlite_stores_share_one_file(tmp_path: Path) -> None:
    """The four SQLite stores share one database; what one writes the file keeps."""
    stores = build_stores({"stores": "sqlite", "sqlite_path": str(tmp_path / "a.db")})
    assert isinstance(stores.revocations, SqliteRevocationStore)
    await stores.revocations.revoke_jti("jti", 4_000_000_000)
    await stores.sessions.save("sid", {"a": 1}, ttl=60)
    await stores.close()
    assert (tmp_path / "a.db").exists()
    again = build_stores({"stores": "SQLite", "sqlite_path": str(tmp_path / "a.db")})
    assert await again.revocations.is_refused("jti", "alice", 0)
    await again.close()


def test_redis_stores_are_lazy() -> None:
    """Building Redis stores connects to nothing, so the container can build them at import."""
    stores = build_stores({"stores": "redis", "redis_url": "redis://127.0.0.1:1/0"})
    assert isinstance(stores.revocations, RedisRevocationStore)
    assert stores.revocations._db._client is None  # type: ignore[attr-defined]


def test_store_set_is_frozen() -> None:
    """A StoreSet cannot be rewired after the container built it."""
    stores = build_stores({"stores": "memory"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        stores.revocations = stores.revocations  # type: ignore[misc]
    assert isinstance(stores, StoreSet)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"stores": "postgres"}, "unknown stores engine 'postgres'"),
        ({"stores": "redis"}, '"redis_url"'),
        ({"stores": "redis", "redis_url": "  "}, '"redis_url"'),
        ({"stores": "redis", "redis_url": "http://x:1"}, "invalid Redis URL"),
        ({"stores": "redis", "redis_url": "redis://h:1", "redis_socket_timeout": "x"}, "seconds"),
        ({"stores": "sqlite"}, '"sqlite_path"'),
        ({"stores": "sqlite", "sqlite_path": 3}, '"sqlite_path"'),
        ({"stores": "sqlalchemy"}, '"database_url"'),
        ({"stores": "sqlalchemy", "database_url": "not a url"}, "store.database_url"),
        ({"stores": "sqlalchemy", "database_url": "mysql://h/db"}, "postgresql or sqlite"),
    ],
)
def test_configuration_mistakes_are_clear(config: dict[str, object], message: str) -> None:
    """Each configuration mistake is a ConfigurationError that names the setting."""
    with pytest.raises(ConfigurationError, match=message):
        build_stores(config)
