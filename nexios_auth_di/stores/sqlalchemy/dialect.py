"""The few statements whose spelling differs between PostgreSQL and SQLite.

Both dialects support ``INSERT ... ON CONFLICT (...) DO UPDATE ... WHERE`` with
``RETURNING`` (SQLite 3.35+); SQLAlchemy builds them from a dialect-specific ``insert``.
``greatest`` is a ``CASE`` so it reads the same everywhere (PostgreSQL's ``max`` is an
aggregate only).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["greatest", "insert", "least"]


def insert(dialect: str, table: Table) -> Any:
    """An ``INSERT`` with ``on_conflict_do_update`` / ``on_conflict_do_nothing``."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"SQLAlchemy stores support postgresql and sqlite, not {dialect}")


def greatest(a: Any, b: Any) -> ColumnElement[Any]:
    """The larger of two values (NULL-free operands)."""
    return case((a >= b, a), else_=b)


def least(a: Any, b: Any) -> ColumnElement[Any]:
    """The smaller of two values (NULL-free operands)."""
    return case((a <= b, a), else_=b)
