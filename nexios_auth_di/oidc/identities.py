"""Linked identities: ``CredentialRecord(kind="oidc", credential_id="<provider>:<sub>")``
in ``container.credential_store`` (memory, SQLite or Redis alike).

Who an ID token signs in: the account its ``(provider, sub)`` is linked to; else, when
the provider asserts ``email_verified: true`` for an address an account has *verified*,
that account (and the identity is linked); else a new account, unless the provider's
``allow_signup`` is false. An address that matches an account without both sides
verified is refused (409): whoever controls an unverified address at some provider must
not walk into the account that owns it (pre-account takeover).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from typing import Any

from nexios_auth_di.accounts.identify import normalize_email, supports_email
from nexios_auth_di.config import OIDCProviderSettings
from nexios_auth_di.exceptions import AuthenticationFailed, BadRequest, Conflict, PermissionDenied
from nexios_auth_di.stores.protocols import CredentialRecord

__all__ = [
    "KIND",
    "NO_PASSWORD",
    "find_or_create",
    "has_usable_password",
    "link",
    "public_id",
    "public_view",
    "record_id",
    "unlink",
]

KIND = "oidc"
#: marks an account made by a sign-in as having no password: its hash is argon2 of a
#: random secret nobody knows (so a password guess costs the same work as for any
#: account: no timing tells OIDC-only accounts apart), and this record holds its digest
NO_PASSWORD = "oidc_no_password"
#: other ways in that count when deciding whether an identity is the last one
OTHER_WAYS = ("passkey",)


def record_id(provider: str, sub: str) -> str:
    return f"{provider}:{sub}"


def public_id(credential_id: str) -> str:
    """The id the API shows (a ``sub`` may hold ``/``): base64url, no padding."""
    return base64.urlsafe_b64encode(credential_id.encode()).rstrip(b"=").decode()


def record_id_of(public: str) -> str | None:
    if not 0 < len(public) <= 400:
        return None
    try:
        return base64.urlsafe_b64decode(public + "=" * (-len(public) % 4)).decode()
    except (binascii.Error, ValueError):
        return None


def public_view(record: CredentialRecord) -> dict[str, Any]:
    return {
        "id": public_id(record.credential_id),
        "provider": record.data.get("provider"),
        "email": record.data.get("email"),
        "created_at": record.created_at,
        "last_used": record.last_used,
    }


def _digest(hashed: str) -> str:
    return hashlib.sha256(hashed.encode()).hexdigest()


async def has_usable_password(c: Any, record: Any) -> bool:
    """False while the account still has the unknowable password it was created with
    (a password set since, by a reset, makes it usable)."""
    marker = await c.credential_store().get(NO_PASSWORD, record.id)
    return marker is None or marker.data.get("digest") != _digest(record.password_hash)


def _verified_email(claims: dict[str, Any]) -> tuple[str | None, bool]:
    raw = claims.get("email")
    if not isinstance(raw, str):
        return None, False
    try:
        address = normalize_email(raw)
    except BadRequest:
        return None, False  # an address we could not store: as if none was sent
    return address, claims.get("email_verified") is True  # "true" (a string) is not


def _new_record(
    provider: str, claims: dict[str, Any], user_id: str, now: float
) -> CredentialRecord:
    email, _ = _verified_email(claims)
    data = {"provider": provider, "sub": claims["sub"], "iss": claims["iss"], "email": email}
    return CredentialRecord(KIND, record_id(provider, claims["sub"]), user_id, data, now, now)


async def find_or_create(
    c: Any, provider: str, conf: OIDCProviderSettings, claims: dict[str, Any]
) -> tuple[Any, bool | None]:
    """``(account, created)``: the active account this identity signs in as (see the
    module docstring); ``created`` is True for a sign-up, None when linked by email now."""
    users, store, now = c.user_repository(), c.credential_store(), c.clock()()
    linked = await store.get(KIND, record_id(provider, claims["sub"]))
    if linked is not None:
        record = await users.get_by_id(linked.user_id)
        if record is None or not record.is_active:
            raise AuthenticationFailed(reason="oidc_inactive_user")
        await store.touch(KIND, linked.credential_id, now)
        return record, False
    email, verified = _verified_email(claims)
    owner = await users.get_by_email(email) if email and supports_email(users) else None
    if owner is not None:
        if not (verified and owner.email_verified and owner.email == email):
            raise Conflict(
                "An account already uses this email address. Sign in to it first, "
                "then link this identity.",
                reason="oidc_email_not_verified",
            )
        if not owner.is_active:
            raise AuthenticationFailed(reason="oidc_inactive_user")
        if not await store.add(_new_record(provider, claims, owner.id, now)):
            raise Conflict("This identity was linked meanwhile; try again.", reason="oidc_race")
        return owner, None
    if not conf.allow_signup:
        raise PermissionDenied(
            "Signing up with this provider is turned off; ask for an account first.",
            reason="oidc_signup_closed",
        )
    return await _sign_up(c, provider, claims, email if verified else None, now), True


async def _sign_up(
    c: Any, provider: str, claims: dict[str, Any], email: str | None, now: float
) -> Any:
    """A new account with no usable password, and this identity linked to it."""
    users, store = c.user_repository(), c.credential_store()
    name = f"{provider}-{secrets.token_hex(6)}"
    unusable = await c.password_service().hash(secrets.token_urlsafe(32))
    if email is not None and supports_email(users):
        record = await users.create(name, unusable, email=email)
        await users.set_email(record.id, email, verified=True)  # the provider verified it
        record = await users.get_by_id(record.id) or record
    else:
        record = await users.create(name, unusable)
    marker = {"digest": _digest(unusable)}
    await store.add(CredentialRecord(NO_PASSWORD, record.id, record.id, marker, now))
    if not await store.add(_new_record(provider, claims, record.id, now)):
        # two first sign-ins of one identity raced: the other account won; retire ours
        if callable(getattr(users, "set_active", None)):
            await users.set_active(record.id, False)
        raise Conflict("This identity was linked meanwhile; try again.", reason="oidc_race")
    return record


async def link(c: Any, user_id: str, provider: str, claims: dict[str, Any]) -> CredentialRecord:
    """Link this identity to the signed-in ``user_id`` (idempotent; 409 when another
    account holds it)."""
    store, now = c.credential_store(), c.clock()()
    cid = record_id(provider, claims["sub"])
    existing = await store.get(KIND, cid)
    if existing is None:
        fresh = _new_record(provider, claims, user_id, now)
        if await store.add(fresh):
            return fresh
        existing = await store.get(KIND, cid)
    if existing is None or existing.user_id != user_id:
        raise Conflict(
            "This identity is linked to another account.", reason="oidc_linked_elsewhere"
        )
    result: CredentialRecord = existing
    return result


async def _other_ways(c: Any, record: Any, excluding: str) -> bool:
    if await has_usable_password(c, record):
        return True
    store = c.credential_store()
    identities = await store.list_for_user(record.id, KIND)
    if any(r.credential_id != excluding for r in identities):
        return True
    for kind in OTHER_WAYS:
        if await store.list_for_user(record.id, kind):
            return True
    return False


async def unlink(c: Any, record: Any, credential_id: str) -> bool:
    """Remove one of ``record``'s identities, never the last way to sign in (409).
    ``False`` when it is not theirs. Checked again after the delete, and put back when
    a concurrent unlink took the other way meanwhile: two racing unlinks never leave
    the account with none."""
    store = c.credential_store()
    target = await store.get(KIND, credential_id)
    if target is None or target.user_id != record.id:
        return False
    if not await _other_ways(c, record, credential_id):
        raise Conflict(_LAST, reason="oidc_last_way")
    if not await store.delete(KIND, credential_id, user_id=record.id):
        return False
    if not await _other_ways(c, record, credential_id):
        await store.add(target)  # raced with another unlink: undo ours
        raise Conflict(_LAST, reason="oidc_last_way")
    return True


_LAST = "This is the last way to sign in to the account: set a password or link another first."
