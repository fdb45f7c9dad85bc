"""The pytest plugin's fixtures (entry point ``pytest11`` -> nexios_auth_di.testing)."""

from __future__ import annotations

from typing import Any

import pytest
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import AuthContainer, current_user, install, permission_required


@pytest.fixture
def app(auth_container: AuthContainer) -> NexiosApp:
    application = NexiosApp()
    install(application, auth_container)

    @application.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    @application.get("/admin")
    @permission_required("admin")
    async def admin(request, response):
        return {"ok": True}

    return application


def test_authenticated_client_is_alice(authenticated_client):
    """authenticated_client needs no token: every request is the fixture user."""
    assert authenticated_client.get("/me").json() == {"id": "alice"}
    assert authenticated_client.get("/admin").status_code == 403


def test_auth_headers_are_real_tokens(app, auth_headers):
    """auth_headers signs real tokens that go through the real JWT backend."""
    with TestClient(app) as client:
        assert client.get("/admin", headers=auth_headers("admin")).json() == {"ok": True}
        assert client.get("/me").status_code == 401
