"""API-key backend: a key in a header (``X-API-Key`` by default).

Guide form: ``APIKeyBackend(key_name="X-API-Key", authenticate_func=load_by_key)`` hands
the raw key to the app's function. ``static_keys={key: user}`` is a constant-time
built-in for small deployments. Container form uses ``APIKeyService`` (SHA-256 at rest,
checksum, scopes, expiry, revocation) and loads the key's owner; the user it yields is
limited to the key's scopes (``ScopedUser``; ``apikeys/scopes.py`` says what it may reach).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from nexios_auth_di.apikeys.scopes import ScopedUser
from nexios_auth_di.authenticator import call_loader
from nexios_auth_di.base import AuthenticationBackend
from nexios_auth_di.exceptions import AuthenticationFailed, ConfigurationError
from nexios_auth_di.http.asgi import Scope, has_header, header

if TYPE_CHECKING:
    from nexios.http import Request, Response

    from nexios_auth_di.apikeys.service import APIKeyService

__all__ = ["APIKeyBackend", "ScopedUser"]

MAX_KEY_LENGTH = 512


class APIKeyBackend(AuthenticationBackend):
    name = "api_key"

    def __init__(
        self,
        key_name: str = "X-API-Key",
        authenticate_func: Callable[[Any], Any] | None = None,
        *,
        static_keys: Mapping[str, Any] | None = None,
        service: APIKeyService | Callable[[], APIKeyService] | None = None,
        realm: str = "api",
        scheme_name: str = "apiKeyHeader",
    ) -> None:
        self.key_name = key_name
        self._header = key_name.lower().encode("latin-1")
        self._realm = realm
        self.scheme_name = scheme_name
        self._static = dict(static_keys or {})
        self._loader = authenticate_func
        self._service: Callable[[], APIKeyService] | None = None
        if service is not None:
            if authenticate_func is None:
                raise ConfigurationError("APIKeyBackend(service=...) needs the owner loader")
            self._service = service if callable(service) else (lambda: service)
        elif authenticate_func is None and not self._static:
            raise ConfigurationError("APIKeyBackend needs authenticate_func or static_keys")

    async def resolve(
        self, scope: Scope, request: Request | None, response: Response | None
    ) -> tuple[Any, str] | None:
        raw = header(scope, self._header)
        if raw is None:
            return None
        key = raw.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise AuthenticationFailed(reason="malformed_api_key")
        user = await self._lookup(key)
        if user is None:
            raise AuthenticationFailed(reason="invalid_api_key")
        return user, self.name

    async def _lookup(self, key: str) -> Any:
        if self._service is not None:
            record = await self._service().authenticate(key)
            if record is None:
                return None
            owner = await call_loader(self._owner_loader(), record.owner)
            return None if owner is None else ScopedUser(owner, record.scopes)
        if self._static:
            found = None
            encoded = key.encode()
            for candidate, user in self._static.items():  # touch every entry: no early exit
                if hmac.compare_digest(candidate.encode(), encoded):
                    found = user
            if found is not None or self._loader is None:
                return found
        return await call_loader(self._owner_loader(), key)

    def _owner_loader(self) -> Callable[[Any], Any]:
        if self._loader is None:  # unreachable: __init__ demands one where it is used
            raise ConfigurationError("APIKeyBackend needs authenticate_func")
        return self._loader

    async def authenticate(self, request: Request, response: Response | None) -> Any:
        return await self.resolve(request.scope, request, response)

    def has_credentials(self, scope: Scope) -> bool:
        return has_header(scope, self._header)

    def challenge(self, *, invalid: bool = False) -> str | None:
        return f'ApiKey realm="{self._realm}", header="{self.key_name}"'

    def openapi_scheme(self) -> tuple[str, Any] | None:
        from nexios.openapi.models import APIKey

        return self.scheme_name, APIKey(name=self.key_name, **{"in": "header"})
