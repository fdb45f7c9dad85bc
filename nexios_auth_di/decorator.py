"""``login_required``, ``permission_required`` and ``policy_required``.

Each decorator wraps the handler with ``functools.wraps``; Nexios reads the handler
signature through ``__wrapped__``, so path parameters and the handler's own ``Depend``
parameters keep arriving as keyword arguments. Every wrapper resolves the user through
the per-request cache, so stacking them (in either order) checks everything and still
loads the user once. Nexios's own decorators drop the outer check when stacked; these
don't, because none of them replaces the other's state.

Permission checks go through the container's policy providers when ``install()`` is in
use, so tests can override what "admin" means without touching handlers.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from nexios_auth_di.base import is_authenticated
from nexios_auth_di.dependencies import require_user, resolve_user
from nexios_auth_di.exceptions import ConfigurationError, PermissionDenied
from nexios_auth_di.logs import get_logger
from nexios_auth_di.policies import Access, HasAnyPermission, Policy, evaluate
from nexios_auth_di.request_auth import CONTAINER_KEY, request_auth

logger = get_logger("nexios_auth_di")

__all__ = ["authorize", "login_required", "permission_required", "policy_required"]

H = TypeVar("H", bound=Callable[..., Any])
PolicySource = Callable[[Any], Policy]  # request -> policy, looked up per request

#: attribute listing what a wrapped handler requires (read by install() for OpenAPI)
REQUIREMENTS_ATTR = "__nexios_auth_requirements__"


def _guard(handler: H, requirement: str, policy_for: PolicySource | None) -> H:
    if not callable(handler):
        raise ConfigurationError(f"{requirement} decorates a handler, got {handler!r}")
    is_async = inspect.iscoroutinefunction(inspect.unwrap(handler)) or (
        inspect.iscoroutinefunction(handler)
    )

    @functools.wraps(handler)
    async def wrapper(request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        user = await require_user(request, response)
        if policy_for is not None:
            policy = policy_for(request)
            if not await _allowed(policy, Access(user, request)):
                raise PermissionDenied(reason=f"policy {policy!r} denied")
        if is_async:
            return await handler(request, response, *args, **kwargs)
        from nexios.utils.concurrency import run_in_threadpool

        return await run_in_threadpool(handler, request, response, *args, **kwargs)

    previous: list[str] = list(getattr(handler, REQUIREMENTS_ATTR, ()))
    setattr(wrapper, REQUIREMENTS_ATTR, [requirement, *previous])
    return wrapper  # type: ignore[return-value]


async def _allowed(policy: Policy, access: Access) -> bool:
    """Evaluate, failing closed: a policy that crashes denies (and is logged)."""
    try:
        return await evaluate(policy, access)
    except ConfigurationError:
        raise
    except Exception:
        logger.exception("policy %r raised; denying", policy)
        return False


def login_required(handler: H) -> H:
    """Anonymous callers get a 401 with this app's ``WWW-Authenticate`` challenge."""
    return _guard(handler, "login", None)


def _container_of(request: Any) -> Any:
    return request.scope.get(CONTAINER_KEY)


def permission_required(permissions: str | Sequence[str]) -> Callable[[H], H]:
    """``"admin"`` needs that permission; ``["admin", "moderator"]`` needs any of them.

    Anonymous -> 401, authenticated without it -> 403.
    """
    names: tuple[str, ...] = (permissions,) if isinstance(permissions, str) else tuple(permissions)
    default = HasAnyPermission(*names)  # validates eagerly: mistakes fail at import

    def policy_for(request: Any) -> Policy:
        container = _container_of(request)
        if container is None:
            return default
        policy: Policy = container.permission_policy(*names)
        return policy

    def decorate(handler: H) -> H:
        return _guard(handler, "permission:" + "|".join(names), policy_for)

    return decorate


def policy_required(policy: str | Policy) -> Callable[[H], H]:
    """A named policy from the container (``container.policies``), or a policy object."""

    def policy_for(request: Any) -> Policy:
        if isinstance(policy, Policy):
            return policy
        return _named_policy(_container_of(request), policy)

    label = f"policy:{policy}" if isinstance(policy, str) else f"policy-object:{policy!r}"

    def decorate(handler: H) -> H:
        return _guard(handler, label, policy_for)

    return decorate


def _named_policy(container: Any, name: str) -> Policy:
    if container is None:
        raise ConfigurationError(f"named policy {name!r} needs install(app, container)")
    policies = container.policies()
    found = policies.get(name)
    if not isinstance(found, Policy):
        raise ConfigurationError(f"no policy named {name!r} in container.policies")
    return found


async def authorize(request: Any, policy: str | Policy, obj: Any = None) -> Any:
    """Object-level check inside a handler: ``await authorize(request, "can_edit", doc)``.

    Returns the user when allowed; raises 401 for anonymous callers and 403 otherwise.
    """
    if isinstance(policy, str):
        policy = _named_policy(_container_of(request), policy)
    user = await resolve_user(request)
    if await _allowed(policy, Access(user, request, obj)):
        return user
    if not is_authenticated(user):
        state = request_auth(request.scope)
        if state is not None:
            raise state.unauthenticated()
        await require_user(request)
    raise PermissionDenied(reason=f"policy {policy!r} denied")
