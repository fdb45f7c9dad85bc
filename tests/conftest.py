"""Suite-wide settings and the shared Redis and PostgreSQL fixtures (see
``support.redis_server``, ``support.postgres_server``).

Each area keeps its own fixtures in its folder's conftest; helper modules have unique
names because every folder has a ``conftest``.
"""

from __future__ import annotations

import logging

from support.postgres_server import database_url, fresh_database_url, postgres_process
from support.redis_server import (
    redis_cluster_process,
    redis_cluster_url,
    redis_process,
    redis_server_bin,
    redis_url,
)

__all__ = [
    "database_url",
    "fresh_database_url",
    "postgres_process",
    "redis_cluster_process",
    "redis_cluster_url",
    "redis_process",
    "redis_server_bin",
    "redis_url",
]

# Nexios 3.12 prints "Resolving dependency:" on every Depend; keep test logs readable.
logging.getLogger("nexios").setLevel(logging.WARNING)
