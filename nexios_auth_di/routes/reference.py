"""The route reference page (``docs/routes.md``), rendered from the router itself.

Why generated: the field names, types and limits a route accepts live in
``routes/schemas.py``; a hand-written page would drift. ``tests/docs/test_route_reference.py``
fails when ``docs/routes.md`` differs from :func:`render`; regenerate with
``python -m nexios_auth_di.routes.reference > docs/routes.md``.
"""

from __future__ import annotations

from typing import Any

from dependency_injector import providers

__all__ = ["render"]

_LIMITS = ("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "enum")
HEADER = """# Route reference

Every route of `auth_router(container)` (mounted under `/auth`), with the body it reads
and the bodies it answers. Generated from `nexios_auth_di/routes/schemas.py` by
`python -m nexios_auth_di.routes.reference > docs/routes.md`; a test fails when this page
and the code differ. Unknown request fields are refused (400). Every 4xx/5xx body is
`{"error": "<code>", "detail": "<public text>"}` (the token route uses RFC 6749 §5.2
bodies instead).
"""


def _type(spec: dict[str, Any]) -> str:
    if "anyOf" in spec:
        return " or ".join(_type(s) for s in spec["anyOf"])
    if spec.get("type") == "array":
        return f"array of {_type(spec.get('items', {}))}"
    return str(spec.get("type", spec.get("$ref", "any").rsplit("/", 1)[-1]))


def _fields(model: Any) -> list[str]:
    schema = model.model_json_schema()
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        return ["(no fields)"]
    required = set(schema.get("required", []))
    rows = ["| field | type | required | limits |", "|---|---|---|---|"]
    for name, spec in props.items():
        limits = ", ".join(f"{k}={spec[k]}" for k in _LIMITS if k in spec)
        need = "yes" if name in required else "no"
        rows.append(f"| `{name}` | {_type(spec)} | {need} | {limits or '-'} |")
    return rows


def _body(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("description", ""))
    fields = ", ".join(f"`{f}`" for f in value.model_json_schema().get("properties", {}))
    return f"`{value.__name__}`: {fields}" if fields else f"`{value.__name__}`"


def _router() -> Any:
    from nexios_auth_di.routes import auth_router
    from nexios_auth_di.routes.users import MemoryUserRepository
    from nexios_auth_di.testing import TESTING_CONFIG, make_test_container

    # "both" with a login page: every route, the HTML form ones included
    session = {**TESTING_CONFIG["session"], "login_url": "/login"}
    container = make_test_container({}, session=session)
    container.user_repository.override(providers.Object(MemoryUserRepository()))
    return auth_router(container, login_mode="both")


def render() -> str:
    """The Markdown of ``docs/routes.md``: one section per route, in mounting order."""
    out = [HEADER]
    for route in _router().routes:
        method = "/".join(sorted(route.methods))
        out.append(f"## `{method} /auth{route.raw_path}`\n")
        if route.summary:
            out.append(f"{route.summary}.\n")
        if route.request_model is not None:
            kind = route.request_content_type or "application/json"
            out.append(f"Request body (`{kind}`):\n")
            out.extend(_fields(route.request_model))
            out.append("")
        responses: dict[int, Any] = route.responses or {}
        if responses:
            out.append("| status | body |\n|---|---|")
            out.extend(f"| {code} | {_body(body)} |" for code, body in sorted(responses.items()))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
