"""examples/web_session through Nexios's TestClient: the pages, and the form routes'
refusals as data rows (each names the rule it covers). The browser story itself is in
test_web_session_browser.py."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nexios.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from examples.web_session.app import create_app  # noqa: E402

PASSWORD = "correct horse battery"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
COOKIE = "__Host-session"


@pytest.fixture(scope="module")
def module_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The example on its development profile, SQLite files in a temporary folder."""
    app = create_app("development", str(tmp_path_factory.mktemp("web")))
    with TestClient(app, base_url="https://testserver") as client:
        body = {"username": "ada", "password": PASSWORD}
        assert client.post("/auth/register", json=body).status_code == 201
        yield client


@pytest.fixture
def client(module_client: TestClient) -> TestClient:
    """The module's client with an empty cookie jar: a new browser."""
    module_client.cookies.clear()
    return module_client


def form_token(client: TestClient, path: str = "/login") -> str:
    page = client.get(path, headers=BROWSER)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text[:200]
    return found.group(1)


def sign_in(client: TestClient, password: str = PASSWORD, **extra: str) -> Any:
    data = {"username": "ada", "password": password, "csrf_token": form_token(client)}
    return client.post("/auth/form/login", data={**data, **extra}, follow_redirects=False)


def test_guard_form_and_page(client: TestClient) -> None:
    """An anonymous visit is sent to the form (302 ?next=), which signs in (303 to next)
    with a Secure HttpOnly cookie, and the page is never cached."""
    first = client.get("/", headers=BROWSER, follow_redirects=False)
    assert first.status_code == 302
    assert first.headers["location"] == "/login?next=%2F"
    done = sign_in(client, next="/")
    assert done.status_code == 303
    assert done.headers["location"] == "/"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith(COOKIE)
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    page = client.get("/", headers=BROWSER)
    assert "Signed in as <b>ada</b>" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_wrong_password_and_unknown_account_read_the_same(client: TestClient) -> None:
    """One redirect and one message whether the account exists (OWASP ASVS 2.2, WSTG
    IDNT-04): nothing on the page tells an attacker which usernames are real."""
    wrong = sign_in(client, password="not the password")
    token = form_token(client)
    data = {"username": "nobody-here", "password": "not the password", "csrf_token": token}
    unknown = client.post("/auth/form/login", data=data, follow_redirects=False)
    assert (
        wrong.headers["location"] == unknown.headers["location"] == "/login?error=invalid&next=%2F"
    )
    page = client.get(unknown.headers["location"], headers=BROWSER)
    assert "Invalid username or password." in page.text


def _post(client: TestClient, path: str, **kwargs: Any) -> Any:
    return client.post(path, follow_redirects=False, **kwargs)


def missing_token(c: TestClient) -> Any:
    form_token(c)
    return _post(c, "/auth/form/login", data={"username": "ada", "password": PASSWORD})


def wrong_token(c: TestClient) -> Any:
    form_token(c)
    data = {"username": "ada", "password": PASSWORD, "csrf_token": "A" * 43}
    return _post(c, "/auth/form/login", data=data)


def no_session_at_all(c: TestClient) -> Any:
    data = {"username": "ada", "password": PASSWORD, "csrf_token": "A" * 43}
    return _post(c, "/auth/form/login", data=data)  # a cross-site post: no cookie


def another_browsers_token(c: TestClient) -> Any:
    theirs = form_token(c)
    c.cookies.clear()
    form_token(c)  # our own session, their token
    data = {"username": "ada", "password": PASSWORD, "csrf_token": theirs}
    return _post(c, "/auth/form/login", data=data)


def oversize_token(c: TestClient) -> Any:
    form_token(c)
    data = {"username": "ada", "password": PASSWORD, "csrf_token": "A" * 5000}
    return _post(c, "/auth/form/login", data=data)


def json_body(c: TestClient) -> Any:
    token = form_token(c)
    body = {"username": "ada", "password": PASSWORD, "csrf_token": token}
    return _post(c, "/auth/form/login", json=body)


def multipart_body(c: TestClient) -> Any:
    token = form_token(c)
    files = {"username": (None, "ada"), "password": (None, PASSWORD), "csrf_token": (None, token)}
    return _post(c, "/auth/form/login", files=files)


def duplicate_username(c: TestClient) -> Any:
    token = form_token(c)
    raw = f"username=ada&username=eve&password=x&csrf_token={token}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return _post(c, "/auth/form/login", content=raw, headers=headers)


