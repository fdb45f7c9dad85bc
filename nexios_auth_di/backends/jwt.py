"""Bearer-token (JWT) backend, in the guide's form and the container's form.

Guide form: ``JWTAuthBackend(secret_key=..., algorithm="HS256", authenticate_func=...)``.
It accepts the guide's own login tokens (``user_id``/``username``/``exp``/``iat``), so
only ``exp`` is required, but everything else is strict: the algorithm comes from the
configured key, never from the token; HMAC secrets under 32 bytes are refused at
construction; tokens over 8 KiB are refused before decoding.

Container form: ``JWTAuthBackend(token_service=container.token_service, ...)``; the
token service adds ``sub``/``jti``/``typ`` requirements and revocation, checked before
the user loader runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nexios_auth_di.authenticator import call_loader
from nexios_auth_di.base import AuthenticationBackend
from nexios_auth_di.exceptions import ConfigurationError, CSRFFailed, TokenError
from nexios_auth_di.http.asgi import Scope, after_scheme, has_header, header

if TYPE_CHECKING:
    from nexios.http import Request, Response

    from nexios_auth_di.http.token_cookies import TokenCookies
    from nexios_auth_di.tokens.service import TokenService

__all__ = ["JWTAuthBackend"]

MAX_TOKEN_BYTES = 8192


class JWTAuthBackend(AuthenticationBackend):
    name = "jwt"

    def __init__(
        self,
        secret_key: str | bytes | None = None,
        algorithm: str = "HS256",
        token_prefix: str = "Bearer",  # noqa: S107 - a scheme name, not a secret
        authenticate_func: Callable[[Any], Any] | None = None,
        auth_header_name: str = "Authorization",
        *,
        token_service: TokenService | Callable[[], TokenService] | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        leeway: float = 0,
        realm: str = "api",
        scheme_name: str = "bearerAuth",
        cookies: TokenCookies | None = None,
        header_transport: bool = True,
    ) -> None:
        if authenticate_func is None:
            raise ConfigurationError("JWTAuthBackend needs authenticate_func (identity -> user)")
        self._loader = authenticate_func
        self._header = auth_header_name.lower().encode("latin-1")
        self._prefix = (token_prefix.lower() + " ").encode("latin-1") if token_prefix else b""
        self._realm = realm
        self._cookies = cookies  # jwt.transport cookie|both: the token may come in a cookie
        self._use_header = header_transport or cookies is None
        self.scheme_name = scheme_name
        self.token_prefix = token_prefix
        if token_service is not None:
            self._service: Callable[[], TokenService] | None = (
                token_service if callable(token_service) else (lambda: token_service)
            )
            self._verifier = None
            return
        if secret_key is None:
            raise ConfigurationError("JWTAuthBackend needs secret_key or token_service")
        from nexios_auth_di.tokens.keys import KeyRing
        from nexios_auth_di.tokens.verifier import TokenVerifier

        self._service = None
        self._verifier = TokenVerifier(
            KeyRing.from_secret(secret_key, algorithm=algorithm),
            required=("exp",),
            identity_claims=("sub", "user_id"),
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            max_length=MAX_TOKEN_BYTES,
        )

    def _token(self, scope: Scope) -> str | None:
        raw = header(scope, self._header) if self._use_header else None
        if raw is None:
            return None
        if len(raw) > MAX_TOKEN_BYTES + 64:
            raise TokenError("oversized")
        token = after_scheme(raw, self.token_prefix)
        if token is None:
            return None  # another scheme (Basic, ApiKey...): not ours
        if not token:
            raise TokenError("empty")
        return token

    async def resolve(
        self, scope: Scope, request: Request | None, response: Response | None
    ) -> tuple[Any, str] | None:
        token, from_cookie = self._token(scope), False
        if token is None and self._cookies is not None:
            token, from_cookie = self._cookies.access_token(scope), True
        if token is None:
            return None
        if self._service is not None:
            claims = await self._service().verify(token)
            identity = claims["sub"]
            # the browser sends the cookie cross-site: unsafe methods need the CSRF value
            if from_cookie and self._cookies is not None:
                if not self._cookies.csrf_passes(scope, claims.get("fam")):
                    raise CSRFFailed(reason="csrf_token_mismatch")
                scope["nexios_auth_di.jwt_cookie"] = token
        elif self._verifier is not None:
            claims = self._verifier.verify(token, expected_type="access")
            identity = claims.get("sub", claims.get("user_id"))
        else:  # unreachable: __init__ sets one of the two
            raise ConfigurationError("JWTAuthBackend needs secret_key or token_service")
        user = await call_loader(self._loader, identity)
        if user is None:
            raise TokenError("unknown_user")
        return user, self.name

    async def authenticate(self, request: Request, response: Response | None) -> Any:
        return await self.resolve(request.scope, request, response)

    def has_credentials(self, scope: Scope) -> bool:
        if self._use_header and has_header(scope, self._header, self._prefix):
            return True
        return self._cookies is not None and self._cookies.access_token(scope) is not None

    def challenge(self, *, invalid: bool = False) -> str | None:
        scheme = self.token_prefix or "Bearer"
        extra = ', error="invalid_token"' if invalid else ""
        return f'{scheme} realm="{self._realm}"{extra}'

    def openapi_scheme(self) -> tuple[str, Any] | None:
        from nexios.openapi.models import HTTPBearer

        return self.scheme_name, HTTPBearer(type="http", scheme="bearer", bearerFormat="JWT")
