"""WebAuthn ceremonies on py_webauthn: options with single-use challenges, and the checks
of W3C WebAuthn L2 §7.1 (registration) and §7.2 (authentication) around the library's.

A challenge lives in ``container.one_time_store`` under a random ``challenge_id`` the
client sends back; ``take()`` hands it to exactly one verify, and the key's prefix names
the ceremony, so a registration challenge can never answer a sign-in. Passkeys are
``CredentialRecord(kind="passkey")`` keyed by the base64url credential id; the sign
counter moves only forward, by compare-and-set on the record's version.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from nexios_auth_di.config import PasskeySettings
from nexios_auth_di.exceptions import AuthenticationFailed, BadRequest, Conflict
from nexios_auth_di.logs import get_logger
from nexios_auth_di.stores.protocols import CredentialRecord

__all__ = [
    "KIND",
    "REFUSED",
    "Asserted",
    "CounterRegression",
    "begin_login",
    "begin_registration",
    "finish_login",
    "finish_registration",
    "public_view",
]

logger = get_logger("nexios_auth_di.passkeys")

KIND = "passkey"
REGISTER, LOGIN = "passkey:register:", "passkey:login:"
MAX_CREDENTIAL_ID = 1023  # bytes, WebAuthn L2 §5.1 (credential id length limit)
MAX_FIELD_CHARS = 16384  # base64url of one response part (clientDataJSON, signature...)
TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)
DECOY_TRANSPORTS = (AuthenticatorTransport.HYBRID, AuthenticatorTransport.INTERNAL)
CAS_TRIES = 5
#: the base64url alphabet only: the library's decoder silently drops other characters
B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
#: the one public detail of every refused sign-in: the body never says which check failed
REFUSED = "Passkey could not be verified."


class CounterRegression(AuthenticationFailed):
    """The assertion's sign counter did not move past the stored one (§7.2 step 21):
    the authenticator may have been cloned. Refused; the route audits it."""

    def __init__(self, stored: int, seen: int) -> None:
        super().__init__(REFUSED, reason="passkey_counter_regression")
        self.stored, self.seen = stored, seen


@dataclass(frozen=True, slots=True)
class Asserted:
    """A verified sign-in: whose passkey, which one, and whether the user was verified."""

    user_id: str
    credential_id: str
    user_verified: bool


def _settings(c: Any) -> tuple[PasskeySettings, str, list[str]]:
    settings = c.settings()
    keys: PasskeySettings = settings.passkeys
    url = settings.accounts.public_url
    return keys, keys.relying_party(url), list(keys.allowed_origins(url))


def _descriptor(record: CredentialRecord) -> PublicKeyCredentialDescriptor:
    names = record.data.get("transports", ())
    known = [AuthenticatorTransport(t) for t in names if t in TRANSPORTS]
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(record.credential_id), transports=known or None
    )


async def _challenge(c: Any, prefix: str, options: Any, state: dict[str, Any]) -> dict[str, Any]:
    """Store the options' challenge under a new ``challenge_id``; the JSON answer."""
    handle = secrets.token_urlsafe(32)
    state = {**state, "challenge": bytes_to_base64url(options.challenge)}
    await c.one_time_store().put(prefix + handle, state, float(_settings(c)[0].challenge_ttl))
    return {"challenge_id": handle, "publicKey": json.loads(options_to_json(options))}


async def begin_registration(c: Any, record: Any) -> dict[str, Any]:
    """Creation options for signed-in ``record``; its passkeys are excluded (§5.4.3).
    The user handle is the user id: opaque and random, never the name (§14.6.1)."""
    keys, rp_id, _ = _settings(c)
    existing = await c.credential_store().list_for_user(record.id, KIND)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=keys.rp_name,
        user_id=record.id.encode(),
        user_name=record.username,
        timeout=keys.timeout,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement(keys.resident_key),
            user_verification=UserVerificationRequirement(keys.user_verification),
        ),
        exclude_credentials=[_descriptor(r) for r in existing],
    )
    return await _challenge(c, REGISTER, options, {"user": record.id})


