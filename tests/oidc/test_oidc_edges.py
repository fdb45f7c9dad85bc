"""OIDC edges: malformed callbacks never give 500, an unreachable provider is 503, and
a login held mid-flight while the owner logs out everywhere is refused (the gate)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from oidc_helpers import FLOW_COOKIE, PROVIDER, callback_path, random_sub, sign_in
from route_helpers import bearer
from support.redis_server import free_port

CALLBACK = f"/auth/oidc/{PROVIDER}/callback"
MALFORMED = [
    pytest.param(f"{CALLBACK}", 401, id="no-parameters"),
    pytest.param(f"{CALLBACK}?state=" + "a" * 5000, 400, id="oversized-state"),
    pytest.param(
        f"{CALLBACK}?code=" + "c" * 5000 + "&state=x", 401, id="oversized-code-after-bad-state"
    ),
    pytest.param(f"{CALLBACK}?state=&code=", 401, id="empty-values"),
    pytest.param(f"{CALLBACK}?state=%FF%FE&code=%00", 401, id="non-utf8-and-nul"),
    pytest.param(f"{CALLBACK}?state=a&state=b&code=c", 401, id="duplicated-state"),
]


@pytest.mark.parametrize(("path", "status"), MALFORMED)
def test_malformed_callback_is_a_clean_4xx(make_oidc_env: Any, path: str, status: int) -> None:
    """Junk at the callback is 400/401 with the error body, never a 500."""
    env = make_oidc_env("tokens")
    b = env.agent()
    assert b.get(f"/auth/oidc/{PROVIDER}/login").status_code == 302  # a live flow cookie
    answer = b.get(path)
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"error", "detail"}


@pytest.mark.parametrize(
    "value",
    ["x" * 200, "%C3%BC-percent", "a;b", ""],
    ids=["long", "percent-encoded", "semicolon", "empty"],
)
def test_garbage_flow_cookie_is_401(make_oidc_env: Any, value: str) -> None:
    """A forged or mangled flow cookie finds no flow: 401, never a 500."""
    env = make_oidc_env("tokens")
    b = env.agent()
    b.cookies[FLOW_COOKIE] = value
    answer = b.get(f"{CALLBACK}?state=s&code=c")
    assert answer.status_code == 401, answer.text


def test_unreachable_provider_is_503(make_oidc_env: Any) -> None:
    """A provider that does not answer fails closed with 503 and sets no cookie."""
    env = make_oidc_env("tokens", provider={"issuer": f"http://127.0.0.1:{free_port()}"})
    b = env.agent()
    answer = b.get(f"/auth/oidc/{PROVIDER}/login")
    assert answer.status_code == 503, answer.text
    assert b.cookies == {}


def test_login_held_while_owner_logs_out_everywhere_is_refused(make_oidc_env: Any) -> None:
    """Gate: a callback that read the credential generation, then waits while the owner
    runs logout-all, issues nothing (401): the login ended before it finished."""
    env = make_oidc_env("tokens")
    sub = random_sub()
    b = env.agent()
    first = b.get(callback_path(sign_in(b, sub)))
    token = first.json()["access_token"]
    url = sign_in(b, sub)
    cookie = f"{FLOW_COOKIE}={b.cookies[FLOW_COOKIE]}"
    real = env.container.revocation_store()
    held, release = asyncio.Event(), asyncio.Event()

    class Gate:
        async def current_generation(self, user_id: str) -> float:
            generation: float = await real.current_generation(user_id)
            held.set()
            await release.wait()
            return generation

    env.container.revocation_store.override(providers.Object(Gate()))
    app = env.client.app

    async def run() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            login = asyncio.create_task(http.get(callback_path(url), headers={"Cookie": cookie}))
            await held.wait()
            env.container.revocation_store.reset_override()
            out = await http.post("/auth/logout-all", headers=bearer(token))
            release.set()
            return (await login).status_code, out.status_code

    login_status, logout_status = asyncio.run(run())
    assert logout_status == 204
    assert login_status == 401
