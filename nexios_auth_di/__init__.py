"""nexios_auth_di: authentication and authorization for Nexios, built on a DI container.

Quick start::

    container = AuthContainer()
    container.config.from_yaml("containers/development.yaml")
    container.user_loader.override(load_user)
    install(app, container)

    @app.get("/me")
    async def me(request, response, user=Depend(current_user)):
        return {"id": user.id}
"""

from .base import AuthenticationBackend, BaseUser, SimpleUser, UnauthenticatedUser
from .container import AuthContainer
from .decorator import authorize, login_required, permission_required, policy_required
from .dependencies import auth_type, current_user, inject, optional_user
from .exceptions import (
    AuthenticationFailed,
    AuthError,
    ConfigurationError,
    PermissionDenied,
    StoreUnavailable,
    Throttled,
)
from .install import install

__all__ = [
    "AuthContainer",
    "AuthError",
    "AuthenticationBackend",
    "AuthenticationFailed",
    "BaseUser",
    "ConfigurationError",
    "PermissionDenied",
    "SimpleUser",
    "StoreUnavailable",
    "Throttled",
    "UnauthenticatedUser",
    "auth_type",
    "authorize",
    "current_user",
    "inject",
    "install",
    "login_required",
    "optional_user",
    "permission_required",
    "policy_required",
]
