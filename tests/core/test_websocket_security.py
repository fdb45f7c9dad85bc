"""WebSockets: cookie-authenticated handshakes check Origin, and open sockets learn that
their credential ended (logout, logout-all) and close with 1008."""

from __future__ import annotations

from typing import Any

import pytest
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient, WebSocketDisconnect

from nexios_auth_di import SimpleUser, current_user, ensure_still_valid, install, websocket_user
from nexios_auth_di.sessions import csrf_token, login, logout
from nexios_auth_di.testing import make_test_container

ALLOWED = "https://app.partner.example"
COOKIE = "__Host-session"


def _app(**session: Any) -> tuple[NexiosApp, Any]:
    container = make_test_container(
        {"alice": SimpleUser("alice")},
        backends=["session", "jwt"],
        session={
            "secret_key": "websocket-test-session-secret-0123456789abc",
            "websocket_origins": [ALLOWED],
            **session,
        },
    )
    app = NexiosApp(debug=False)
    install(app, container)

    @app.post("/login")
    async def do_login(request, response):  # type: ignore[no-untyped-def]
        await login(request, "alice")
        return {"csrf": csrf_token(request)}

    @app.post("/logout")
    async def do_logout(request, response, user=Depend(current_user)):  # type: ignore[no-untyped-def]
        await logout(request)
        return response.empty(status_code=204)

    @app.ws_route("/ws")
    async def ws(websocket):  # type: ignore[no-untyped-def]
        user = await websocket_user(websocket)
        if user is None:
            return
        await websocket.accept()
        await websocket.send_json({"hello": user.identity, "auth": websocket.scope["auth"]})
        while True:
            message = await websocket.receive_json()
            if not await ensure_still_valid(websocket):
                return
            await websocket.send_json({"echo": message, "as": user.identity})

    return app, container


def _session_cookie(client: TestClient) -> tuple[str, str]:
    response = client.post("/login")
    assert response.status_code == 200
    return str(client.cookies[COOKIE]), str(response.json()["csrf"])


# (case, Origin header or None, accepted?)
ORIGINS = [
    ("same origin", "http://testserver", True),
    ("same origin over TLS proxy", "https://testserver", True),
    ("allow-listed origin (session.websocket_origins)", ALLOWED, True),
    ("CWE-1385 foreign site", "https://evil.example", False),
    (
        "CWE-1385 sibling subdomain (SameSite=Lax lets the cookie ride)",
        "https://x.testserver",
        False,
    ),
    ("CWE-1385 look-alike suffix", "https://testserver.evil.example", False),
    ("CWE-1385 opaque origin (sandboxed iframe)", "null", False),
    ("CWE-1385 no Origin header", None, False),
]


@pytest.mark.parametrize(("case", "origin", "accepted"), ORIGINS, ids=[o[0] for o in ORIGINS])
def test_cookie_websocket_checks_origin(case: str, origin: str | None, accepted: bool) -> None:
    """A session-cookie WebSocket opens only from the app's own or an allowed origin."""
    app, _ = _app()
    with TestClient(app, base_url="https://testserver") as client:
        cookie, _ = _session_cookie(client)
        headers = {"cookie": f"{COOKIE}={cookie}"}
        if origin is not None:
            headers["origin"] = origin
        if accepted:
            with client.websocket_connect("/ws", headers=headers) as ws:
                assert ws.receive_json() == {"hello": "alice", "auth": "session"}
        else:
            with (
                pytest.raises(WebSocketDisconnect) as closed,
                client.websocket_connect("/ws", headers=headers) as ws,
            ):
                ws.receive_json()
            assert closed.value.code == 1008


def test_bearer_websocket_is_not_bound_to_origin() -> None:
    """A bearer token is not ambient authority: a foreign Origin does not matter."""
    app, container = _app()
    token = container.token_service().create_access_token("alice")
    headers = {"Authorization": f"Bearer {token}", "origin": "https://tool.example"}
    with TestClient(app) as client, client.websocket_connect("/ws", headers=headers) as ws:
        assert ws.receive_json() == {"hello": "alice", "auth": "jwt"}


def test_session_socket_open_across_logout_is_closed() -> None:
    """After the owner logs out, the next message on an open session socket closes it."""
    app, _ = _app()
    with TestClient(app, base_url="https://testserver") as client:
        cookie, csrf = _session_cookie(client)
        headers = {"cookie": f"{COOKIE}={cookie}", "origin": "https://testserver"}
        with client.websocket_connect("/ws", headers=headers) as ws:
            ws.receive_json()
            ws.send_json({"n": 1})
            assert ws.receive_json() == {"echo": {"n": 1}, "as": "alice"}
            assert client.post("/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
            ws.send_json({"n": 2})
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 1008


def test_bearer_socket_open_across_logout_all_is_closed() -> None:
    """After revoke_all (logout everywhere), an open bearer socket closes on its next message."""
    app, container = _app()
    tokens = container.token_service()
    token = tokens.create_access_token("alice")
    with (
        TestClient(app) as client,
        client.websocket_connect("/ws", headers={"Authorization": f"Bearer {token}"}) as ws,
    ):
        ws.receive_json()
        ws.send_json({"n": 1})
        assert ws.receive_json()["as"] == "alice"
        assert client.portal is not None
        client.portal.call(tokens.revoke_all, "alice")
        ws.send_json({"n": 2})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008