def not_utf8(c: TestClient) -> Any:
    token = form_token(c)
    raw = f"username=%FF%FE&password=x&csrf_token={token}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return _post(c, "/auth/form/login", content=raw, headers=headers)


def huge_body(c: TestClient) -> Any:
    token = form_token(c)
    data = {"username": "ada", "password": "p" * 2_000_000, "csrf_token": token}
    return _post(c, "/auth/form/login", data=data)


def long_username(c: TestClient) -> Any:
    token = form_token(c)
    data = {"username": "u" * 5000, "password": PASSWORD, "csrf_token": token}
    return _post(c, "/auth/form/login", data=data)


def note_without_token(c: TestClient) -> Any:
    sign_in(c)
    return _post(c, "/notes", data={"text": "forged"})


def logout_without_token(c: TestClient) -> Any:
    sign_in(c)
    return _post(c, "/auth/form/logout", data={"next": "/"})


def logout_others_with_header_only(c: TestClient) -> Any:
    sign_in(c)
    token = form_token(c, "/")
    return _post(c, "/auth/form/logout-others", data={"next": "/"}, headers={"X-CSRF-Token": token})


FORM_ATTACKS = [
    pytest.param(missing_token, 403, id="missing-csrf-field-login-CSRF-ASVS-4.2.2"),
    pytest.param(wrong_token, 403, id="wrong-csrf-field-ASVS-4.2.2"),
    pytest.param(no_session_at_all, 403, id="cross-site-post-no-cookie-login-CSRF"),
    pytest.param(another_browsers_token, 403, id="token-of-another-session-CWE-352"),
    pytest.param(oversize_token, 403, id="oversize-token-unread"),
    pytest.param(json_body, 415, id="json-instead-of-form-RFC9110-15.5.16"),
    pytest.param(multipart_body, 415, id="multipart-instead-of-form"),
    pytest.param(duplicate_username, 400, id="duplicate-field-parameter-pollution"),
    pytest.param(not_utf8, 400, id="invalid-utf8-RFC3629"),
    pytest.param(huge_body, 413, id="body-over-limit-unbounded-argon2-input"),
    pytest.param(long_username, 400, id="username-over-limit"),
    pytest.param(note_without_token, 403, id="app-form-without-token-CWE-352"),
    pytest.param(logout_without_token, 403, id="forced-logout-CSRF"),
    pytest.param(logout_others_with_header_only, 403, id="form-route-wants-the-field"),
]


@pytest.mark.parametrize(("attack", "status"), FORM_ATTACKS)
def test_form_attacks_are_refused(client: TestClient, attack: Any, status: int) -> None:
    """Each forged or malformed form post is refused with its status and a JSON body
    that names no account and no token, and signs nobody in."""
    response = attack(client)
    assert response.status_code == status, response.text[:200]
    assert set(response.json()) == {"error", "detail"}
    assert "ada" not in response.text
    assert PASSWORD not in response.text


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("//evil.example/x", id="scheme-relative-CWE-601"),
        pytest.param("https://evil.example/", id="absolute-CWE-601"),
        pytest.param("/\\evil.example", id="backslash-WHATWG-URL"),
        pytest.param("/%2F%2Fevil.example", id="encoded-double-slash"),
        pytest.param("/\r\nSet-Cookie: x=1", id="crlf-CWE-113"),
    ],
)
def test_hostile_next_lands_at_home(client: TestClient, target: str) -> None:
    """A hostile ``next`` in the form (or in the login page's query) lands at ``/``."""
    done = sign_in(client, next=target)
    assert done.status_code == 303
    assert done.headers["location"] == "/"
    page = client.get("/login", params={"next": target}, headers=BROWSER)
    assert page.status_code == 200 or page.headers.get("location") == "/"


def test_logout_ends_the_cookie_for_good(client: TestClient) -> None:
    """After the form logout the old cookie, replayed, opens nothing (ASVS V3.3.1)."""
    sign_in(client)
    stolen = client.cookies[COOKIE]
    token = form_token(client, "/")
    out = _post(client, "/auth/form/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    client.cookies.clear()
    replay = client.get("/", headers={**BROWSER, "Cookie": f"{COOKIE}={stolen}"},
                        follow_redirects=False)  # fmt: skip
    assert replay.status_code == 302
