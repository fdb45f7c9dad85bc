"""Anonymous callers cannot buy unbounded argon2 work: registration is counted per IP
before any hashing, and a full hashing queue sheds the next request at once with 503 +
Retry-After instead of queueing it behind the flood."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from burst_support import PASSWORD, CountingPasswords, site, until

from nexios_auth_di.exceptions import Overloaded
from nexios_auth_di.passwords.gate import HashGate

ATTACKER, OTHER = "203.0.113.9", "198.51.100.20"


async def test_register_burst_is_counted_per_ip_before_hashing(
    engine: str, tmp_path: Path, redis_or_none: str | None
) -> None:
    """50 parallel registrations from one IP (limit 10 per hour): at most 10 accounts and
    10 hashes, the rest 429 with Retry-After; another IP still registers."""
    throttle = {"register_per_ip": [10, 3600]}
    async with site(engine, tmp_path, redis_or_none, throttle=throttle) as s:
        answers = await asyncio.gather(*(s.register(ATTACKER, f"bot{n}") for n in range(50)))
        statuses = Counter(r.status_code for r in answers)
        assert statuses == {201: 10, 429: 40}, statuses
        assert s.passwords.hashes == 10
        refused = next(r for r in answers if r.status_code == 429)
        assert 3500 <= int(refused.headers["retry-after"]) <= 3601  # float rounding
        assert (await s.register(OTHER, "a-real-person")).status_code == 201


async def test_taken_name_probes_are_counted_too(tmp_path: Path) -> None:
    """Asking for a taken name (409) spends the same allowance, so the register route is
    no free username oracle (OWASP: account enumeration)."""
    async with site("memory", tmp_path, throttle={"register_per_ip": [3, 3600]}) as s:
        probes = [(await s.register(ATTACKER, "owner")).status_code for _ in range(5)]
        assert probes == [409, 409, 409, 429, 429]


class GatedPasswords(CountingPasswords):
    """The real service with one hashing thread and room for two waiting; every argon2
    call blocks in its thread until ``gate`` opens, so the queue fills deterministically."""

    def __init__(self) -> None:
        super().__init__(max_concurrency=1, queue_depth=2)
        self.gate = threading.Event()

    def _verify_sync(self, hashed: str, password: str) -> bool:
        self.gate.wait(30)
        return super()._verify_sync(hashed, password)

    def queue(self) -> HashGate:
        gate: HashGate = self._gates[asyncio.get_running_loop()]
        return gate


async def _fill(s: Any, passwords: GatedPasswords) -> list[asyncio.Task[Any]]:
    """Three logins at made-up names from three IPs: one hashing, two waiting."""
    held = [asyncio.create_task(s.login(f"192.0.2.{n}", "x" * 12, f"nobody{n}")) for n in range(3)]
    await until(lambda: passwords._gates and passwords.queue().admitted == 3)
    return held


@pytest.mark.parametrize("route", ["login", "register", "password"])
async def test_full_hashing_queue_answers_503_at_once(tmp_path: Path, route: str) -> None:
    """With the queue full, the next password route answers 503 + Retry-After at once,
    with a body that names no account; a shed guess costs the account nothing, while the
    IP keeps the count (so a shed flood still uses up its budget)."""
    passwords = GatedPasswords()
    limits = {"per_account_ip": [1, 300], "register_per_ip": [2, 3600]}
    async with site("memory", tmp_path, passwords=passwords, throttle=limits) as s:
        token = ""
        if route == "password":
            passwords.gate.set()
            token = (await s.login(OTHER, PASSWORD)).json()["access_token"]
            passwords.gate.clear()
        held = await _fill(s, passwords)

        async def call() -> Any:
            if route == "login":
                return await s.login(ATTACKER, PASSWORD)
            if route == "register":
                return await s.register(ATTACKER, "newcomer")
            return await s.change_password(ATTACKER, token, PASSWORD)

        shed = await asyncio.wait_for(call(), timeout=10)  # not queued behind the gate
        assert shed.status_code == 503
        assert shed.headers["retry-after"] == "1"
        assert shed.json() == {"error": "overloaded", "detail": Overloaded.default_detail}
        passwords.gate.set()
        assert {r.status_code for r in await asyncio.gather(*held)} == {401}
        again = await call()  # account limit 1: a counted 503 would make this a 429
        assert again.status_code in (200, 201), again.text
