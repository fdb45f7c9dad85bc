"""The login route under the real default argon2 profile (RFC 9106 low memory: t=3,
m=64 MiB, p=4), over HTTP in-process (httpx.ASGITransport into real Nexios).

Prints, side by side in one run (about 40-80 s on 2 cores):

1. median ``POST /auth/login`` time for an unknown user vs a wrong password for a real
   user; goal: medians within 10%;
2. p99 latency of an unrelated route (``GET /ping``) while 8 logins hash concurrently, vs
   idle p99; goal <= 2x (the event loop stays free);
3. login throughput vs ``cores / single-hash time``; goal >= 0.8. Also printed against
   ``cores / CPU seconds per hash``: p=4 already spreads one hash over every core, so the
   wall-time bound overstates what any server could reach.

The login throttle is replaced by a no-op through its provider; users live in a real
SQLite file in a temporary directory.

Run: .venv/bin/python benchmarks/bench_login.py
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from dependency_injector import providers
from nexios import NexiosApp

from nexios_auth_di import install
from nexios_auth_di.passwords.profiles import profile_name
from nexios_auth_di.routes import auth_router
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

ROUNDS = 15
PINGS = 400
CONCURRENT = 8
LOGINS_FOR_THROUGHPUT = 24
PASSWORD = "the real user's password"


class NoThrottle:
    """Stands in for LoginThrottle: the benchmark measures hashing, not backoff."""

    async def reserve(self, account: str, ip: str) -> None:
        return None

    async def succeeded(self, attempt: object) -> None:
        return None

    async def release(self, attempt: object) -> None:
        return None


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def build(path: Path) -> tuple[NexiosApp, Any, SqliteUserRepository]:
    repo = SqliteUserRepository(path / "users.sqlite3")
    # queue_depth admits every concurrent login: this measures hashing, not shedding
    # (bench_flood.py measures that)
    passwords = {"profile": "rfc9106_low_memory", "min_length": 8, "queue_depth": CONCURRENT}
    container = make_test_container(backends=["jwt"], passwords=passwords)
    container.user_loader.override(providers.Object(user_loader_for(repo)))
    container.user_repository.override(providers.Object(repo))
    container.login_throttle.override(providers.Object(NoThrottle()))
    app = NexiosApp()

    @app.get("/ping")
    async def ping(request: Any, response: Any) -> Any:
        return response.json({"ok": True})

    app.mount_router(auth_router(container, login_mode="tokens"))
    install(app, container)
    return app, container, repo


async def login(client: httpx.AsyncClient, username: str, password: str) -> float:
    start = time.perf_counter()
    response = await client.post("/auth/login", json={"username": username, "password": password})
    elapsed = time.perf_counter() - start
    if response.status_code not in (200, 401):
        raise RuntimeError(f"login answered {response.status_code}: {response.text}")
    return elapsed


async def pings(client: httpx.AsyncClient, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = await client.get("/ping")
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200
    return samples


async def main() -> None:
    logging.getLogger("nexios").setLevel(logging.WARNING)
    logging.getLogger("nexios_auth_di.audit").setLevel(logging.ERROR)  # one line per login
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        app, container, repo = build(Path(tmp))
        service = container.password_service()
        await repo.create("realuser", await service.hash(PASSWORD))
        await service.warm_up()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            assert (
                await c.post("/auth/login", json={"username": "realuser", "password": PASSWORD})
            ).status_code == 200

            # 1. unknown user vs wrong password, interleaved so drift hits both alike
            unknown, wrong = [], []
            for _ in range(ROUNDS):
                unknown.append(await login(c, "nobody-here", "a guessed password"))
                wrong.append(await login(c, "realuser", "a guessed password"))
            m_unknown, m_wrong = statistics.median(unknown), statistics.median(wrong)
            spread = abs(m_unknown - m_wrong) / min(m_unknown, m_wrong)

            # 2. unrelated route p99: idle, then with 8 logins hashing all the time
            await pings(c, 50)
            idle = await pings(c, PINGS)
            stop = asyncio.Event()

            async def hammer() -> None:
                while not stop.is_set():
                    await login(c, "realuser", "a guessed password")

            workers = [asyncio.create_task(hammer()) for _ in range(CONCURRENT)]
            await asyncio.sleep(0.3)
            loaded = await pings(c, PINGS)
            stop.set()
            await asyncio.gather(*workers)
            p99_ratio = p99(loaded) / p99(idle)

            # 3. throughput against the bound
            stored = (await repo.get_by_username("realuser")).password_hash  # type: ignore[union-attr]
            single_wall, single_cpu = [], []
            for _ in range(5):
                wall, cpu = time.perf_counter(), time.process_time()
                await service.verify(stored, "a guessed password")
                single_wall.append(time.perf_counter() - wall)
                single_cpu.append(time.process_time() - cpu)
            t_wall, t_cpu = statistics.median(single_wall), statistics.median(single_cpu)
            start = time.perf_counter()
            queue = list(range(LOGINS_FOR_THROUGHPUT))

            async def worker() -> None:
                while queue:
                    queue.pop()
                    await login(c, "realuser", "a guessed password")

            await asyncio.gather(*(worker() for _ in range(CONCURRENT)))
            throughput = LOGINS_FOR_THROUGHPUT / (time.perf_counter() - start)
            wall_bound, cpu_bound = cores / t_wall, cores / t_cpu

    print(
        f"argon2id profile: {profile_name(service.profile)} (t={service.profile.time_cost}, "
        f"m={service.profile.memory_cost // 1024} MiB, p={service.profile.parallelism}); "
        f"{cores} cores; login throttle disabled; SQLite users"
    )
    print()
    print("1. login median, unknown user vs wrong password (goal: within 10%)")
    print(f"   unknown user     {m_unknown * 1000:8.1f} ms")
    print(f"   wrong password   {m_wrong * 1000:8.1f} ms")
    print(f"   difference       {spread * 100:8.1f} %   {'OK' if spread <= 0.10 else 'MISSED'}")
    print()
    print(f"2. GET /ping p99, idle vs {CONCURRENT} concurrent logins (goal: <= 2x)")
    print(
        f"   idle p99         {p99(idle) * 1000:8.2f} ms",
        f"  (median {statistics.median(idle) * 1000:.2f} ms)",
    )
    print(
        f"   loaded p99       {p99(loaded) * 1000:8.2f} ms",
        f"  (median {statistics.median(loaded) * 1000:.2f} ms)",
    )
    print(f"   ratio            {p99_ratio:8.2f} x   {'OK' if p99_ratio <= 2 else 'MISSED'}")
    print()
    print("3. login throughput vs bound (goal: >= 0.8)")
    print(f"   single hash      {t_wall * 1000:8.1f} ms wall, {t_cpu * 1000:.1f} ms CPU")
    print(f"   throughput       {throughput:8.2f} logins/s ({CONCURRENT} concurrent)")
    ratio_wall, ratio_cpu = throughput / wall_bound, throughput / cpu_bound
    print(
        f"   cores/wall-time  {wall_bound:8.2f} /s -> ratio {ratio_wall:.2f}   "
        f"{'OK' if ratio_wall >= 0.8 else 'MISSED'}"
    )
    print(
        f"   cores/CPU-time   {cpu_bound:8.2f} /s -> ratio {ratio_cpu:.2f}   "
        f"{'OK' if ratio_cpu >= 0.8 else 'MISSED'}"
    )


if __name__ == "__main__":
    asyncio.run(main())
