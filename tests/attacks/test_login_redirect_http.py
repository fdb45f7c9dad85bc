"""HTML-aware guards over HTTP: an anonymous browser is sent to the login page (302,
``?next=``), everyone else keeps the 401/403; and ``next`` values that would bounce a
user to another site (CWE-601, OWASP ASVS 4.0 5.1.5) are refused, as data rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from http_attack_support import REFUSED_BODY, open_client
from nexios import NexiosApp
from nexios.dependencies import Depend
from nexios.testclient import TestClient

from nexios_auth_di import (
    SimpleUser,
    current_user,
    install,
    login_required,
    permission_required,
)
from nexios_auth_di.exceptions import ConfigurationError
from nexios_auth_di.http.redirects import is_safe_next, login_redirect_target, safe_next
from nexios_auth_di.session import login
from nexios_auth_di.testing import make_test_container

SECRET = "login-redirect-suite-session-secret-0123456789"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
USERS = {"alice": SimpleUser("alice", permissions=["read"])}


def build_app(login_url: str | None = "/login") -> NexiosApp:
    """Three guard styles and a guard with its own ``login_url=``, behind ``install``."""
    session: dict[str, Any] = {"secret_key": SECRET, "server_side": True, "login_url": login_url}
    container = make_test_container(USERS, session=session)
    app = NexiosApp(debug=False)

    @app.post("/session")
    async def sign_in(request: Any, response: Any) -> Any:
        await login(request, "alice")
        return {}

    @app.get("/profile")
    @login_required
    async def profile(request: Any, response: Any) -> Any:
        return {"page": "profile"}

    @app.get("/admin")
    @permission_required("admin")
    async def admin(request: Any, response: Any) -> Any:
        return {"page": "admin"}

    @app.route("/me", methods=["GET", "POST", "HEAD"])
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id}

    @app.get("/billing")
    @login_required(login_url="/billing/login")
    async def billing(request: Any, response: Any) -> Any:
        return {"page": "billing"}

    install(app, container)
    return app


@pytest.fixture(scope="module")
def module_client() -> Iterator[TestClient]:
    """One app for the module (``session.login_url: /login``)."""
    with open_client(build_app()) as client:
        yield client


@pytest.fixture
def client(module_client: TestClient) -> TestClient:
    """The module's client with an empty cookie jar: a stranger."""
    module_client.cookies.clear()
    return module_client


def _next_of(location: str) -> str:
    parts = urlsplit(location)
    return parse_qs(parts.query)["next"][0]


@pytest.mark.parametrize("path", ["/profile", "/admin", "/me"])
def test_anonymous_browser_is_sent_to_login(client: TestClient, path: str) -> None:
    """``login_required``, ``permission_required`` and ``Depend(current_user)`` send an
    anonymous browser navigation to ``/login?next=<path and query>``, uncacheable."""
    r = client.get(path + "?tab=2&x=%2F", headers={"Accept": BROWSER}, follow_redirects=False)
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert urlsplit(location).path == "/login"
    assert _next_of(location) == path + "?tab=2&x=%2F"
    assert "no-store" in r.headers["cache-control"]
    assert "Accept" in r.headers["vary"]


def test_guard_login_url_wins_over_config(client: TestClient) -> None:
    """``login_required(login_url=...)`` sends the browser to its own page, not the config's."""
    r = client.get("/billing", headers={"Accept": BROWSER}, follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == "/billing/login?next=%2Fbilling"


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        pytest.param("GET", {"Accept": "application/json"}, id="json-client"),
        pytest.param("GET", {}, id="no-accept-header"),
        pytest.param("GET", {"Accept": "*/*"}, id="curl-any"),
        pytest.param("GET", {"Accept": "application/json, text/html;q=0.5"}, id="json-first"),
        pytest.param("GET", {"Accept": "text/html;q=0.5, application/json;q=0.5"}, id="tie"),
        pytest.param("GET", {"Accept": "text/html;q=2"}, id="malformed-q"),
        pytest.param("GET", {"Accept": "text/html;q=0"}, id="html-refused"),
        pytest.param("GET", {"Accept": "text/html", "Authorization": "Bearer x"}, id="bearer"),
        pytest.param("POST", {"Accept": BROWSER}, id="browser-post-replay-as-get"),
    ],
)
def test_api_clients_keep_their_401(
    client: TestClient, method: str, headers: dict[str, str]
) -> None:
    """JSON and API clients, unreadable ``Accept`` headers, explicit credentials and
    unsafe methods get the JSON 401 with its challenge, never a redirect."""
    r = client.request(method, "/me", headers=headers, follow_redirects=False)
    assert r.status_code == 401, r.text
    assert r.json() == REFUSED_BODY
    assert r.headers.get("www-authenticate")


