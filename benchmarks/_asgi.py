"""Shared benchmark driver: call ASGI apps in-process, interleaved, and report medians.

Stacks run round-robin (one batch each per round) so drift from a noisy shared machine
hits every stack alike; figures are medians of per-request times, and ratios are taken
within the same run.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

ASGI = Callable[..., Awaitable[None]]


@dataclass
class Stack:
    name: str
    app: ASGI
    path: str = "/"
    headers: Callable[[int], list[tuple[bytes, bytes]]] = lambda i: []
    samples: list[float] = field(default_factory=list)

    def scope(self, i: int) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"bench"), *self.headers(i)],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }


async def call(stack: Stack, i: int) -> int:
    status = 0
    request = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await stack.app(stack.scope(i), receive, send)
    return status


async def measure(stacks: list[Stack], rounds: int, batch: int, warmup: int = 50) -> None:
    for stack in stacks:
        for i in range(warmup):
            status = await call(stack, i)
            if status != 200:
                raise SystemExit(f"{stack.name}: warm-up request answered {status}")
    counter = warmup
    for _ in range(rounds):
        for stack in stacks:
            for _ in range(batch):
                start = time.perf_counter_ns()
                await call(stack, counter)
                stack.samples.append((time.perf_counter_ns() - start) / 1000)
                counter += 1


def median(stack: Stack) -> float:
    return statistics.median(stack.samples)


def run(coro: Awaitable[None]) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]
