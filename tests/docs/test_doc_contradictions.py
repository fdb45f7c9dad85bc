"""Statements the docs once contradicted each other (or the code) on, pinned to the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from nexios_auth_di import SimpleUser
from nexios_auth_di.config import SessionSettings
from nexios_auth_di.testing import TESTING_CONFIG

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_samesite_default_is_lax_in_code_and_every_doc() -> None:
    """Every sentence tying SameSite to the default says Lax, as the code does."""
    assert SessionSettings().samesite == "lax"
    checked = 0
    for page in PAGES:
        text = " ".join(page.read_text().split())
        for sentence in re.findall(r"[^.]*\bdefault[^.]*", text):
            for value in re.findall(r"SameSite=(\w+)", sentence):
                checked += 1
                assert value == "Lax" or 'samesite="strict"' in sentence, f"{page.name}: {sentence}"
    assert checked, "no doc states the SameSite default: the test would prove nothing"


def test_no_doc_claims_a_test_is_marked_xfail() -> None:
    """No page says a known bug is "marked xfail" while no test carries the mark."""
    tests = "".join(p.read_text() for p in (ROOT / "tests").rglob("*.py"))
    if "pytest.mark.xfail" in tests:
        return
    for page in PAGES:
        assert "marked xfail" not in page.read_text(), page.name


def test_auth_users_added_in_a_test_are_visible(auth_container: Any, auth_users: Any) -> None:
    """The guide says the loader reads ``auth_users`` by reference: a user added mid-test
    is loaded."""
    auth_users["carol"] = SimpleUser("carol")
    assert auth_container.user_loader()("carol") is auth_users["carol"]


def test_make_test_container_is_described_as_not_the_yaml_profile() -> None:
    """The guide names TESTING_CONFIG as what ``make_test_container`` uses, and says it is
    not ``testing.yaml`` (the two differ; TESTING_CONFIG sets no TTLs of its own)."""
    guide = (ROOT / "docs" / "guide.md").read_text()
    assert "TESTING_CONFIG" in guide
    assert "does not read the\n  `testing.yaml` profile file" in guide
    assert "access_ttl" not in TESTING_CONFIG.get("jwt", {})


def test_readme_documents_the_app_fixture_authenticated_client_needs() -> None:
    """``authenticated_client`` requests an ``app`` fixture; the README says so."""
    from nexios_auth_di import pytest_plugin

    source = Path(pytest_plugin.__file__).read_text()
    assert 'getfixturevalue("app")' in source
    assert "define an\n`app` fixture" in (ROOT / "README.md").read_text()
