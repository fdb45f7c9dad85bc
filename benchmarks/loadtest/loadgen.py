"""The load generator: its own process, N keep-alive clients, bounded in time.

    python benchmarks/loadtest/loadgen.py PLAN.json RESULT.json

A minimal HTTP/1.1 client on asyncio streams (one connection per client, reused), so the
generator spends as little of the shared CPU as it can: every route pays the same client
cost, and the ratios compare what the server does.

Plan ``mode: "steady"``: the routes take turns (round-robin, ``rounds`` x ``slice`` s
each), so drift on a shared machine hits every route alike. A route's ``headers`` is a
list of header sets: ``per: "client"`` gives client ``i`` set ``i`` (a warm token),
``per: "request"`` hands each request the next set (a cold token, never reused).

Plan ``mode: "timeline"``: every client alternates the ``routes`` for ``duration`` s and
records (sent, done, route, status) for each request, wall-clock times, so the runner can
line them up with when it froze Redis.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from itertools import count
from pathlib import Path
from typing import Any

TIMEOUT = 10.0


class Conn:
    """One keep-alive HTTP/1.1 connection; reconnects after an error or a ``close``."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.body = b""
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> int:
        """Send one request; return its status (the body is kept in ``self.body``)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body:
            lines += ["content-type: application/json", f"content-length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length, close = 0, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                lowered = name.strip().lower()
                if lowered == b"content-length":
                    length = int(value)
                elif lowered == b"connection" and value.strip().lower() == b"close":
                    close = True
            self.body = await self.reader.readexactly(length) if length else b""
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _timed(conn: Conn, path: str, headers: dict[str, str]) -> int:
    try:
        return await asyncio.wait_for(conn.request("GET", path, headers), TIMEOUT)
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
        conn.close()
        return 0  # counted as an error


async def steady(plan: dict[str, Any]) -> dict[str, Any]:
    conns = [Conn(plan["host"], plan["port"]) for _ in range(plan["clients"])]
    routes = plan["routes"]
    out: dict[str, Any] = {
        r["name"]: {"latencies": [], "statuses": {}, "slices": []} for r in routes
    }
    cursors = {r["name"]: count() for r in routes}

    async def client(
        i: int, route: dict[str, Any], until: float, lat: list[float]
    ) -> dict[int, int]:
        statuses: dict[int, int] = {}
        sets, per, conn = route["headers"], route["per"], conns[i]
        cursor = cursors[route["name"]]
        while time.perf_counter() < until:
            headers = sets[i % len(sets)] if per == "client" else sets[next(cursor) % len(sets)]
            start = time.perf_counter()
            status = await _timed(conn, route["path"], headers)
            lat.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1
        return statuses

    for round_no in range(plan["warmup_rounds"] + plan["rounds"]):
        for route in routes:
            lat: list[float] = []
            start = time.perf_counter()
            until = start + plan["slice"]
            parts = await asyncio.gather(*(client(i, route, until, lat) for i in range(len(conns))))
            elapsed = time.perf_counter() - start
            if round_no < plan["warmup_rounds"]:
                continue
            rec = out[route["name"]]
            rec["latencies"].extend(lat)
            rec["slices"].append(len(lat) / elapsed)
            for part in parts:
                for status, n in part.items():
                    rec["statuses"][str(status)] = rec["statuses"].get(str(status), 0) + n
    for conn in conns:
        conn.close()
    return out


async def timeline(plan: dict[str, Any]) -> dict[str, Any]:
    conns = [Conn(plan["host"], plan["port"]) for _ in range(plan["clients"])]
    routes = plan["routes"]
    records: list[tuple[float, float, str, int]] = []
    until = time.time() + plan["duration"]

    async def client(i: int) -> None:
        for n in count(i):
            if time.time() >= until:
                return
            route = routes[n % len(routes)]
            sets = route["headers"]
            sent = time.time()
            status = await _timed(conns[i], route["path"], sets[i % len(sets)])
            records.append((sent, time.time(), route["name"], status))

    await asyncio.gather(*(client(i) for i in range(len(conns))))
    for conn in conns:
        conn.close()
    return {"records": records}


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    work = steady if plan["mode"] == "steady" else timeline
    result = asyncio.run(work(plan))
    with open(sys.argv[2], "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
