"""Session and CSRF attacks as data rows, each naming the rule it covers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from nexios.testclient import TestClient
from session_helpers import FORMS
from support import FakeClock

from nexios_auth_di.exceptions import CSRFFailed
from nexios_auth_di.sessions.csrf import CSRF_SESSION_KEY, require_csrf, verify_csrf
from nexios_auth_di.stores.memory import MemoryRevocationStore

Make = Callable[..., TestClient]
Attack = Callable[[TestClient, FakeClock], Any]


def _cookie(c: TestClient) -> str:
    return str(c.cookies["session"])


def _send(c: TestClient, cookie_header: str | bytes) -> Any:
    c.cookies.clear()
    return c.get("/me", headers={"cookie": cookie_header})


def _logged_in(c: TestClient) -> str:
    c.post("/login2", json={"user_id": 1})
    return _cookie(c)


def tampered_payload(c: TestClient, clock: FakeClock) -> Any:
    value = _logged_in(c)
    i = len(value) // 3  # inside the (possibly compressed) payload
    flipped = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1 :]
    return _send(c, f"session={flipped}")


def tampered_signature(c: TestClient, clock: FakeClock) -> Any:
    value = _logged_in(c)
    return _send(c, f"session={value[:-3]}{'xyz' if value[-3:] != 'xyz' else 'abc'}")


def forged_unsigned(c: TestClient, clock: FakeClock) -> Any:
    return _send(c, 'session={"d":{"user_id":1}}')


def expired(c: TestClient, clock: FakeClock) -> Any:
    value = _logged_in(c)
    clock.now += 3601  # past max_age: the signature timestamp is too old
    return _send(c, f"session={value}")


def replayed_after_logout(c: TestClient, clock: FakeClock) -> Any:
    value = _logged_in(c)
    c.post("/logout2")
    return _send(c, f"session={value}")


def replayed_after_guide_clear(c: TestClient, clock: FakeClock) -> Any:
    value = _logged_in(c)
    c.post("/logout")
    return _send(c, f"session={value}")


def fixed_id_before_login(c: TestClient, clock: FakeClock) -> Any:
    c.post("/put", json={"theme": "dark"})  # the attacker obtains an anonymous session
    planted = _cookie(c)
    c.post("/login2", json={"user_id": 1})  # the victim logs in with the planted cookie
    assert _cookie(c) != planted
    return _send(c, f"session={planted}")


def fixed_id_before_guide_login(c: TestClient, clock: FakeClock) -> Any:
    c.post("/put", json={"theme": "dark"})
    planted = _cookie(c)
    c.post("/login", json={"user_id": 1})  # the guide's plain assignment also rotates
    assert _cookie(c) != planted
    return _send(c, f"session={planted}")


def _raw(header: str | bytes) -> Attack:
    return lambda c, clock: _send(c, header)


def duplicate_names(c: TestClient, clock: FakeClock) -> Any:
    value = _logged_in(c)
    return _send(c, f"session={value}; session={value}")


SESSION_ATTACKS: list[tuple[str, str, str, Attack]] = [
    ("tampered payload", "OWASP ASVS 5.0 V7.2.1 (backend verifies token)", "cookie",
     tampered_payload),
    ("tampered signature", "OWASP ASVS 5.0 V7.2.1 (backend verifies token)", "cookie",
     tampered_signature),
    ("tampered server id", "OWASP ASVS 5.0 V7.2.1 (backend verifies token)", "server",
     tampered_signature),
    ("forged unsigned JSON", "CWE-565 (cookie trusted without validation)", "cookie",
     forged_unsigned),
    ("expired cookie", "OWASP ASVS 5.0 V7.3.1 (inactivity timeout)", "cookie", expired),
    ("expired server session", "OWASP ASVS 5.0 V7.3.1 (inactivity timeout)", "server", expired),
    ("replayed after logout", "OWASP ASVS 5.0 V7.4.1 (termination)", "server",
     replayed_after_logout),
    ("replayed after session.clear()", "OWASP ASVS 5.0 V7.4.1 (termination)", "server",
     replayed_after_guide_clear),
    ("replayed client cookie after logout", "OWASP ASVS 5.0 V7.4.1 (terminated-token list)",
     "cookie+revocations", replayed_after_logout),
    ("replayed client cookie after clear()", "OWASP ASVS 5.0 V7.4.1 (terminated-token list)",
     "cookie+revocations", replayed_after_guide_clear),
    ("fixed session id before login", "OWASP ASVS 5.0 V7.2.4 / CWE-384 (fixation)", "server",
     fixed_id_before_login),
    ("fixed id before guide-style login", "OWASP ASVS 5.0 V7.2.4 / CWE-384 (fixation)",
     "server", fixed_id_before_guide_login),
    ("garbage value", "RFC 6265bis §5.4 (parse defensively)", "cookie", _raw("session=%%%$$")),
    ("empty value", "RFC 6265bis §5.4 (parse defensively)", "server", _raw("session=")),
    ("malformed header", "RFC 6265bis §5.4 (parse defensively)", "cookie", _raw(";;==;=a;")),
    ("100 KB value", "RFC 6265bis §6.1 (4096-byte cookie limit)", "cookie",
     _raw("session=" + "A" * 100_000)),
    ("non-ASCII bytes", "RFC 6265bis §5.4 (cookie-octet)", "cookie",
     _raw(b"session=\xff\xfe\x00abc")),
    ("duplicate cookie names", "RFC 6265bis §8.5 (cookie tossing)", "server", duplicate_names),
]  # fmt: skip


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("name", "rule", "mode", "attack"), SESSION_ATTACKS, ids=[a[0] for a in SESSION_ATTACKS]
)
def test_session_attacks_yield_empty_session(
    client_for: Make, clock: FakeClock, form: str, name: str, rule: str, mode: str, attack: Attack
) -> None:
    """Each attack ends in an anonymous, empty session with a 200, never a 500."""
    kwargs: dict[str, Any] = {}
    if mode == "cookie+revocations":
        mode, kwargs["revocations"] = "cookie", MemoryRevocationStore(clock)
    c = client_for(form, mode, **kwargs)
    response = attack(c, clock)
    assert response.status_code == 200, rule
    assert response.json() == {}, rule


def _csrf_session(c: TestClient) -> str:
    return str(c.post("/login2", json={"user_id": 1}).json()["csrf"])


CSRF_ATTACKS: list[tuple[str, str, str, Callable[[str], dict[str, str]], int]] = [
    ("missing token", "OWASP CSRF cheat sheet: synchronizer token", "POST", lambda t: {}, 403),
    ("wrong token", "OWASP CSRF cheat sheet: synchronizer token", "POST",
     lambda t: {"X-CSRF-Token": t[::-1]}, 403),
    ("empty token", "OWASP CSRF cheat sheet: synchronizer token", "PUT",
     lambda t: {"X-CSRF-Token": ""}, 403),
    ("token with suffix", "OWASP CSRF cheat sheet: exact comparison", "PATCH",
     lambda t: {"X-CSRF-Token": t + "x"}, 403),
    ("token in wrong header", "OWASP CSRF cheat sheet: custom request header", "DELETE",
     lambda t: {"X-XSRF-Token": t}, 403),
    ("non-ASCII token", "OWASP CSRF cheat sheet: synchronizer token", "POST",
     lambda t: {"X-CSRF-Token": "é" * 10}, 403),
    ("right token", "control row: the legitimate request passes", "POST",
     lambda t: {"X-CSRF-Token": t}, 200),
    ("right token, lower-case header", "RFC 9110 §5.1 (field names are case-insensitive)",
     "DELETE", lambda t: {"x-csrf-token": t}, 200),
    ("safe method without token", "OWASP CSRF cheat sheet: safe methods", "GET",
     lambda t: {}, 200),
]  # fmt: skip


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("name", "rule", "method", "headers", "status"), CSRF_ATTACKS, ids=[a[0] for a in CSRF_ATTACKS]
)
def test_csrf_rows(
    client_for: Make,
    form: str,
    name: str,
    rule: str,
    method: str,
    headers: Callable[[str], dict[str, str]],
    status: int,
) -> None:
    """Unsafe methods need the session's token in X-CSRF-Token; safe methods pass."""
    c = client_for(form, "server")
    token = _csrf_session(c)
    sent = {k: v.encode("utf-8") for k, v in headers(token).items()}
    response = c.request(method, "/unsafe", headers=sent)
    assert response.status_code == status, rule
    if status == 200:
        assert response.json() == {"ok": True}


