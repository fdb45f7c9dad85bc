"""The device list over HTTP: what it shows, ending one login at once, and who may."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from accounts_support import PASSWORD, Env, bearer


async def devices(env: Env, access: str) -> list[dict[str, object]]:
    env.client.cookies.clear()
    answer = await env.client.get("/auth/devices", headers=bearer(access))
    assert answer.status_code == 200, answer.text
    found: list[dict[str, object]] = answer.json()["devices"]
    return found


async def login_as(env: Env, agent: str, peer: str = "10.1.1.1") -> dict[str, str]:
    answer = await env.post(
        "/auth/login",
        {"username": "alice", "password": PASSWORD},
        headers={"User-Agent": agent, "X-Test-Peer": peer},
    )
    assert answer.status_code == 200
    data: dict[str, str] = answer.json()
    return data


async def test_list_shows_each_login_and_the_current_one(env: Env) -> None:
    """Two logins are two devices with their IP and user agent; the caller's is current."""
    await env.register()
    phone = await login_as(env, "Phone/1.0", "10.0.0.7")
    laptop = await login_as(env, "Laptop/2.0", "10.0.0.8")
    listed = await devices(env, laptop["access_token"])
    assert {(d["user_agent"], d["ip"], d["kind"]) for d in listed} == {
        ("Phone/1.0", "10.0.0.7", "token"),
        ("Laptop/2.0", "10.0.0.8", "token"),
    }
    current = [d for d in listed if d["current"]]
    assert [d["user_agent"] for d in current] == ["Laptop/2.0"]
    for d in listed:
        assert d["created_at"]
        assert d["last_used"]
    assert phone["access_token"] not in str(listed)


async def test_refresh_moves_last_used(env: Env) -> None:
    """Refreshing a login updates its last-used time."""
    await env.register()
    login = await login_as(env, "Phone/1.0")
    before = (await devices(env, login["access_token"]))[0]["last_used"]
    env.clock.advance(120)
    fresh = await env.post("/auth/refresh", {"refresh_token": login["refresh_token"]})
    assert fresh.status_code == 200
    after = (await devices(env, fresh.json()["access_token"]))[0]["last_used"]
    assert isinstance(before, float)
    assert isinstance(after, float)
    assert after == pytest.approx(before + 120)


async def test_ending_a_device_ends_that_login_at_once(env: Env) -> None:
    """DELETE /auth/devices/{id} is 204; that login's access and refresh tokens stop
    working at once; the other login keeps going."""
    await env.register()
    phone = await login_as(env, "Phone/1.0")
    laptop = await login_as(env, "Laptop/2.0")
    target = next(d for d in await devices(env, laptop["access_token"]) if not d["current"])
    env.client.cookies.clear()
    gone = await env.client.delete(
        f"/auth/devices/{target['id']}", headers=bearer(laptop["access_token"])
    )
    assert gone.status_code == 204
    assert (await env.client.get("/me", headers=bearer(phone["access_token"]))).status_code == 401
    refresh = await env.post("/auth/refresh", {"refresh_token": phone["refresh_token"]})
    assert refresh.status_code == 401
    assert (await env.client.get("/me", headers=bearer(laptop["access_token"]))).status_code == 200
    assert [d["user_agent"] for d in await devices(env, laptop["access_token"])] == ["Laptop/2.0"]


@pytest.mark.parametrize(
    "device_id",
    [
        pytest.param(None, id="another-users-device-IDOR-ASVS-8.2.2"),
        pytest.param("does-not-exist", id="unknown-id-ASVS-8.2.2"),
        pytest.param("x" * 65, id="overlong-id-ASVS-8.2.2"),
    ],
)
async def test_someone_elses_device_is_not_found(env: Env, device_id: str | None) -> None:
    """Bob cannot see or end Alice's login: her id answers 404 like a missing one."""
    await env.register()
    await env.register("bob", "bob@example.com")
    alice = await login_as(env, "Phone/1.0")
    bob = await env.login("bob")
    target = device_id or str((await devices(env, alice["access_token"]))[0]["id"])
    env.client.cookies.clear()
    answer = await env.client.delete(f"/auth/devices/{target}", headers=bearer(bob["access_token"]))
    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "detail": "No such device"}
    assert (await env.client.get("/me", headers=bearer(alice["access_token"]))).status_code == 200
    assert target not in {d["id"] for d in await devices(env, bob["access_token"])}


async def test_logout_and_logout_all_remove_device_records(env: Env) -> None:
    """Logout drops its own record; logout-all drops them all."""
    await env.register()
    one = await login_as(env, "One/1")
    two = await login_as(env, "Two/1")
    three = await login_as(env, "Three/1")
    out = await env.post("/auth/logout", headers=bearer(one["access_token"]))
    assert out.status_code == 204
    assert {d["user_agent"] for d in await devices(env, two["access_token"])} == {
        "Two/1",
        "Three/1",
    }
    assert (
        await env.post("/auth/logout-all", headers=bearer(two["access_token"]))
    ).status_code == 204
    records = await env.container.credential_store().list_for_user(
        (await env.repo.get_by_username("alice")).id, "device"
    )
    assert records == []
    assert three["access_token"]


async def test_session_login_is_a_device_that_can_be_ended(
    make_env: Callable[..., Awaitable[Env]],
) -> None:
    """A server-side session login is listed (never with its session id) and ending it
    from another login deletes the session at once."""
    env = await make_env(login_mode="both")
    await env.register()
    env.client.cookies.clear()
    answer = await env.client.post(
        "/auth/login",
        json={"username": "alice", "password": PASSWORD},
        headers={"User-Agent": "Browser/9"},
    )
    assert answer.status_code == 200
    cookie = env.client.cookies.get("__Host-session")
    assert cookie
    listed = (await env.client.get("/auth/devices")).json()["devices"]
    session_rows = [d for d in listed if d["kind"] == "session"]
    assert len(session_rows) == 1
    assert session_rows[0]["current"] is True
    store = env.container.session_store()
    record = await env.container.credential_store().get("device", session_rows[0]["id"])
    sid = record.data["sid"]
    assert sid not in str(listed)
    assert await store.load(sid) is not None
    other = await env.login()
    env.client.cookies.clear()
    gone = await env.client.delete(
        f"/auth/devices/{session_rows[0]['id']}", headers=bearer(other["access_token"])
    )
    assert gone.status_code == 204
    assert await store.load(sid) is None
    env.client.cookies.clear()
    env.client.cookies.set("__Host-session", cookie)
    assert (await env.client.get("/me")).status_code == 401
