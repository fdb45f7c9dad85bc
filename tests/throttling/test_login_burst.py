"""Concurrent guessing through the real routes: an attempt is counted *before* argon2
runs, so a burst gets at most the configured number of guesses evaluated, on every
throttle storage (memory, SQLite, Redis), and a flood from one IP locks nobody out."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from burst_support import PASSWORD, WRONG, site, until

#: per (account, IP) 5, per account 30, per IP 20: the ready-made defaults, spelled out
LIMITS = {"per_account_ip": [5, 300], "per_account": [30, 300], "per_ip": [20, 300]}
ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


async def test_login_burst_of_300_evaluates_at_most_the_limit(
    engine: str, tmp_path: Path, redis_or_none: str | None
) -> None:
    """300 parallel guesses at one account from one IP: at most 5 reach argon2, the rest
    are 429 (the check-then-count race let all 300 be evaluated: OWASP ASVS V2.2.1)."""
    async with site(engine, tmp_path, redis_or_none, throttle=LIMITS) as s:
        answers = await asyncio.gather(*(s.login(ATTACKER, WRONG) for _ in range(300)))
        statuses = Counter(r.status_code for r in answers)
        evaluated = s.passwords.entered
        assert evaluated <= 5, f"{evaluated} of 300 guesses evaluated ({dict(statuses)})"
        assert statuses[401] == evaluated
        # a store timing out under the shared machine's load fails closed (503), never open
        assert statuses[429] + statuses[503] == 300 - evaluated, statuses


async def test_right_password_sent_past_the_limit_does_not_log_in(
    engine: str, tmp_path: Path, redis_or_none: str | None
) -> None:
    """With the limit's worth of wrong guesses still inside argon2 (held), the right
    password is refused with 429: it never reaches the verify that would have let it in."""
    async with site(engine, tmp_path, redis_or_none, throttle=LIMITS) as s:
        s.passwords.hold = gate = asyncio.Event()
        burst = [asyncio.create_task(s.login(ATTACKER, WRONG)) for _ in range(20)]
        await until(lambda: sum(t.done() for t in burst) + s.passwords.held == len(burst))
        held = s.passwords.held
        right = asyncio.create_task(s.login(ATTACKER, PASSWORD))
        await until(lambda: right.done() or s.passwords.held > held)
        gate.set()
        answers = await asyncio.gather(*burst)
        assert (await right).status_code == 429
        assert held <= 5
        assert Counter(r.status_code for r in answers) == {401: held, 429: 20 - held}


async def test_flood_from_one_ip_does_not_lock_the_owner_out(
    engine: str, tmp_path: Path, redis_or_none: str | None
) -> None:
    """After 300 guesses from the attacker's IP, the owner logs in from their own IP at
    once (no free lockout: OWASP "account lockout" DoS), while the attacker still waits."""
    async with site(engine, tmp_path, redis_or_none, throttle=LIMITS) as s:
        await asyncio.gather(*(s.login(ATTACKER, WRONG) for _ in range(300)))
        owner = await s.login(OWNER, PASSWORD)
        assert owner.status_code == 200, owner.text
        assert (await s.login(ATTACKER, PASSWORD)).status_code == 429


async def test_password_change_burst_evaluates_at_most_the_limit(
    engine: str, tmp_path: Path, redis_or_none: str | None
) -> None:
    """40 parallel guesses of the current password with a stolen access token: at most
    5 reach argon2 and none changes the password; the owner still logs in elsewhere."""
    async with site(engine, tmp_path, redis_or_none, throttle=LIMITS) as s:
        token = (await s.login(OWNER, PASSWORD)).json()["access_token"]
        s.passwords.entered = 0
        answers = await asyncio.gather(
            *(s.change_password(ATTACKER, token, WRONG) for _ in range(40))
        )
        statuses = Counter(r.status_code for r in answers)
        evaluated = s.passwords.entered
        assert evaluated <= 5, f"{evaluated} of 40 guesses evaluated ({dict(statuses)})"
        assert statuses[403] == evaluated
        assert statuses[429] + statuses[503] == 40 - evaluated, statuses  # 503: fail closed
        assert (await s.change_password(ATTACKER, token, PASSWORD)).status_code == 429
        assert (await s.login(OWNER, PASSWORD)).status_code == 200


async def test_owner_logins_do_not_refill_a_botnets_account_budget(
    engine: str, tmp_path: Path, redis_or_none: str | None
) -> None:
    """Six rounds of 25 wrong guesses from fresh addresses, each followed by the owner's
    successful login: at most the account-wide 30 guesses reach argon2 in the window,
    not 150 (a success forgets only its own source's failures)."""
    async with site(engine, tmp_path, redis_or_none) as s:
        owner_ok = 0
        for round_ in range(6):
            await asyncio.gather(*(s.login(f"10.{round_}.{n}.1", WRONG) for n in range(25)))
            owner_ok += (await s.login("192.0.2.10", PASSWORD)).status_code == 200
        assert owner_ok == 6  # the owner's own place is never locked out
        wrong = s.passwords.entered - 6
        assert wrong <= 30, f"{wrong} guesses evaluated"


async def test_distributed_flood_does_not_lock_the_owner_out_where_they_log_in(
    engine: str, tmp_path: Path, redis_or_none: str | None
) -> None:
    """Guesses from 60 addresses exhaust the account-wide counter; the owner's right
    password from the address they signed in from before still works, from a brand-new
    address it backs off (429), and the flood itself got at most 30 guesses evaluated."""
    async with site(engine, tmp_path, redis_or_none) as s:
        assert (await s.login("192.0.2.10", PASSWORD)).status_code == 200
        s.passwords.entered = 0
        replies = await asyncio.gather(*(s.login(f"10.9.{n}.1", WRONG) for n in range(60)))
        assert {r.status_code for r in replies} <= {401, 429}
        assert s.passwords.entered <= 30
        assert (await s.login("192.0.2.10", PASSWORD)).status_code == 200
        assert (await s.login("198.51.100.77", PASSWORD)).status_code == 429
