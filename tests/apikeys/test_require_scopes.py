"""``require_scopes`` as a decorator and as a dependency, through real Nexios: it keeps the
handler's own parameters, stacks with the other decorators in either order, and refuses
mistakes at import time."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import (
    SimpleUser,
    current_user,
    inject,
    install,
    login_required,
    permission_required,
    require_scopes,
)
from nexios_auth_di.decorator import REQUIREMENTS_ATTR
from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.testing import make_test_container

USERS = {"alice": SimpleUser("alice", permissions=["admin"])}


def build() -> tuple[NexiosApp, Any]:
    container = make_test_container(USERS)
    app = NexiosApp()

    @app.put("/items/{item_id}")
    @require_scopes("items:write")
    async def put_item(
        request: Any,
        response: Any,
        item_id: str,
        user: Any = Depend(current_user),
        keys: Any = inject("api_key_service"),
    ) -> Any:
        return {"item": item_id, "user": user.id, "has_keys": keys is not None}

    @app.post("/admin/items")
    @require_scopes("items:write")
    @permission_required("admin")
    async def admin_items(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id}

    @app.post("/sync")
    @login_required
    @require_scopes("items:write")
    def sync_handler(request: Any, response: Any) -> Any:
        return {"sync": True}

    @app.delete("/items/{item_id}")
    async def delete_item(
        request: Any, response: Any, item_id: str, user: Any = Depend(require_scopes("items:write"))
    ) -> Any:
        return {"deleted": item_id, "user": user.id}

    install(app, container)
    return app, container


@pytest.fixture(scope="module")
def client_and_container() -> Iterator[tuple[TestClient, Any]]:
    app, container = build()
    with TestClient(app, base_url="https://testserver") as client:
        yield client, container


def _key(client: TestClient, container: Any, scopes: list[str]) -> dict[str, str]:
    create = functools.partial(container.api_key_service().create, "alice", scopes=scopes)
    assert client.portal is not None
    key, _ = client.portal.call(create)
    return {"X-API-Key": key}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/items/7", {"item": "7", "user": "alice", "has_keys": True}),
        ("POST", "/admin/items", {"user": "alice"}),
        ("POST", "/sync", {"sync": True}),
        ("DELETE", "/items/7", {"deleted": "7", "user": "alice"}),
    ],
)
def test_scope_opens_the_route_and_keeps_its_parameters(
    client_and_container: tuple[TestClient, Any], method: str, path: str, body: dict[str, Any]
) -> None:
    """With the scope the handler runs with its path parameter and its own dependencies;
    without it the same key gets 403 and no credential gets 401."""
    client, container = client_and_container
    scopes = ["items:write", "admin"] if path == "/admin/items" else ["items:write"]
    allowed = client.request(method, path, headers=_key(client, container, scopes))
    assert allowed.status_code == 200, allowed.text
    assert allowed.json() == body
    refused = client.request(method, path, headers=_key(client, container, ["admin"]))
    assert refused.status_code == 403
    assert client.request(method, path).status_code == 401


def test_permission_route_still_needs_the_permission_scope(
    client_and_container: tuple[TestClient, Any],
) -> None:
    """Stacked with permission_required, the key needs both its own scope requirement
    and the permission scope."""
    client, container = client_and_container
    response = client.post("/admin/items", headers=_key(client, container, ["items:write"]))
    assert response.status_code == 403


def test_requirements_are_listed_for_openapi() -> None:
    """install() documents the route: the scope requirement is recorded on the handler."""

    @require_scopes("b:write", "a:write")
    async def handler(request: Any, response: Any) -> Any:
        return None

    assert getattr(handler, REQUIREMENTS_ATTR) == ["scopes:a:write|b:write"]


@pytest.mark.parametrize("scopes", [(), ("",), (" padded",), ("ok", "")])
def test_bad_scope_names_fail_at_import(scopes: tuple[str, ...]) -> None:
    """A route naming no scope, or an empty/padded one, is a mistake caught at start-up."""
    with pytest.raises(ConfigurationError):
        require_scopes(*scopes)
