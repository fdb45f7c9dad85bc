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
from typing import Any, TypeVar, overload

from nexios.dependencies import Context, Depend

from nexios_auth_di.apikeys.scopes import (
    ScopedUser,
    check_key_reach,
    check_key_scopes,
    scope_names,
)
from nexios_auth_di.base import is_authenticated
from nexios_auth_di.config import login_url_problem
from nexios_auth_di.dependencies import require_user, resolve_user
from nexios_auth_di.exceptions import ConfigurationError, PermissionDenied
from nexios_auth_di.logs import get_logger
from nexios_auth_di.policies import Access, HasAnyPermission, Policy, evaluate
from nexios_auth_di.request_auth import CONTAINER_KEY, request_auth

logger = get_logger("nexios_auth_di")

__all__ = [
    "authorize",
    "login_required",
    "permission_required",
    "policy_required",
    "require_scopes",
]

H = TypeVar("H", bound=Callable[..., Any])
PolicySource = Callable[[Any], Policy]  # request -> policy, looked up per request

#: attribute listing what a wrapped handler requires (read by install() for OpenAPI)
REQUIREMENTS_ATTR = "__nexios_auth_requirements__"


def _guard(
    handler: H,
    requirement: str,
    policy_for: PolicySource | None,
    gate: Callable[..., Any] | None = None,
    login_url: str | None = None,
) -> H:
    """``gate``: a dependency that judges an API key by the route's own requirement
    (``apikeys/scopes.py``); Nexios resolves it before the handler's ``Depend``s. Without
    one, a scoped key on an unsafe method is refused (the route names no scope).
    ``login_url``: where an anonymous browser is sent (``http/login_redirect.py``)."""
    if not callable(handler):
        raise ConfigurationError(f"{requirement} decorates a handler, got {handler!r}")
    is_async = inspect.iscoroutinefunction(inspect.unwrap(handler)) or (
        inspect.iscoroutinefunction(handler)
    )
    gate_name = ""

    @functools.wraps(handler)
    async def wrapper(request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop(gate_name, None)
        user = await require_user(request, response, login_url=login_url)
        if gate is None and isinstance(user, ScopedUser):
            check_key_reach(request.scope, user)
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
    if gate is not None:
        gate_name = _add_gate(wrapper, handler, gate)
    return wrapper  # type: ignore[return-value]


def _add_gate(wrapper: Any, handler: Any, gate: Callable[..., Any]) -> str:
    """Give ``wrapper`` the handler's signature plus ``gate`` as its first dependency.

    Nexios resolves ``Depend`` parameters in signature order, so the gate judges an API
    key before ``Depend(current_user)`` would refuse it. The handler's own parameters
    become keyword-only (Nexios passes them by name); the wrapper drops the gate's value.
    """
    signature = inspect.signature(handler)
    params = list(signature.parameters.values())
    head, rest = params[:2], params[2:]
    name = f"_nexios_auth_gate{sum(p.name.startswith('_nexios_auth_gate') for p in rest)}"
    keyword = inspect.Parameter.KEYWORD_ONLY
    star = [p for p in rest if p.kind is inspect.Parameter.VAR_POSITIONAL]
    star_star = [p for p in rest if p.kind is inspect.Parameter.VAR_KEYWORD]
    named = [p.replace(kind=keyword) for p in rest if p not in star and p not in star_star]
    first = inspect.Parameter(name, keyword, default=Depend(gate))
    wrapper.__signature__ = signature.replace(parameters=[*head, *star, first, *named, *star_star])
    return name


def _mark_permission_route(ctx: Context = Context()) -> None:
    """The permission check that follows judges a key (its scopes ∩ owner permissions)."""
    check_key_scopes(ctx.request.scope, None, None)


def require_scopes(*scopes: str) -> Any:
    """What an API key needs here: ``@require_scopes("notes:write")`` on a handler, or
    ``user=Depend(require_scopes("notes:write"))`` (returns the user, like
    ``current_user``). A scoped key must hold every named scope; JWT and session callers
    only need to be logged in. Anonymous -> 401, a key without the scopes -> 403.
    """
    needed = scope_names(scopes)

    async def scoped_user(ctx: Context = Context()) -> Any:
        request = ctx.request
        user = await require_user(request)
        check_key_scopes(request.scope, user, needed)
        return user

    label = "scopes:" + "|".join(sorted(needed))

    def require(handler: Any = None, /, *, user: Any = Depend(scoped_user)) -> Any:
        # As a dependency Nexios calls require(user=...); as a decorator, require(handler).
        if handler is None:
            return user
        return _guard(handler, label, None, scoped_user)

    return require


async def _allowed(policy: Policy, access: Access) -> bool:
    """Evaluate, failing closed: a policy that crashes denies (and is logged)."""
    try:
        return await evaluate(policy, access)
    except ConfigurationError:
        raise
    except Exception:
        logger.exception("policy %r raised; denying", policy)
        return False


@overload
def login_required(handler: H, /) -> H: ...
@overload
def login_required(*, login_url: str | None = None) -> Callable[[H], H]: ...


def login_required(handler: Any = None, /, *, login_url: str | None = None) -> Any:
    """Anonymous callers get a 401 with this app's ``WWW-Authenticate`` challenge; an
    anonymous browser is sent to the login page (302, ``?next=``) when ``login_url`` (or
    ``session.login_url``) is set. ``@login_required`` or ``@login_required(login_url=...)``.
    """
    if handler is None:
        _check_login_url(login_url)
        return lambda h: _guard(h, "login", None, login_url=login_url)
    return _guard(handler, "login", None)


def _check_login_url(login_url: Any) -> None:
    problem = login_url_problem(login_url)
    if problem:
        raise ConfigurationError(f"login_url {problem}, got {login_url!r}")


def _container_of(request: Any) -> Any:
    return request.scope.get(CONTAINER_KEY)


def permission_required(
    permissions: str | Sequence[str], *, login_url: str | None = None
) -> Callable[[H], H]:
    """``"admin"`` needs that permission; ``["admin", "moderator"]`` needs any of them.

    Anonymous -> 401 (a browser: 302 to ``login_url`` or ``session.login_url`` when set),
    authenticated without it -> 403.
    """
    _check_login_url(login_url)
    names: tuple[str, ...] = (permissions,) if isinstance(permissions, str) else tuple(permissions)
    default = HasAnyPermission(*names)  # validates eagerly: mistakes fail at import

    def policy_for(request: Any) -> Policy:
        container = _container_of(request)
        if container is None:
            return default
        policy: Policy = container.permission_policy(*names)
        return policy

    def decorate(handler: H) -> H:
        label = "permission:" + "|".join(names)
        return _guard(handler, label, policy_for, _mark_permission_route, login_url)

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
    if isinstance(user, ScopedUser):  # an object check names no scope: as policy_required
        check_key_reach(request.scope, user)
    if await _allowed(policy, Access(user, request, obj)):
        return user
    if not is_authenticated(user):
        state = request_auth(request.scope)
        if state is not None:
            raise state.unauthenticated()
        await require_user(request)
    raise PermissionDenied(reason=f"policy {policy!r} denied")
