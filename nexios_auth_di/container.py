"""``AuthContainer``: the library's composition root.

Everything stateful is a provider here, so an app (or a test) swaps any part with
``container.<name>.override(...)``. Backends and the authenticator hold *providers*,
not instances, of the loader and the services: an override made after they were built
still applies on the next request.

Profiles load with ``container.config.from_yaml(profile_path("development"))`` (or any
path); ``settings`` parses and validates the config once, and every default lives in
``config.Settings``.

Lifetime: building a provider opens nothing; connections, the revocation cache's task
and the hashing pool open on first use. ``await shutdown(container)`` closes what was
opened (the stores, the login throttle, the password service) and nothing else: it is
idempotent, safe when nothing was built, bounded by a timeout per part, and logs instead
of raising. ``install()`` runs ``startup`` and ``shutdown`` on the app's lifespan.
"""

from __future__ import annotations

import time
from typing import Any

from dependency_injector import containers, providers

from nexios_auth_di import factories
from nexios_auth_di.authenticator import Authenticator
from nexios_auth_di.lifetimes import CLOSE_TIMEOUT, Lifetimes, owned
from nexios_auth_di.logs import get_logger
from nexios_auth_di.policies import HasAnyPermission

__all__ = ["AuthContainer", "shutdown", "startup"]

logger = get_logger("nexios_auth_di")


class AuthContainer(containers.DeclarativeContainer):
    """Providers for every part of authentication. The app must supply ``user_loader``."""

    config = providers.Configuration(strict=True)
    #: ``config`` parsed into typed, validated settings (see ``config.Settings``)
    settings = providers.Singleton(factories.load_settings, config)
    clock = providers.Object(time.time)

    #: the app's callable ``identity -> user | None`` (sync or async)
    user_loader: providers.Dependency[Any] = providers.Dependency()
    #: set by ``testing.override_user``: every request sees this user
    user_override: providers.Object[Any] = providers.Object(None)

    #: what the container built that holds something open (see ``lifetimes.py``)
    lifetimes = providers.Singleton(Lifetimes)
    stores = providers.Singleton(
        owned, lifetimes, "stores", factories.build_stores, settings, clock
    )
    revocation_store = providers.Callable(factories.attribute, stores, "revocations")
    refresh_family_store = providers.Callable(factories.attribute, stores, "families")
    session_store = providers.Callable(factories.attribute, stores, "sessions")
    api_key_store = providers.Callable(factories.attribute, stores, "api_keys")
    #: single-use state: reset-token spends, TOTP replay marks, MFA tokens, challenges
    one_time_store = providers.Callable(factories.attribute, stores, "once")
    #: per-user records: TOTP, recovery codes, passkeys, linked identities, devices
    credential_store = providers.Callable(factories.attribute, stores, "credentials")

    key_ring = providers.Singleton(factories.build_key_ring, settings)
    token_service = providers.Singleton(
        factories.build_token_service,
        key_ring,
        settings,
        revocations=revocation_store,
        families=refresh_family_store,
        clock=clock,
    )
    password_service = providers.Singleton(
        owned, lifetimes, "password_service", factories.build_password_service, settings
    )
    api_key_service = providers.Singleton(
        factories.build_api_key_service, api_key_store, settings, clock
    )
    #: key of the hash that audit events use for usernames naming no account
    audit_key = providers.Singleton(factories.build_audit_key, settings)
    event_sink = providers.Singleton(factories.build_event_sink)
    login_throttle = providers.Singleton(
        owned, lifetimes, "login_throttle", factories.build_login_throttle, settings, clock, stores
    )
    #: account mails (docs/accounts.md): the sender, its templates, the link tokens, and
    #: the tasks that send without holding up a response (drained at shutdown)
    email_sender = providers.Singleton(factories.build_email_sender, settings)
    email_templates = providers.Singleton(factories.build_email_templates, settings)
    account_tokens = providers.Singleton(factories.build_account_tokens, settings, clock)
    background = providers.Singleton(owned, lifetimes, "background", factories.build_background)
    #: one client per ``oidc.providers`` entry (discovery and JWKS caches; routes/oidc.py)
    oidc_clients = providers.Singleton(factories.build_oidc_clients, settings, clock)
    #: where the app keeps its users, for the ready-made routes (see routes.py)
    user_repository: providers.Dependency[Any] = providers.Dependency()

    #: the cookies of ``jwt.transport: cookie | both`` (``None`` for header-only)
    token_cookies = providers.Singleton(factories.build_token_cookies, settings)
    backends = providers.Singleton(
        factories.build_backends,
        settings,
        loader=user_loader.provider,
        token_service=token_service.provider,
        api_key_service=api_key_service.provider,
        token_cookies=token_cookies,
    )
    authenticator = providers.Singleton(
        Authenticator, backends=backends.provider, override=user_override.provider
    )

    #: ``permission_required(...)`` asks this factory for its policy
    permission_policy = providers.Factory(HasAnyPermission)
    #: named policies for ``policy_required("name")`` / ``authorize(request, "name", obj)``
    policies = providers.Dict()


async def startup(container: Any) -> None:
    """Warm what the first login would pay for: the dummy hash that makes an unknown
    username cost one verify, like a wrong password. Only for apps that keep users
    (``user_repository`` set). Opens no store: those open on first use, so an unreachable
    database fails requests closed (503) instead of failing the boot."""
    await _check_durability(container)
    if not container.user_repository.overridden:
        return
    try:
        await container.password_service().warm_up()
    except Exception:  # a warm-up is an optimisation: never fail the boot over it
        logger.warning("warming up the password service failed", exc_info=True)


async def _check_durability(container: Any) -> None:
    """Warn once at start-up when Redis would forget revocations on restart."""
    if container.settings().stores != "redis":
        return
    database = getattr(container.stores(), "database", None)
    probe = getattr(database, "durability_problem", None)
    if probe is None:
        return
    problem = await probe()
    if problem is not None:
        logger.warning(
            "Redis store: %s. Set appendonly yes and appendfsync everysec "
            "(see docs/deployment.md).",
            problem,
        )


async def shutdown(container: Any, *, bound: float = CLOSE_TIMEOUT) -> None:
    """Close everything ``container`` opened; the one way to release it.

    Closes only what was built (never builds or opens anything to close it), newest
    first, each part within ``bound`` seconds; failures are logged, not raised.
    Idempotent, and the parts stay usable: the next use reopens them (another lifespan).
    """
    failed = await container.lifetimes().aclose(bound=bound)
    if failed:
        logger.warning("shutdown left open: %s", ", ".join(failed))
