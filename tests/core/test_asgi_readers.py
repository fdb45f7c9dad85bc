"""The raw-ASGI readers in ``http.asgi``: one duplicate policy, fail-closed parsing."""

from __future__ import annotations

from typing import Any

import pytest

from nexios_auth_di.exceptions import BadRequest
from nexios_auth_di.http import asgi

RFC9110_DUP = "RFC 9110 §5.3: a singleton field sent twice is ambiguous; refused"
RFC9110_CL = "RFC 9110 §8.6: Content-Length is 1*DIGIT"


def _scope(*headers: tuple[bytes, bytes], method: str = "POST") -> dict[str, Any]:
    return {"type": "http", "method": method, "headers": list(headers)}


# (what it covers, reader, scope, expected reason of the BadRequest)
REFUSED: list[tuple[str, Any, dict[str, Any], str]] = [
    (RFC9110_DUP, lambda s: asgi.header(s, b"authorization"),
     _scope((b"authorization", b"Bearer a"), (b"authorization", b"Bearer b")), "duplicate_header"),
    (RFC9110_DUP, asgi.media_type,
     _scope((b"content-type", b"text/plain"), (b"content-type", b"application/json")),
     "duplicate_header"),
    (RFC9110_DUP, asgi.content_length,
     _scope((b"content-length", b"1"), (b"content-length", b"1")), "duplicate_header"),
    (RFC9110_CL, asgi.content_length, _scope((b"content-length", b"-1")), "bad_content_length"),
    (RFC9110_CL, asgi.content_length, _scope((b"content-length", b"1e3")), "bad_content_length"),
    (f"{RFC9110_CL}: superscript two is not an ASCII digit", asgi.content_length,
     _scope((b"content-length", "²".encode("latin-1"))), "bad_content_length"),
    (f"{RFC9110_CL}: no 19-digit sizes", asgi.content_length,
     _scope((b"content-length", b"9" * 19)), "bad_content_length"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "reader", "scope", "reason"), REFUSED)
def test_malformed_or_duplicated_fields_are_bad_requests(
    rule: str, reader: Any, scope: dict[str, Any], reason: str
) -> None:
    """Ambiguous or malformed singleton fields raise BadRequest (400), never parse."""
    with pytest.raises(BadRequest) as caught:
        reader(scope)
    assert caught.value.reason == reason, rule


def test_singletons_read_once() -> None:
    """A well-formed request reads back exactly what was sent."""
    scope = _scope(
        (b"content-type", b"Application/JSON; charset=utf-8"),
        (b"content-length", b"42"),
        (b"authorization", b"Bearer abc"),
    )
    assert asgi.media_type(scope) == "application/json"
    assert asgi.content_length(scope) == 42
    assert asgi.header(scope, b"authorization") == "Bearer abc"
    assert asgi.header(scope, b"x-missing") is None
    assert asgi.content_length(_scope()) is None


@pytest.mark.parametrize(
    ("value", "scheme", "expected"),
    [
        ("Bearer abc", "Bearer", "abc"),
        ("bEaReR  abc ", "Bearer", "abc"),  # RFC 9110 §11.1: schemes are case-insensitive
        ("Basic abc", "Bearer", None),
        ("Bearerabc", "Bearer", None),
        ("Bearer ", "Bearer", ""),
        (" raw ", "", "raw"),
    ],
)
def test_after_scheme(value: str, scheme: str, expected: str | None) -> None:
    """The credential follows its scheme and a space; another scheme is not ours."""
    assert asgi.after_scheme(value, scheme) == expected


def test_has_header_checks_presence_and_prefix_only() -> None:
    """has_header is the cheap "was a credential sent?" check used by lazy request.user."""
    scope = _scope((b"authorization", b"Basic x"), (b"authorization", b"BEARER y"))
    assert asgi.has_header(scope, b"authorization")
    assert asgi.has_header(scope, b"authorization", b"bearer ")
    assert not asgi.has_header(scope, b"authorization", b"token ")
    assert not asgi.has_header(scope, b"x-api-key")


COOKIES: list[tuple[str, list[bytes], str | None]] = [
    ("one cookie", [b"a=1; session=abc; b=2"], "abc"),
    ("RFC 9113 §8.2.3: cookie split over fields", [b"a=1", b"session=abc"], "abc"),
    ("RFC 6265bis §8.5: tossed duplicate name", [b"session=abc; session=evil"], None),
    ("RFC 6265bis §8.5: duplicate across fields", [b"session=abc", b"session=evil"], None),
    ("RFC 6265 §6.1: over the size limit", [b"session=" + b"A" * 5000], None),
    ("RFC 6265bis §5.4: non-ASCII octets", [b"session=\xff\xfe"], None),
    ("control characters", [b"session=a\x01b"], None),
    ("a longer name is another cookie", [b"xsession=abc"], None),
    ("quoted value", [b'session="abc"'], "abc"),
    ("empty value", [b"session="], None),
]


@pytest.mark.parametrize(("rule", "lines", "expected"), COOKIES, ids=[c[0] for c in COOKIES])
def test_cookie(rule: str, lines: list[bytes], expected: str | None) -> None:
    """A bad or ambiguous cookie reads as no cookie, never as an error."""
    scope = _scope(*((b"cookie", line) for line in lines))
    assert asgi.cookie(scope, "session") == expected, rule


def test_list_headers_join_their_lines() -> None:
    """X-Forwarded-For lines are one list (RFC 9110 §5.3), read in order."""
    scope = _scope((b"x-forwarded-for", b"1.1.1.1, 2.2.2.2"), (b"x-forwarded-for", b"3.3.3.3"))
    assert asgi.forwarded_hops(scope) == ["1.1.1.1", "2.2.2.2", "3.3.3.3"]
    assert asgi.header_values(_scope(), b"x-forwarded-for") == []


def test_method_defaults_and_case() -> None:
    """The method is upper-cased; a scope without one is a GET (ASGI websocket scopes)."""
    assert asgi.method({"type": "websocket"}) == "GET"
    assert asgi.method(_scope(method="purge")) == "PURGE"


def _body_app() -> Any:
    from nexios import NexiosApp

    from nexios_auth_di.routes.bodies import read_json_object

    app = NexiosApp()

    @app.post("/echo")
    async def echo(request: Any, response: Any) -> Any:
        return response.json(await read_json_object(request, frozenset({"a"})))

    return app


HTTP_ROWS: list[tuple[str, list[tuple[str, str]], int]] = [
    ("control row: one JSON Content-Type", [("content-type", "application/json")], 200),
    (RFC9110_DUP + " (Content-Type: which parser?)",
     [("content-type", "application/json"), ("content-type", "text/plain")], 400),
    (RFC9110_DUP + " (Content-Length: request smuggling, RFC 9112 §6.3)",
     [("content-type", "application/json"), ("content-length", "8"), ("content-length", "8")],
     400),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "headers", "status"), HTTP_ROWS, ids=["ok", "dup-ct", "dup-cl"])
def test_duplicated_body_headers_through_nexios(
    rule: str, headers: list[tuple[str, str]], status: int
) -> None:
    """Through a real Nexios route, a repeated body header is a 400 JSON answer, not a 500."""
    from nexios.testclient import TestClient

    with TestClient(_body_app()) as client:
        response = client.post("/echo", content=b'{"a": 1}', headers=headers)
    assert response.status_code == status, rule
    if status == 200:
        assert response.json() == {"a": 1}, rule
    else:
        assert "Duplicate" in response.text, rule  # Nexios's own handler: no install()
