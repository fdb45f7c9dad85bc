"""Tests override providers, not request scope (docs/design.md §4, issue 2 item 9)."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers
from nexios.dependencies import Depend

from nexios_auth_di import SimpleUser, current_user, inject, permission_required, policy_required
from nexios_auth_di.policies import AllowAll, Check, DenyAll
from nexios_auth_di.testing import override_loader, override_policy, override_user


def test_override_user_needs_no_token(app, client, container, loader):
    """Inside override_user every request sees the given user, without any credential."""

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    with override_user(container, SimpleUser("tester")):
        assert client.get("/me").json() == {"id": "tester"}
    assert client.get("/me").status_code == 401
    assert loader.calls == []


def test_loader_override_applies_after_backends_were_built(app, client, container, bearer):
    """Overriding user_loader after the first request (singletons built) takes effect on
    the next request."""

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id, "name": user.username}

    headers = bearer("alice")
    assert client.get("/me", headers=headers).json() == {"id": "alice", "name": "alice"}
    with override_loader(container, lambda identity: SimpleUser(identity, username="swapped")):
        assert client.get("/me", headers=headers).json() == {"id": "alice", "name": "swapped"}
    assert client.get("/me", headers=headers).json()["name"] == "alice"


def test_token_service_override_applies_to_built_backend(app, client, container, bearer):
    """A token_service override made after the JWT backend exists is the one used."""

    class RejectAll:
        async def verify(self, token: str, expected_type: str = "access") -> dict[str, Any]:
            from nexios_auth_di.exceptions import TokenError

            raise TokenError("overridden")

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    headers = bearer("alice")
    assert client.get("/me", headers=headers).status_code == 200
    with container.token_service.override(providers.Object(RejectAll())):
        assert client.get("/me", headers=headers).status_code == 401
    assert client.get("/me", headers=headers).status_code == 200


def test_permission_policy_override(app, client, container, bearer):
    """What a permission means can be overridden in the container for a test."""

    @app.get("/admin")
    @permission_required("admin")
    async def admin(request, response):
        return {"ok": True}

    assert client.get("/admin", headers=bearer("alice")).status_code == 403
    with container.permission_policy.override(providers.Factory(lambda *names: AllowAll())):
        assert client.get("/admin", headers=bearer("alice")).status_code == 200
    assert client.get("/admin", headers=bearer("alice")).status_code == 403


def test_named_policy_and_its_override(app, client, container, bearer):
    """policy_required("name") reads container.policies; override_policy swaps one."""
    container.policies.override(
        providers.Dict(is_bob=providers.Object(Check(lambda a: a.user.id == "bob")))
    )

    @app.get("/bob-only")
    @policy_required("is_bob")
    async def bob_only(request, response):
        return {"ok": True}

    assert client.get("/bob-only", headers=bearer("bob")).status_code == 200
    assert client.get("/bob-only", headers=bearer("alice")).status_code == 403
    with override_policy(container, "is_bob", DenyAll()):
        assert client.get("/bob-only", headers=bearer("bob")).status_code == 403
    assert client.get("/bob-only").status_code == 401


def test_inject_provider_respects_overrides(app, client, container):
    """inject(provider) and inject("name") resolve at request time, so overrides apply."""

    @app.get("/svc")
    async def svc(
        request,
        response,
        by_obj: Any = inject(container.clock),
        by_name: Any = inject("clock"),
    ):
        return {"a": by_obj(), "b": by_name()}

    with container.clock.override(providers.Object(lambda: 42.0)):
        assert client.get("/svc").json() == {"a": 42.0, "b": 42.0}
    now = client.get("/svc").json()
    assert now["a"] > 1_000_000_000