async def begin_login(c: Any, user: Any | None, username: str | None) -> dict[str, Any]:
    """Request options: an allow-list of ``user``'s passkeys when a name was given, else a
    discoverable (username-less) request. A name with no passkey, unknown or not, gets a
    decoy (``_decoy``) that matches nothing."""
    keys, rp_id, _ = _settings(c)
    allow: list[PublicKeyCredentialDescriptor] = []
    owner: str | None = None
    if username is not None:
        owner = "" if user is None else str(user.id)  # "": no passkey is anyone's
        if user is not None:
            allow = [_descriptor(r) for r in await c.credential_store().list_for_user(owner, KIND)]
        allow = allow or _decoy(c, username)
    options = generate_authentication_options(
        rp_id=rp_id,
        timeout=keys.timeout,
        allow_credentials=allow,
        user_verification=UserVerificationRequirement(keys.user_verification),
    )
    return await _challenge(c, LOGIN, options, {"user": owner})


def _decoy(c: Any, typed: str) -> list[PublicKeyCredentialDescriptor]:
    """WebAuthn L2 §14.6.2 (username enumeration): one imaginary credential, stable per
    typed name and secret per deployment (keyed by ``audit_key``), so the options for an
    unknown name read like those of an account with one passkey."""
    name = unicodedata.normalize("NFKC", typed).casefold().encode("utf-8", "replace")
    digest = hmac.new(c.audit_key(), b"passkey-decoy\0" + name, "sha256").digest()
    return [PublicKeyCredentialDescriptor(id=digest, transports=list(DECOY_TRANSPORTS))]


def _bytes(value: Any, key: str, *, optional: bool = False) -> bytes | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_FIELD_CHARS:
        raise BadRequest(f"credential.{key} must be a base64url string.", reason="passkey_body")
    if B64URL.fullmatch(value) is not None:
        try:
            return base64url_to_bytes(value)
        except ValueError:
            pass  # a length no base64url string has
    raise BadRequest(f"credential.{key} is not base64url.", reason="passkey_body")


def check_shape(credential: Any, parts: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """The base64url id and the ``response`` object of a PublicKeyCredential JSON, or 400:
    every malformed body is refused before the library sees it (never a 500)."""
    if not isinstance(credential, dict) or credential.get("type") != "public-key":
        raise BadRequest("credential must be a public-key credential.", reason="passkey_body")
    raw = _bytes(credential.get("rawId"), "rawId")
    if raw is None or len(raw) > MAX_CREDENTIAL_ID or credential.get("id") != credential["rawId"]:
        raise BadRequest("credential.id must equal credential.rawId.", reason="passkey_body")
    response = credential.get("response")
    if not isinstance(response, dict):
        raise BadRequest("credential.response must be an object.", reason="passkey_body")
    for part in parts:
        _bytes(response.get(part), f"response.{part}")
    return bytes_to_base64url(raw), response


def _refused(exc: Exception, reason: str) -> AuthenticationFailed:
    logger.info("passkey refused (%s): %s", reason, exc)  # the client learns no more
    return AuthenticationFailed(REFUSED, reason=reason)


async def finish_registration(
    c: Any, user_id: str, challenge_id: str, credential: Any, name: str
) -> CredentialRecord:
    """§7.1: the challenge (taken, this ceremony's, this user's), then the library's
    checks: type, challenge, origin, RP id hash, UP, UV when required, algorithm."""
    credential_id, response = check_shape(credential, ("clientDataJSON", "attestationObject"))
    transports = response.get("transports")
    transports = [] if transports is None else transports
    if not isinstance(transports, list) or not all(isinstance(t, str) for t in transports):
        message = "credential.response.transports must be a list of strings."
        raise BadRequest(message, reason="passkey_body")
    state = await c.one_time_store().take(REGISTER + challenge_id)
    if state is None or state.get("user") != user_id:  # signed in: 400, not a logout
        logger.info("passkey registration refused: challenge expired, used or not this user's")
        raise BadRequest("Challenge expired or used.", reason="passkey_challenge")
    keys, rp_id, origins = _settings(c)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=rp_id,
            expected_origin=origins,
            require_user_verification=keys.user_verification == "required",
        )
    except Exception as exc:  # the library's errors and its parsers' (CBOR, struct...)
        logger.info("passkey registration refused: %s", exc)
        raise BadRequest(REFUSED, reason="passkey_registration_invalid") from None
    data = {
        "public_key": bytes_to_base64url(verified.credential_public_key),
        "sign_count": int(verified.sign_count),
        "transports": [t for t in transports if t in TRANSPORTS][:8],  # unknown ones: dropped
        "name": name,
        "aaguid": str(verified.aaguid),
        "user_verified": bool(verified.user_verified),
        "backed_up": bool(verified.credential_backed_up),
        "device_type": str(verified.credential_device_type),
    }
    record = CredentialRecord(KIND, credential_id, user_id, data, created_at=c.clock()())
    if not await c.credential_store().add(record):
        raise Conflict("That passkey is already registered.", reason="passkey_exists")
    return record


