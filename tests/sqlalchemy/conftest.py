"""Fixtures of the SQLAlchemy tests live in ``sa_support`` (importable by name)."""

from sa_support import empty_database

__all__ = ["empty_database"]
