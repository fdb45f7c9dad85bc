"""Addresses and login names: validating an address, and finding the account a login
names, whichever of its username or address was typed.

The login throttle counts under the **account's canonical key** (its username) once the
identifier resolves to an account, so alternating "alice" and "alice@example.com" does
not double an attacker's guesses; an identifier that names no account is counted under
what was typed, exactly as before. The lookup runs before the reservation, so the same
counter is hit by both forms *before* argon2 runs.
"""

from __future__ import annotations

from typing import Any

from nexios_auth_di.exceptions import BadRequest, ConfigurationError
from nexios_auth_di.usernames import username_key

__all__ = [
    "address_is_a_username",
    "check_username_address",
    "find_account",
    "normalize_email",
    "supports_email",
]

MAX_EMAIL_CHARS = 254  # RFC 5321 §4.5.3.1.3 path limit
BAD_EMAIL = "Field 'email' is not a valid email address."


def normalize_email(raw: str) -> str:
    """The address as stored: ``email-validator``'s normalised form (syntax only, no DNS:
    a lookup would be slow, leak the address to resolvers and fail offline)."""
    try:
        from email_validator import EmailNotValidError, validate_email
    except ImportError as exc:  # pragma: no cover - the [accounts] extra is missing
        raise ConfigurationError(
            "email addresses need email-validator: pip install 'nexios-auth-di[accounts]'"
        ) from exc
    if len(raw) > MAX_EMAIL_CHARS:
        raise BadRequest(BAD_EMAIL, reason="bad_email")
    try:
        valid = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise BadRequest(BAD_EMAIL, reason="bad_email") from None
    return str(valid.normalized)


def supports_email(users: Any) -> bool:
    """True when the repository keeps addresses (``AccountRepository``)."""
    return callable(getattr(users, "get_by_email", None)) and callable(
        getattr(users, "set_email", None)
    )


async def find_account(users: Any, typed: str) -> Any:
    """The record ``typed`` names: a username first, then (if it holds an ``@`` and the
    repository keeps addresses) an address. A username wins over another user's address
    that happens to be spelt the same: usernames were unique first."""
    record = await users.get_by_username(typed)
    if record is None and "@" in typed and supports_email(users):
        try:
            record = await users.get_by_email(normalize_email(typed))
        except BadRequest:
            return None
    return record


def check_username_address(username: str, email: str | None) -> None:
    """A username with an ``@`` must be the account's own address (400 otherwise).

    Login reads a typed name as a username first, so a stranger who took someone's
    address as a username would capture every email login of that address (the right
    password is then checked against the squatter's account) and pre-empt sign-ups.
    """
    if "@" in username and (email is None or username_key(username) != username_key(email)):
        raise BadRequest(
            "A username with '@' must be the account's own email address.",
            reason="username_is_another_address",
        )


async def address_is_a_username(users: Any, address: str, owner: str | None = None) -> bool:
    """Whether ``address`` is spelt like another account's username (then it may not be
    given to ``owner``: a login with it would reach that other account)."""
    record = await users.get_by_username(address)
    return record is not None and record.id != owner
