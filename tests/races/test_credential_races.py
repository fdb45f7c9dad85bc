"""Credential state stays consistent under concurrency, on memory, SQLite and Redis.

Each gate test holds the attacker's request at the worst point (a login after its
password passed, a refresh after its token was spent) while the owner acts, then lets
it finish: whatever it hands out must not work. The burst test races many live refresh
chains against one "log out everywhere" and counts the chains that survive.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from race_support import NEW_PASSWORD, PASSWORD, RaceApp, Reply, race_app

from nexios_auth_di.testing import TESTING_CONFIG

THIEVES = 4
CHAINS = 20
MAX_ROTATIONS = 60  # a chain still rotating after this many refreshes survived


async def _owner_acts(race: RaceApp, action: str, owner: Reply) -> None:
    """The owner, logged in with ``owner``, ends the attacker's access."""
    token = owner.body["access_token"]
    if action == "password_change":
        body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        reply = await race.call("POST", "/auth/password", token=token, json=body)
        assert reply.status == 200, reply.body
    else:
        reply = await race.call("POST", "/auth/logout-all", token=token)
        assert reply.status == 204, reply.body


OWNER_ACTIONS = [
    pytest.param("password_change", id="password-change (ASVS V3.3.3: other logins end)"),
    pytest.param("logout_all", id="logout-all (ASVS V3.3.4: every login ends)"),
]


@pytest.mark.parametrize("action", OWNER_ACTIONS)
async def test_logins_past_the_password_check_die_when_the_owner_acts(
    race: RaceApp, action: str
) -> None:
    """Logins that passed the argon2 check before a password change or logout-all hand
    out nothing that works (tokens, refresh, session cookie)."""
    await race.register()
    owner = await race.login()
    race.login_gate.arm(THIEVES)
    thieves = [asyncio.create_task(race.login()) for _ in range(THIEVES)]
    await race.login_gate.reached()
    await _owner_acts(race, action, owner)
    race.login_gate.open()
    replies = await asyncio.gather(*thieves)
    survivors = [r for r in replies if await race.survives(r)]
    assert len(survivors) == 0, f"{len(survivors)} of {THIEVES} thief logins survived"


@pytest.mark.parametrize("action", OWNER_ACTIONS)
async def test_refresh_spent_before_the_owner_acts_issues_nothing_that_works(
    race: RaceApp, action: str
) -> None:
    """A refresh whose token was spent just before logout-all / a password change yields
    no live pair (RFC 9700 §4.14.2: the family is over)."""
    await race.register()
    owner, stolen = await race.login(), await race.login()
    race.spend_gate.arm(1)
    thief = asyncio.create_task(race.refresh(stolen.body["refresh_token"]))
    await race.spend_gate.reached()
    await _owner_acts(race, action, owner)
    race.spend_gate.open()
    reply = await thief
    assert not await race.survives(reply), f"the held refresh answered {reply.status} and lives"


@pytest.mark.parametrize("action", OWNER_ACTIONS)
async def test_burst_of_refresh_chains_racing_the_owner_leaves_no_survivor(
    race: RaceApp, action: str
) -> None:
    """CHAINS stolen logins rotate their refresh tokens non-stop while the owner acts:
    not one chain may still hold a working credential afterwards."""
    await race.register()
    owner = await race.login()
    stolen = [await race.login() for _ in range(CHAINS)]
    warmed = 0
    all_warm = asyncio.Event()

    async def chain(login: Reply) -> Reply:
        nonlocal warmed
        last = login
        for rotation in range(MAX_ROTATIONS):
            reply = await race.refresh(last.body["refresh_token"])
            if rotation == 1:
                warmed += 1
                if warmed == CHAINS:
                    all_warm.set()
            if reply.status != 200:
                return last
            last = reply
        return last

    tasks = [asyncio.create_task(chain(login)) for login in stolen]
    await asyncio.wait_for(all_warm.wait(), 60)
    await _owner_acts(race, action, owner)
    lasts = await asyncio.gather(*tasks)
    survivors = [r for r in lasts if await race.survives(r)]
    assert len(survivors) == 0, f"{len(survivors)} of {CHAINS} chains survived on {race.engine}"


async def test_logout_with_only_the_access_token_ends_the_whole_login(race: RaceApp) -> None:
    """POST /auth/logout with just the bearer token also kills that login's refresh token
    (OWASP ASVS V3.3.1: logout ends the session), and no other login."""
    await race.register()
    login, other = await race.login(), await race.login()
    out = await race.call("POST", "/auth/logout", token=login.body["access_token"])
    assert out.status == 204
    assert (await race.refresh(login.body["refresh_token"])).status == 401
    assert (await race.call("GET", "/me", token=login.body["access_token"])).status == 401
    assert (await race.call("GET", "/me", token=other.body["access_token"])).status == 200
    assert (await race.refresh(other.body["refresh_token"])).status == 200


async def test_reuse_detection_refuses_the_familys_access_tokens_at_once(race: RaceApp) -> None:
    """A replayed refresh token ends its family, access tokens included, on the next
    request (RFC 9700 §4.14.2), not when they expire; other logins keep working."""
    await race.register()
    login, other = await race.login(), await race.login()
    rotated = await race.refresh(login.body["refresh_token"])
    assert rotated.status == 200
    assert (await race.refresh(login.body["refresh_token"])).status == 401  # the replay
    for access in (login.body["access_token"], rotated.body["access_token"]):
        assert (await race.call("GET", "/me", token=access)).status == 401
    assert (await race.refresh(rotated.body["refresh_token"])).status == 401
    assert (await race.call("GET", "/me", token=other.body["access_token"])).status == 200


async def test_client_side_session_past_the_password_check_dies_with_a_password_change(
    tmp_path: Path,
) -> None:
    """A signed-cookie (client-side) session issued by a login that passed argon2 before
    the owner's password change carries the old generation and is refused (ASVS V3.3.3)."""
    session = {**TESTING_CONFIG["session"], "server_side": False}
    async with race_app("memory", tmp_path, None, session=session) as race:
        await race.register()
        owner = await race.login()
        race.login_gate.arm(1)
        thief = asyncio.create_task(race.login())
        await race.login_gate.reached()
        body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        token = owner.body["access_token"]
        changed = await race.call("POST", "/auth/password", token=token, json=body)
        assert changed.status == 200
        race.login_gate.open()
        reply = await thief
        assert not await race.survives(reply)
        # the controls: the owner's new pair and a new login work
        assert await race.survives(changed)
        fresh = await race.login(password=NEW_PASSWORD)
        assert (await race.call("GET", "/me", cookie=fresh.cookie)).status == 200
