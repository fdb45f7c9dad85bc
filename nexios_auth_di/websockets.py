"""WebSockets whose credential can end while they are open.

A socket is authenticated once, at the handshake (``websocket_user``). A logout, a
logout-everywhere or a password change afterwards would leave it answering as the user
for as long as it stays open. ``ensure_still_valid`` re-runs the checks for the
credential the socket was opened with, and closes the socket (1008, RFC 6455 §7.4.1)
when it no longer stands. Call it per message, or on a timer for push-only sockets::

    user = await websocket_user(websocket)
    if user is None:
        return
    await websocket.accept()
    async for message in websocket.iter_json():
        if not await ensure_still_valid(websocket):
            return
        ...

A socket authenticated by the session cookie is also refused at the handshake unless
its ``Origin`` is the app's own or in ``session.websocket_origins`` (cross-site WebSocket
hijacking; see ``SessionAuthBackend``).
"""

from __future__ import annotations

from typing import Any

from nexios_auth_di.base import is_authenticated
from nexios_auth_di.request_auth import request_auth
from nexios_auth_di.sessions.csrf import MW_SCOPE_KEY
from nexios_auth_di.sessions.middleware import Session, SessionMiddleware

__all__ = ["ensure_still_valid"]


def _identity(user: Any) -> Any:
    return getattr(user, "identity", None) or getattr(user, "id", None)


async def ensure_still_valid(websocket: Any, *, close_code: int = 1008) -> bool:
    """True if the socket's credential still stands; else close the socket and say False.

    Sessions are looked up again in their store; tokens and API keys go through the
    backends again (revocation, expiry, the user's credential generation, the loader).
    A store outage counts as "not valid": the socket is closed, never left trusted.
    """
    scope = websocket.scope
    state = request_auth(scope)
    if state is None or not state.resolved or not is_authenticated(state.user):
        await websocket.close(code=close_code)
        return False
    try:
        if state.auth == "session":
            middleware, session = scope.get(MW_SCOPE_KEY), scope.get("session")
            alive = (
                isinstance(middleware, SessionMiddleware)
                and isinstance(session, Session)
                and await middleware.is_alive(session)
            )
        else:
            again = await state.fresh().resolve()
            alive = is_authenticated(again) and _identity(again) == _identity(state.user)
    except Exception:  # an outage or a refusal: fail closed
        alive = False
    if not alive:
        await websocket.close(code=close_code)
    return alive
