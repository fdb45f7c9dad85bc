"""login_required / permission_required / policies (issue 2 item 7)."""

from __future__ import annotations

from typing import Any

import pytest
from dependency_injector import providers
from nexios.dependencies import Depend

from nexios_auth_di import authorize, login_required, permission_required, policy_required
from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.policies import (
    Access,
    Check,
    HasAllPermissions,
    HasPermission,
    IsAuthenticated,
    Policy,
    evaluate,
)


def tag() -> str:
    """A handler dependency that must survive the decorators."""
    return "dep-ok"


@pytest.mark.parametrize("order", ["perm_outside", "login_outside"])
def test_stacked_decorators_keep_both_checks(app, client, bearer, order):
    """In either order, stacked decorators answer 401 for anonymous and 403 for users
    without the permission; path params and Depend parameters still arrive."""

    async def handler(request, response, item: str, extra: str = Depend(tag)):
        return {"item": item, "extra": extra, "user": request.user.id}

    if order == "perm_outside":
        wrapped = permission_required("admin")(login_required(handler))
    else:
        wrapped = login_required(permission_required("admin")(handler))
    app.get("/items/{item}")(wrapped)

    anonymous = client.get("/items/7")
    assert anonymous.status_code == 401
    assert "www-authenticate" in anonymous.headers
    assert client.get("/items/7", headers=bearer("alice")).status_code == 403
    ok = client.get("/items/7", headers=bearer("root"))
    assert ok.json() == {"item": "7", "extra": "dep-ok", "user": "root"}


def test_permission_list_means_any(app, client, bearer):
    """permission_required(["admin", "moderator"]) admits either permission."""

    @app.get("/moderate")
    @permission_required(["admin", "moderator"])
    async def moderate(request, response):
        return {"ok": True}

    assert client.get("/moderate", headers=bearer("bob")).status_code == 200  # moderator
    assert client.get("/moderate", headers=bearer("root")).status_code == 200  # admin
    assert client.get("/moderate", headers=bearer("alice")).status_code == 403


def test_403_body_reveals_nothing(app, client, bearer):
    """The 403 body is generic: it names no permission and no policy."""

    @app.get("/admin")
    @permission_required("secret-admin-permission")
    async def admin(request, response):
        return {}

    r = client.get("/admin", headers=bearer("alice"))
    assert r.status_code == 403
    assert r.json() == {"error": "permission_denied", "detail": "Permission denied"}
    assert "secret" not in r.text


@pytest.mark.parametrize(
    ("policy", "user_perms", "expected"),
    [
        (HasPermission("a") & HasPermission("b"), {"a", "b"}, True),
        (HasPermission("a") & HasPermission("b"), {"a"}, False),
        (HasPermission("a") | HasPermission("b"), {"b"}, True),
        (~HasPermission("a"), {"b"}, True),
        (~HasPermission("a"), {"a"}, False),
        (IsAuthenticated() & ~HasAllPermissions("a", "b"), {"a"}, True),
    ],
)
async def test_policy_combinators(policy, user_perms, expected):
    """&, | and ~ combine policies with boolean meaning."""
    from nexios_auth_di import SimpleUser

    assert await evaluate(policy, Access(SimpleUser("u", permissions=user_perms))) is expected


async def test_policy_on_guide_style_user_without_has_permission():
    """Users returned by app loaders need not subclass BaseUser: a `permissions`
    collection is enough, and objects without one have no permissions."""

    class Plain:
        is_authenticated = True
        permissions = ["edit"]

    class Bare:
        is_authenticated = True

    assert await evaluate(HasPermission("edit"), Access(Plain()))
    assert not await evaluate(HasPermission("edit"), Access(Bare()))


def test_bad_permission_arguments_fail_at_import_time():
    """Empty or non-string permissions are a setup mistake caught when decorating."""
    with pytest.raises(ConfigurationError):
        permission_required([])
    with pytest.raises(ConfigurationError):
        permission_required(["admin", ""])


class OwnsDocument(Policy):
    """An object-level async policy that uses an injected repository."""

    def __init__(self, repo: dict[str, str]) -> None:
        self.repo = repo

    async def allows(self, access: Access) -> bool:
        return self.repo.get(access.obj) == access.user.id


def test_object_level_async_policy_with_injected_service(app, client, container, bearer):
    """authorize(request, "name", obj) runs an async policy built by the container with
    an injected service: owner 200, other user 403, anonymous 401."""
    container.policies.override(
        providers.Dict(
            owns_document=providers.Singleton(OwnsDocument, repo=providers.Object({"d1": "bob"}))
        )
    )

    @app.get("/docs/{doc_id}")
    async def read_doc(request, response, doc_id: str):
        user = await authorize(request, "owns_document", doc_id)
        return {"doc": doc_id, "owner": user.id}

    assert client.get("/docs/d1", headers=bearer("bob")).json() == {"doc": "d1", "owner": "bob"}
    assert client.get("/docs/d1", headers=bearer("alice")).status_code == 403
    assert client.get("/docs/d1").status_code == 401


def test_policy_object_in_decorator(app, client, bearer):
    """policy_required accepts a policy object, combinators included."""

    @app.get("/combo")
    @policy_required(HasPermission("read") & ~HasPermission("admin"))
    async def combo(request, response):
        return {"ok": True}

    assert client.get("/combo", headers=bearer("alice")).status_code == 200
    assert client.get("/combo", headers=bearer("root")).status_code == 403


def test_check_policy_wraps_functions():
    """Check() names the wrapped function in its repr for logs."""

    def is_owner(access: Access) -> bool:
        return True

    assert repr(Check(is_owner)) == "Check(is_owner)"


def test_unknown_named_policy_fails_at_install(container):
    """A typo in a policy name is a loud setup error at install(), never a silent allow."""
    from nexios import NexiosApp

    from nexios_auth_di import install

    app = NexiosApp()

    @app.get("/typo")
    @policy_required("no_such_policy")
    async def typo(request, response):
        return {"ok": True}

    with pytest.raises(ConfigurationError, match="no_such_policy"):
        install(app, container)


def test_sync_handler_under_decorator(app, client, bearer):
    """A sync handler keeps working when wrapped (it runs in the thread pool)."""

    @app.get("/sync")
    @login_required
    def sync_handler(request, response) -> Any:
        return {"sync": True}

    assert client.get("/sync", headers=bearer("alice")).json() == {"sync": True}
