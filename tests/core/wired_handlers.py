"""Handlers that take services through dependency-injector's own wiring.

``container.wire(modules=[wired_handlers])`` binds the ``Provide[...]`` markers below.
The working form: the route decorator outermost, ``@inject`` right on the function, so
Nexios registers (and calls) the injecting wrapper. Nexios resolves only ``Depend``
defaults and passes nothing for a ``Provide`` default, which ``@inject`` then fills.
"""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from nexios.dependencies import Depend

from nexios_auth_di import AuthContainer, current_user

__all__ = ["check_password", "mint_token", "mount", "whoami"]


@inject
async def whoami(
    request: Any,
    response: Any,
    user: Any = Depend(current_user),
    tokens: Any = Provide[AuthContainer.token_service],
) -> dict[str, Any]:
    """The caller, which service was injected, and a fresh token minted by it."""
    return {
        "id": user.id,
        "service": type(tokens).__name__,
        "token": tokens.create_access_token(user.id),
    }


@inject
async def check_password(
    request: Any,
    response: Any,
    user: Any = Depend(current_user),
    passwords: Any = Provide[AuthContainer.password_service],
) -> dict[str, Any]:
    """Hash and verify a password with whichever password service is wired."""
    hashed = await passwords.hash("correct horse battery")
    return {
        "id": user.id,
        "service": type(passwords).__name__,
        "verified": await passwords.verify(hashed, "correct horse battery"),
    }


@inject
def mint_token(subject: str, tokens: Any = Provide[AuthContainer.token_service]) -> str:
    """Non-Nexios code (a CLI, a worker) shares the same wiring."""
    token: str = tokens.create_access_token(subject)
    return token


def mount(app: Any) -> None:
    """Route the handlers: ``app.get(path)(fn)`` is ``@app.get(path)`` above ``@inject``."""
    app.get("/wired/whoami")(whoami)
    app.get("/wired/password")(check_password)
