"""TOTP two-factor routes and ``/auth/reauthenticate`` (a FLOWS module, see handlers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nexios import Depend

from nexios_auth_di.dependencies import current_user
from nexios_auth_di.events import EventKind
from nexios_auth_di.exceptions import AuthenticationFailed, BadRequest, Conflict, PermissionDenied
from nexios_auth_di.mfa import recovery, totp
from nexios_auth_di.mfa import tokens as mfa_tokens
from nexios_auth_di.mfa.stepup import FRESH_KEY, ensure_fresh, fresh_required
from nexios_auth_di.routes.bodies import require_password, require_str
from nexios_auth_di.routes.support import (
    NO_STORE,
    bearer_token,
    caller_ip,
    emit,
    refuse_api_key,
    sessions_active,
    subject_of,
)
from nexios_auth_di.stores.protocols import CredentialRecord

if TYPE_CHECKING:
    from nexios_auth_di.routes.handlers import AuthRoutes, RouteRow

__all__ = ["routes", "second_factor"]

PENDING = "totp_pending:"
#: disabling MFA needs a login proved within ``mfa.fresh_max_age``
FRESH = fresh_required()


async def _account(h: AuthRoutes, user: Any, request: Any) -> Any:
    refuse_api_key(request.scope)
    record = await h.container.user_repository().get_by_id(subject_of(user))
    if record is None or not record.is_active:
        raise AuthenticationFailed(reason="mfa_unknown_user")
    return record


async def _confirm_owner(h: AuthRoutes, request: Any, record: Any, body: Any, route: str) -> None:
    """The body's password; an account that never had one (an OIDC sign-up) sends none
    and proves itself by a fresh login instead (``mfa.fresh_max_age``), else 401
    ``reauthentication_required``. A password that is sent is always checked."""
    from nexios_auth_di.oidc.identities import has_usable_password

    c = h.container
    if body.get("password") is None and not await has_usable_password(c, record):
        ensure_fresh(c, request.scope)
        return
    password = require_password(body, "password")
    await h._confirm_password(record, password, caller_ip(c, request.scope), route)


async def verify_factor(h: AuthRoutes, user_id: str, code: str, token_key: str | None) -> str:
    """``"totp"`` or ``"recovery"`` for a right code (throttled first), else 401."""
    c = h.container
    record = await totp.enrolled(c, user_id)
    if record is None:
        raise AuthenticationFailed(reason="mfa_not_enrolled")
    rules = await totp.reserve_guess(c, user_id, token_key)
    secret = totp.open_secret(c, record.data["secret"], user_id)
    if await totp.check_code(c, user_id, secret, code):
        await totp.clear_guesses(c, rules[:1])
        return "totp"
    if await recovery.spend(c, user_id, code):
        await totp.clear_guesses(c, rules[:1])
        return "recovery"
    raise AuthenticationFailed("Invalid code.", reason="mfa_bad_code")


async def second_factor(
    h: AuthRoutes, request: Any, response: Any, record: Any, generation: float, method: str
) -> Any:
    """The step ``complete_login`` runs for an enrolled user: an ``mfa_token``, no credential."""
    token = await mfa_tokens.issue(h.container, record.id, generation, method)
    return response.json({"mfa_required": True, "mfa_token": token}, headers=NO_STORE)


def routes(h: AuthRoutes) -> list[RouteRow]:
    c = h.container

    async def mfa_totp_setup(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        record = await _account(h, user, request)
        await _confirm_owner(h, request, record, await h._body(request, {"password"}), "mfa_setup")
        if await totp.enrolled(c, record.id) is not None:
            raise Conflict("Two-factor is already on.", reason="mfa_enrolled")
        secret = totp.new_secret()
        uri = totp.totp_for(c, secret).provisioning_uri(name=record.username)
        sealed = totp.seal(c, secret, record.id)
        await c.one_time_store().put(PENDING + record.id, {"secret": sealed}, 600.0)
        return response.json(
            {"secret": secret, "otpauth_uri": uri, "qr_svg": totp.qr_svg(uri)}, headers=NO_STORE
        )

    async def mfa_totp_confirm(
        request: Any, response: Any, user: Any = Depend(current_user)
    ) -> Any:
        record = await _account(h, user, request)
        code = require_str(await h._body(request, {"code"}), "code", max_chars=32)
        pending = await c.one_time_store().take(PENDING + record.id)
        if pending is None:
            raise BadRequest("No setup in progress.", reason="mfa_no_pending")
        secret = totp.open_secret(c, pending["secret"], record.id)
        await totp.reserve_guess(c, record.id)
        if not await totp.check_code(c, record.id, secret, code):
            await c.one_time_store().put(PENDING + record.id, pending, 600.0)
            raise AuthenticationFailed("Invalid code.", reason="mfa_bad_code")
        now = c.clock()()
        added = await c.credential_store().add(
            CredentialRecord(
                "totp", record.id, record.id, {"secret": pending["secret"]}, created_at=now
            )
        )
        if not added:
            raise Conflict("Two-factor is already on.", reason="mfa_enrolled")
        codes = recovery.new_codes(c.settings().mfa.recovery_codes)
        await recovery.store_codes(c, record.id, codes)
        await emit(c, EventKind.MFA_ENROLLED, record.id, caller_ip(c, request.scope))
        return response.json({"recovery_codes": codes}, headers=NO_STORE)

    async def mfa_totp_disable(request: Any, response: Any, user: Any = Depend(FRESH)) -> Any:
        record = await _account(h, user, request)
        body = await h._body(request, {"password", "code"})
        ip = caller_ip(c, request.scope)
        code = require_str(body, "code", max_chars=32)
        await _confirm_owner(h, request, record, body, "mfa_disable")
        try:
            await verify_factor(h, record.id, code, None)
        except AuthenticationFailed:
            await emit(c, EventKind.MFA_CHALLENGE_FAILED, record.id, ip, route="disable")
            raise PermissionDenied("Invalid code.", reason="mfa_bad_code") from None
        await c.credential_store().delete_for_user(record.id, "totp")
        await c.credential_store().delete_for_user(record.id, "recovery_code")
        await emit(c, EventKind.MFA_DISABLED, record.id, ip)
        return response.empty(status_code=204)

    async def login_mfa(request: Any, response: Any) -> Any:
        body = await h._body(request, {"mfa_token", "code"})
        token = require_str(body, "mfa_token", max_chars=128)
        code = require_str(body, "code", max_chars=32)
        ip = caller_ip(c, request.scope)
        state = await mfa_tokens.spend(c, token)  # taken now: one request at a time
        if state is None:
            raise AuthenticationFailed(reason="mfa_token_invalid")
        user_id = str(state["user"])
        try:
            kind = await verify_factor(h, user_id, code, mfa_tokens.peek_key(token))
        except AuthenticationFailed:
            await emit(c, EventKind.MFA_CHALLENGE_FAILED, user_id, ip, route="login")
            await mfa_tokens.put_back(c, token, state)  # tries are bounded per token
            raise
        if kind == "recovery":
            await emit(c, EventKind.RECOVERY_CODE_USED, user_id, ip)
        record = await c.user_repository().get_by_id(user_id)
        if record is None or not record.is_active:
            raise AuthenticationFailed(reason="mfa_unknown_user")
        return await h.issue_login(
            request, response, record, float(state["gen"]), method=f"{state['method']}+{kind}"
        )

    async def reauthenticate(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        record = await _account(h, user, request)
        body = await h._body(request, {"password", "code"})
        ip = caller_ip(c, request.scope)
        await h._confirm_password(record, require_password(body, "password"), ip, "reauth")
        if await totp.enrolled(c, record.id) is not None:
            await verify_factor(h, record.id, require_str(body, "code", max_chars=32), None)
        scope, payload, now = request.scope, {}, c.clock()()
        if scope.get("auth") == "jwt":
            tokens = c.token_service()
            claims = await tokens.verify(bearer_token(c, scope) or "", "access")
            login = {k: claims[k] for k in ("fam", "gen") if k in claims}
            end = float(claims["exp"]) if "fam" not in claims else None
            access = tokens._mint(
                record.id, "access", tokens.access_ttl, {**login, "auth_time": now}, end
            )
            payload = {
                "access_token": access,
                "token_type": "bearer",
                "expires_in": int(tokens.access_ttl),
            }
        elif sessions_active(scope):
            scope["session"][FRESH_KEY] = now
        await emit(c, EventKind.REAUTHENTICATED, record.id, ip)
        return response.json(payload, headers=NO_STORE)

    return [
        ("/mfa/totp/setup", "POST", mfa_totp_setup),
        ("/mfa/totp/confirm", "POST", mfa_totp_confirm),
        ("/mfa/totp/disable", "POST", mfa_totp_disable),
        ("/login/mfa", "POST", login_mfa),
        ("/reauthenticate", "POST", reauthenticate),
    ]
