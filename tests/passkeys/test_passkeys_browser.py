"""Passkeys in a real browser: Debian's headless Chromium with a DevTools virtual
authenticator (CTAP2, internal, resident keys, user verification) on the app served by
uvicorn at ``http://localhost:PORT``, running the JavaScript of docs/passkeys.md."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.browser import chromium, screenshot
from support.redis_server import free_port
from support.uvicorn import Worker

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
#: bounds each wait for the page (a hang guard, not a timing assertion)
STEP_TIMEOUT = 30.0
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Worker]:
    """The passkey test site on uvicorn; its origin's port is the one it listens on."""
    port = free_port()
    env = {"PASSKEY_SITE_PORT": str(port), "PASSKEY_SITE_USERS": str(tmp_path / "users.db")}
    worker = Worker(env, app="passkey_site:app", app_dir=HERE, port=port)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def click_and_wait(driver: Any, button: str, step: str) -> str:
    """Click ``button``, wait until the page reports ``step`` done; its status text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.ID, button).click()
    WebDriverWait(driver, STEP_TIMEOUT).until(
        lambda d: d.find_element(By.ID, "status").get_attribute("data-step") == step
    )
    status = driver.find_element(By.ID, "status")
    text: str = status.text
    assert status.get_attribute("data-ok") == "yes", text
    return text


def credentials(driver: Any, authenticator: str) -> list[dict[str, Any]]:
    found = driver.execute_cdp_cmd("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    listed: list[dict[str, Any]] = found["credentials"]
    return listed


def test_register_sign_out_and_sign_in_with_a_passkey_in_chromium(site: Worker) -> None:
    """The whole journey in a real browser: password account, passkey added, signed out,
    then signed in by the discoverable passkey alone (no username, no password); the
    server's /me names the user and the authenticator's counter moved."""
    from selenium.webdriver.common.by import By

    with chromium() as driver:
        driver.execute_cdp_cmd("WebAuthn.enable", {})
        made = driver.execute_cdp_cmd(
            "WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR}
        )
        authenticator = made["authenticatorId"]
        origin = f"http://localhost:{site.port}"
        started = time.monotonic()
        driver.get(origin + "/")
        assert driver.execute_script("return window.isSecureContext") is True

        driver.find_element(By.ID, "username").send_keys("ada")
        driver.find_element(By.ID, "pass").send_keys("correct horse battery")
        click_and_wait(driver, "signup", "signup")
        assert driver.find_element(By.ID, "who").text == "ada"

        added = click_and_wait(driver, "add-passkey", "add-passkey")
        assert "virtual authenticator" in added
        [stored] = credentials(driver, authenticator)
        assert stored["isResidentCredential"] is True
        assert stored["rpId"] == "localhost"
        count_after_registration = stored["signCount"]

        out = click_and_wait(driver, "sign-out", "sign-out")
        assert '"old_token_status": 401' in out
        assert driver.find_element(By.ID, "who").text == "nobody"

        driver.find_element(By.ID, "username").clear()  # username-less: nothing typed
        assert driver.find_element(By.ID, "pass").get_attribute("value") == ""
        click_and_wait(driver, "passkey-sign-in", "passkey-sign-in")
        elapsed = time.monotonic() - started
        assert driver.find_element(By.ID, "who").text == "ada"
        token = driver.execute_script("return session.access_token")
        screenshot(driver, "passkeys-browser-signed-in")
        [used] = credentials(driver, authenticator)
        assert used["credentialId"] == stored["credentialId"]
        assert used["signCount"] > count_after_registration

    me = site.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "ada"
    passkeys = site.get("/auth/passkeys", headers={"Authorization": f"Bearer {token}"})
    [listed] = passkeys.json()["passkeys"]
    assert listed["last_used"] is not None
    counts = f"signCount {count_after_registration} -> {used['signCount']}"
    print(f"browser flow (page load to passkey sign-in): {elapsed:.2f} s, {counts}")
