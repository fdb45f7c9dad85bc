"""``AuthContainer``: the library's composition root.

Everything stateful is a provider here, so an app (or a test) swaps any part with
``container.<name>.override(...)``. Backends and the authenticator hold *providers*,
not instances, of the loader and the services: an override made after they were built
still applies on the next request.

Profiles in ``containers/*.yaml`` load with ``container.config.from_yaml(path)``; the
defaults below keep a bare container usable.
"""

from __future__ import annotations

import time
from typing import Any

from dependency_injector import containers, providers

from nexios_auth_di import factories
from nexios_auth_di.authenticator import Authenticator
from nexios_auth_di.policies import HasAnyPermission

__all__ = ["DEFAULTS", "AuthContainer"]

DEFAULTS: dict[str, Any] = {
    "backends": ["jwt"],
    "jwt": {
        "secret_key": None,
        "algorithm": "HS256",
        "issuer": None,
        "audience": None,
        "access_ttl": 900,
        "refresh_ttl": 14 * 24 * 3600,
        "leeway": 0,
        "header": "Authorization",
        "prefix": "Bearer",
        "cache_size": 4096,
    },
    "session": {
        "secret_key": None,
        "max_age": 14 * 24 * 3600,
        "cookie_name": "session",
        "user_key": "user_id",
        "csrf": True,
    },
    "api_key": {"header": "X-API-Key", "prefix": "nxa"},
    "stores": "memory",
    "store": {"sqlite_path": "nexios_auth.sqlite3", "redis_url": None, "namespace": "nxauth"},
    "passwords": {"profile": "rfc9106_low_memory", "min_length": 8},
    "throttle": {
        "storage": None,  # None: memory://, or redis://... when stores is redis
        "per_account": [5, 300],
        "per_ip": [20, 300],
        "base_delay": 1.0,
        "max_delay": 900.0,
        "trusted_proxies": [],
    },
}


class AuthContainer(containers.DeclarativeContainer):
    """Providers for every part of authentication. The app must supply ``user_loader``."""

    config = providers.Configuration(default=DEFAULTS)
    clock = providers.Object(time.time)

    #: the app's callable ``identity -> user | None`` (sync or async)
    user_loader: providers.Dependency[Any] = providers.Dependency()
    #: set by ``testing.override_user``: every request sees this user
    user_override: providers.Object[Any] = providers.Object(None)

    stores = providers.Singleton(factories.build_stores, config, clock)
    revocation_store = providers.Callable(factories.attribute, stores, "revocations")
    refresh_family_store = providers.Callable(factories.attribute, stores, "families")
    session_store = providers.Callable(factories.attribute, stores, "sessions")
    api_key_store = providers.Callable(factories.attribute, stores, "api_keys")

    key_ring = providers.Singleton(factories.build_key_ring, config.jwt)
    token_service = providers.Singleton(
        factories.build_token_service,
        key_ring,
        config.jwt,
        revocations=revocation_store,
        families=refresh_family_store,
        clock=clock,
    )
    password_service = providers.Singleton(factories.build_password_service, config.passwords)
    api_key_service = providers.Singleton(
        factories.build_api_key_service, api_key_store, config.api_key, clock
    )
    event_sink = providers.Singleton(factories.build_event_sink)
    login_throttle = providers.Singleton(factories.build_login_throttle, config, clock)
    #: where the app keeps its users, for the ready-made routes (see routes.py)
    user_repository: providers.Dependency[Any] = providers.Dependency()

    backends = providers.Singleton(
        factories.build_backends,
        config,
        loader=user_loader.provider,
        token_service=token_service.provider,
        api_key_service=api_key_service.provider,
    )
    authenticator = providers.Singleton(
        Authenticator, backends=backends.provider, override=user_override.provider
    )

    #: ``permission_required(...)`` asks this factory for its policy
    permission_policy = providers.Factory(HasAnyPermission)
    #: named policies for ``policy_required("name")`` / ``authorize(request, "name", obj)``
    policies = providers.Dict()
