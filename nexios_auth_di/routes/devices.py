"""Device routes (a ``FLOWS`` module): ``GET /devices`` lists the caller's live logins,
``DELETE /devices/{device_id}`` ends one of them at once (204); an id that is not the
caller's is 404, exactly like one that does not exist. See ``accounts/devices.py``."""

from __future__ import annotations

from typing import Any

from nexios import Depend

from nexios_auth_di.accounts import devices as records
from nexios_auth_di.dependencies import current_user
from nexios_auth_di.events import EventKind
from nexios_auth_di.routes.support import NO_STORE, caller_ip, emit, refuse_api_key, subject_of

__all__ = ["routes"]

MAX_DEVICE_ID = 64


def routes(h: Any) -> list[tuple[str, str, Any]]:
    """The device rows for ``auth_router``."""
    c = h.container

    async def list_devices(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        scope = request.scope
        refuse_api_key(scope)
        await records.touch_session(c, scope)
        current = records.current_device(c, scope)
        devices = [
            {
                "id": r.credential_id,
                "kind": r.data.get("type"),
                "created_at": r.created_at,
                "last_used": r.last_used,
                "expires_at": r.expires_at,
                "ip": r.data.get("ip"),
                "user_agent": r.data.get("user_agent"),
                "method": r.data.get("method"),
                "current": r.credential_id == current,
            }
            for r in await records.live_devices(c, subject_of(user))
        ]
        return response.json({"devices": devices}, headers=NO_STORE)

    async def end_device(
        request: Any, response: Any, device_id: str, user: Any = Depend(current_user)
    ) -> Any:
        refuse_api_key(request.scope)
        subject = subject_of(user)
        ok = 0 < len(device_id) <= MAX_DEVICE_ID and await records.end_device(c, subject, device_id)
        if not ok:
            return response.json(
                {"error": "not_found", "detail": "No such device"}, status_code=404
            )
        ip = caller_ip(c, request.scope)
        await emit(c, EventKind.DEVICE_ENDED, subject, ip, device=device_id)
        return response.empty(status_code=204)

    return [
        ("/devices", "GET", list_devices),
        ("/devices/{device_id}", "DELETE", end_device),
    ]
