"""Shared by the CLI tests (imported by name: conftest modules are not importable
reliably when several test folders each have one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from click.testing import Result

PASSWORD = "correct horse"


@dataclass
class Env:
    """Paths of one test's files and a way to run the CLI on them."""

    tmp: Path
    config: Path
    users: Path
    store: Path
    jwt_secret: str
    session_secret: str
    invoke: Callable[..., Result]

    def args(self, *extra: str, store: bool = False, users: bool = True) -> list[str]:
        """``--config``, ``--users-db`` and ``--store-db`` for this test's files."""
        base = ["--config", str(self.config)]
        base += ["--users-db", str(self.users)] if users else []
        return [*extra, *base, *(["--store-db", str(self.store)] if store else [])]
