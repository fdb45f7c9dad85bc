"""``nox -s loadtest``: real uvicorn (2 workers) over Redis with the cached revocation
view, a load generator in its own process, then the same load with Redis frozen.

    python benchmarks/loadtest/run.py

1. Steady: bare, warm token, cold token, session cookie, API key, permission_required,
   round-robin in one run (``LOADTEST_ROUNDS`` x ``LOADTEST_SLICE`` s each, after one
   warm-up round), ``LOADTEST_CLIENTS`` keep-alive clients. Goal: warm >= 0.90x bare,
   0 errors.
2. Outage: tokens revoked first; then valid and revoked tokens alternate for
   ``LOADTEST_BEFORE`` + ``LOADTEST_GAP`` + ``LOADTEST_AFTER`` s while Redis is frozen
   (SIGSTOP) for the gap. A revoked token must never get a 200; recovery is measured from
   SIGCONT. Needs a Redis this run started (skipped with ``REDIS_URL`` set).

Writes ``benchmarks/results/loadtest.{json,md,png}``; exits 1 if a rule broke.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from report import outage_summary, steady_summary, write_outputs
from serve import CHARTS, RESULTS, Redis, Server, versions

CLIENTS = int(os.environ.get("LOADTEST_CLIENTS", "32"))
SLICE = float(os.environ.get("LOADTEST_SLICE", "0.3"))
ROUNDS = int(os.environ.get("LOADTEST_ROUNDS", "20"))
BEFORE = float(os.environ.get("LOADTEST_BEFORE", "3"))
GAP = float(os.environ.get("LOADTEST_GAP", "5"))
AFTER = float(os.environ.get("LOADTEST_AFTER", "5"))
COLD_TOKENS = int(os.environ.get("LOADTEST_COLD_TOKENS", "60000"))
LOADGEN = Path(__file__).resolve().parent / "loadgen.py"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def mint(server: Server, redis_url: str, namespace: str) -> dict[str, list[dict[str, str]]]:
    """Every credential the steady phase sends, made before any timing starts."""
    from benchmarks.loadtest.app import build_container
    from nexios_auth_di.container import shutdown

    env = {"NEXIOS_AUTH_REDIS_URL": redis_url, "NEXIOS_AUTH_NAMESPACE": namespace}
    container = build_container(env)
    tokens = container.token_service()
    users = [f"u{i % 256}" for i in range(CLIENTS)]
    warm = [bearer(tokens.create_access_token(u)) for u in users]
    cold = [bearer(tokens.create_access_token(f"u{i % 256}")) for i in range(COLD_TOKENS)]

    async def keys() -> list[str]:
        service = container.api_key_service()
        made = [(await service.create(u))[0] for u in users]
        await shutdown(container)
        return made

    api = [{"x-api-key": k} for k in asyncio.run(keys())]
    sessions = []
    for header in warm:
        status, (_, headers) = server.call("POST", "/session", header)
        assert status == 200, status
        sessions.append({"cookie": headers["set-cookie"].split(";", 1)[0]})
    return {"warm": warm, "cold": cold, "api": api, "session": sessions}


def loadgen(plan: dict[str, Any]) -> subprocess.Popen[bytes]:
    fd, path = tempfile.mkstemp(prefix="nxauth-loadtest-plan-", suffix=".json")
    with os.fdopen(fd, "w") as out:
        json.dump(plan, out)
    result = path.replace("plan", "result")
    proc = subprocess.Popen([sys.executable, str(LOADGEN), path, result])
    proc.plan_path, proc.result_path = path, result  # type: ignore[attr-defined]
    return proc


def finish(proc: subprocess.Popen[bytes], timeout: float) -> Any:
    if proc.wait(timeout=timeout) != 0:
        raise RuntimeError(f"load generator exited with {proc.returncode}")
    result = json.loads(Path(proc.result_path).read_text())  # type: ignore[attr-defined]
    os.unlink(proc.plan_path)  # type: ignore[attr-defined]
    os.unlink(proc.result_path)  # type: ignore[attr-defined]
    return result


def steady(server: Server, creds: dict[str, list[dict[str, str]]]) -> Any:
    routes = [
        {"name": "bare", "path": "/bare", "headers": [{}], "per": "client"},
        {"name": "token warm", "path": "/me", "headers": creds["warm"], "per": "client"},
        {"name": "token cold", "path": "/me", "headers": creds["cold"], "per": "request"},
        {"name": "session cookie", "path": "/me", "headers": creds["session"], "per": "client"},
        {"name": "API key", "path": "/me", "headers": creds["api"], "per": "client"},
        {"name": "permission_required", "path": "/perm", "headers": creds["warm"], "per": "client"},
    ]
    plan = {
        "mode": "steady",
        "host": "127.0.0.1",
        "port": server.port,
        "clients": CLIENTS,
        "slice": SLICE,
        "rounds": ROUNDS,
        "warmup_rounds": 1,
        "routes": routes,
    }
    return finish(loadgen(plan), timeout=(ROUNDS + 1) * len(routes) * (SLICE + 10) + 60)


def outage(server: Server, redis: Redis, creds: dict[str, list[dict[str, str]]]) -> Any:
    """Revoke half the clients' tokens, then keep sending both kinds across a freeze."""
    valid, revoked = creds["warm"][: CLIENTS // 2], creds["warm"][CLIENTS // 2 :]
    for header in revoked:
        assert server.call("POST", "/revoke", header)[0] == 200
    time.sleep(1.5)  # past the view's staleness bound: every worker refuses them now
    for header in revoked:
        assert server.call("GET", "/me", header)[0] == 401
    routes = [
        {"name": "valid", "path": "/me", "headers": valid},
        {"name": "revoked", "path": "/me", "headers": revoked},
    ]
    duration = BEFORE + GAP + AFTER
    plan = {
        "mode": "timeline",
        "host": "127.0.0.1",
        "port": server.port,
        "clients": CLIENTS,
        "duration": duration,
        "routes": routes,
    }
    start = time.time()
    proc = loadgen(plan)
    try:
        time.sleep(max(0.0, start + BEFORE - time.time()))
        frozen = time.time()
        redis.freeze()
        time.sleep(GAP)
    finally:
        redis.thaw()
    thawed = time.time()
    result = finish(proc, timeout=duration + 60)
    return outage_summary(result["records"], start=start, frozen=frozen, thawed=thawed)


def main() -> int:
    redis = Redis()
    namespace = f"nxauth-loadtest-{uuid.uuid4().hex[:8]}"
    server = Server(redis.url, namespace, workers=2)
    try:
        server.wait_ready()
        creds = mint(server, redis.url, namespace)
        started = time.time()
        table = steady_summary(steady(server, creds))
        gap = outage(server, redis, creds) if redis.pid is not None else None
        report = {
            "versions": versions(redis),
            "setup": {
                "workers": 2,
                "clients": CLIENTS,
                "slice_s": SLICE,
                "rounds": ROUNDS,
                "stores": "redis",
                "revocation_cache": True,
                "cold_tokens": COLD_TOKENS,
                "wall_s": round(time.time() - started, 1),
            },
            "steady": table,
            "outage": gap,
        }
    except BaseException:
        print(server.errors(), file=sys.stderr)
        raise
    finally:
        server.stop()
        redis.stop()
    ok = write_outputs(report, RESULTS, CHARTS)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
