"""``POST /auth/token``: the OAuth2 token endpoint (RFC 6749 §4.3 password grant, §6
refresh), form-encoded, so Swagger UI's "Authorize" button and OAuth2 client libraries log
in with a username and password.

It answers tokens in the body only: it never sets a session or a cookie, so a cross-site
form POST (which needs no CORS preflight for this content type) gains an attacker nothing
the response does not show them, and cannot log a victim's browser in (login CSRF). It
uses the same throttled password check as ``/auth/login``. Errors follow RFC 6749 §5.2
(``{"error": "invalid_grant"}`` with 400) except throttling (429) and an unreachable store
(503), which keep their own status. A user who must pass a second factor is refused here
and sent to ``/auth/login``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nexios_auth_di.exceptions import AuthenticationFailed, BadRequest, PermissionDenied
from nexios_auth_di.routes.bodies import MAX_PASSWORD_BYTES, MAX_USERNAME_CHARS, read_form
from nexios_auth_di.routes.support import NO_STORE, token_pair

if TYPE_CHECKING:
    from nexios_auth_di.routes.handlers import AuthRoutes, RouteRow

__all__ = ["routes"]

MAX_TOKEN_CHARS = 8192
GRANTS = ("password", "refresh_token")


class OAuthFailure(Exception):
    """An RFC 6749 §5.2 error answer (not part of the HTTP error tree: its body differs)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(error)
        self.error, self.description, self.status = error, description, status


def _field(form: dict[str, str], name: str, limit: int) -> str:
    value = form.get(name)
    if not value:
        raise OAuthFailure("invalid_request", f"{name} is required")
    if len(value) > limit or (name == "password" and len(value.encode()) > MAX_PASSWORD_BYTES):
        raise OAuthFailure("invalid_request", f"{name} is too long")
    return value


def routes(h: AuthRoutes) -> list[RouteRow]:
    if h.mode == "session":  # no tokens to hand out
        return []

    async def token(request: Any, response: Any) -> Any:
        try:
            form = await read_form(request, limit=h.limit)
            pair = await _grant(h, request, form)
        except OAuthFailure as failure:
            body = {"error": failure.error, "error_description": failure.description}
            return response.json(body, status_code=failure.status, headers=NO_STORE)
        return response.json(pair, headers=NO_STORE)

    token.oauth2_password_flow = True  # type: ignore[attr-defined]  # documented as such
    return [("/token", "POST", token)]


async def _grant(h: AuthRoutes, request: Any, form: dict[str, str]) -> dict[str, Any]:
    grant = form.get("grant_type")
    if grant not in GRANTS:
        raise OAuthFailure("unsupported_grant_type", "use password or refresh_token")
    c = h.container
    tokens = c.token_service()
    try:
        if grant == "refresh_token":
            refresh = _field(form, "refresh_token", MAX_TOKEN_CHARS)
            claims = await tokens.verify(refresh, "refresh")
            record = await c.user_repository().get_by_id(str(claims["sub"]))
            if record is None or not record.is_active:
                raise AuthenticationFailed(reason="refresh_unknown_user")
            access, new_refresh = await tokens.refresh(refresh)
            return {
                "access_token": access,
                "refresh_token": new_refresh,
                "token_type": "bearer",
                "expires_in": int(tokens.access_ttl),
            }
        username = _field(form, "username", MAX_USERNAME_CHARS)
        password = _field(form, "password", MAX_PASSWORD_BYTES)
        record, generation = await h.check_password(request, username, password)
        if await h.second_factor_required(record):
            raise OAuthFailure("invalid_grant", "a second factor is required: use /auth/login")
        payload: dict[str, Any] = await token_pair(tokens, record.id, generation)
        return payload
    except (AuthenticationFailed, PermissionDenied):
        raise OAuthFailure("invalid_grant", "invalid credentials") from None
    except BadRequest as exc:
        raise OAuthFailure("invalid_request", str(exc.detail)) from None
