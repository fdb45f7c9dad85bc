"""Builders the container calls. Kept apart so ``container.py`` reads as a wiring map.

Each builder imports its service lazily and turns missing or bad configuration into a
``ConfigurationError`` that names the key to set.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from nexios_auth_di.base import AuthenticationBackend
from nexios_auth_di.exceptions import ConfigurationError

if TYPE_CHECKING:  # config loads on first use: its dataclasses cost ~8 ms to import
    from nexios_auth_di.config import Settings


def load_settings(raw: Mapping[str, Any] | None) -> Settings:
    from nexios_auth_di.config import Settings

    return Settings.load(raw)


def attribute(obj: Any, name: str) -> Any:
    return getattr(obj, name)


def build_stores(settings: Settings, clock: Callable[[], float]) -> Any:
    from nexios_auth_di.stores.factory import build_stores as build

    store = settings.store
    return build(
        {
            "stores": settings.stores,
            "sqlite_path": store.sqlite_path,
            "redis_url": store.redis_url,
            "namespace": store.namespace,
            "revocation_cache": store.revocation_cache,
            "revocation_max_staleness": store.revocation_max_staleness,
            "redis_socket_timeout": store.redis_socket_timeout,
            "redis_cluster": store.redis_cluster,
            "database_url": store.database_url,
            "database_create_schema": store.database_create_schema,
        },
        clock=clock,
    )


def build_key_ring(settings: Settings) -> Any:
    from nexios_auth_di.tokens.keys import KeyRing

    if not settings.jwt.secret_key and not settings.jwt.keys:
        raise ConfigurationError(
            "jwt.secret_key (or jwt.keys) is not set: load a profile "
            "(container.config.from_yaml(profile_path('development'))) or "
            "container.config.from_dict({'jwt': {'secret_key': ...}})"
        )
    return KeyRing.from_config(settings.jwt.key_config())


def build_token_service(
    key_ring: Any,
    settings: Settings,
    *,
    revocations: Any,
    families: Any,
    clock: Callable[[], float],
) -> Any:
    from nexios_auth_di.tokens.service import TokenService

    jwt = settings.jwt
    return TokenService(
        key_ring,
        revocations=revocations,
        families=families,
        issuer=jwt.issuer,
        audience=jwt.audience,
        access_ttl=jwt.access_ttl,
        refresh_ttl=jwt.refresh_ttl,
        refresh_absolute_ttl=jwt.refresh_absolute_ttl,
        max_families_per_user=jwt.max_families_per_user,
        leeway=jwt.leeway,
        clock=clock,
        cache_size=jwt.cache_size,
    )


def build_password_service(settings: Settings) -> Any:
    from nexios_auth_di.passwords.profiles import profile_by_name
    from nexios_auth_di.passwords.service import PasswordService

    passwords = settings.passwords
    return PasswordService(
        profile_by_name(passwords.profile),
        min_length=passwords.min_length,
        max_concurrency=passwords.max_concurrency,
        queue_depth=passwords.queue_depth,
    )


def build_api_key_service(store: Any, settings: Settings, clock: Callable[[], float]) -> Any:
    from nexios_auth_di.apikeys.service import APIKeyService

    keys = settings.api_key
    return APIKeyService(
        store,
        prefix=keys.prefix,
        clock=clock,
        default_ttl=keys.default_ttl,
        max_ttl=keys.max_ttl,
        max_per_user=keys.max_per_user,
    )


def build_login_throttle(settings: Settings, clock: Callable[[], float], stores: Any) -> Any:
    """Login throttle on ``throttle.storage``; by default next to the stores (their SQLite
    file or Redis), so every worker counts the same attempts."""
    from nexios_auth_di.throttle import LoginThrottle, limiter_for

    throttle = settings.throttle
    limiter = limiter_for(throttle.storage, stores, namespace=settings.store.namespace, clock=clock)
    return LoginThrottle(
        limiter,
        per_account=throttle.per_account,
        per_ip=throttle.per_ip,
        per_account_ip=throttle.per_account_ip,
        register_per_ip=throttle.register_per_ip,
        base_delay=throttle.base_delay,
        max_delay=throttle.max_delay,
        clock=clock,
        namespace=settings.store.namespace,
    )


def build_audit_key(settings: Settings) -> bytes:
    """Derived from the JWT secret when there is one, so every worker hashes an unknown
    username the same way; else random per process (still never the name itself)."""
    secret = settings.jwt.secret_key or settings.session.secret_key
    if secret:
        return hmac.new(secret.encode(), b"nexios_auth_di.audit.username", "sha256").digest()
    return secrets.token_bytes(32)


def build_token_cookies(settings: Settings) -> Any:
    """``TokenCookies`` when ``jwt.transport`` carries tokens in cookies, else ``None``."""
    jwt = settings.jwt
    if jwt.transport == "header":
        return None
    from nexios_auth_di.http.token_cookies import TokenCookies, csrf_key

    return TokenCookies.build(
        key=csrf_key(jwt.secret_key, settings.session.secret_key),
        access_ttl=jwt.access_ttl,
        refresh_ttl=jwt.refresh_ttl,
        refresh_path=jwt.refresh_cookie_path,
        secure=jwt.cookie_secure,
        samesite=jwt.cookie_samesite,
    )


def build_event_sink() -> Any:
    from nexios_auth_di.events import LoggingSink

    return LoggingSink()


def build_backends(
    settings: Settings,
    *,
    loader: Callable[[], Callable[[Any], Any]],
    token_service: Callable[[], Any],
    api_key_service: Callable[[], Any],
    token_cookies: Any = None,
) -> list[AuthenticationBackend]:
    """Build the ordered backends named by ``settings.backends``."""
    from nexios_auth_di.backends import APIKeyBackend, JWTAuthBackend, SessionAuthBackend

    def load(identity: Any) -> Any:
        # looked up per call: container.user_loader.override(...) applies immediately.
        # Returns what the app's loader returns; the backend's call_loader awaits it if
        # needed (one wrapper per request, not two).
        return loader()(identity)

    built: list[AuthenticationBackend] = []
    for name in settings.backends:
        if name == "jwt":
            token_service()  # build now: a missing secret fails at install, not per request
            built.append(
                JWTAuthBackend(
                    authenticate_func=load,
                    token_service=token_service,
                    token_prefix=settings.jwt.prefix,
                    auth_header_name=settings.jwt.header,
                    cookies=token_cookies,
                    header_transport=settings.jwt.transport != "cookie",
                )
            )
        elif name == "session":
            session = settings.session
            built.append(
                SessionAuthBackend(
                    authenticate_func=load,
                    user_key=session.user_key,
                    csrf=session.csrf,
                    cookie_name=session.cookie_name,
                    websocket_origins=session.websocket_origins,
                )
            )
        else:
            built.append(
                APIKeyBackend(
                    key_name=settings.api_key.header,
                    authenticate_func=load,
                    service=api_key_service,
                )
            )
    return built


def build_email_sender(settings: Settings) -> Any:
    """``email.backend``: memory (tests), console (development; the body is withheld in
    the production profile) or smtp (aiosmtplib)."""
    from nexios_auth_di.accounts.email import (
        ConsoleEmailSender,
        MemoryEmailSender,
        SmtpEmailSender,
    )

    mail = settings.email
    if mail.backend == "memory":
        return MemoryEmailSender()
    if mail.backend == "console":
        return ConsoleEmailSender(reveal=settings.profile != "production")
    return SmtpEmailSender(
        mail.host,
        mail.port,
        starttls=mail.starttls,
        use_tls=mail.use_tls,
        username=mail.username,
        password=mail.password,
        timeout=mail.timeout,
    )


def build_email_templates(settings: Settings) -> Any:
    from nexios_auth_di.accounts.templates import EmailTemplates

    return EmailTemplates.from_dir(settings.email.templates_dir)


def build_account_tokens(settings: Settings, clock: Callable[[], float]) -> Any:
    from nexios_auth_di.accounts.tokens import AccountTokens

    return AccountTokens.from_settings(settings, clock)


def build_background() -> Any:
    from nexios_auth_di.accounts.email import Background

    return Background()


def build_oidc_clients(settings: Settings, clock: Callable[[], float]) -> dict[str, Any]:
    """One ``oidc.client.ProviderClient`` per configured provider (needs the oidc extra)."""
    if not settings.oidc.providers:
        return {}
    from nexios_auth_di.oidc.client import ProviderClient

    oidc = settings.oidc
    return {name: ProviderClient(name, conf, oidc, clock) for name, conf in oidc.providers.items()}
