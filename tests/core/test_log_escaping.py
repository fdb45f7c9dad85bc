"""Log lines the library writes cannot be forged or drive a terminal (CWE-117)."""

from __future__ import annotations

import logging

import pytest
from nexios import NexiosApp
from nexios.dependencies import Depend

from nexios_auth_di import current_user, install
from nexios_auth_di.logs import escape
from nexios_auth_di.testing import make_test_container

# (rule, raw fragment, how it must appear in the log)
HOSTILE = [
    ("CWE-117 newline forges a second entry", "\n", "\\x0a"),
    ("CWE-117 carriage return rewrites the line", "\r", "\\x0d"),
    ("ANSI escape drives the terminal", "\x1b[31m", "\\x1b[31m"),
    ("U+2028 line separator splits JSON log lines", "\u2028", "\\u2028"),
    ("U+202E right-to-left override (Trojan Source)", "\u202e", "\\u202e"),
    ("NUL truncates C-string consumers", "\x00", "\\x00"),
    ("C1 NEL is a newline to some parsers", "\x85", "\\x85"),
]


@pytest.mark.parametrize(("rule", "raw", "shown"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_escape_makes_every_control_visible(rule: str, raw: str, shown: str) -> None:
    """escape() writes each control or format character as a visible escape."""
    assert escape(f"a{raw}b") == f"a{shown}b"


def test_printable_text_is_untouched() -> None:
    """Ordinary text, accents and CJK pass through unchanged (no double escaping)."""
    assert escape("café 東京 /me?x=1") == "café 東京 /me?x=1"


async def _raw_get(app: NexiosApp, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """One GET through the app's ASGI callable with ``path`` exactly as given (clients
    percent-encode, a hostile proxy or raw socket need not)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 443),
    }
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))  # type: ignore[call-overload]


# Nexios's URL parsing already drops CR/LF from request.url.path; the rest reach the log
IN_PATH = [h for h in HOSTILE if h[1] not in ("\n", "\r")]


@pytest.mark.parametrize(("rule", "raw", "shown"), IN_PATH, ids=[h[0] for h in IN_PATH])
async def test_refusal_log_line_escapes_the_request_path(
    rule: str, raw: str, shown: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The 401 log line shows a hostile request path escaped, never the raw character."""
    app = NexiosApp(debug=False)
    install(app, make_test_container())

    @app.get("/{rest:path}")
    async def anything(request, response, user=Depend(current_user)):  # type: ignore[no-untyped-def]
        return {"ok": True}

    with caplog.at_level(logging.INFO, logger="nexios_auth_di"):
        status = await _raw_get(app, f"/a{raw}b", [(b"authorization", b"Bearer not-a-token")])
    assert status == 401
    lines = [r.getMessage() for r in caplog.records if "-> 401" in r.getMessage()]
    assert len(lines) == 1
    assert f"GET /a{shown}b -> 401" in lines[0]
    assert raw not in lines[0]


def test_every_library_logger_escapes() -> None:
    """Each logger the package creates carries the escaping filter."""
    import nexios_auth_di.authenticator
    import nexios_auth_di.events
    import nexios_auth_di.http.errors
    import nexios_auth_di.routes.support  # noqa: F401

    names = [
        name
        for name in logging.root.manager.loggerDict
        if name.startswith("nexios_auth_di") and isinstance(logging.getLogger(name), logging.Logger)
    ]
    assert "nexios_auth_di" in names
    for name in names:
        logger = logging.getLogger(name)
        if logger.filters or logger.handlers or name in ("nexios_auth_di", "nexios_auth_di.routes"):
            assert any(type(f).__name__ == "EscapingFilter" for f in logger.filters), name