async def lookup(c: Any, challenge_id: str, credential: Any) -> tuple[dict[str, Any], Any]:
    """§7.2 steps 5-7, before any signature work: the challenge (taken), the stored
    passkey, the owner the options named, and the user handle. ``(state, record)``."""
    parts = ("clientDataJSON", "authenticatorData", "signature")
    credential_id, response = check_shape(credential, parts)
    handle = _bytes(response.get("userHandle"), "response.userHandle", optional=True)
    state = await c.one_time_store().take(LOGIN + challenge_id)
    if state is None:
        raise AuthenticationFailed("Challenge expired or used.", reason="passkey_challenge")
    record = await c.credential_store().get(KIND, credential_id)
    if record is None:
        raise AuthenticationFailed(REFUSED, reason="passkey_unknown")
    owner = state.get("user")
    if owner is not None and record.user_id != owner:
        raise AuthenticationFailed(REFUSED, reason="passkey_not_owner")
    mine = record.user_id.encode()
    if (owner is None and handle is None) or (handle is not None and handle != mine):
        raise AuthenticationFailed(REFUSED, reason="passkey_user_handle")
    return state, record


async def finish_login(c: Any, state: dict[str, Any], record: Any, credential: Any) -> Asserted:
    """§7.2 steps 11-21: the library checks type, challenge, origin, RP id hash, UP, UV
    and the signature; the counter is ours, then stored by compare-and-set."""
    keys, rp_id, origins = _settings(c)
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=rp_id,
            expected_origin=origins,
            credential_public_key=base64url_to_bytes(record.data["public_key"]),
            credential_current_sign_count=0,  # compared below, after the signature
            require_user_verification=keys.user_verification == "required",
        )
    except Exception as exc:
        raise _refused(exc, "passkey_assertion_invalid") from None
    seen, store = int(verified.new_sign_count), c.credential_store()
    for _ in range(CAS_TRIES):  # a parallel sign-in may have moved the record
        stored = int(record.data.get("sign_count", 0))
        if (seen or stored) and seen <= stored:
            logger.warning(
                "passkey %s of user %s: sign counter went back (stored %d, seen %d); "
                "the authenticator may have been cloned",
                record.credential_id, record.user_id, stored, seen,
            )  # fmt: skip
            raise CounterRegression(stored, seen)
        record.data = {**record.data, "sign_count": seen}
        record.last_used = c.clock()()
        if await store.update(record):
            return Asserted(record.user_id, record.credential_id, bool(verified.user_verified))
        record = await store.get(KIND, record.credential_id)
        if record is None:  # deleted meanwhile
            raise AuthenticationFailed(REFUSED, reason="passkey_unknown")
    raise AuthenticationFailed(REFUSED, reason="passkey_busy")


def public_view(record: CredentialRecord) -> dict[str, Any]:
    """What the owner sees of one passkey: never the public key or the counter."""
    return {
        "id": record.credential_id,
        "name": record.data.get("name", ""),
        "created": record.created_at,
        "last_used": record.last_used,
        "transports": list(record.data.get("transports", [])),
        "backed_up": bool(record.data.get("backed_up", False)),
    }
