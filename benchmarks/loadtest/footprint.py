"""The measured inputs of "Scale on paper" (docs/deployment.md): bytes per stored item
on each engine, and Redis commands per request with and without the cached view.

    python benchmarks/loadtest/footprint.py      (part of nox -s loadtest)

Bytes: ``N`` items made through the real stores, then Redis ``MEMORY USAGE`` summed over
every key of the namespace, SQLite ``page_count x page_size`` before and after, and for
the per-worker cached view (a ``MemoryRevocationStore``) tracemalloc; each divided by N.
Commands: ``CONFIG RESETSTAT``, ``K`` requests of one kind to real uvicorn (1 worker),
``INFO commandstats`` (every command Redis ran, those inside Lua scripts included);
round trips: the commands ``MONITOR`` saw from clients (not from Lua). The view's
heartbeat ``PING`` is left out of both.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from _stores import drop_namespace, redis_namespace_bytes, sqlite_file_bytes, traced_bytes
from serve import RESULTS, Redis, Server

from nexios_auth_di import AuthContainer
from nexios_auth_di.container import shutdown
from nexios_auth_di.routes.users_sqlite import SqliteUserRepository
from nexios_auth_di.stores.memory import MemoryRevocationStore

N = 2000
K = 200
SECRET = "footprint-secret-not-for-production-0123456789abcdef"
IGNORED = {"ping", "config", "info", "client", "hello", "subscribe", "psubscribe", "select"}


def _container(engine: str, **store: Any) -> Any:
    container = AuthContainer()
    container.config.from_dict({"jwt": {"secret_key": SECRET}, "stores": engine, "store": store})
    container.user_loader.override(lambda identity: None)
    return container


async def _items(container: Any, kind: str, tag: str) -> None:
    """``N`` items of ``kind`` through the real stores (the shapes the library writes)."""
    stores, now = container.stores(), time.time()
    for i in range(N):
        subject = f"user-{i:06d}-{tag}"
        if kind == "revoked token":
            await stores.revocations.revoke_jti(secrets.token_urlsafe(16), now + 900)
        elif kind == "session":
            data = {
                "d": {"user_id": subject, "_auth_time": now, "_csrf": secrets.token_urlsafe(32)},
                "s": subject,
                "c": now,
            }
            await stores.sessions.save(secrets.token_urlsafe(32), data, 14 * 86400, subject)
        elif kind == "user (generation mark)":
            await stores.revocations.advance_generation(subject, now, 30 * 86400)
        elif kind == "login (refresh family)":
            await stores.families.start(subject, secrets.token_urlsafe(16), now + 86400, 50)
        elif kind == "throttle key":
            # one failed guess from a new account and a new IP: three counters
            await container.login_throttle().reserve(
                subject, f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"
            )


KINDS = [
    "revoked token",
    "session",
    "user (generation mark)",
    "login (refresh family)",
    "throttle key",
]
PER_ITEM = {"throttle key": 3}  # keys written per item


async def redis_bytes(url: str) -> dict[str, float]:
    out = {}
    for kind in KINDS:
        ns = f"nxauth-fp-{uuid.uuid4().hex[:8]}"
        container = _container("redis", redis_url=url, namespace=ns)
        client = container.stores().database.client
        try:
            await _items(container, kind, "r")
            out[kind] = await redis_namespace_bytes(client, ns) / N / PER_ITEM.get(kind, 1)
        finally:
            await drop_namespace(client, ns)
            await shutdown(container)
    return out


async def sqlite_bytes(folder: str) -> dict[str, float]:
    out = {}
    for n, kind in enumerate(KINDS):
        container = _container("sqlite", sqlite_path=f"{folder}/fp{n}.db")
        try:
            await _items(container, kind, "warm")  # tables and first pages exist
            db = container.stores().database
            before = await sqlite_file_bytes(db)
            await _items(container, kind, "s")
            out[kind] = (await sqlite_file_bytes(db) - before) / N / PER_ITEM.get(kind, 1)
        finally:
            await shutdown(container)
    repo = SqliteUserRepository(f"{folder}/users.db")
    await repo.create("warm-up", "$argon2id$" + "x" * 90)
    import aiosqlite

    async def pages() -> int:
        async with aiosqlite.connect(f"{folder}/users.db") as conn:
            count = (await (await conn.execute("PRAGMA page_count")).fetchone())[0]  # type: ignore[index]
            size = (await (await conn.execute("PRAGMA page_size")).fetchone())[0]  # type: ignore[index]
            return int(count) * int(size)

    before = await pages()
    for i in range(N):  # an argon2id PHC string is ~97 characters
        await repo.create(
            f"user{i:06d}",
            "$argon2id$v=19$m=65536,t=3,p=4$" + "x" * 66,
            ["read"],
            email=f"user{i:06d}@example.com",
        )
    out["user (account row)"] = (await pages() - before) / N
    return out


async def view_bytes() -> float:
    """What one worker's cached view keeps per live revocation (a MemoryRevocationStore)."""
    store, exp = MemoryRevocationStore(), time.time() + 900
    jtis = [secrets.token_urlsafe(16) for _ in range(20 * N)]

    async def fill() -> None:
        for jti in jtis:
            await store.revoke_jti(jti, exp)

    return await traced_bytes(fill) / len(jtis)


