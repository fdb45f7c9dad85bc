"""PasswordService under the real DEFAULT profile (argon2id t=3, m=64 MiB, p=4).

Prints, in one run (about 30-60 s on 2 cores):

1. median login cost for an unknown user (``dummy_verify``) vs a wrong password for a real
   user (``verify``): goal, within 10%;
2. p99 latency of a trivial coroutine on the event loop while 8 hashes run through the
   service, vs idle: goal <= 2x. Measured in-loop (a trivial task scheduled every 2 ms,
   time from creation to completion), not over HTTP;
3. throughput of concurrent verifies vs ``cores / single-hash wall time``: goal >= 0.8,
   plus the ratio against the CPU-time bound (p=4 already uses every core for one hash,
   so the wall-time bound overstates what is possible).

Run: .venv/bin/python benchmarks/bench_passwords.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

from nexios_auth_di.passwords import PasswordService
from nexios_auth_di.passwords.profiles import DEFAULT

ROUNDS = 11
CONCURRENT = 8


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def bench_enumeration(svc: PasswordService, stored: str) -> tuple[float, float]:
    await svc.warm_up()
    await svc.verify(stored, "warm up")
    unknown: list[float] = []
    wrong: list[float] = []
    for _ in range(ROUNDS):  # interleaved so drift affects both equally
        t = time.perf_counter()
        await svc.dummy_verify("a guessed password")
        unknown.append(time.perf_counter() - t)
        t = time.perf_counter()
        await svc.verify(stored, "a guessed password")
        wrong.append(time.perf_counter() - t)
    return statistics.median(unknown), statistics.median(wrong)


async def _probe_latencies(stop: asyncio.Event) -> list[float]:
    """Schedule a trivial 'route' every 2 ms and record creation->completion latency."""
    samples: list[float] = []

    async def trivial_route(created: float) -> None:
        samples.append(time.perf_counter() - created)

    while not stop.is_set():
        await asyncio.create_task(trivial_route(time.perf_counter()))
        await asyncio.sleep(0.002)
    return samples


async def bench_loop_latency(svc: PasswordService, stored: str) -> tuple[float, float, float]:
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe_latencies(stop))
    await asyncio.sleep(1.0)
    stop.set()
    idle = _p99(await probe)

    stop = asyncio.Event()
    probe = asyncio.create_task(_probe_latencies(stop))
    t = time.perf_counter()
    await asyncio.gather(*(svc.verify(stored, "guess") for _ in range(CONCURRENT)))
    elapsed = time.perf_counter() - t
    stop.set()
    busy = _p99(await probe)
    return idle, busy, elapsed


async def bench_throughput(svc: PasswordService, stored: str) -> tuple[float, float, float]:
    singles_wall, singles_cpu = [], []
    for _ in range(5):
        w, c = time.perf_counter(), time.process_time()
        await svc.verify(stored, "guess")
        singles_wall.append(time.perf_counter() - w)
        singles_cpu.append(time.process_time() - c)
    t = time.perf_counter()
    await asyncio.gather(*(svc.verify(stored, "guess") for _ in range(CONCURRENT)))
    throughput = CONCURRENT / (time.perf_counter() - t)
    return throughput, statistics.median(singles_wall), statistics.median(singles_cpu)


async def main() -> None:
    cores = os.cpu_count() or 1
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    # max_concurrency=16 disables the service's cap, so the first figures show what the
    # loop's default thread pool alone gives; the second set uses the default cap (= cores).
    svc = PasswordService(DEFAULT, max_concurrency=16)
    stored = await svc.hash("the real password of a real user")
    print(f"profile {DEFAULT.name}: t={DEFAULT.time_cost} m={DEFAULT.memory_cost} KiB "
          f"p={DEFAULT.parallelism}; cores={cores}")  # fmt: skip

    unknown, wrong = await bench_enumeration(svc, stored)
    ratio = unknown / wrong
    print("\n(1) anti-enumeration, median of", ROUNDS)
    print(f"    unknown user (dummy_verify) {unknown * 1e3:8.1f} ms")
    print(f"    wrong password (verify)     {wrong * 1e3:8.1f} ms")
    print(f"    ratio {ratio:.3f}  (goal 0.90-1.10: {'OK' if abs(ratio - 1) <= 0.10 else 'MISS'})")

    idle, busy, elapsed = await bench_loop_latency(svc, stored)
    lat = busy / idle
    print(f"\n(2) event-loop p99 of a trivial task, in-loop timing; {CONCURRENT} verifies "
          f"took {elapsed:.2f} s")  # fmt: skip
    print(f"    idle p99 {idle * 1e6:8.0f} us")
    print(f"    busy p99 {busy * 1e6:8.0f} us")
    print(f"    ratio {lat:.2f}  (goal <= 2: {'OK' if lat <= 2 else 'MISS'})")

    bounded = PasswordService(DEFAULT)  # default cap: at most `cores` hashes at once
    b_idle, b_busy, _ = await bench_loop_latency(bounded, stored)
    b_throughput, _, _ = await bench_throughput(bounded, stored)
    print(f"    with the default cap of {bounded.max_concurrency} hashes at once: "
          f"idle p99 {b_idle * 1e6:.0f} us, "
          f"busy p99 {b_busy * 1e6:.0f} us, ratio {b_busy / b_idle:.2f}")  # fmt: skip

    throughput, single_wall, single_cpu = await bench_throughput(svc, stored)
    wall_bound = cores / single_wall
    cpu_bound = cores / single_cpu
    print("\n(3) throughput of concurrent verifies")
    print(f"    single verify: {single_wall * 1e3:.1f} ms wall, {single_cpu * 1e3:.1f} ms CPU")
    print(f"    concurrent {throughput:6.2f}/s; bound cores/wall {wall_bound:6.2f}/s; "
          f"cores/CPU {cpu_bound:6.2f}/s")  # fmt: skip
    ok = "OK" if throughput / wall_bound >= 0.8 else "MISS"
    print(f"    ratio vs cores/wall {throughput / wall_bound:.2f} (goal >= 0.8: {ok}); "
          f"vs cores/CPU {throughput / cpu_bound:.2f}")  # fmt: skip
    print(f"    with the default cap of {bounded.max_concurrency}: {b_throughput:6.2f}/s, ratio vs "
          f"cores/wall {b_throughput / wall_bound:.2f}")  # fmt: skip
    print(f"\nload average during the run: {os.getloadavg()[0]:.2f} (other processes skew all")
    print("figures on a shared machine; rerun on an idle one for reference numbers)")


if __name__ == "__main__":
    asyncio.run(main())
