"""dependency-injector's own wiring (``@inject`` + ``Provide[...]``) in Nexios handlers,
next to ``Depend(current_user)``, compared with the library's ``inject(...)`` helper."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import wired_handlers
from dependency_injector import containers, providers
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import AuthContainer, SimpleUser, current_user, inject, install
from nexios_auth_di.testing import TESTING_CONFIG, make_test_container

#: the decorator orders, as an app would write them (exec'd into a fresh module)
ORDER_SOURCE = """
from dependency_injector.wiring import Provide, inject
from nexios.routing import Router
from nexios_auth_di import AuthContainer

router = Router()

@app.get("/right")
@inject
async def right(request, response, tokens=Provide[AuthContainer.token_service]):
    return {"service": type(tokens).__name__}

@inject
@router.get("/wrong")
async def wrong(request, response, tokens=Provide[AuthContainer.token_service]):
    return {"service": type(tokens).__name__}
"""

#: NexiosApp's route decorators return None (3.12), so this order fails at import
INJECT_ABOVE_APP_ROUTE = """
from dependency_injector.wiring import Provide, inject
from nexios_auth_di import AuthContainer

@inject
@app.get("/never")
async def never(request, response, tokens=Provide[AuthContainer.token_service]):
    return {}
"""

#: markers a composed app (``App.auth = providers.Container(AuthContainer, ...)``) can use
COMPOSED_SOURCE = """
from dependency_injector.wiring import Provide, inject
from nexios_auth_di import AuthContainer

@inject
def by_auth_class(tokens=Provide[AuthContainer.token_service]):
    return type(tokens).__name__

@inject
def by_app_attribute(tokens=Provide[App.auth.token_service]):
    return type(tokens).__name__

@inject
def by_dotted_name(tokens=Provide["auth.token_service"]):
    return type(tokens).__name__
"""


class DelegatingTokens:
    """A token service stand-in: verification delegates, so the JWT backend still works."""

    def __init__(self, real: Any) -> None:
        self.real = real

    async def verify(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        claims: dict[str, Any] = await self.real.verify(*args, **kwargs)
        return claims

    def create_access_token(self, subject: str, **claims: Any) -> str:
        return f"fake-for-{subject}"


class FakePasswords:
    """A password service stand-in with a recognisable, trivial hash."""

    async def hash(self, password: str) -> str:
        return f"fake${password}"

    async def verify(self, hashed: str, password: str) -> bool:
        return hashed == f"fake${password}"


def module_from(source: str, name: str, **names: Any) -> ModuleType:
    """A real module object built from ``source``, so ``wire(modules=[...])`` can bind it."""
    module = ModuleType(name)
    module.__dict__.update(names)
    exec(compile(source, name, "exec"), module.__dict__)
    return module


@pytest.fixture
def wired(app: NexiosApp, container: AuthContainer) -> Iterator[AuthContainer]:
    wired_handlers.mount(app)
    container.wire(modules=[wired_handlers])
    yield container
    container.unwire()


def test_wired_handler_gets_token_service_next_to_current_user(wired, client, bearer):
    """A wired handler receives the container's TokenService beside Depend(current_user),
    and the user gate still runs first (anonymous gets 401)."""
    response = client.get("/wired/whoami", headers=bearer("alice"))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["service"]) == ("alice", "TokenService")
    # minted by the very service the app verifies with
    minted = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/wired/whoami", headers=minted).json()["id"] == "alice"
    assert client.get("/wired/whoami").status_code == 401


@pytest.mark.parametrize(
    ("name", "path", "fake", "real_name"),
    [
        ("token_service", "/wired/whoami", DelegatingTokens, "TokenService"),
        ("password_service", "/wired/password", FakePasswords, "PasswordService"),
    ],
)
def test_override_after_wiring_applies_on_next_request(
    wired, client, bearer, name, path, fake, real_name
):
    """An override made after wire() (and after the service was built) is what the next
    request's Provide[...] receives; leaving the override restores the real one."""
    headers = bearer("alice")
    assert client.get(path, headers=headers).json()["service"] == real_name
    provider = getattr(wired, name)
    stand_in = fake(provider()) if fake is DelegatingTokens else fake()
    with provider.override(providers.Object(stand_in)):
        body = client.get(path, headers=headers).json()
        assert body["service"] == fake.__name__
        assert body.get("token", "fake-for-alice") == "fake-for-alice"
        assert body.get("verified", True) is True
    assert client.get(path, headers=headers).json()["service"] == real_name


def test_wiring_serves_non_nexios_code(wired):
    """The same Provide[...] wiring serves plain functions (a CLI, a worker), overrides
    included, without any request."""
    assert wired_handlers.mint_token("alice").count(".") == 2  # a real JWT
    with wired.token_service.override(providers.Object(DelegatingTokens(None))):
        assert wired_handlers.mint_token("alice") == "fake-for-alice"


