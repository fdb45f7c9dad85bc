"""Passkey routes (a FLOWS module, see handlers): register while signed in, sign in with
or without a username, list and remove. Needs the ``passkeys`` extra (py_webauthn);
without it no passkey route is mounted. Checks: ``passkeys/ceremony.py``; guide:
``docs/passkeys.md``.

A sign-in with user verification (PIN or biometric on the authenticator) is two factors,
so it skips the TOTP step; one without (``passkeys.user_verification`` relaxed) goes
through ``complete_login``'s second factor like a password.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from nexios import Depend

from nexios_auth_di.dependencies import current_user
from nexios_auth_di.events import EventKind
from nexios_auth_di.exceptions import AuthenticationFailed, Conflict
from nexios_auth_di.mfa.stepup import fresh_required
from nexios_auth_di.routes.bodies import MAX_USERNAME_CHARS, optional_str, require_str
from nexios_auth_di.routes.support import NO_STORE, caller_ip, emit, refuse_api_key, subject_of

if TYPE_CHECKING:
    from nexios_auth_di.routes.handlers import AuthRoutes, RouteRow

__all__ = ["has_password", "routes"]

MAX_HANDLE_CHARS = 64
MAX_NAME_CHARS = 64
#: adding a way in asks for a login proved within ``mfa.fresh_max_age``
FRESH = fresh_required()


def has_password(record: Any) -> bool:
    """Whether the account can sign in with a password (an empty or ``!``-marked hash is
    an account made by another way in, such as OIDC or an invitation)."""
    hashed = getattr(record, "password_hash", "") or ""
    return bool(hashed) and not hashed.startswith("!")


def routes(h: AuthRoutes) -> list[RouteRow]:
    if importlib.util.find_spec("webauthn") is None:  # the extra is not installed
        return []
    from nexios_auth_di.passkeys import ceremony

    c = h.container

    async def _account(request: Any, user: Any) -> Any:
        refuse_api_key(request.scope)
        record = await c.user_repository().get_by_id(subject_of(user))
        if record is None or not record.is_active:
            raise AuthenticationFailed(reason="passkey_unknown_user")
        return record

    async def _other_ways(record: Any, excluding: str) -> bool:
        """A usable password, another passkey or a linked OIDC identity remains."""
        if has_password(record):
            from nexios_auth_di.oidc.identities import has_usable_password

            if await has_usable_password(c, record):
                return True
        others = await c.credential_store().list_for_user(record.id)
        return any(
            r.kind in (ceremony.KIND, "oidc") and r.credential_id != excluding for r in others
        )

    async def passkey_register_options(
        request: Any, response: Any, user: Any = Depend(FRESH)
    ) -> Any:
        record = await _account(request, user)
        await h._body(request, set(), optional=True)  # no fields: an empty object or none
        options = await ceremony.begin_registration(c, record)
        return response.json(options, headers=NO_STORE)

    async def passkey_register_verify(
        request: Any, response: Any, user: Any = Depend(current_user)
    ) -> Any:
        record = await _account(request, user)
        body = await h._body(request, {"challenge_id", "credential", "name"})
        handle = require_str(body, "challenge_id", max_chars=MAX_HANDLE_CHARS)
        name = optional_str(body, "name", max_chars=MAX_NAME_CHARS) or "Passkey"
        credential = body.get("credential")
        made = await ceremony.finish_registration(c, record.id, handle, credential, name)
        ip = caller_ip(c, request.scope)
        await emit(c, EventKind.PASSKEY_REGISTERED, record.id, ip, passkey=made.credential_id)
        return response.json(ceremony.public_view(made), status_code=201, headers=NO_STORE)

    async def passkey_login_options(request: Any, response: Any) -> Any:
        body = await h._body(request, {"username"}, optional=True)
        username = optional_str(body, "username", max_chars=MAX_USERNAME_CHARS)
        from nexios_auth_di.accounts import identify

        user = None
        if username is not None:
            user = await identify.find_account(c.user_repository(), username)
        options = await ceremony.begin_login(c, user, username)
        return response.json(options, headers=NO_STORE)

    async def passkey_login_verify(request: Any, response: Any) -> Any:
        body = await h._body(request, {"challenge_id", "credential"})
        handle = require_str(body, "challenge_id", max_chars=MAX_HANDLE_CHARS)
        credential = body.get("credential")
        ip = caller_ip(c, request.scope)
        subject: str | None = None
        try:
            state, stored = await ceremony.lookup(c, handle, credential)
            subject = stored.user_id
            # read before the signature check: a logout-all meanwhile fails the issue
            generation = await c.revocation_store().current_generation(subject)
            proof = await ceremony.finish_login(c, state, stored, credential)
            record = await c.user_repository().get_by_id(proof.user_id)
            if record is None or not record.is_active:
                raise AuthenticationFailed(ceremony.REFUSED, reason="passkey_unknown_user")
        except ceremony.CounterRegression as exc:
            await emit(
                c, EventKind.PASSKEY_COUNTER_REGRESSION, subject, ip,
                passkey=stored.credential_id, stored=exc.stored, seen=exc.seen,
            )  # fmt: skip
            raise
        except AuthenticationFailed as exc:
            await emit(c, EventKind.PASSKEY_LOGIN_FAILED, subject, ip, reason=exc.reason or "")
            raise
        return await h.complete_login(
            request, response, record, generation, method="passkey",
            skip_second_factor=proof.user_verified,
        )  # fmt: skip

    async def passkey_list(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        refuse_api_key(request.scope)
        found = await c.credential_store().list_for_user(subject_of(user), ceremony.KIND)
        return response.json({"passkeys": [ceremony.public_view(r) for r in found]})

    async def passkey_delete(
        request: Any, response: Any, passkey_id: str, user: Any = Depend(current_user)
    ) -> Any:
        record = await _account(request, user)
        store = c.credential_store()
        found = await store.get(ceremony.KIND, passkey_id) if len(passkey_id) <= 1400 else None
        if found is None or found.user_id != record.id:  # another user's is "not found"
            return response.json({"error": "not_found", "detail": "No such passkey"}, 404)
        await h.require_fresh_if_enrolled(record, request.scope)  # TOTP on: a fresh login
        if not await _other_ways(record, passkey_id):
            raise Conflict("This is your last way to sign in.", reason="passkey_last")
        if not await store.delete(ceremony.KIND, passkey_id, user_id=record.id):
            return response.json({"error": "not_found", "detail": "No such passkey"}, 404)
        if not await _other_ways(record, passkey_id):  # a racing removal took the other way
            await store.add(found)
            raise Conflict("This is your last way to sign in.", reason="passkey_last")
        ip = caller_ip(c, request.scope)
        await emit(c, EventKind.PASSKEY_DELETED, record.id, ip, passkey=passkey_id)
        return response.empty(status_code=204)

    return [
        ("/passkeys/register/options", "POST", passkey_register_options),
        ("/passkeys/register/verify", "POST", passkey_register_verify),
        ("/passkeys/login/options", "POST", passkey_login_options),
        ("/passkeys/login/verify", "POST", passkey_login_verify),
        ("/passkeys", "GET", passkey_list),
        ("/passkeys/{passkey_id}", "DELETE", passkey_delete),
    ]
