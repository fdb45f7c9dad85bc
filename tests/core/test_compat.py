"""Opt-in Nexios workarounds."""

from __future__ import annotations

from typing import Any

from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import current_user
from nexios_auth_di.http.compat import silence_dependency_print


def test_silence_dependency_print(app, bearer, capsys):
    """After silence_dependency_print(), a Depend route writes nothing to stdout."""
    import nexios.dependencies as deps

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    had = deps.__dict__.get("print")
    try:
        silence_dependency_print()
        with TestClient(app) as client:
            assert client.get("/me", headers=bearer("alice")).status_code == 200
        assert "Resolving dependency" not in capsys.readouterr().out
    finally:
        if had is None:
            deps.__dict__.pop("print", None)
        else:
            deps.print = had
