"""Settings and shipped profiles (filled in by the next commit)."""

from __future__ import annotations

from pathlib import Path

PROFILES_DIR = Path(__file__).parent / "profiles"


def profile_path(name: str) -> str:
    """The path of a shipped profile (``development``, ``testing``, ``production``)."""
    return str(PROFILES_DIR / f"{name}.yaml")


class Settings:
    """Placeholder."""
