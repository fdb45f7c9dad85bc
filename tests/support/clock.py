"""The one fake clock of the suite: time moves only when a test moves it."""

from __future__ import annotations

#: A fixed instant (2023-11-14 22:13:20 UTC): expected timestamps in tests stay readable.
EPOCH = 1_700_000_000.0


class FakeClock:
    """A settable Unix-time clock, so expiry, TTLs and backoff are tested without sleeping.

    Pass it wherever the library takes ``clock: Callable[[], float]``. Start it at
    ``time.time()`` when a real server (Redis) or library compares against wall time.
    """

    def __init__(self, now: float = EPOCH) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward (or back, with a negative ``seconds``)."""
        self.now += seconds
