"""Builders the container calls. Kept apart so ``container.py`` reads as a wiring map.

Each builder imports its service lazily and turns missing or bad configuration into a
``ConfigurationError`` that names the key to set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nexios_auth_di.authenticator import call_loader
from nexios_auth_di.base import AuthenticationBackend
from nexios_auth_di.exceptions import ConfigurationError

__all__ = [
    "attribute",
    "build_api_key_service",
    "build_backends",
    "build_event_sink",
    "build_key_ring",
    "build_login_throttle",
    "build_password_service",
    "build_stores",
    "build_token_service",
]

BACKEND_NAMES = ("jwt", "session", "api_key")


def attribute(obj: Any, name: str) -> Any:
    return getattr(obj, name)


def _section(config: Any, name: str) -> Mapping[str, Any]:
    value = config.get(name) if isinstance(config, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def build_stores(config: Mapping[str, Any], clock: Callable[[], float]) -> Any:
    from nexios_auth_di.stores.factory import build_stores as build

    store = _section(config, "store")
    return build(
        {
            "stores": config.get("stores", "memory"),
            "sqlite_path": store.get("sqlite_path"),
            "redis_url": store.get("redis_url"),
            "namespace": store.get("namespace", "nxauth"),
            "revocation_cache": store.get("revocation_cache", False),
            "revocation_max_staleness": store.get("revocation_max_staleness"),
        },
        clock=clock,
    )


def build_key_ring(jwt: Mapping[str, Any] | None) -> Any:
    from nexios_auth_di.tokens.keys import KeyRing

    jwt = jwt or {}
    if not jwt.get("secret_key") and not jwt.get("keys"):
        raise ConfigurationError(
            "jwt.secret_key (or jwt.keys) is not set: load a profile from containers/ or "
            "container.config.from_dict({'jwt': {'secret_key': ...}})"
        )
    return KeyRing.from_config(jwt)


def build_token_service(
    key_ring: Any,
    jwt: Mapping[str, Any] | None,
    *,
    revocations: Any,
    families: Any,
    clock: Callable[[], float],
) -> Any:
    from nexios_auth_di.tokens.service import TokenService

    jwt = jwt or {}
    return TokenService(
        key_ring,
        revocations=revocations,
        families=families,
        issuer=jwt.get("issuer"),
        audience=jwt.get("audience"),
        access_ttl=int(jwt.get("access_ttl", 900)),
        refresh_ttl=int(jwt.get("refresh_ttl", 14 * 24 * 3600)),
        leeway=float(jwt.get("leeway", 0)),
        clock=clock,
        cache_size=int(jwt.get("cache_size", 4096)),
    )


def build_password_service(passwords: Mapping[str, Any] | None) -> Any:
    from nexios_auth_di.passwords.profiles import profile_by_name
    from nexios_auth_di.passwords.service import PasswordService

    passwords = passwords or {}
    return PasswordService(
        profile_by_name(str(passwords.get("profile", "rfc9106_low_memory"))),
        min_length=int(passwords.get("min_length", 8)),
    )


def build_api_key_service(
    store: Any, api_key: Mapping[str, Any] | None, clock: Callable[[], float]
) -> Any:
    from nexios_auth_di.apikeys.service import APIKeyService

    return APIKeyService(store, prefix=str((api_key or {}).get("prefix", "nxa")), clock=clock)


def build_login_throttle(config: Mapping[str, Any], clock: Callable[[], float]) -> Any:
    """Login throttle on ``throttle.storage``; defaults to Redis when the stores are Redis,
    so every worker counts the same attempts."""
    from nexios_auth_di.http.throttling import LoginThrottle

    throttle = _section(config, "throttle")
    storage = throttle.get("storage")
    if not storage:
        redis_url = _section(config, "store").get("redis_url")
        storage = redis_url if config.get("stores") == "redis" and redis_url else "memory://"
    per_account = throttle.get("per_account") or (5, 300)
    per_ip = throttle.get("per_ip") or (20, 300)
    return LoginThrottle(
        str(storage),
        per_account=(int(per_account[0]), int(per_account[1])),
        per_ip=(int(per_ip[0]), int(per_ip[1])),
        base_delay=float(throttle.get("base_delay", 1.0)),
        max_delay=float(throttle.get("max_delay", 900.0)),
        clock=clock,
        namespace=str(_section(config, "store").get("namespace") or "nxauth"),
    )


def build_event_sink() -> Any:
    from nexios_auth_di.events import LoggingSink

    return LoggingSink()


def build_backends(
    config: Mapping[str, Any],
    *,
    loader: Callable[[], Callable[[Any], Any]],
    token_service: Callable[[], Any],
    api_key_service: Callable[[], Any],
) -> list[AuthenticationBackend]:
    """Build the ordered backends named by ``config.backends``."""
    from nexios_auth_di.backends import APIKeyBackend, JWTAuthBackend, SessionAuthBackend

    names = config.get("backends") or []
    if isinstance(names, str):
        names = [names]
    unknown = [n for n in names if n not in BACKEND_NAMES]
    if unknown or not names:
        raise ConfigurationError(
            f"backends must be a non-empty list drawn from {BACKEND_NAMES}, got {names!r}"
        )

    async def load(identity: Any) -> Any:
        # looked up per call: container.user_loader.override(...) applies immediately
        return await call_loader(loader(), identity)

    built: list[AuthenticationBackend] = []
    for name in names:
        if name == "jwt":
            jwt = _section(config, "jwt")
            token_service()  # build now: a missing secret fails at install, not per request
            built.append(
                JWTAuthBackend(
                    authenticate_func=load,
                    token_service=token_service,
                    token_prefix=str(jwt.get("prefix", "Bearer")),
                    auth_header_name=str(jwt.get("header", "Authorization")),
                )
            )
        elif name == "session":
            session = _section(config, "session")
            built.append(
                SessionAuthBackend(
                    authenticate_func=load,
                    user_key=str(session.get("user_key", "user_id")),
                    csrf=bool(session.get("csrf", True)),
                    cookie_name=str(session.get("cookie_name", "session")),
                )
            )
        else:
            api_key = _section(config, "api_key")
            built.append(
                APIKeyBackend(
                    key_name=str(api_key.get("header", "X-API-Key")),
                    authenticate_func=load,
                    service=api_key_service,
                )
            )
    return built
