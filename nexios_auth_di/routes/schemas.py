"""OpenAPI bodies of the ready-made routes, as the pydantic models Nexios documents.

Documentation only: requests are still read by ``bodies.py`` (bounded, strict, unknown
fields refused), and ``tests/routes/test_openapi_bodies.py`` keeps the two in step: every
field documented here is accepted by its route, and every other field is refused.
Limits (lengths, item counts) are the readers' own constants.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nexios_auth_di.routes.bodies import MAX_PASSWORD_BYTES, MAX_USERNAME_CHARS

__all__ = ["ROUTE_DOCS", "docs_for"]

MAX_TOKEN_CHARS = 8192
Password = Field(min_length=1, max_length=MAX_PASSWORD_BYTES, description="at most 4 KiB UTF-8")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # documents that unknown fields are refused


class Error(BaseModel):
    """Every 4xx/5xx: a stable code and a public detail (never why a credential failed)."""

    error: str = Field(json_schema_extra={"example": "authentication_failed"})
    detail: str = Field(json_schema_extra={"example": "Authentication required"})


class Credentials(_Strict):
    username: str = Field(min_length=1, max_length=MAX_USERNAME_CHARS)
    password: str = Password


class Registered(BaseModel):
    id: str
    username: str


class TokenPair(BaseModel):
    """RFC 6749 §5.1. With ``jwt.transport: cookie`` the tokens travel in cookies only."""

    access_token: str | None = None
    refresh_token: str | None = None
    token_type: str = "bearer"
    expires_in: int | None = Field(default=None, description="access token lifetime, seconds")
    csrf_token: str | None = Field(
        default=None, description="session or cookie logins: send it in X-CSRF-Token"
    )


class RefreshBody(_Strict):
    refresh_token: str | None = Field(
        default=None,
        max_length=MAX_TOKEN_CHARS,
        description="required unless jwt.transport sends it in the refresh cookie",
    )


class LogoutBody(_Strict):
    refresh_token: str | None = Field(default=None, max_length=MAX_TOKEN_CHARS)


class LogoutAllBody(_Strict):
    include_api_keys: bool = Field(default=False, description="revoke every API key too")


class PasswordChange(_Strict):
    current_password: str = Password
    new_password: str = Password


class APIKeyCreate(_Strict):
    password: str = Password
    name: str | None = Field(default=None, max_length=100)
    scopes: list[str] = Field(default_factory=list, max_length=32)
    ttl: float | None = Field(default=None, gt=0, description="seconds; at most api_key.max_ttl")


class APIKeyView(BaseModel):
    key_id: str
    prefix: str
    owner: str
    name: str
    scopes: list[str]
    created_at: float
    expires_at: float | None
    revoked: bool
    last_used: float | None


class APIKeyCreated(APIKeyView):
    key: str = Field(description="shown once; only its SHA-256 is stored")
    id: str


class APIKeyList(BaseModel):
    keys: list[APIKeyView]


class TokenForm(BaseModel):
    """RFC 6749 §4.3.2, form-encoded: what Swagger UI's Authorize button sends."""

    grant_type: str = Field(
        json_schema_extra={"example": "password"}, description="password or refresh_token"
    )
    username: str | None = Field(default=None, max_length=MAX_USERNAME_CHARS)
    password: str | None = Field(default=None, max_length=MAX_PASSWORD_BYTES)
    refresh_token: str | None = Field(default=None, max_length=MAX_TOKEN_CHARS)
    scope: str | None = None


class LoginForm(BaseModel):
    """An HTML ``<form method="post">`` (routes/forms.py): the session's CSRF token as a field."""

    username: str = Field(max_length=MAX_USERNAME_CHARS)
    password: str = Field(max_length=MAX_PASSWORD_BYTES)
    csrf_token: str = Field(max_length=128, description="csrf_token(request) of the form page")
    next: str | None = Field(default=None, description="a same-origin path to land on")


class CSRFForm(BaseModel):
    csrf_token: str = Field(max_length=128, description="csrf_token(request) of the page")
    next: str | None = Field(default=None, description="a same-origin path to land on")


class Registration(Credentials):
    email: str | None = Field(
        default=None, max_length=254, description="optional; syntax-checked, stored normalised"
    )


