"""Helpers for the session tests: a real Nexios app with SessionMiddleware in either form."""

from __future__ import annotations

from typing import Any

from nexios import NexiosApp

from nexios_auth_di.session import (
    SessionMiddleware,
    csrf_token,
    end_other_sessions,
    login,
    logout,
    require_csrf,
    verify_csrf,
)

SECRET = "s" * 32
FORMS = ["add_middleware", "wrap_asgi"]
MODES = ["cookie", "server"]


def build_app(form: str, **kwargs: Any) -> NexiosApp:
    """A Nexios app with the guide's login/logout routes and the library helpers."""
    app = NexiosApp()
    if form == "add_middleware":
        app.add_middleware(SessionMiddleware(**kwargs))
    else:
        app.wrap_asgi(SessionMiddleware, **kwargs)

    @app.post("/login")
    async def guide_login(request: Any, response: Any) -> Any:
        data = await request.json
        request.session["user_id"] = data["user_id"]
        return response.json({"message": "Login successful"})

    @app.post("/logout")
    async def guide_logout(request: Any, response: Any) -> Any:
        request.session.clear()
        return response.json({"message": "Logout successful"})

    @app.post("/login2")
    async def helper_login(request: Any, response: Any) -> Any:
        data = await request.json
        await login(request, data["user_id"], keep_data=bool(data.get("keep")))
        return response.json({"csrf": csrf_token(request)})

    @app.post("/logout2")
    async def helper_logout(request: Any, response: Any) -> Any:
        await logout(request)
        return response.json({})

    @app.post("/end-others")
    async def end_others(request: Any, response: Any) -> Any:
        count = await end_other_sessions(request, str(request.session["user_id"]))
        return response.json({"ended": count})

    @app.get("/me")
    async def me(request: Any, response: Any) -> Any:
        return response.json(dict(request.session))

    @app.post("/put")
    async def put(request: Any, response: Any) -> Any:
        request.session.update(await request.json)
        return response.json({})

    @app.get("/csrf")
    async def get_csrf(request: Any, response: Any) -> Any:
        return response.json({"csrf": csrf_token(request)})

    @app.route("/unsafe", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def unsafe(request: Any, response: Any) -> Any:
        ok = verify_csrf(request.scope, request.headers)
        require_csrf(request.scope)  # raw ASGI headers path; 403 via CSRFFailed
        return response.json({"ok": ok})

    return app


def parse_set_cookie(header: str) -> tuple[str, str, dict[str, str]]:
    """``(name, value, attributes)`` with lower-cased attribute names."""
    first, *rest = [p.strip() for p in header.split(";")]
    name, _, value = first.partition("=")
    attrs: dict[str, str] = {}
    for part in rest:
        key, _, val = part.partition("=")
        attrs[key.lower()] = val
    return name, value, attrs
