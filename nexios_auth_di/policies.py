"""Authorization policies: small objects that say yes or no, and combine.

A policy is called with an ``Access`` (the user, the request, and optionally the object
being touched) and returns a bool or an awaitable bool, so object-level checks can query
a database through an injected service. ``&``, ``|`` and ``~`` build new policies.
Denial maps to 401 for anonymous callers and 403 for known ones.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from nexios_auth_di.base import is_authenticated, user_has_permission
from nexios_auth_di.exceptions import ConfigurationError

__all__ = [
    "Access",
    "AllowAll",
    "Check",
    "DenyAll",
    "HasAllPermissions",
    "HasAnyPermission",
    "HasPermission",
    "IsAuthenticated",
    "Policy",
    "evaluate",
]


@dataclass(frozen=True, slots=True)
class Access:
    """What a policy decides about."""

    user: Any
    request: Any = None
    obj: Any = None


class Policy:
    """Base class: override ``allows``. Combine with ``&``, ``|`` and ``~``."""

    def allows(self, access: Access) -> bool | Awaitable[bool]:
        raise NotImplementedError

    def __and__(self, other: Policy) -> Policy:
        return _All(self, other)

    def __or__(self, other: Policy) -> Policy:
        return _Any(self, other)

    def __invert__(self) -> Policy:
        return _Not(self)


async def evaluate(policy: Policy, access: Access) -> bool:
    result = policy.allows(access)
    if inspect.isawaitable(result):
        result = await result
    return bool(result)


class _All(Policy):
    def __init__(self, *parts: Policy) -> None:
        self.parts = parts

    async def allows(self, access: Access) -> bool:
        for part in self.parts:
            if not await evaluate(part, access):
                return False
        return True

    def __repr__(self) -> str:
        return " & ".join(map(repr, self.parts)).join("()")


class _Any(Policy):
    def __init__(self, *parts: Policy) -> None:
        self.parts = parts

    async def allows(self, access: Access) -> bool:
        for part in self.parts:
            if await evaluate(part, access):
                return True
        return False

    def __repr__(self) -> str:
        return " | ".join(map(repr, self.parts)).join("()")


class _Not(Policy):
    def __init__(self, inner: Policy) -> None:
        self.inner = inner

    async def allows(self, access: Access) -> bool:
        return not await evaluate(self.inner, access)

    def __repr__(self) -> str:
        return f"~{self.inner!r}"


class AllowAll(Policy):
    def allows(self, access: Access) -> bool:
        return True


class DenyAll(Policy):
    def allows(self, access: Access) -> bool:
        return False


class IsAuthenticated(Policy):
    def allows(self, access: Access) -> bool:
        return is_authenticated(access.user)

    def __repr__(self) -> str:
        return "IsAuthenticated()"


class HasPermission(Policy):
    def __init__(self, permission: str) -> None:
        if not isinstance(permission, str) or not permission:
            raise ConfigurationError("a permission is a non-empty string")
        self.permission = permission

    def allows(self, access: Access) -> bool:
        return user_has_permission(access.user, self.permission)

    def __repr__(self) -> str:
        return f"HasPermission({self.permission!r})"


def _names(permissions: Iterable[str]) -> tuple[str, ...]:
    names = tuple(permissions)
    if not names or not all(isinstance(p, str) and p for p in names):
        raise ConfigurationError("permissions must be a non-empty list of non-empty strings")
    return names


class HasAnyPermission(Policy):
    """Any one of the permissions (the guide's ``permission_required([...])``)."""

    def __init__(self, *permissions: str) -> None:
        self.permissions = _names(permissions)

    def allows(self, access: Access) -> bool:
        return any(user_has_permission(access.user, p) for p in self.permissions)

    def __repr__(self) -> str:
        return f"HasAnyPermission{self.permissions!r}"


class HasAllPermissions(Policy):
    def __init__(self, *permissions: str) -> None:
        self.permissions = _names(permissions)

    def allows(self, access: Access) -> bool:
        return all(user_has_permission(access.user, p) for p in self.permissions)

    def __repr__(self) -> str:
        return f"HasAllPermissions{self.permissions!r}"


class Check(Policy):
    """Wrap a function ``(access) -> bool | Awaitable[bool]`` as a policy, e.g. an
    object-level rule such as ``Check(lambda a: a.obj.owner_id == a.user.id)``."""

    def __init__(self, func: Callable[[Access], bool | Awaitable[bool]], name: str = "") -> None:
        self.func = func
        self.name = name or getattr(func, "__name__", "check")

    def allows(self, access: Access) -> bool | Awaitable[bool]:
        return self.func(access)

    def __repr__(self) -> str:
        return f"Check({self.name})"
