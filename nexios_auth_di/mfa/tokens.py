"""The ``mfa_token``: an opaque random value (not a JWT, so no verifier accepts it as an
access token), kept in the one-time store bound to the user, the credential generation
read before the first factor and the login method; ``take`` spends it once."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

__all__ = ["issue", "peek_key", "spend"]


def _key(token: str) -> str:
    return "mfa_token:" + hashlib.sha256(token.encode()).hexdigest()


async def issue(container: Any, user_id: str, generation: float, method: str) -> str:
    token = secrets.token_urlsafe(32)
    ttl = float(container.settings().mfa.mfa_token_ttl)
    value = {"user": user_id, "gen": generation, "method": method, "exp": container.clock()() + ttl}
    await container.one_time_store().put(_key(token), value, ttl)
    return token


def peek_key(token: str) -> str:
    """The throttle id of ``token`` (hashed: the token never reaches the storage)."""
    return hashlib.sha256(b"tries\x00" + token.encode()).hexdigest()


async def spend(container: Any, token: str) -> dict[str, Any] | None:
    value: dict[str, Any] | None = await container.one_time_store().take(_key(token))
    return value


async def put_back(container: Any, token: str, value: dict[str, Any]) -> None:
    """After a wrong code: the token lives on until its own expiry (its tries are bounded)."""
    left = float(value["exp"]) - container.clock()()
    if left > 1:
        await container.one_time_store().put(_key(token), value, left)
