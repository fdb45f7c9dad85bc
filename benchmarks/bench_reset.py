"""Reset-request timing: a known vs an unknown address, medians from the same run.

    python benchmarks/bench_reset.py        (BENCH_N=400 requests per address by default)

The issue asks that ``POST /auth/password-reset/request`` answer in the same time within
10% whether or not the address exists. The response path never touches the user table
(the lookup and the send are background jobs), so the two should differ by noise only.
Requests alternate known/unknown, over in-process ASGI through the real router, SQLite
users and a memory sender; each request's background job is drained *after* its time is
taken, so the figure is what a client sees. Prints both medians (µs) and the ratio.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "accounts"))

from accounts_support import close_env, open_env


async def main() -> None:
    n = int(os.environ.get("BENCH_N", "400"))
    with tempfile.TemporaryDirectory() as tmp:
        env = await open_env(
            Path(tmp), accounts={"reset_per_ip": [10**9, 3600], "reset_per_address": [10**9, 3600]}
        )
        await env.register("alice", "alice@example.com")
        await env.drain()
        timings: dict[str, list[float]] = {"known": [], "unknown": []}
        addresses = {"known": "alice@example.com", "unknown": "nobody@example.com"}
        for i in range(n * 2 + 20):
            which = "known" if i % 2 == 0 else "unknown"
            start = time.perf_counter()
            answer = await env.post("/auth/password-reset/request", {"email": addresses[which]})
            elapsed = time.perf_counter() - start
            assert answer.status_code == 202
            await env.drain()
            if i >= 20:  # warm-up
                timings[which].append(elapsed)
        await close_env(env)
    known = statistics.median(timings["known"]) * 1e6
    unknown = statistics.median(timings["unknown"]) * 1e6
    print(f"reset request, {n} each, same run (median µs)")
    print(f"  known address:   {known:8.1f}")
    print(f"  unknown address: {unknown:8.1f}")
    print(f"  ratio known/unknown: {known / unknown:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