def test_signed_in_without_permission_gets_403_not_a_redirect(client: TestClient) -> None:
    """A logged-in browser lacking a permission gets the 403: sending it to log in again
    would loop."""
    assert client.post("/session").status_code == 200
    r = client.get("/admin", headers={"Accept": BROWSER}, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/profile", headers={"Accept": BROWSER}).status_code == 200


def test_no_login_url_keeps_the_401() -> None:
    """Without ``session.login_url`` a browser gets the same 401 as any client."""
    with open_client(build_app(login_url=None)) as client:
        r = client.get("/profile", headers={"Accept": BROWSER}, follow_redirects=False)
    assert r.status_code == 401
    assert r.json() == REFUSED_BODY


HOSTILE_REQUEST_PATHS = [
    pytest.param("//evil.example/x", id="scheme-relative-path-CWE-601"),
    pytest.param("/%2F%2Fevil.example", id="encoded-double-slash-CWE-601"),
    pytest.param("/..//evil.example", id="dot-segment-to-double-slash-RFC3986-5.2.4"),
]


@pytest.mark.parametrize("path", HOSTILE_REQUEST_PATHS)
def test_hostile_request_path_never_becomes_next(path: str) -> None:
    """A request for a path that a browser would read as another host (sent by an
    attacker's link) is sent to the login page with ``next=/``, not the path."""
    scope = {"type": "http", "raw_path": path.encode(), "path": path, "query_string": b""}
    assert login_redirect_target("/login", scope) == "/login?next=%2F"


OPEN_REDIRECTS = [
    pytest.param("//evil.example", id="scheme-relative-CWE-601"),
    pytest.param("///evil.example", id="triple-slash-CWE-601"),
    pytest.param("/\\evil.example", id="backslash-read-as-slash-WHATWG-URL"),
    pytest.param("\\\\evil.example", id="double-backslash-WHATWG-URL"),
    pytest.param("https://evil.example", id="absolute-https-ASVS-5.1.5"),
    pytest.param("http:evil.example", id="scheme-no-slashes-RFC3986-3.1"),
    pytest.param("javascript:alert(1)", id="javascript-scheme-XSS"),
    pytest.param("data:text/html,x", id="data-scheme"),
    pytest.param("evil.example", id="relative-no-leading-slash"),
    pytest.param("%2F%2Fevil.example", id="encoded-slashes-CWE-601"),
    pytest.param("/%2F/evil.example", id="encoded-second-slash"),
    pytest.param("/%2Fevil.example", id="encoded-double-slash-after-decode"),
    pytest.param("/%5Cevil.example", id="encoded-backslash"),
    pytest.param("/%252F%252Fevil.example", id="double-encoded-slashes-CWE-174"),
    pytest.param("/%25252F%25252Fevil", id="triple-encoded-past-limit"),
    pytest.param("/\r\nSet-Cookie:x=1", id="crlf-header-injection-CWE-113"),
    pytest.param("/%0d%0aSet-Cookie:x=1", id="encoded-crlf-CWE-113"),
    pytest.param("/\t/evil.example", id="tab-stripped-by-browser-WHATWG-URL"),
    pytest.param("/%09/evil.example", id="encoded-tab"),
    pytest.param(" /profile", id="leading-space"),
    pytest.param("/../../etc", id="dot-segments-RFC3986-5.2.4"),
    pytest.param("/a/%2e%2e//evil.example", id="encoded-dot-segments"),
    pytest.param("/caf\u00e9", id="raw-non-ascii"),
    pytest.param("/%FF", id="invalid-utf8-escape"),
    pytest.param("/" + "a" * 2100, id="oversize"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("value", OPEN_REDIRECTS)
def test_open_redirect_next_is_refused(value: str) -> None:
    """Every hostile ``next`` is refused and replaced by the default, never repaired."""
    assert not is_safe_next(value)
    assert safe_next(value, "/home") == "/home"


@pytest.mark.parametrize(
    "value", ["/", "/profile", "/a/b?x=1&y=%20z#top", "/caf%C3%A9", "/path;param", "/?next=/x"]
)
def test_same_origin_next_is_kept(value: str) -> None:
    """A same-origin path (query, fragment, escapes) passes through unchanged."""
    assert safe_next(value, "/home") == value


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("//evil.example/login", id="scheme-relative"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("login", id="relative"),
        pytest.param("/log in", id="space"),
        pytest.param("/login#frag", id="fragment"),
        pytest.param("/\\evil", id="backslash"),
        pytest.param("https://", id="no-host"),
        pytest.param("", id="empty"),
    ],
)
def test_bad_login_url_fails_at_startup(url: str) -> None:
    """A ``session.login_url`` that a browser could read as another site, or that cannot
    take ``?next=``, is a ConfigurationError naming the key, before any request."""
    container = make_test_container(USERS, session={"secret_key": SECRET, "login_url": url})
    with pytest.raises(ConfigurationError, match=r"session\.login_url"):
        container.settings()
    with pytest.raises(ConfigurationError, match="login_url"):
        login_required(login_url=url)


@pytest.mark.parametrize("url", ["/login", "/accounts/login?lang=en", "https://sso.example/login"])
def test_good_login_urls_load(url: str) -> None:
    """A path on this site or an absolute https URL (a central login site) loads."""
    container = make_test_container(USERS, session={"secret_key": SECRET, "login_url": url})
    assert container.settings().session.login_url == url
