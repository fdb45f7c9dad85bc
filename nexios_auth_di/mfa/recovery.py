"""Recovery codes: 10 x 60 bits, shown once, stored as HMAC ids, each spent by one
``delete`` (exactly one concurrent caller wins)."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from nexios_auth_di.mfa.totp import mfa_key
from nexios_auth_di.stores.protocols import CredentialRecord

__all__ = ["new_codes", "spend", "store_codes"]

KIND = "recovery_code"
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # 31 symbols, no look-alikes


def new_codes(count: int) -> list[str]:
    """12 symbols of 31 (~59.4 bits) each, grouped for reading: ``xxxx-xxxx-xxxx``."""
    out = []
    for _ in range(count):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(12))
        out.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return out


def normalise(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch not in "- ")


def code_id(container: Any, user_id: str, code: str) -> str:
    message = f"{user_id}\x00{normalise(code)}".encode()
    return hmac.new(mfa_key(container, b"recovery"), message, "sha256").hexdigest()


async def store_codes(container: Any, user_id: str, codes: list[str]) -> None:
    store = container.credential_store()
    await store.delete_for_user(user_id, KIND)
    now = container.clock()()
    for code in codes:
        await store.add(
            CredentialRecord(KIND, code_id(container, user_id, code), user_id, created_at=now)
        )


async def spend(container: Any, user_id: str, code: str) -> bool:
    if not 10 <= len(code) <= 20:
        return False
    ok: bool = await container.credential_store().delete(
        KIND, code_id(container, user_id, code), user_id=user_id
    )
    return ok
