"""Helpers for the SQLAlchemy tests: an empty database per test on each dialect (a new
SQLite file, or a new database on the shared PostgreSQL test cluster, dropped after)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=DIALECTS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (SQLite file or a fresh PostgreSQL database)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    yield request.getfixturevalue("fresh_database_url")
