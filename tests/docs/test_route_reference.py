"""docs/routes.md is exactly what the router documents, and documents every route."""

from __future__ import annotations

from pathlib import Path

from nexios_auth_di.routes import reference

PAGE = Path(__file__).resolve().parents[2] / "docs" / "routes.md"


def test_route_reference_page_matches_the_code() -> None:
    """A field, limit or status added to routes/schemas.py without regenerating the page fails."""
    assert PAGE.read_text() == reference.render(), (
        "regenerate: python -m nexios_auth_di.routes.reference > docs/routes.md"
    )


def test_every_mounted_route_has_a_section_with_its_bodies() -> None:
    """Each route of auth_router appears once, with a summary and at least one response body."""
    text = PAGE.read_text()
    routes = list(reference._router().routes)
    assert len(routes) >= 9
    for route in routes:
        heading = f"## `{'/'.join(sorted(route.methods))} /auth{route.raw_path}`"
        assert text.count(heading) == 1, heading
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        assert "| status | body |" in section, heading
    for field in ("refresh_token", "current_password", "new_password", "scopes", "ttl"):
        assert f"`{field}`" in text, field
