"""A raw ASGI client: sends exactly the bytes given (no client-side validation or
percent-encoding), so fuzz and attack tests reach the app with hostile headers intact.
An exception escaping the app propagates to the test: it is never turned into a 500."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


async def call(
    app: Any,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
    *,
    client: tuple[str, int] = ("127.0.0.1", 50000),
) -> RawResponse:
    """One HTTP request through ``app`` as an ASGI server would deliver it."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": client,
        "server": ("testserver", 443),
    }
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return RawResponse(int(start["status"]), list(start.get("headers", [])), content)
