"""User models and the backend contract, in the shape the Nexios guide describes.

``UnauthenticatedUser`` is deliberately *truthy*: Nexios's ``request.user`` raises when the
scope user is falsy, so an anonymous user must still be an object that tests true.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from nexios_auth_di.exceptions import ContractError
from nexios_auth_di.http.asgi import Scope

if TYPE_CHECKING:
    from nexios.http import Request, Response

__all__ = [
    "AuthenticationBackend",
    "BaseUser",
    "SimpleUser",
    "UnauthenticatedUser",
    "is_authenticated",
    "user_has_permission",
]


class BaseUser:
    """Base for app users. Subclasses define ``is_authenticated`` and ``get_display_name``.

    Not an ABC: the guide's own examples subclass it without overriding every method.
    """

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_display_name(self) -> str:
        return str(getattr(self, "username", "") or self.identity)

    @property
    def identity(self) -> str:
        """The stable id used for audit events, throttling keys and token subjects."""
        return str(getattr(self, "id", ""))

    def has_permission(self, permission: str) -> bool:
        perms = getattr(self, "permissions", None)
        return perms is not None and permission in perms


class SimpleUser(BaseUser):
    """A ready-made user: an id, a display name and a set of permissions."""

    __slots__ = ("id", "permissions", "username")

    def __init__(
        self,
        id: str | int,
        username: str | None = None,
        permissions: Iterable[str] = (),
    ) -> None:
        self.id = id
        self.username = username if username is not None else str(id)
        self.permissions: frozenset[str] = frozenset(permissions)

    def get_display_name(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"SimpleUser(id={self.id!r}, username={self.username!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SimpleUser) and (self.id, self.username, self.permissions) == (
            other.id,
            other.username,
            other.permissions,
        )

    def __hash__(self) -> int:
        return hash((self.id, self.username))


class UnauthenticatedUser(BaseUser):
    """The anonymous user. Truthy on purpose (see module docstring)."""

    __slots__ = ()

    #: so policies and templates can read ``user.id`` without a special case
    id = None
    username = ""
    permissions: frozenset[str] = frozenset()

    @property
    def is_authenticated(self) -> bool:
        return False

    def get_display_name(self) -> str:
        return "Anonymous"

    @property
    def identity(self) -> str:
        return ""

    def has_permission(self, permission: str) -> bool:
        return False

    def __repr__(self) -> str:
        return "UnauthenticatedUser()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnauthenticatedUser)

    def __hash__(self) -> int:
        return 0


@runtime_checkable
class _HasPermission(Protocol):
    def has_permission(self, permission: str) -> bool: ...


def is_authenticated(user: object) -> bool:
    """Duck-typed check: apps may return any object from their loader."""
    if user is None:
        return False
    flag = getattr(user, "is_authenticated", True)
    return bool(flag() if callable(flag) else flag)


def user_has_permission(user: object, permission: str) -> bool:
    """Ask the user through ``has_permission`` or, failing that, its ``permissions``."""
    if not is_authenticated(user):
        return False
    if isinstance(user, _HasPermission):
        return bool(user.has_permission(permission))
    perms = getattr(user, "permissions", None)
    return isinstance(perms, Collection) and permission in perms


class AuthenticationBackend:
    """A backend. Custom ones override ``authenticate(request, response)`` and return
    ``(user, "type")`` when they know the caller, ``UnauthenticatedUser()`` or ``None``
    when they do not. Raising an ``HTTPAuthError`` means "a credential was sent and it is
    bad"; the middleware logs it and moves on to the next backend.

    Built-in backends override ``resolve`` instead, which reads the ASGI scope directly
    and skips building a ``Request`` on the hot path.
    """

    #: auth type put in ``scope["auth"]`` and the OpenAPI scheme name
    name: str = "custom"

    async def authenticate(self, request: Request, response: Response | None) -> Any:
        raise NotImplementedError

    async def resolve(
        self, scope: Scope, request: Request | None, response: Response | None
    ) -> tuple[Any, str] | None:
        """Authenticate, normalised to ``(user, type)`` or ``None``."""
        if request is None:
            from nexios.http import Request as _Request

            request = _Request(scope)
        return normalize_result(self, await self.authenticate(request, response))

    def challenge(self, *, invalid: bool = False) -> str | None:
        """The ``WWW-Authenticate`` challenge for a 401; ``invalid`` when a credential of
        this kind was sent and refused (RFC 6750 §3.1 ``error="invalid_token"``).

        RFC 9110 §15.5.2 requires one on every 401, so custom backends get a generic
        challenge named after the backend unless they override this."""
        scheme = "".join(part.capitalize() for part in self.name.replace("-", "_").split("_"))
        return f'{scheme or "Custom"} realm="api"'

    def has_credentials(self, scope: Scope) -> bool:
        """Cheap check: did the client send this backend's credential at all?

        Lets lazy ``request.user`` tell "anonymous" from "not resolved yet" without
        verifying anything. Unknown backends say yes, the safe answer.
        """
        return True

    def openapi_scheme(self) -> tuple[str, Any] | None:
        """``(name, SecurityScheme)`` for OpenAPI, or ``None`` to stay undocumented."""
        return None


def normalize_result(backend: AuthenticationBackend, result: Any) -> tuple[Any, str] | None:
    """Accept the guide's return shapes: ``(user, "type")``, ``UnauthenticatedUser()``,
    ``None``, or a bare authenticated user."""
    if result is None or isinstance(result, UnauthenticatedUser):
        return None
    if isinstance(result, tuple):
        if len(result) != 2:
            raise ContractError(
                f"{type(backend).__name__}.authenticate returned {len(result)} items"
            )
        user, kind = result
        if user is None or not is_authenticated(user):
            return None
        return user, str(kind)
    return (result, backend.name) if is_authenticated(result) else None
