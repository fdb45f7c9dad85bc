"""``nox -s soak``: issue, refresh and revoke tokens for ``SOAK_SECONDS`` (60) against
real uvicorn (2 workers) over Redis, sampling each worker's RSS every second.

Each of ``SOAK_CLIENTS`` clients loops: ``POST /issue`` -> ``GET /me`` -> ``POST /refresh``
-> ``GET /me`` (new token) -> ``POST /revoke`` -> ``GET /me`` with the revoked token on
the same connection (the revoking worker: must be 401 at once). Every revoked token is
checked again after ``1.1 x`` the view's staleness bound on a second connection (any
worker: must be 401 by then). Rules: after the 10 s warm-up each worker's RSS stays within
10% of its level at 10 s; no revoked token is ever accepted.

Writes ``benchmarks/results/soak.{json,png}``; exits 1 if a rule broke.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import Conn
from serve import CHARTS, RESULTS, Redis, Server, rss_bytes, versions

SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "8"))
WARMUP = 10.0
#: Token lifetimes (s). Every revocation is kept, in Redis and in each worker's view,
#: until the token it names expires: with the defaults (15 min access, 30-day login) a
#: 60 s soak only ever accumulates. Short lifetimes let the live state reach its level
#: within the warm-up, so growth after it is a leak, not retained revocations.
#: SOAK_TTLS=default keeps the library defaults.
TTLS = (
    {}
    if os.environ.get("SOAK_TTLS") == "default"
    else {
        "NEXIOS_AUTH_ACCESS_TTL": "5",
        "NEXIOS_AUTH_REFRESH_TTL": "5",
        "NEXIOS_AUTH_REFRESH_ABSOLUTE_TTL": "8",
    }
)
TOLERANCE = 0.10
RECHECK_AFTER = 1.1  # x store.revocation_max_staleness (1 s)


async def load(server: Server, until: float, counts: dict[str, int]) -> None:
    late: deque[tuple[float, str]] = deque()

    async def recheck(conn: Conn, now: float) -> None:
        while late and late[0][0] <= now:
            _, token = late.popleft()
            status = await conn.request("GET", "/me", {"authorization": f"Bearer {token}"})
            counts["late_checks"] += 1
            if status == 200:
                counts["revoked_accepted_late"] += 1

    async def client(i: int) -> None:
        conn, other = Conn("127.0.0.1", server.port), Conn("127.0.0.1", server.port)
        turn = 0
        while time.time() < until:
            # 256 users in turn: each has a few live logins, never past the 50 per user
            # at which the oldest would be ended (that would be another workload)
            user, turn = f"u{(i * 32 + turn) % 256}", turn + 1
            status = await conn.request("POST", "/issue", {}, json.dumps({"user": user}).encode())
            pair = json.loads(conn.body)
            assert status == 200, (status, pair)
            auth = {"authorization": f"Bearer {pair['access_token']}"}
            counts["me_ok"] += await conn.request("GET", "/me", auth) == 200
            body = json.dumps({"refresh_token": pair["refresh_token"]}).encode()
            status = await conn.request("POST", "/refresh", {}, body)
            assert status == 200, (status, conn.body)
            access = json.loads(conn.body)["access_token"]
            auth = {"authorization": f"Bearer {access}"}
            counts["me_ok"] += await conn.request("GET", "/me", auth) == 200
            assert await conn.request("POST", "/revoke", auth) == 200
            counts["revoked"] += 1
            if await conn.request("GET", "/me", auth) == 200:
                counts["revoked_accepted_now"] += 1
            late.append((time.time() + RECHECK_AFTER, access))
            await recheck(other, time.time())
            counts["cycles"] += 1
        await asyncio.sleep(RECHECK_AFTER)
        await recheck(other, time.time() + RECHECK_AFTER)
        conn.close()
        other.close()

    await asyncio.gather(*(client(i) for i in range(CLIENTS)))


async def soak(server: Server) -> dict[str, Any]:
    pids = server.worker_pids()
    counts = dict.fromkeys(
        (
            "cycles",
            "me_ok",
            "revoked",
            "revoked_accepted_now",
            "revoked_accepted_late",
            "late_checks",
        ),
        0,
    )
    start = time.time()
    samples: list[dict[str, Any]] = []

    async def sample() -> None:
        while time.time() < start + SECONDS:
            samples.append(
                {
                    "t": round(time.time() - start, 2),
                    "rss": {str(p): rss_bytes(p) for p in pids},
                    "cycles": counts["cycles"],
                }
            )
            await asyncio.sleep(1.0)

    await asyncio.gather(sample(), load(server, start + SECONDS, counts))
    return {"pids": pids, "samples": samples, "counts": counts}


def judge(result: dict[str, Any]) -> dict[str, Any]:
    samples = result["samples"]
    at_10 = next(s for s in samples if s["t"] >= WARMUP)
    drift = {}
    for pid in result["pids"]:
        base = at_10["rss"][str(pid)]
        later = [s["rss"][str(pid)] for s in samples if s["t"] >= WARMUP]
        drift[str(pid)] = {
            "rss_at_10s_mib": round(base / 2**20, 1),
            "min_mib": round(min(later) / 2**20, 1),
            "max_mib": round(max(later) / 2**20, 1),
            "max_deviation": round(max(abs(v - base) for v in later) / base, 4),
            "end_vs_10s": round(later[-1] / base - 1, 4),
        }
    counts = result["counts"]
    rules = {
        "RSS within 10% of its 10 s level": all(
            d["max_deviation"] <= TOLERANCE for d in drift.values()
        ),
        "no revoked token accepted": counts["revoked_accepted_now"] == 0
        and counts["revoked_accepted_late"] == 0,
    }
    return {"rss": drift, "rules": rules}


def chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    samples = report["samples"]
    for n, pid in enumerate(report["pids"]):
        ax.plot(
            [s["t"] for s in samples],
            [s["rss"][str(pid)] / 2**20 for s in samples],
            label=f"worker {n + 1}",
        )
        base = report["verdict"]["rss"][str(pid)]["rss_at_10s_mib"]
        ax.axhspan(base * (1 - TOLERANCE), base * (1 + TOLERANCE), alpha=0.08)
    ax.axvline(WARMUP, color="grey", linestyle=":", label="end of warm-up")
    ax.set_xlabel("s")
    ax.set_ylabel("RSS (MiB)")
    c = report["counts"]
    ax.set_title(
        f"soak: {c['cycles']} issue/refresh/revoke cycles, "
        f"revoked accepted = {c['revoked_accepted_now'] + c['revoked_accepted_late']}",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    redis = Redis()
    server = Server(redis.url, f"nxauth-soak-{uuid.uuid4().hex[:8]}", workers=2, extra_env=TTLS)
    try:
        server.wait_ready()
        result = asyncio.run(soak(server))
        keys = redis.cli("DBSIZE").strip()  # live revocations, families, ... at the end
        report = {
            "versions": versions(redis),
            "seconds": SECONDS,
            "clients": CLIENTS,
            "ttls": TTLS or "library defaults",
            "redis_keys_at_end": int(keys) if keys.isdigit() else keys,
            **result,
        }
    except BaseException:
        print(server.errors(), file=sys.stderr)
        raise
    finally:
        server.stop()
        redis.stop()
    report["verdict"] = judge(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(report, indent=1) + "\n")
    CHARTS.mkdir(parents=True, exist_ok=True)
    chart(report, CHARTS / "soak.png")
    c = report["counts"]
    print(
        f"{c['cycles']} cycles in {SECONDS:.0f} s ({c['cycles'] / SECONDS:.0f}/s), "
        f"{c['revoked']} tokens revoked, {c['late_checks']} re-checked on any worker; "
        f"TTLs {report['ttls']}; {report['redis_keys_at_end']} Redis keys at the end"
    )
    print("| worker | RSS at 10 s MiB | min | max | max deviation | end vs 10 s |")
    print("|---|---:|---:|---:|---:|---:|")
    for n, d in enumerate(report["verdict"]["rss"].values()):
        print(
            f"| {n + 1} | {d['rss_at_10s_mib']} | {d['min_mib']} | {d['max_mib']} | "
            f"{d['max_deviation']:.1%} | {d['end_vs_10s']:+.1%} |"
        )
    for rule, ok in report["verdict"]["rules"].items():
        print(f"- {'PASS' if ok else 'FAIL'}: {rule}")
    return 0 if all(report["verdict"]["rules"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
