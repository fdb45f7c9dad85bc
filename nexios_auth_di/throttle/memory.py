"""Throttle counters in this process's memory: the default with the memory stores.

Atomic without a lock because no method awaits between reading and writing a counter.
Expired counters are swept every ``sweep_every`` reservations, so a spray of made-up
usernames cannot grow the table without bound.
"""

from __future__ import annotations

from nexios_auth_di.throttle.limiter import Decision, Rule, State, advance, retract

__all__ = ["MemoryLimiter"]


class MemoryLimiter:
    """``Limiter`` over a dict. One instance per container (it is the state)."""

    def __init__(self, *, sweep_every: int = 1024) -> None:
        self._counters: dict[str, State] = {}
        self._sweep_every = sweep_every
        self._since_sweep = 0

    async def reserve(self, rule: Rule, now: float) -> Decision:
        decision, new = advance(self._counters.get(rule.key), rule, now)
        if new is not None:
            self._counters[rule.key] = new
        self._since_sweep += 1
        if self._since_sweep >= self._sweep_every:
            self._sweep(now)
        return decision

    async def release(self, rule: Rule, now: float) -> None:
        new = retract(self._counters.get(rule.key), rule, now)
        if new is not None:
            self._counters[rule.key] = new

    async def clear(self, key: str) -> None:
        self._counters.pop(key, None)

    async def close(self) -> None:
        self._counters.clear()

    def keys(self) -> list[str]:
        """The stored keys (tests check that no username or IP appears in them)."""
        return list(self._counters)

    def _sweep(self, now: float) -> None:
        self._since_sweep = 0
        dead = [k for k, s in self._counters.items() if s.expires_at <= now]
        for key in dead:
            del self._counters[key]
