"""install() wiring, YAML profiles and configuration mistakes (issue 2 items 2, 3, 8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import (
    AuthContainer,
    AuthenticationFailed,
    ConfigurationError,
    PermissionDenied,
    SimpleUser,
    current_user,
    install,
    login_required,
)
from nexios_auth_di.backends.jwt import JWTAuthBackend
from nexios_auth_di.testing import make_test_container

ROOT = Path(__file__).resolve().parents[2]


def test_missing_loader_fails_at_install():
    """An app that forgot user_loader learns at bootstrap, with the fix in the message."""
    container = AuthContainer()
    container.config.from_yaml(str(ROOT / "containers" / "testing.yaml"))
    with pytest.raises(ConfigurationError, match="user_loader"):
        install(NexiosApp(), container)


def test_missing_secret_fails_at_install():
    """No jwt.secret_key is a clear ConfigurationError naming the key."""
    container = AuthContainer()
    container.user_loader.override(lambda i: None)
    with pytest.raises(ConfigurationError, match=r"jwt\.secret_key"):
        install(NexiosApp(), container)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        pytest.param({"backends": ["jwt", "oauth"]}, "backends", id="unknown-backend"),
        pytest.param({"backends": []}, "backends", id="no-backends"),
        pytest.param({"jwt": {"secret_key": "short"}}, "32", id="short-hmac-secret"),
        pytest.param({"stores": "mongodb"}, "mongodb", id="unknown-store"),
    ],
)
def test_bad_config_is_a_configuration_error(config, match):
    """Each configuration mistake is a ConfigurationError at install, not a 500 later."""
    container = make_test_container(**config)
    with pytest.raises(ConfigurationError, match=match):
        install(NexiosApp(), container)


def test_install_twice_is_refused():
    """A second install() would double-wrap the router: refuse it."""
    app = NexiosApp()
    container = make_test_container()
    install(app, container)
    with pytest.raises(ConfigurationError, match="already"):
        install(app, container)


@pytest.mark.parametrize("profile", ["development", "testing"])
def test_yaml_profiles_load_and_serve(profile, tmp_path, monkeypatch):
    """The shipped YAML profiles load into the container and authenticate a request."""
    monkeypatch.setenv("NEXIOS_AUTH_SQLITE_PATH", str(tmp_path / "auth.sqlite3"))
    container = AuthContainer()
    container.config.from_yaml(str(ROOT / "containers" / f"{profile}.yaml"))
    container.user_loader.override(lambda identity: SimpleUser(identity))
    app = NexiosApp()
    install(app, container)

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    token = container.token_service().create_access_token("zoe")
    with TestClient(app) as client:
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).json() == {
            "id": "zoe"
        }


def test_production_profile_requires_its_environment():
    """The production profile has no secret fallbacks: loading it strictly without the
    environment fails."""
    container = AuthContainer()
    with pytest.raises(ValueError, match="NEXIOS_AUTH"):
        container.config.from_yaml(str(ROOT / "containers" / "production.yaml"), envs_required=True)


def test_contract_config_keys_are_honoured():
    """jwt.issuer/audience/access_ttl/leeway from config shape the tokens the service mints."""
    import jwt as pyjwt

    container = make_test_container(
        jwt={
            "secret_key": "k" * 40,
            "issuer": "me",
            "audience": "you",
            "access_ttl": 120,
            "leeway": 3,
        }
    )
    token = container.token_service().create_access_token("sam")
    claims = pyjwt.decode(token, "k" * 40, algorithms=["HS256"], audience="you", issuer="me")
    assert claims["exp"] - claims["iat"] == pytest.approx(120, abs=1)


def test_openapi_security_schemes_and_route_security(container):
    """install() registers a scheme per backend and marks decorated routes as secured."""
    app = NexiosApp()

    @app.get("/private")
    @login_required
    async def private(request, response):
        return {}

    @app.get("/public")
    async def public(request, response):
        return {}

    install(app, container)
    with TestClient(app) as client:
        spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["apiKeyHeader"] == {"type": "apiKey", "name": "X-API-Key", "in": "header"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert spec["paths"]["/private"]["get"]["security"] == [
        {"bearerAuth": []},
        {"sessionCookie": []},
        {"apiKeyHeader": []},
    ]
    assert not spec["paths"]["/public"]["get"].get("security")


def test_container_is_reachable_from_every_request(app, client, container):
    """Handlers reach the installed container through the scope and app.state."""

    @app.get("/c")
    async def c(request, response):
        same = request.scope["auth_container"] is container
        return {"scope": same, "state": request.base_app.state["auth_container"] is container}

    assert client.get("/c").json() == {"scope": True, "state": True}


@pytest.mark.parametrize("registered", ["before", "after"])
def test_app_exception_handlers_replace_the_defaults(container, registered):
    """app.add_exception_handler(AuthenticationFailed / PermissionDenied) wins over ours,
    whether registered before or after install()."""
    app = NexiosApp()

    async def on_401(request, response, exc):
        return response.json({"custom": 401}, status_code=401)

    async def on_403(request, response, exc):
        return response.json({"custom": 403}, status_code=403)

    def register() -> None:
        app.add_exception_handler(AuthenticationFailed, on_401)
        app.add_exception_handler(PermissionDenied, on_403)

    if registered == "before":
        register()
    install(app, container)
    if registered == "after":
        register()

    @app.get("/p")
    async def p(request, response):
        raise PermissionDenied("Admin access required")

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {}

    with TestClient(app) as client:
        assert client.get("/me").json() == {"custom": 401}
        assert client.get("/p").json() == {"custom": 403}


def test_eager_mode_fills_request_user_for_every_request(container, loader):
    """install(eager=True) authenticates up front so plain request.user works everywhere."""
    app = NexiosApp()
    install(app, container, eager=True)

    @app.get("/who")
    async def who(request, response):
        return {"auth": request.user.is_authenticated, "type": request.scope["auth"]}

    token = container.token_service().create_access_token("alice")
    with TestClient(app) as client:
        assert client.get("/who").json() == {"auth": False, "type": None}
        r = client.get("/who", headers={"Authorization": f"Bearer {token}"})
        assert r.json() == {"auth": True, "type": "jwt"}
    assert loader.calls == ["alice"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"secret_key": "too-short"}, "32", id="short-secret"),
        pytest.param({"secret_key": "s" * 40, "algorithm": "none"}, "HMAC", id="alg-none"),
        pytest.param({"secret_key": None}, "secret_key", id="no-secret"),
        pytest.param({"secret_key": "s" * 40, "authenticate_func": None}, "authenticate_func",
                     id="no-loader"),
    ],
)  # fmt: skip
def test_guide_jwt_backend_refuses_weak_setup(kwargs, match):
    """The guide-form JWT backend refuses short secrets and bad algorithms at construction."""
    args: dict[str, Any] = {"authenticate_func": lambda i: None, **kwargs}
    with pytest.raises(ConfigurationError, match=match):
        JWTAuthBackend(**args)


def test_user_loader_may_be_sync_or_async(app, client, container, bearer):
    """The loader may be a plain function or a coroutine function."""

    @app.get("/me")
    async def me(request, response, user: Any = Depend(current_user)):
        return {"id": user.id}

    container.user_loader.override(providers.Object(lambda i: SimpleUser(i)))
    assert client.get("/me", headers=bearer("sync")).json() == {"id": "sync"}

    async def async_loader(identity: Any) -> Any:
        return SimpleUser(identity)

    container.user_loader.override(providers.Object(async_loader))
    assert client.get("/me", headers=bearer("async")).json() == {"id": "async"}


def test_routes_added_after_install_and_depend_routes_are_documented(container):
    """Routes asking Depend(current_user), and routes added after install(), are marked
    secured in OpenAPI by the first request."""
    app = NexiosApp()
    install(app, container)

    @app.get("/late")
    async def late(request, response, user: Any = Depend(current_user)):
        return {}

    @app.get("/open")
    async def open_route(request, response):
        return {}

    with TestClient(app) as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert paths["/late"]["get"]["security"][0] == {"bearerAuth": []}
    assert not paths["/open"]["get"].get("security")
