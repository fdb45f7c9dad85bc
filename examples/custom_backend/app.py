"""The Nexios guide's custom header backend (``X-Custom-Auth``), built by the container.

The guide instantiates ``CustomAuthBackend()`` by hand and hard-codes how it validates.
Here the backend is a provider: its token table and the user loader are injected, so a
test (or another deployment) overrides them like any other provider, and the backend
sits in the container's ``backends`` list next to the JWT backend.
"""

from __future__ import annotations

import hmac
from typing import Any

from dependency_injector import providers
from nexios import NexiosApp
from nexios.dependencies import Depend

from nexios_auth_di import AuthContainer, current_user, factories, install, profile_path
from nexios_auth_di.base import AuthenticationBackend, SimpleUser, UnauthenticatedUser


class CustomAuthBackend(AuthenticationBackend):
    """The guide's backend: a shared header value names the caller."""

    def __init__(self, tokens: dict[str, str], loader: Any) -> None:
        self.tokens = tokens  # header value -> identity
        self.loader = loader  # the container's user_loader (a provider: overrides apply)

    async def validate_custom_auth(self, header: str) -> Any:
        for value, identity in self.tokens.items():
            if hmac.compare_digest(value.encode(), header.encode()):  # constant time
                user = self.loader()(identity)
                return await user if hasattr(user, "__await__") else user
        return None

    async def authenticate(self, request: Any, response: Any) -> Any:
        custom_header = request.headers.get("X-Custom-Auth")
        if not custom_header:
            return UnauthenticatedUser()
        user = await self.validate_custom_auth(custom_header)
        return (user, "custom") if user else UnauthenticatedUser()


def build_container(tokens: dict[str, str]) -> AuthContainer:
    """An ``AuthContainer`` whose backends are the custom header one, then JWT."""
    users = {"svc-reports": SimpleUser("svc-reports", permissions=["reports:read"])}
    container = AuthContainer()
    container.config.from_yaml(profile_path("testing"))
    container.config.backends.from_value(["jwt"])
    container.user_loader.override(providers.Object(users.get))
    custom = providers.Singleton(
        CustomAuthBackend, tokens=providers.Object(tokens), loader=container.user_loader.provider
    )
    configured = providers.Singleton(  # the backends the settings name (here: jwt)
        factories.build_backends,
        container.settings,
        loader=container.user_loader.provider,
        token_service=container.token_service.provider,
        api_key_service=container.api_key_service.provider,
        token_cookies=container.token_cookies,
    )
    container.backends.override(providers.Callable(lambda c, rest: [c, *rest], custom, configured))
    return container


def create_app(container: AuthContainer) -> NexiosApp:
    app = NexiosApp(title="custom backend example", debug=False)

    @app.get("/whoami")
    async def whoami(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.username, "via": request.scope["auth"]}

    install(app, container)
    return app
