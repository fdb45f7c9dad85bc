"""A real user's login while one IP floods the anonymous password routes.

Real default argon2 profile (RFC 9106 low memory: t=3, m=64 MiB, p=4), the real
``auth_router`` served by a real uvicorn process, users in a real SQLite file. An
attacker *process* keeps 64, then 256, requests in flight from one IP: registrations of
fresh names and logins at made-up names, alternating. The legitimate user logs in from
its own IP, one request at a time, from this process; we report p50/p99 of its logins.
(Client and attacker run in their own processes so their CPU is not the server's event
loop; all three still share the machine's cores.)

Three stacks, so the effect of each defence shows:

* ``before``: no throttle counting ahead of argon2 and an unbounded hashing queue (the
  state the issue measured);
* ``shed-only``: the bounded queue (``passwords.queue_depth``) but no throttle, as for
  an attacker with many IPs: an admitted login waits behind at most the queue, or gets
  an immediate 503;
* ``defended``: the shipped defaults (throttle per IP before hashing, bounded queue).

Goal: under the flood, legit p99 <= 5x idle, or an immediate 503.

Run: .venv/bin/python benchmarks/bench_flood.py [--quick] [--no-before]  (3-6 min)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from dependency_injector import providers
from nexios import NexiosApp

from nexios_auth_di import install
from nexios_auth_di.http.compat import silence_dependency_print
from nexios_auth_di.routes import auth_router
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

PASSWORD = "the real user's password"
LEGIT_IP, ATTACKER_IP = "198.51.100.1", "203.0.113.66"
FLOODS = (64, 256)
HERE = Path(__file__).resolve().parent
PASSWORDS = {"profile": "rfc9106_low_memory", "min_length": 8}


class NoThrottle:
    """The ``before``/``shed-only`` stacks: nothing counted, nothing refused."""

    async def reserve(self, account: str, ip: str) -> None:
        return None

    async def reserve_registration(self, ip: str) -> None:
        return None

    async def succeeded(self, attempt: object) -> None:
        return None

    async def release(self, attempt: object) -> None:
        return None


# -- the server (uvicorn --factory bench_flood:make_app) ------------------------------


def make_app() -> NexiosApp:
    """The app for ``BENCH_STACK`` over the users file ``BENCH_USERS``."""
    silence_dependency_print()
    for name in ("nexios", "nexios_auth_di.audit", "nexios_auth_di.passwords"):
        logging.getLogger(name).setLevel(logging.ERROR)
    stack = os.environ["BENCH_STACK"]
    repo = SqliteUserRepository(os.environ["BENCH_USERS"])
    container = make_test_container(
        backends=["jwt"], passwords=PASSWORDS, throttle={"trusted_proxies": ["127.0.0.1"]}
    )
    container.user_loader.override(providers.Object(user_loader_for(repo)))
    container.user_repository.override(providers.Object(repo))
    if stack != "defended":
        container.login_throttle.override(providers.Object(NoThrottle()))
    if stack == "before":
        container.password_service().queue_depth = None  # the unbounded queue of the issue
    app = NexiosApp()
    app.mount_router(auth_router(container, login_mode="tokens"))
    install(app, container)
    return app


class Server:
    """``uvicorn bench_flood:make_app`` on a free port, stopped by its pid."""

    def __init__(self, stack: str, users: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        uvicorn = str(Path(sys.executable).with_name("uvicorn"))
        args = [uvicorn, "--factory", "bench_flood:make_app", "--app-dir", str(HERE)]
        args += ["--port", str(self.port), "--log-level", "error", "--no-access-log"]
        env = {**os.environ, "BENCH_STACK": stack, "BENCH_USERS": str(users)}
        # stderr dropped: the attacker hanging up mid-request makes Nexios log tracebacks
        self.proc = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/", timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("uvicorn did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- the attacker (a process of its own: --attack URL LANES) --------------------------


async def attack(url: str, lanes: int) -> None:
    """Keep ``lanes`` requests in flight until SIGTERM; print the answers as JSON."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    answers: Counter[int] = Counter()
    names = itertools.count()
    limits = httpx.Limits(max_connections=lanes, max_keepalive_connections=lanes)
    headers = {"X-Forwarded-For": ATTACKER_IP}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120.0) as client:

        async def lane(i: int) -> None:
            while not stop.is_set():
                n = next(names)
                route = "/auth/register" if n % 2 else "/auth/login"
                body = {"username": f"bot{i}x{n}", "password": "a guessed password"}
                try:
                    response = await client.post(route, json=body, headers=headers)
                    answers[response.status_code] += 1
                except httpx.HTTPError:
                    answers[0] += 1

        tasks = [asyncio.create_task(lane(i)) for i in range(lanes)]
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(dict(answers)), flush=True)


