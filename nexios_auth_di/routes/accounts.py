"""Account routes (a ``FLOWS`` module): email verification, password reset, email change.

``POST /verify-email/request`` (signed in) 202, ``POST /verify-email/confirm {"token"}``
200, ``POST /password-reset/request {"email"}`` always 202 (same body and headers for any
address), ``POST /password-reset/confirm {"token", "new_password"}`` 200, and
``POST /email {"email", "password"}`` (password re-checked; the new address starts
unverified and gets a verification mail). See docs/accounts.md.
"""

from __future__ import annotations

from typing import Any

from nexios import Depend

from nexios_auth_di.accounts.email import redact_address
from nexios_auth_di.accounts.identify import (
    MAX_EMAIL_CHARS,
    address_is_a_username,
    normalize_email,
    supports_email,
)
from nexios_auth_di.accounts.mailer import reserve_reset
from nexios_auth_di.accounts.reset import confirm_reset, request_reset
from nexios_auth_di.accounts.tokens import MAX_TOKEN_CHARS
from nexios_auth_di.accounts.verification import confirm_verification, send_verification
from nexios_auth_di.dependencies import current_user
from nexios_auth_di.events import EventKind
from nexios_auth_di.exceptions import (
    AuthenticationFailed,
    BadRequest,
    ConfigurationError,
    Conflict,
)
from nexios_auth_di.routes.bodies import require_password, require_str
from nexios_auth_di.routes.support import NO_STORE, caller_ip, emit, refuse_api_key, subject_of
from nexios_auth_di.routes.token_transport import clearing_cookies
from nexios_auth_di.routes.users import EMAIL_TAKEN, email_key

__all__ = ["RESET_ACCEPTED", "routes"]

#: the one answer to a reset request, whatever the address
RESET_ACCEPTED = {
    "detail": "If an account has this address, a link to reset its password is on its way."
}


def _accounts(h: Any) -> Any:
    users = h.container.user_repository()
    if not supports_email(users):
        raise ConfigurationError(
            "the account routes need an AccountRepository (get_by_email, set_email)"
        )
    return users


def routes(h: Any) -> list[tuple[str, str, Any]]:
    """The account rows for ``auth_router``."""
    c = h.container

    async def verify_email_request(
        request: Any, response: Any, user: Any = Depend(current_user)
    ) -> Any:
        refuse_api_key(request.scope)
        await h._body(request, set(), optional=True)
        subject, ip = subject_of(user), caller_ip(c, request.scope)
        record = await _accounts(h).get_by_id(subject)
        if record is None or not record.is_active:
            raise AuthenticationFailed(reason="verify_unknown_user")
        if not record.email:
            raise BadRequest("This account has no email address.", reason="no_email")
        if not record.email_verified:
            await reserve_reset(c, ip, email_key(record.email), kind="verify")
            await send_verification(c, record, ip)
        answer = {"detail": "A verification link is on its way."}
        return response.json(
            {**answer, "email_verified": record.email_verified},
            status_code=202,
            headers=NO_STORE,
        )

    async def verify_email_confirm(request: Any, response: Any) -> Any:
        body = await h._body(request, {"token"})
        token = require_str(body, "token", max_chars=MAX_TOKEN_CHARS)
        _accounts(h)
        record = await confirm_verification(c, token, caller_ip(c, request.scope))
        return response.json({"email": record.email, "email_verified": True}, headers=NO_STORE)

    async def password_reset_request(request: Any, response: Any) -> Any:
        body = await h._body(request, {"email"})
        raw = require_str(body, "email", max_chars=MAX_EMAIL_CHARS)
        address = normalize_email(raw)  # syntax only: the same for any address
        _accounts(h)
        await request_reset(c, caller_ip(c, request.scope), address)
        return response.json(RESET_ACCEPTED, status_code=202, headers=NO_STORE)

    async def password_reset_confirm(request: Any, response: Any) -> Any:
        body = await h._body(request, {"token", "new_password"})
        token = require_str(body, "token", max_chars=MAX_TOKEN_CHARS)
        new = require_password(body, "new_password")
        _accounts(h)
        await confirm_reset(h, request, token, new)
        result = response.json(
            {"detail": "Your password was changed; sign in with it."}, headers=NO_STORE
        )
        for value in clearing_cookies(c):  # this browser's own login ended too
            response.set_header("set-cookie", value)
        return result

    async def change_email(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        """A new address, after the password again: a stolen session must not move the
        account's recovery channel (the reset mails) to the thief's inbox."""
        scope = request.scope
        refuse_api_key(scope)
        body = await h._body(request, {"email", "password"})
        address = normalize_email(require_str(body, "email", max_chars=MAX_EMAIL_CHARS))
        password = require_password(body, "password")
        users, subject, ip = _accounts(h), subject_of(user), caller_ip(c, scope)
        record = await users.get_by_id(subject)
        if record is None or not record.is_active:
            raise AuthenticationFailed(reason="email_unknown_user")
        await h.require_fresh_if_enrolled(record, scope)
        await h._confirm_password(record, password, ip, route="email")
        if await address_is_a_username(users, address, record.id):  # a login would reach them
            raise Conflict(EMAIL_TAKEN, reason="email_taken")
        old = record.email
        await users.set_email(record.id, address, verified=False)  # 409 when taken
        await emit(
            c, EventKind.EMAIL_CHANGED, record.id, ip,
            old=redact_address(old), new=redact_address(address),
        )  # fmt: skip
        fresh = await users.get_by_id(record.id)
        if fresh is not None:
            await send_verification(c, fresh, ip)
        return response.json({"email": address, "email_verified": False}, headers=NO_STORE)

    return [
        ("/verify-email/request", "POST", verify_email_request),
        ("/verify-email/confirm", "POST", verify_email_confirm),
        ("/password-reset/request", "POST", password_reset_request),
        ("/password-reset/confirm", "POST", password_reset_confirm),
        ("/email", "POST", change_email),
    ]