def test_token_from_another_session_is_refused(client_for: Make) -> None:
    """A token stolen from one session is useless in another (token bound to session)."""
    c = client_for("wrap_asgi", "server")
    other = client_for("wrap_asgi", "server", app=c.app)
    _csrf_session(c)
    stolen = _csrf_session(other)
    assert c.post("/unsafe", headers={"X-CSRF-Token": stolen}).status_code == 403


def test_pre_login_token_dies_at_login(client_for: Make) -> None:
    """login() rotates the CSRF token, so a token learnt before login cannot be used."""
    c = client_for("wrap_asgi", "server")
    before = c.get("/csrf").json()["csrf"]
    after = _csrf_session(c)
    assert before != after
    assert c.post("/unsafe", headers={"X-CSRF-Token": before}).status_code == 403


def _scope(method: str, session: dict[str, Any] | None, headers: list[Any]) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": "http", "method": method, "headers": headers}
    if session is not None:
        scope["session"] = session
    return scope


@pytest.mark.parametrize(
    ("scope", "ok"),
    [
        (_scope("POST", None, [(b"x-csrf-token", b"t")]), False),
        (_scope("POST", {}, [(b"x-csrf-token", b"t")]), False),
        (_scope("POST", {CSRF_SESSION_KEY: "t"}, [(b"x-csrf-token", b"t")]), True),
        (_scope("POST", {CSRF_SESSION_KEY: "t"}, [(b"x-csrf-token", b"t")] * 2), False),
        (_scope("PROPFIND", {CSRF_SESSION_KEY: "t"}, []), False),
        (_scope("OPTIONS", None, []), True),
        (_scope("HEAD", None, []), True),
    ],
    ids=["no session", "no token in session", "match", "duplicate header", "unknown", "OPTIONS",
         "HEAD"],
)  # fmt: skip
def test_verify_csrf_on_raw_scope(scope: dict[str, Any], ok: bool) -> None:
    """verify_csrf reads raw ASGI headers and fails closed on anything unusual."""
    assert verify_csrf(scope) is ok
    if ok:
        require_csrf(scope)
    else:
        with pytest.raises(CSRFFailed):
            require_csrf(scope)
