"""One atomic operation every throttle storage provides: ``reserve`` an attempt.

Why not check first and count later: a burst of parallel guesses all pass the check
before the first one is counted (the hashing queue holds them in between), so the whole
burst gets evaluated. ``reserve`` tests *and* counts in one atomic step (one Python step
on the event loop, one SQL statement, one Lua script): of N concurrent callers at most
``limit`` are granted, whatever the storage.

A ``Rule`` is one counter: ``limit`` attempts per fixed ``window`` (starting at the first
attempt). With ``base_delay`` set it backs off instead of blocking for the rest of the
window: each granted attempt from the ``limit``-th on locks the counter for
``base_delay * 2**(count - limit)`` seconds (capped at ``max_delay``), and the count is
kept a ``window`` past that lock. ``advance`` below is the reference; the SQL and Lua
versions compute the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["Decision", "Limiter", "Rule", "State", "advance", "backoff_delay", "retract"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One counter: its storage ``key`` (already hashed) and its limits."""

    key: str
    limit: int
    window: float
    base_delay: float | None = None  # None: block for the rest of the window
    max_delay: float = 0.0

    @property
    def backoff(self) -> bool:
        return self.base_delay is not None


@dataclass(frozen=True, slots=True)
class Decision:
    """What ``reserve`` decided: granted or not, the count, and when to come back."""

    allowed: bool
    count: int
    retry_after: float = 0.0


@dataclass(frozen=True, slots=True)
class State:
    """A counter as stored: attempts, lock end (``until``) and when it may be forgotten."""

    count: int = 0
    until: float = 0.0
    expires_at: float = 0.0


@runtime_checkable
class Limiter(Protocol):
    """Throttle storage. ``reserve`` is atomic; the others are single atomic updates."""

    async def reserve(self, rule: Rule, now: float) -> Decision:
        """Grant and count one attempt, or refuse it (counting nothing)."""
        ...

    async def release(self, rule: Rule, now: float) -> None:
        """Give back one granted attempt that was never evaluated (or succeeded)."""
        ...

    async def clear(self, key: str) -> None:
        """Forget the counter (a successful login clears the account's)."""
        ...

    async def close(self) -> None:
        """Release what the limiter owns (nothing when it shares the stores' connection)."""
        ...


def backoff_delay(count: int, rule: Rule) -> float:
    """Seconds the ``count``-th attempt locks the counter for (0 below the limit)."""
    if rule.base_delay is None or count < rule.limit:
        return 0.0
    return min(rule.base_delay * 2.0 ** min(count - rule.limit, 60), rule.max_delay)


def advance(state: State | None, rule: Rule, now: float) -> tuple[Decision, State | None]:
    """The reservation: the decision and the state to store (None: leave it unchanged)."""
    if state is None or state.expires_at <= now:
        state = State(0, 0.0, now + rule.window)
    if state.until > now:
        return Decision(False, state.count, state.until - now), None
    if not rule.backoff and state.count >= rule.limit:
        return Decision(False, state.count, state.expires_at - now), None
    count = state.count + 1
    delay = backoff_delay(count, rule)
    until = now + delay if delay > 0 else 0.0
    expires_at = max(state.expires_at, until + rule.window)
    return Decision(True, count), State(count, until, expires_at)


def retract(state: State | None, rule: Rule, now: float) -> State | None:
    """One attempt fewer; a lock only stays if the remaining count still calls for it."""
    if state is None or state.expires_at <= now or state.count <= 0:
        return None
    count = state.count - 1
    return State(count, state.until if count >= rule.limit else 0.0, state.expires_at)
