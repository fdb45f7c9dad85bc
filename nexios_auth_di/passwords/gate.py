"""A bounded hashing queue: at most ``concurrency`` hashes run, ``queue_depth`` wait,
and the next caller is refused at once with ``Overloaded`` (503 + Retry-After).

Why shed instead of queueing: argon2 is deliberately slow, so an unbounded queue lets
anonymous callers (register, login with made-up names) push every legitimate login
seconds behind them. Refusing the excess immediately keeps the wait of an admitted
request bounded by ``(concurrency + queue_depth) / concurrency`` hash times.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nexios_auth_di.exceptions import Overloaded

__all__ = ["HashGate"]


class HashGate:
    """The queue of one event loop (asyncio primitives are bound to one loop)."""

    def __init__(self, concurrency: int, queue_depth: int | None) -> None:
        self._running = asyncio.Semaphore(concurrency)
        self._capacity = None if queue_depth is None else concurrency + queue_depth
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Hashes running or waiting now."""
        return self._admitted

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a hashing slot; raise ``Overloaded`` at once when the queue is full."""
        if self._capacity is not None and self._admitted >= self._capacity:
            raise Overloaded(1.0)
        self._admitted += 1
        try:
            async with self._running:
                yield
        finally:
            self._admitted -= 1