def commandstats(redis: Redis) -> dict[str, int]:
    calls = {}
    for line in redis.cli("INFO", "commandstats").splitlines():
        if line.startswith("cmdstat_"):
            name, _, rest = line.partition(":")
            calls[name.removeprefix("cmdstat_")] = int(rest.split(",")[0].split("=")[1])
    return calls


def ops_per_request(redis: Redis, cache: bool) -> dict[str, Any]:
    from benchmarks.loadtest.app import build_container

    ns = f"nxauth-ops-{uuid.uuid4().hex[:8]}"
    flag = "1" if cache else "0"
    server = Server(redis.url, ns, workers=1, extra_env={"NEXIOS_AUTH_REVOCATION_CACHE": flag})
    container = build_container({"NEXIOS_AUTH_REDIS_URL": redis.url, "NEXIOS_AUTH_NAMESPACE": ns})
    out: dict[str, Any] = {}
    try:
        server.wait_ready()
        tokens = container.token_service()
        warm = {"authorization": f"Bearer {tokens.create_access_token('u1')}"}

        async def key() -> str:
            made = (await container.api_key_service().create("u2"))[0]
            await shutdown(container)
            return made

        api = {"x-api-key": asyncio.run(key())}
        cookie = server.call("POST", "/session", warm)[1][1]["set-cookie"].split(";", 1)[0]
        # a few logins per user: past jwt.max_families_per_user (50) the oldest would end
        pairs = [
            server.call("POST", "/issue", body={"user": f"u{150 + i % 50}"})[1][0] for i in range(K)
        ]
        cold = [{"authorization": f"Bearer {tokens.create_access_token('u4')}"} for _ in range(K)]
        kinds: dict[str, Any] = {
            "bare": lambda i: ("GET", "/bare", {}, None),
            "token warm": lambda i: ("GET", "/me", warm, None),
            "token cold": lambda i: ("GET", "/me", cold[i], None),
            "session cookie": lambda i: ("GET", "/me", {"cookie": cookie}, None),
            "API key": lambda i: ("GET", "/me", api, None),
            "permission_required": lambda i: ("GET", "/perm", warm, None),
            "issue (login)": lambda i: ("POST", "/issue", {}, {"user": f"u{50 + i % 100}"}),
            "refresh": lambda i: (
                "POST",
                "/refresh",
                {},
                {"refresh_token": pairs[i]["refresh_token"]},
            ),
            "revoke": lambda i: (
                "POST",
                "/revoke",
                {"authorization": f"Bearer {pairs[i]['access_token']}"},
                None,
            ),
        }
        for name, make in kinds.items():
            server.call("GET", "/bare")
            redis.cli("CONFIG", "RESETSTAT")
            monitor = redis.monitor()
            for i in range(K):
                method, path, headers, body = make(i)
                status = server.call(method, path, headers, body)[0]
                assert status == 200, (name, status)
            calls = {c: n for c, n in commandstats(redis).items() if c not in IGNORED}
            trips = monitor.stop(IGNORED)
            out[name] = {
                "per_request": round(sum(calls.values()) / K, 2),
                "round_trips": round(trips / K, 2),
                "commands": {c: round(n / K, 2) for c, n in sorted(calls.items())},
            }
    finally:
        server.stop()
    return out


def main() -> None:
    redis = Redis()
    try:
        with tempfile.TemporaryDirectory() as folder:
            report = {
                "items": N,
                "redis_bytes": asyncio.run(redis_bytes(redis.url)),
                "sqlite_bytes": asyncio.run(sqlite_bytes(folder)),
                "view_bytes_per_revocation": asyncio.run(view_bytes()),
                "ops_cached_view": ops_per_request(redis, cache=True),
                "ops_direct": ops_per_request(redis, cache=False),
            }
    finally:
        redis.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "footprint.json").write_text(json.dumps(report, indent=1) + "\n")
    print("| item | Redis B | SQLite B |\n|---|---:|---:|")
    for kind in [*KINDS, "user (account row)"]:
        r = report["redis_bytes"].get(kind)
        print(
            f"| {kind} | {'' if r is None else f'{r:.0f}'} | {report['sqlite_bytes'][kind]:.0f} |"
        )
    print(f"cached view: {report['view_bytes_per_revocation']:.0f} B per revocation per worker")
    print(
        "| request | round trips, view | commands, view | round trips, direct | commands, "
        "direct |\n|---|---:|---:|---:|---:|"
    )
    for name, row in report["ops_cached_view"].items():
        direct = report["ops_direct"][name]
        print(
            f"| {name} | {row['round_trips']} | {row['per_request']} | "
            f"{direct['round_trips']} | {direct['per_request']} |"
        )


if __name__ == "__main__":
    main()
