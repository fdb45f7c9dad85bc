"""What an API key may reach: its scopes bound it on every route (least privilege).

A container-form key authenticates as a ``ScopedUser``, its owner seen through the key.
The scopes bound the key everywhere, not only on ``permission_required`` routes:

* a safe method (GET, HEAD, OPTIONS, TRACE) on a route that names no scope: any valid key;
* a route with ``require_scopes(...)`` (decorator or ``Depend``): the key holds them all;
* ``permission_required(...)``: the key's scopes intersected with its owner's permissions;
* any other unsafe method (``Depend(current_user)``, ``optional_user``, ``login_required``,
  ``policy_required``): 403. A key made with ``scopes: []`` cannot write through a route
  that only asks for a login.

JWT and session callers are unaffected. A guide-form key (the app's loader returns its
own user) is not a ``ScopedUser``; such a loader may return ``ScopedUser(user, scopes)``
to opt in.
"""

from __future__ import annotations

from collections.abc import Collection, MutableMapping
from typing import Any

from nexios_auth_di.base import user_has_permission
from nexios_auth_di.exceptions import ConfigurationError, PermissionDenied
from nexios_auth_di.http.asgi import is_safe_method, method

__all__ = ["SCOPES_CHECKED", "ScopedUser", "check_key_reach", "check_key_scopes", "scope_names"]

#: set in the request's ASGI scope once the route's own requirement has judged the key
SCOPES_CHECKED = "nexios_auth_di.key_scopes_checked"


class ScopedUser:
    """The key owner, seen through the key: a permission needs both the key's scope and
    the owner's own grant, so a key can never do more than its owner."""

    __slots__ = ("scopes", "user")

    def __init__(self, user: Any, scopes: Collection[str]) -> None:
        self.user = user
        self.scopes = frozenset(scopes)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset(p for p in self.scopes if user_has_permission(self.user, p))

    def has_permission(self, permission: str) -> bool:
        return permission in self.scopes and user_has_permission(self.user, permission)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)

    def __repr__(self) -> str:
        return f"ScopedUser({self.user!r}, scopes={sorted(self.scopes)!r})"


def scope_names(scopes: tuple[str, ...]) -> frozenset[str]:
    """Validated at import time: at least one non-empty name without padding."""
    if not scopes or any(not isinstance(s, str) or not s or s != s.strip() for s in scopes):
        raise ConfigurationError("require_scopes() needs one or more non-empty scope names")
    return frozenset(scopes)


def check_key_reach(scope: MutableMapping[str, Any], user: Any) -> None:
    """403 for a scoped key on an unsafe method of a route that named no scope."""
    if (
        isinstance(user, ScopedUser)
        and not scope.get(SCOPES_CHECKED)
        and not is_safe_method(method(scope))
    ):
        raise PermissionDenied(reason="api_key_route_names_no_scope")


def check_key_scopes(
    scope: MutableMapping[str, Any], user: Any, needed: frozenset[str] | None
) -> None:
    """The route's own requirement: a scoped key must hold every scope in ``needed``
    (``None``: a permission check follows and judges the key). Marks the request so
    ``check_key_reach`` lets it through."""
    if isinstance(user, ScopedUser) and needed is not None and not needed <= user.scopes:
        raise PermissionDenied(reason="api_key_missing_scope")
    scope[SCOPES_CHECKED] = True