def test_route_decorator_must_be_outside_inject(app, client, container):
    """@app.get above @inject gets the service; @inject above a Router's route decorator
    leaves Nexios calling the unwrapped function, which sees the bare Provide marker."""
    module = module_from(ORDER_SOURCE, "wired_order_handlers", app=app)
    app.mount_router(module.router)
    container.wire(modules=[module])
    try:
        assert client.get("/right").json() == {"service": "TokenService"}
        assert client.get("/wrong").json() == {"service": "Provide"}
    finally:
        container.unwire()


def test_inject_above_app_route_fails_at_import(app):
    """NexiosApp.get returns None, so @inject written above it fails loudly at import
    instead of serving an unwired handler."""
    with pytest.raises(TypeError, match="not a callable"):
        module_from(INJECT_ABOVE_APP_ROUTE, "wired_never_handlers", app=app)


def test_unwire_leaves_the_marker_and_rewire_restores(app, client, container):
    """container.unwire() unbinds the handlers (they see the Provide marker again); wiring
    again, even after the route was registered, binds them in place."""
    module = module_from(ORDER_SOURCE, "wired_unwire_handlers", app=app)
    container.wire(modules=[module])
    assert client.get("/right").json() == {"service": "TokenService"}
    container.unwire()
    assert client.get("/right").json() == {"service": "Provide"}
    container.wire(modules=[module])
    try:
        assert client.get("/right").json() == {"service": "TokenService"}
    finally:
        container.unwire()


def two_apps() -> list[tuple[NexiosApp, AuthContainer]]:
    """Two installed apps whose containers sign with different secrets."""
    pairs = []
    for secret in ("first-app-secret-0123456789abcdefghijkl", "second-app-secret-0123456789abcd"):
        container = make_test_container({"ada": SimpleUser("ada")}, jwt={"secret_key": secret})
        app = NexiosApp(debug=False)
        install(app, container)

        @app.get("/me")
        async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
            return {"id": user.id}

        @app.get("/mint")
        async def mint(request: Any, response: Any, tokens: Any = inject("token_service")) -> Any:
            return {"token": tokens.create_access_token("ada")}

        pairs.append((app, container))
    return pairs


def bearer_of(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_inject_helper_follows_each_requests_container():
    """inject("token_service") needs no wiring and resolves from the container installed on
    the app serving the request: each app's token is valid there and only there."""
    (first, _), (second, _) = two_apps()
    with TestClient(first) as one, TestClient(second) as two:
        token_one = one.get("/mint").json()["token"]
        token_two = two.get("/mint").json()["token"]
        assert one.get("/me", headers=bearer_of(token_one)).status_code == 200
        assert two.get("/me", headers=bearer_of(token_one)).status_code == 401
        assert two.get("/me", headers=bearer_of(token_two)).status_code == 200
        assert one.get("/me", headers=bearer_of(token_two)).status_code == 401


def test_provide_follows_the_wired_container_not_the_request():
    """Wiring binds a module to one container for the whole process: a wired handler on the
    second app still mints with the first (wired) container's service."""
    (first, container_one), (second, container_two) = two_apps()
    wired_handlers.mount(second)
    container_one.wire(modules=[wired_handlers])
    try:
        with TestClient(first) as one, TestClient(second) as two:
            caller = bearer_of(container_two.token_service().create_access_token("ada"))
            minted = two.get("/wired/whoami", headers=caller).json()["token"]
            assert one.get("/me", headers=bearer_of(minted)).status_code == 200
            assert two.get("/me", headers=bearer_of(minted)).status_code == 401
    finally:
        container_one.unwire()


class App(containers.DeclarativeContainer):
    """An application container that composes the auth container."""

    config = providers.Configuration()
    auth = providers.Container(
        AuthContainer,
        config=config.auth,
        user_loader=providers.Object(lambda identity: SimpleUser(identity)),
    )


def test_composed_container_wiring_forms():
    """In a composed app, wiring the app container resolves Provide[App.auth.x] and
    Provide["auth.x"], but not Provide[AuthContainer.x] (warn_unresolved says so); wiring
    container.auth resolves Provide[AuthContainer.x]."""
    module = module_from(COMPOSED_SOURCE, "wired_composed_handlers", App=App)
    container = App()
    container.config.from_dict({"auth": TESTING_CONFIG})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        container.wire(modules=[module], warn_unresolved=True)
    try:
        assert module.by_app_attribute() == "TokenService"
        assert module.by_dotted_name() == "TokenService"
        assert module.by_auth_class() == "Provide"
        assert any("by_auth_class" in str(w.message) for w in caught)
    finally:
        container.unwire()
    container.auth.wire(modules=[module])
    try:
        assert module.by_auth_class() == "TokenService"
    finally:
        container.auth.unwire()