class Account(BaseModel):
    email: str | None = None
    email_verified: bool = False


class RegisteredWithEmail(Registered, Account):
    pass


class Accepted(BaseModel):
    detail: str
    email_verified: bool | None = None


class TokenBody(_Strict):
    token: str = Field(min_length=1, max_length=1024, description="from the mailed link")


class ResetRequest(_Strict):
    email: str = Field(min_length=1, max_length=254)


class ResetConfirm(_Strict):
    token: str = Field(min_length=1, max_length=1024, description="from the mailed link")
    new_password: str = Password


class EmailChange(_Strict):
    email: str = Field(min_length=1, max_length=254)
    password: str = Password


class Device(BaseModel):
    id: str
    kind: str = Field(description="token (a refresh family) or session")
    created_at: float
    last_used: float | None
    expires_at: float | None
    ip: str | None
    user_agent: str | None
    method: str | None
    current: bool


class DeviceList(BaseModel):
    devices: list[Device]


class Detail(BaseModel):
    detail: str


class NoBody(_Strict):
    """No fields: send nothing, or ``{}``."""


class OAuthError(BaseModel):
    """RFC 6749 §5.2."""

    error: str = Field(json_schema_extra={"example": "invalid_grant"})
    error_description: str | None = None


class PasswordBody(_Strict):
    password: str = Password


class CodeBody(_Strict):
    code: str = Field(min_length=1, max_length=32, description="TOTP or recovery code")


class PasswordCode(_Strict):
    password: str = Password
    code: str | None = Field(None, min_length=1, max_length=32, description="when enrolled")


class MFALogin(_Strict):
    mfa_token: str = Field(min_length=1, max_length=128)
    code: str = Field(min_length=1, max_length=32, description="TOTP or recovery code")


class TOTPSetup(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]


class NoFields(_Strict):
    """An empty JSON object (or no body)."""


class PasskeyOptions(BaseModel):
    """Send ``publicKey`` to ``navigator.credentials.create/get`` (decode its base64url
    fields), then post the result with this ``challenge_id`` (single use, short-lived)."""

    challenge_id: str
    publicKey: dict[str, Any]  # the WebAuthn name


class PasskeyRegistration(_Strict):
    challenge_id: str = Field(min_length=1, max_length=64)
    credential: dict[str, Any] = Field(description="PublicKeyCredential JSON (base64url)")
    name: str | None = Field(default=None, max_length=64, description="a label for the list")


class PasskeyAssertion(_Strict):
    challenge_id: str = Field(min_length=1, max_length=64)
    credential: dict[str, Any] = Field(description="PublicKeyCredential JSON (base64url)")


class PasskeyLoginStart(_Strict):
    username: str | None = Field(
        default=None,
        max_length=MAX_USERNAME_CHARS,
        description="absent: a discoverable (username-less) request",
    )


class Passkey(BaseModel):
    id: str
    name: str
    created: float
    last_used: float | None
    transports: list[str]
    backed_up: bool


class PasskeyList(BaseModel):
    passkeys: list[Passkey]


class OIDCStart(BaseModel):
    """``?response=json``: the provider URL to send the browser to (the cookie is set)."""

    authorization_url: str


class OIDCLogin(TokenPair):
    """As a password login, plus the validated return path (docs/oidc.md)."""

    next: str = Field(default="/", description="same-origin path given to /login as ?next=")
    mfa_required: bool | None = Field(default=None, description="enrolled: finish at /login/mfa")
    mfa_token: str | None = None


class OIDCIdentity(BaseModel):
    id: str = Field(description="opaque; use it to unlink")
    provider: str
    email: str | None = None
    created_at: float
    last_used: float | None = None


class OIDCLinked(BaseModel):
    linked: OIDCIdentity
    next: str


class OIDCIdentities(BaseModel):
    identities: list[OIDCIdentity]


def _errors(*codes: int) -> dict[int, Any]:
    return dict.fromkeys(codes, Error)


_BODY_ERRORS = (400, 413, 415, 429, 503)
_SIGNED_IN = (400, 401, 403, 413, 415, 503)

