"""``AuthContainer`` composed inside an application's own container with
``providers.Container(AuthContainer, config=config.auth, user_loader=db.provided.load_user)``,
then ``install(app, container.auth)``: config, the loader and overrides pass through."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dependency_injector import containers, providers
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import (
    AuthContainer,
    ConfigurationError,
    SimpleUser,
    current_user,
    inject,
    install,
    profile_path,
)
from nexios_auth_di.testing import TESTING_CONFIG


class Database:
    """The app's own service; authentication reads users through its ``load_user``."""

    def __init__(self, names: list[str], label: str) -> None:
        self.users = {name: SimpleUser(name, username=f"{label}:{name}") for name in names}
        self.lookups: list[str] = []

    async def load_user(self, identity: Any) -> Any:
        self.lookups.append(str(identity))
        return self.users.get(str(identity))


class App(containers.DeclarativeContainer):
    """How an application composes authentication into its own container."""

    config = providers.Configuration()
    db = providers.Singleton(Database, names=config.db.names, label=config.db.label)
    auth = providers.Container(AuthContainer, config=config.auth, user_loader=db.provided.load_user)


DB_CONFIG = {"names": ["ada", "grace"], "label": "primary"}


def serve(container: App) -> NexiosApp:
    """An app with authentication installed from the composed container."""
    app = NexiosApp(debug=False)
    install(app, container.auth)

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"id": user.id, "username": user.username}

    @app.get("/mint")
    async def mint(request: Any, response: Any, tokens: Any = inject("token_service")) -> Any:
        return {"token": tokens.create_access_token("grace")}

    return app


@pytest.fixture
def composed() -> App:
    container = App()
    container.config.from_dict({"db": DB_CONFIG, "auth": TESTING_CONFIG})
    return container


@pytest.fixture
def client(composed: App) -> Iterator[TestClient]:
    with TestClient(serve(composed), base_url="https://testserver") as c:
        yield c


@pytest.fixture
def bearer(composed: App) -> Callable[[str], dict[str, str]]:
    def make(subject: str) -> dict[str, str]:
        token = composed.auth.token_service().create_access_token(subject)
        return {"Authorization": f"Bearer {token}"}

    return make


def test_composition_through_a_dict_config():
    """config.auth from a dict reaches the auth container's validated settings, and the
    app's db.load_user is the loader that authentication calls."""
    container = App()
    auth_config = {**TESTING_CONFIG, "jwt": {**TESTING_CONFIG["jwt"], "access_ttl": 120}}
    container.config.from_dict({"db": DB_CONFIG, "auth": auth_config})
    assert container.auth.settings().jwt.access_ttl == 120
    token = container.auth.token_service().create_access_token("ada")
    with TestClient(serve(container)) as client:
        response = client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert response.json() == {"id": "ada", "username": "primary:ada"}
        assert client.get("/me").status_code == 401
    assert container.db().lookups == ["ada"]


def test_composition_with_the_shipped_testing_profile():
    """The shipped testing profile loaded under ``auth:`` with config.auth.from_yaml(...)
    configures the composed container as it would a standalone one."""
    container = App()
    container.config.from_dict({"db": DB_CONFIG})
    container.config.auth.from_yaml(profile_path("testing"))
    settings = container.auth.settings()
    assert (settings.profile, settings.stores) == ("testing", "memory")
    token = container.auth.token_service().create_access_token("grace")
    with TestClient(serve(container)) as client:
        response = client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert response.json() == {"id": "grace", "username": "primary:grace"}


def test_db_override_reaches_authentication_on_next_request(composed, client, bearer):
    """Overriding the app's db provider after the backends were built changes the user the
    next request authenticates; leaving the override restores the original database."""
    headers = bearer("ada")
    assert client.get("/me", headers=headers).json()["username"] == "primary:ada"
    replica = Database(["ada"], label="replica")
    with composed.db.override(providers.Object(replica)):
        assert client.get("/me", headers=headers).json()["username"] == "replica:ada"
        assert client.get("/me", headers=bearer("grace")).status_code == 401
    assert replica.lookups == ["ada", "grace"]
    assert client.get("/me", headers=headers).json()["username"] == "primary:ada"


def test_inject_by_name_resolves_from_the_composed_container(client):
    """inject("token_service") finds the service on the composed auth container that
    install() attached to the request; its token authenticates on the same app."""
    token = client.get("/mint").json()["token"]
    response = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"id": "grace", "username": "primary:grace"}


BAD_AUTH_CONFIG = [
    ("no auth section at all", None, "jwt.secret_key (or jwt.keys) is not set"),
    (
        "short jwt secret (RFC 7518 §3.2)",
        {**TESTING_CONFIG, "jwt": {"secret_key": "short"}},
        "jwt.secret_key is shorter",
    ),
    (
        "typo inside the auth section",
        {**TESTING_CONFIG, "jwt": {**TESTING_CONFIG["jwt"], "acess_ttl": 5}},
        "unknown setting jwt.acess_ttl",
    ),
    ("unknown backend", {**TESTING_CONFIG, "backends": ["jwt", "oauth"]}, "backends"),
]


@pytest.mark.parametrize(
    ("case", "auth", "expected"), BAD_AUTH_CONFIG, ids=[row[0] for row in BAD_AUTH_CONFIG]
)
def test_bad_auth_config_fails_at_install_with_one_line(case, auth, expected):
    """A bad ``auth:`` section in the app's config fails at install(app, container.auth)
    with one ConfigurationError line naming the key, not on the first request."""
    container = App()
    container.config.from_dict({"db": DB_CONFIG, **({"auth": auth} if auth else {})})
    with pytest.raises(ConfigurationError) as info:
        install(NexiosApp(debug=False), container.auth)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
