"""nexios_auth_di: authentication and authorization for Nexios, built on a DI container.

Quick start::

    container = AuthContainer()
    container.config.from_yaml(profile_path("development"))
    container.user_loader.override(load_user)
    install(app, container)

    @app.get("/me")
    async def me(request, response, user=Depend(current_user)):
        return {"id": user.id}

Every public name is importable from here. Names load on first use (PEP 562), so
``import nexios_auth_di`` costs little more than its required dependencies, and an app
pays only for the parts it touches.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

#: public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # composition root and bootstrap
    "AuthContainer": "container",
    "install": "install",
    "document": "install",
    "profile_path": "config",
    "Settings": "config",
    # users and backends
    "BaseUser": "base",
    "SimpleUser": "base",
    "UnauthenticatedUser": "base",
    "AuthenticationBackend": "base",
    "JWTAuthBackend": "backends.jwt",
    "SessionAuthBackend": "backends.session",
    "APIKeyBackend": "backends.apikey",
    # resolving the caller
    "current_user": "dependencies",
    "fresh_required": "mfa.stepup",
    "optional_user": "dependencies",
    "auth_type": "dependencies",
    "websocket_user": "dependencies",
    "ensure_still_valid": "websockets",
    "inject": "dependencies",
    "login_required": "decorator",
    "permission_required": "decorator",
    "policy_required": "decorator",
    "require_scopes": "decorator",
    "authorize": "decorator",
    # policies
    "Access": "policies",
    "Policy": "policies",
    "AllowAll": "policies",
    "DenyAll": "policies",
    "IsAuthenticated": "policies",
    "HasPermission": "policies",
    "HasAnyPermission": "policies",
    "HasAllPermissions": "policies",
    "Check": "policies",
    # middleware
    "AuthenticationMiddleware": "http.middleware",
    "RateLimitMiddleware": "http.throttling",
    "SessionMiddleware": "sessions.middleware",
    "LoginThrottle": "http.throttling",
    # services
    "KeyRing": "tokens.keys",
    "TokenService": "tokens.service",
    "TokenVerifier": "tokens.verifier",
    "PasswordService": "passwords.service",
    "Argon2Profile": "passwords.profiles",
    "APIKeyService": "apikeys.service",
    # ready-made routes and users
    "auth_router": "routes.handlers",
    "UserRecord": "routes.users",
    "UserRepository": "routes.users",
    "MemoryUserRepository": "routes.users",
    "SqliteUserRepository": "routes.users_sqlite",
    "user_loader_for": "routes.users",
    # sessions
    "csrf_token": "sessions.csrf",
    "login": "sessions.middleware",
    "logout": "sessions.middleware",
    "end_other_sessions": "sessions.middleware",
    # events
    "AuthEvent": "events",
    "EventKind": "events",
    "LoggingSink": "events",
    "MemorySink": "events",
    # account mails
    "MemoryEmailSender": "accounts.email",
    # testing
    "override_user": "testing",
    "override_loader": "testing",
    "override_policy": "testing",
    "make_test_container": "testing",
    # exceptions (one tree, rooted at AuthError)
    "AuthError": "exceptions",
    "ConfigurationError": "exceptions",
    "HTTPAuthError": "exceptions",
    "BadRequest": "exceptions",
    "PayloadTooLarge": "exceptions",
    "UnsupportedMediaType": "exceptions",
    "AuthenticationFailed": "exceptions",
    "TokenError": "exceptions",
    "TokenRevoked": "exceptions",
    "TokenReused": "exceptions",
    "PermissionDenied": "exceptions",
    "CSRFFailed": "exceptions",
    "Throttled": "exceptions",
    "StoreUnavailable": "exceptions",
    "Overloaded": "exceptions",
    "Conflict": "exceptions",
    "UsageError": "exceptions",
    "ContractError": "exceptions",
}

# kept literal so tools see it; tests/core/test_layout.py checks it matches _EXPORTS
__all__ = [
    "APIKeyBackend",
    "APIKeyService",
    "Access",
    "AllowAll",
    "Argon2Profile",
    "AuthContainer",
    "AuthError",
    "AuthEvent",
    "AuthenticationBackend",
    "AuthenticationFailed",
    "AuthenticationMiddleware",
    "BadRequest",
    "BaseUser",
    "CSRFFailed",
    "Check",
    "ConfigurationError",
    "Conflict",
    "ContractError",
    "DenyAll",
    "EventKind",
    "HTTPAuthError",
    "HasAllPermissions",
    "HasAnyPermission",
    "HasPermission",
    "IsAuthenticated",
    "JWTAuthBackend",
    "KeyRing",
    "LoggingSink",
    "LoginThrottle",
    "MemoryEmailSender",
    "MemorySink",
    "MemoryUserRepository",
    "Overloaded",
    "PasswordService",
    "PayloadTooLarge",
    "PermissionDenied",
    "Policy",
    "RateLimitMiddleware",
    "SessionAuthBackend",
    "SessionMiddleware",
    "Settings",
    "SimpleUser",
    "SqliteUserRepository",
    "StoreUnavailable",
    "Throttled",
    "TokenError",
    "TokenReused",
    "TokenRevoked",
    "TokenService",
    "TokenVerifier",
    "UnauthenticatedUser",
    "UnsupportedMediaType",
    "UsageError",
    "UserRecord",
    "UserRepository",
    "auth_router",
    "auth_type",
    "authorize",
    "csrf_token",
    "current_user",
    "document",
    "end_other_sessions",
    "ensure_still_valid",
    "fresh_required",
    "inject",
    "install",
    "login",
    "login_required",
    "logout",
    "make_test_container",
    "optional_user",
    "override_loader",
    "override_policy",
    "override_user",
    "permission_required",
    "policy_required",
    "profile_path",
    "require_scopes",
    "user_loader_for",
    "websocket_user",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # the same names, for type checkers and IDEs
    from nexios_auth_di.accounts.email import MemoryEmailSender
    from nexios_auth_di.apikeys.service import APIKeyService
    from nexios_auth_di.backends.apikey import APIKeyBackend
    from nexios_auth_di.backends.jwt import JWTAuthBackend
    from nexios_auth_di.backends.session import SessionAuthBackend
    from nexios_auth_di.base import (
        AuthenticationBackend,
        BaseUser,
        SimpleUser,
        UnauthenticatedUser,
    )
    from nexios_auth_di.config import Settings, profile_path
    from nexios_auth_di.container import AuthContainer
    from nexios_auth_di.decorator import (
        authorize,
        login_required,
        permission_required,
        policy_required,
        require_scopes,
    )
    from nexios_auth_di.dependencies import (
        auth_type,
        current_user,
        inject,
        optional_user,
        websocket_user,
    )
    from nexios_auth_di.events import AuthEvent, EventKind, LoggingSink, MemorySink
    from nexios_auth_di.exceptions import (
        AuthenticationFailed,
        AuthError,
        BadRequest,
        ConfigurationError,
        Conflict,
        ContractError,
        CSRFFailed,
        HTTPAuthError,
        Overloaded,
        PayloadTooLarge,
        PermissionDenied,
        StoreUnavailable,
        Throttled,
        TokenError,
        TokenReused,
        TokenRevoked,
        UnsupportedMediaType,
        UsageError,
    )
    from nexios_auth_di.http.middleware import AuthenticationMiddleware
    from nexios_auth_di.http.throttling import LoginThrottle, RateLimitMiddleware
    from nexios_auth_di.install import document, install
    from nexios_auth_di.mfa.stepup import fresh_required
    from nexios_auth_di.passwords.profiles import Argon2Profile
    from nexios_auth_di.passwords.service import PasswordService
    from nexios_auth_di.policies import (
        Access,
        AllowAll,
        Check,
        DenyAll,
        HasAllPermissions,
        HasAnyPermission,
        HasPermission,
        IsAuthenticated,
        Policy,
    )
    from nexios_auth_di.routes.handlers import auth_router
    from nexios_auth_di.routes.users import (
        MemoryUserRepository,
        UserRecord,
        UserRepository,
        user_loader_for,
    )
    from nexios_auth_di.routes.users_sqlite import SqliteUserRepository
    from nexios_auth_di.sessions.csrf import csrf_token
    from nexios_auth_di.sessions.middleware import end_other_sessions, login, logout
    from nexios_auth_di.testing import (
        make_test_container,
        override_loader,
        override_policy,
        override_user,
    )
    from nexios_auth_di.tokens.keys import KeyRing
    from nexios_auth_di.tokens.service import TokenService
    from nexios_auth_di.tokens.verifier import TokenVerifier
    from nexios_auth_di.websockets import ensure_still_valid