#: per handler name: the ``Route`` keywords that document it
ROUTE_DOCS: dict[str, dict[str, Any]] = {
    "register": {
        "summary": "Create an account",
        "request_model": Registration,
        "responses": {201: RegisteredWithEmail, 409: Error, **_errors(*_BODY_ERRORS)},
    },
    "login": {
        "summary": "Log in with username and password",
        "request_model": Credentials,
        "responses": {200: TokenPair, 401: Error, **_errors(*_BODY_ERRORS)},
    },
    "token": {
        "summary": "OAuth2 token endpoint (password and refresh_token grants, form-encoded)",
        "request_model": TokenForm,
        "request_content_type": "application/x-www-form-urlencoded",
        "responses": {200: TokenPair, 400: OAuthError, **_errors(413, 415, 429, 503)},
    },
    "form_login": {
        "summary": "HTML form login (session mode): 303 to next, or back to the form",
        "request_model": LoginForm,
        "request_content_type": "application/x-www-form-urlencoded",
        "responses": {
            303: {"description": "to next, or login_url?error=..."},
            **_errors(400, 403, 413, 415, 503),
        },
    },
    "form_logout": {
        "summary": "HTML form logout: this session ends, 303 to the login page",
        "request_model": CSRFForm,
        "request_content_type": "application/x-www-form-urlencoded",
        "responses": {303: {"description": "to login_url"}, **_errors(400, 403, 413, 415, 503)},
    },
    "form_logout_others": {
        "summary": "HTML form: end every other session, token and device; keep this one",
        "request_model": CSRFForm,
        "request_content_type": "application/x-www-form-urlencoded",
        "responses": {303: {"description": "to next"}, **_errors(400, 403, 413, 415, 503)},
    },
    "logout": {
        "summary": "End this login (and the refresh token given)",
        "request_model": LogoutBody,
        "responses": {204: {"description": "logged out"}, **_errors(*_SIGNED_IN)},
    },
    "logout_all": {
        "summary": "End every login of the caller",
        "request_model": LogoutAllBody,
        "responses": {204: {"description": "every login ended"}, **_errors(*_SIGNED_IN)},
    },
    "refresh": {
        "summary": "Rotate a refresh token into a new pair",
        "request_model": RefreshBody,
        "responses": {200: TokenPair, 401: Error, 403: Error, **_errors(*_BODY_ERRORS)},
    },
    "change_password": {
        "summary": "Change the password; every other login ends",
        "request_model": PasswordChange,
        "responses": {200: TokenPair, 429: Error, **_errors(*_SIGNED_IN)},
    },
    "list_keys": {
        "summary": "The caller's API keys",
        "responses": {200: APIKeyList, **_errors(401, 403, 503)},
    },
    "create_key": {
        "summary": "Create an API key (asks for the password again)",
        "request_model": APIKeyCreate,
        "responses": {201: APIKeyCreated, 409: Error, 429: Error, **_errors(*_SIGNED_IN)},
    },
    "revoke_key": {
        "summary": "Revoke one of the caller's API keys",
        "responses": {204: {"description": "revoked"}, **_errors(401, 403, 404, 503)},
    },
    # account lifecycle (routes/accounts.py, routes/devices.py; docs/accounts.md)
    "verify_email_request": {
        "summary": "Mail a verification link to the caller's address",
        "request_model": NoBody,
        "responses": {202: Accepted, 429: Error, **_errors(*_SIGNED_IN)},
    },
    "verify_email_confirm": {
        "summary": "Confirm an address with the mailed token",
        "request_model": TokenBody,
        "responses": {200: Account, **_errors(*_BODY_ERRORS)},
    },
    "password_reset_request": {
        "summary": "Mail a reset link (always 202, whether or not the address exists)",
        "request_model": ResetRequest,
        "responses": {202: Detail, **_errors(*_BODY_ERRORS)},
    },
    "password_reset_confirm": {
        "summary": "Set a new password with the mailed token; every login ends",
        "request_model": ResetConfirm,
        "responses": {200: Detail, **_errors(*_BODY_ERRORS)},
    },
    "change_email": {
        "summary": "Change the address (asks for the password; the new one is unverified)",
        "request_model": EmailChange,
        "responses": {200: Account, 409: Error, 429: Error, **_errors(*_SIGNED_IN)},
    },
    "list_devices": {
        "summary": "The caller's live logins (token families and sessions)",
        "responses": {200: DeviceList, **_errors(401, 403, 503)},
    },
    "end_device": {
        "summary": "End one of the caller's logins at once",
        "responses": {204: {"description": "ended"}, **_errors(401, 403, 404, 503)},
    },
    "mfa_totp_setup": {
        "summary": "Start TOTP enrollment (the password again; passwordless: a fresh login)",
        "request_model": PasswordBody,
        "responses": {200: TOTPSetup, 409: Error, 429: Error, **_errors(*_SIGNED_IN)},
    },
    "mfa_totp_confirm": {
        "summary": "Confirm TOTP with a first code; answers the recovery codes once",
        "request_model": CodeBody,
        "responses": {200: RecoveryCodes, 409: Error, 429: Error, **_errors(*_SIGNED_IN)},
    },
    "mfa_totp_disable": {
        "summary": "Turn TOTP off (fresh login, password and code)",
        "request_model": PasswordCode,
        "responses": {204: {"description": "disabled"}, 429: Error, **_errors(*_SIGNED_IN)},
    },
    "login_mfa": {
        "summary": "Finish a login with the mfa_token and a TOTP or recovery code",
        "request_model": MFALogin,
        "responses": {200: TokenPair, 401: Error, **_errors(*_BODY_ERRORS)},
    },
    "reauthenticate": {
        "summary": "Make the current login fresh (password, and code when enrolled)",
        "request_model": PasswordCode,
        "responses": {200: TokenPair, 429: Error, **_errors(*_SIGNED_IN)},
    },
    # passkeys (routes/passkeys.py; docs/passkeys.md)
    "passkey_register_options": {
        "summary": "Start adding a passkey (fresh login)",
        "request_model": NoFields,
        "responses": {200: PasskeyOptions, **_errors(*_SIGNED_IN)},
    },
    "passkey_register_verify": {
        "summary": "Finish adding a passkey with the authenticator's attestation",
        "request_model": PasskeyRegistration,
        "responses": {201: Passkey, 409: Error, **_errors(*_SIGNED_IN)},
    },
    "passkey_login_options": {
        "summary": "Start a passkey sign-in (username: allow-list; none: discoverable)",
        "request_model": PasskeyLoginStart,
        "responses": {200: PasskeyOptions, **_errors(*_BODY_ERRORS)},
    },
    "passkey_login_verify": {
        "summary": "Finish a passkey sign-in with the assertion",
        "request_model": PasskeyAssertion,
        "responses": {200: TokenPair, 401: Error, **_errors(*_BODY_ERRORS)},
    },
    "passkey_list": {
        "summary": "The caller's passkeys",
        "responses": {200: PasskeyList, **_errors(401, 403, 503)},
    },
    "passkey_delete": {
        "summary": "Remove a passkey (never the last way to sign in)",
        "responses": {204: {"description": "removed"}, 409: Error, **_errors(401, 403, 404, 503)},
    },
    # OpenID Connect login (routes/oidc.py; docs/oidc.md)
    "oidc_login": {
        "summary": "Sign in with an OpenID Provider: 302 to it (code flow, PKCE, state, nonce)",
        "responses": {
            302: {"description": "to the provider"},
            200: OIDCStart,
            **_errors(400, 404, 503),
        },
    },
    "oidc_link": {
        "summary": "Link an identity of that provider to the signed-in account: 302 to it",
        "responses": {
            302: {"description": "to the provider"},
            200: OIDCStart,
            **_errors(400, 401, 403, 404, 503),
        },
    },
    "oidc_callback": {
        "summary": "The provider's redirect back: checks it, then logs in as a password would",
        "responses": {200: OIDCLogin, 409: Error, **_errors(400, 401, 403, 404, 503)},
    },
    "oidc_identities": {
        "summary": "The caller's linked identities",
        "responses": {200: OIDCIdentities, **_errors(401, 403, 503)},
    },
    "oidc_unlink": {
        "summary": "Unlink an identity (never the last way to sign in: 409)",
        "responses": {
            204: {"description": "unlinked"},
            409: Error,
            **_errors(401, 403, 404, 503),
        },
    },
}


def docs_for(name: str) -> dict[str, Any]:
    """The documenting keywords of handler ``name`` (``{}`` when it has none)."""
    return dict(ROUTE_DOCS.get(name, {}))
