"""examples/web_session in real headless Chromium (Debian's chromium + chromedriver) over a
real uvicorn: the login form, an HttpOnly cookie, a refused cross-site POST, "log out my
other devices", logout, and a Back button that shows nothing."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.browser import chromium, screenshot
from support.redis_server import free_port
from support.uvicorn import Worker

PASSWORD = "correct horse battery"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Worker, str]]:
    """The example on uvicorn (its own SQLite files), and the browser's base URL: the
    ``localhost`` name, so the hostile page on ``127.0.0.1`` is another site."""
    worker = Worker(
        {"EXAMPLE_DATA_DIR": str(tmp_path)}, app="examples.web_session.app:create_app",
        factory=True,
    )  # fmt: skip
    try:
        worker.wait_serving("/login")
        created = worker.post("/auth/register", json={"username": "ada", "password": PASSWORD})
        assert created.status_code == 201, created.text
        yield worker, f"http://localhost:{worker.port}"
    finally:
        worker.stop()


@pytest.fixture
def hostile(site: tuple[Worker, str]) -> Iterator[str]:
    """Another origin (127.0.0.1, another port) whose page auto-posts a note to the site
    without the CSRF token, as a forged cross-site form would."""
    target = f"{site[1]}/notes"
    page = (
        f'<!doctype html><form id="f" method="post" action="{target}">'
        '<input name="text" value="pwned by another site"></form>'
        "<script>document.getElementById('f').submit()</script>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def click_and_wait(driver: Any, element_id: str) -> None:
    """Click a submit button and wait until the next page replaced this one and finished
    loading. A page is marked before the click (a new page has a fresh ``window``); while
    the pages swap, chromedriver can fail on nodes of the old one, which is not a result."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    def replaced(d: Any) -> bool:
        try:
            return bool(d.execute_script(
                "return window.__before_click === undefined && document.readyState === 'complete'"
            ))  # fmt: skip
        except WebDriverException:
            return False

    driver.execute_script("window.__before_click = true")
    try:
        driver.find_element("id", element_id).click()
    except WebDriverException as exc:  # chromedriver looked at the node after the submit
        if "does not belong to the document" not in str(exc):  # had replaced the page
            raise
    WebDriverWait(driver, 15).until(replaced)


def wait_for_url(driver: Any, url: str) -> None:
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(driver, 15).until(expected_conditions.url_to_be(url))


def _sign_in(driver: Any, username: str, password: str) -> None:
    driver.find_element("id", "username").send_keys(username)
    driver.find_element("id", "password").send_keys(password)
    click_and_wait(driver, "sign-in")


class OtherDevice:
    """A second device signed in through the same form: plain HTTP to 127.0.0.1, so its
    Secure cookie is carried by hand (a cookie jar would keep it for https only)."""

    def __init__(self, worker: Worker) -> None:
        self.worker, self.cookie = worker, ""
        form = self.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        data = {"username": "ada", "password": PASSWORD, "csrf_token": token.group(1)}
        signed_in = self.request("POST", "/auth/form/login", data={**data, "next": "/"})
        assert signed_in.status_code == 303, signed_in.text

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Accept": "text/html", "Cookie": f"__Host-session={self.cookie}"}
        response = self.worker.request(method, path, headers=headers, **kwargs)
        for line in response.headers.get_list("set-cookie"):
            if line.startswith("__Host-session="):
                self.cookie = line.split(";", 1)[0].partition("=")[2]
        return response

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)


def test_browser_login_csrf_logout_and_back(site: tuple[Worker, str], hostile: str) -> None:
    """The full browser story of the example: the guard sends an anonymous visit to the
    form; a wrong password and an unknown account read the same; the right one lands on
    the page with an HttpOnly cookie JavaScript cannot read; a forged cross-site POST
    changes nothing; "log out my other devices" ends the other device only; logout, then
    Back, shows the login page, never the protected one."""
    worker, base = site
    other = OtherDevice(worker)
    assert other.get("/").status_code == 200
    with chromium() as driver:
        driver.get(base + "/")
        assert driver.current_url == base + "/login?next=%2F"  # the 302 guard

        _sign_in(driver, "ada", "not the password")
        wrong = driver.find_element("id", "error").text
        _sign_in(driver, "nobody-here", "not the password")
        unknown = driver.find_element("id", "error").text
        assert wrong == unknown == "Invalid username or password."  # no enumeration

        _sign_in(driver, "ada", PASSWORD)
        assert driver.current_url == base + "/"
        assert "Signed in as ada" in driver.find_element("id", "whoami").text
        cookies = {c["name"]: c for c in driver.get_cookies()}
        session = cookies["__Host-session"]
        stolen = session["value"]
        assert session["httpOnly"] is True
        assert session["secure"] is True
        assert session["sameSite"] == "Lax"
        assert "session" not in driver.execute_script("return document.cookie")

        driver.find_element("id", "note").send_keys("my own note")
        click_and_wait(driver, "add")
        assert "my own note" in driver.find_element("id", "notes").text
        shot = screenshot(driver, "web_session_signed_in")
        assert shot.stat().st_size > 1000

        driver.get(hostile)  # auto-submits its form to the site, cross-site
        wait_for_url(driver, base + "/notes")  # the forged POST did arrive...
        assert re.search(r"not_authenticated|csrf_failed", driver.page_source)  # ...refused
        driver.get(base + "/")
        notes = driver.find_element("id", "notes").text
        assert "pwned" not in notes
        assert "my own note" in notes

        click_and_wait(driver, "logout-others")
        assert driver.current_url == base + "/"
        assert "Signed in as ada" in driver.find_element("id", "whoami").text
        ended = other.get("/")
        assert ended.status_code == 302  # the other device is back at the login page

        click_and_wait(driver, "logout")
        assert driver.current_url.startswith(base + "/login")
        replayed = worker.get("/", headers={"Cookie": f"__Host-session={stolen}"})
        assert replayed.status_code == 401  # the logged-out cookie opens nothing
        driver.back()
        assert "Signed in as" not in driver.page_source
        assert driver.current_url.startswith(base + "/login")
