"""docs/oidc.md's configuration block is a real, valid configuration."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from nexios_auth_di.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "oidc.md"


def test_documented_config_loads() -> None:
    """The YAML in docs/oidc.md loads as settings with the values it states."""
    block = re.search(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert block is not None
    raw = yaml.safe_load(block.group(1).replace("${GOOGLE_CLIENT_SECRET}", "from-env"))
    settings = Settings.load({"jwt": {"secret_key": "x" * 40}, **raw})
    google = settings.oidc.providers["google"]
    assert google.issuer == "https://accounts.google.com"
    assert google.allow_signup is True
    assert settings.oidc.flow_ttl == 600
    assert settings.oidc.jwks_refetch_interval == 60
