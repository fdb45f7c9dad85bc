"""Fixtures for the guide ports."""

from __future__ import annotations

import pytest
from guide_support import UserTable


@pytest.fixture
def db() -> UserTable:
    """The guide's ``db``: a fresh user table per test."""
    return UserTable()
