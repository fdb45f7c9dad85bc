"""What the container opened, and closing it: ``container.shutdown(container)``.

Why: the stores' connections (aiosqlite's worker thread, Redis pools), the revocation
cache's pub/sub task, the login throttle's own storage (when it has one) and the
password hashing pool all outlive requests. Left open, aiosqlite's thread (not a daemon)
keeps a server alive after Ctrl-C, and tests leak threads and sockets.

How:

- The providers that build such things go through ``owned``, which records each object
  in the container's ``Lifetimes`` the moment it is built. Closing walks that record,
  newest first, so only what was actually built is closed: nothing is built or opened
  just to be closed, and an object the app supplied by override is the app's to close.
- Each close is bounded by a timeout and a failure is logged, never raised: a shutdown
  must finish, and one stuck engine must not keep the others open.
- Every close releases what is open and leaves the object usable (the next use reopens
  lazily). So closing twice is harmless, and one app can run several lifespans (several
  ``with TestClient(app)`` blocks) on the same container.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from nexios_auth_di.logs import get_logger

__all__ = ["CLOSE_TIMEOUT", "Lifetimes", "close_quietly", "closer_for", "owned"]

logger = get_logger("nexios_auth_di")

_T = TypeVar("_T")

#: seconds one close may take before it is abandoned (and logged); a server's shutdown
#: must stay well under the few seconds a supervisor waits before SIGKILL
CLOSE_TIMEOUT = 2.0


class Lifetimes:
    """The objects a container built that hold something open, in build order."""

    def __init__(self) -> None:
        self._owned: list[tuple[str, Any]] = []
        self._lock = threading.Lock()  # singletons may be built from several threads

    def own(self, name: str, obj: _T) -> _T:
        """Record ``obj`` (once) to be closed by ``aclose``; return it."""
        with self._lock:
            if not any(known is obj for _, known in self._owned):
                self._owned.append((name, obj))
        return obj

    @property
    def names(self) -> list[str]:
        """What is recorded, in build order."""
        with self._lock:
            return [name for name, _ in self._owned]

    async def aclose(self, *, bound: float = CLOSE_TIMEOUT) -> list[str]:
        """Close everything recorded, newest first, each within ``bound`` seconds; return
        the names that failed or timed out (each already logged). The record stays: the
        objects remain usable."""
        with self._lock:
            owned = list(reversed(self._owned))
        return [name for name, obj in owned if not await close_quietly(name, obj, bound)]


def owned(lifetimes: Lifetimes, name: str, build: Callable[..., _T], *args: Any, **kw: Any) -> _T:
    """Provider helper: ``build(*args, **kw)`` and record the result in ``lifetimes``."""
    return lifetimes.own(name, build(*args, **kw))


def closer_for(obj: Any) -> Callable[[], Any] | None:
    """``obj.aclose`` or ``obj.close`` (sync or async); None: nothing to close."""
    for attr in ("aclose", "close"):
        method = getattr(obj, attr, None)
        if callable(method):
            return method  # type: ignore[no-any-return]
    return None


async def close_quietly(name: str, obj: Any, bound: float = CLOSE_TIMEOUT) -> bool:
    """Close ``obj`` within ``bound`` seconds; log (never raise) a failure or a timeout.

    True when it closed cleanly (or had nothing to close). Cancellation still propagates.
    """
    closer = closer_for(obj)
    if closer is None:
        return True
    try:
        result = closer()
        if inspect.isawaitable(result):
            await asyncio.wait_for(result, bound)
    except TimeoutError:
        logger.warning("closing %s timed out (bound: %.1f s): abandoned", name, bound)
        return False
    except Exception:
        logger.warning("closing %s failed", name, exc_info=True)
        return False
    return True