# -- the measurement ------------------------------------------------------------------


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def legit_logins(url: str, count: int, cap: float = 60.0) -> dict[int, list[float]]:
    """Sequential logins of the real user until ``count`` succeed (or ``cap`` seconds):
    latency (s) by status. Like a well-behaved client it waits out a 503's Retry-After;
    key ``-1`` holds the seconds until the first success."""
    found: dict[int, list[float]] = {}
    body = {"username": "realuser", "password": PASSWORD}
    began = time.perf_counter()
    with httpx.Client(base_url=url, timeout=300.0) as client:
        while len(found.get(200, [])) < count and time.perf_counter() - began < cap:
            start = time.perf_counter()
            r = client.post("/auth/login", json=body, headers={"X-Forwarded-For": LEGIT_IP})
            found.setdefault(r.status_code, []).append(time.perf_counter() - start)
            if r.status_code == 200 and -1 not in found:
                found[-1] = [time.perf_counter() - began]
            if r.status_code == 503:
                time.sleep(float(r.headers.get("retry-after", "1")))
    return found


def under_flood(url: str, lanes: int, count: int) -> tuple[dict[int, list[float]], Any]:
    # niced like the server's argon2 threads: on this shared box the attacker's own CPU
    # would otherwise starve the server's hashing, which a remote attacker cannot do
    attacker = subprocess.Popen(
        ["nice", "-n", "10", sys.executable, __file__, "--attack", url, str(lanes)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0 + lanes / 128)  # the flood is on before the first measured login
        found = legit_logins(url, count)
    finally:
        attacker.terminate()
        out, _ = attacker.communicate(timeout=60)
    return found, json.loads(out or "{}")


def line(name: str, found: dict[int, list[float]], idle_p99: float | None) -> str:
    ok, shed = found.get(200, []), found.get(503, [])
    text = f"   {name:<10}"
    if ok:
        text += f" p50 {statistics.median(ok) * 1000:8.1f} ms  p99 {p99(ok) * 1000:8.1f} ms"
        if idle_p99:
            ratio = p99(ok) / idle_p99
            text += f"  ({ratio:5.1f}x idle {'OK' if ratio <= 5 else 'MISSED'})"
    else:
        text += " no successful login"
    if shed:
        text += f"; {len(shed)} x 503, slowest {max(shed) * 1000:.1f} ms"
    if shed and -1 in found:
        text += f"; first success after {found[-1][0]:.1f} s"
    other = {s: len(v) for s, v in found.items() if s not in (-1, 200, 503)}
    return text + (f"; other {other}" if other else "")


async def make_users(path: Path) -> None:
    container = make_test_container(backends=["jwt"], passwords=PASSWORDS)
    service = container.password_service()
    await SqliteUserRepository(path).create("realuser", await service.hash(PASSWORD))


def main() -> None:
    quick = "--quick" in sys.argv
    samples, before_samples = (8, 1) if quick else (30, 1)
    stacks = [s for s in ("defended", "shed-only", "before") if f"--no-{s}" not in sys.argv]
    print(
        f"legit login latency, idle and under a one-IP flood of register/login "
        f"(default argon2 profile, uvicorn, {os.cpu_count()} cores; goal: p99 <= 5x idle "
        "or an immediate 503)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for stack in stacks:
            print(f"\n{stack}:", flush=True)
            idle_p99 = None
            for lanes in (0, *FLOODS):
                users = Path(tmp) / f"users-{stack}-{lanes}.sqlite3"
                asyncio.run(make_users(users))
                server = Server(stack, users)  # a fresh server: a fresh throttle and queue
                try:
                    n = before_samples if stack == "before" and lanes else samples
                    if lanes:
                        found, attacker = under_flood(server.url, lanes, n)
                        print(line(f"flood {lanes}", found, idle_p99), flush=True)
                        print(f"   {'':<10} attacker answers: {attacker}", flush=True)
                    else:
                        found = legit_logins(server.url, n)
                        idle_p99 = p99(found[200])
                        print(line("idle", found, None), flush=True)
                finally:
                    server.stop()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--attack":
        asyncio.run(attack(sys.argv[2], int(sys.argv[3])))
    else:
        main()
