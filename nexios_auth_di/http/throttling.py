"""Request rate limiting over the ``limits`` library (and the login throttle's old home).

Why ``limits``: its async storages (``async+memory://``, ``async+redis://``, memcached,
mongodb) already do atomic counters with expiry and a moving-window limiter, on Redis in
one Lua round trip, so no hand-written counters or scripts here. ``RateLimitMiddleware``
uses its ``MovingWindowRateLimiter`` as is (no burst at a window edge).

``LoginThrottle`` lives in ``nexios_auth_di.throttle`` (it needs an atomic reserve with
exponential backoff, which ``limits`` has no strategy for) and is re-exported here.

Only a storage outage becomes ``StoreUnavailable`` (503): we fail closed, never open.
"""

from __future__ import annotations

import fnmatch
import hashlib
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from limits import RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from nexios_auth_di.exceptions import ConfigurationError, HTTPAuthError, StoreUnavailable, Throttled
from nexios_auth_di.http.asgi import client_ip, trusted_networks  # client_ip: re-exported
from nexios_auth_di.logs import get_logger
from nexios_auth_di.throttle.login import LoginThrottle  # re-exported: its old home

__all__ = ["LoginThrottle", "RateLimitMiddleware", "client_ip", "make_storage"]

KeyFunc = Callable[[Mapping[str, Any]], str | Awaitable[str]]

logger = get_logger("nexios_auth_di.throttling")


def make_storage(storage: Storage | str) -> Storage:
    """A ``limits`` async storage from an instance or a URI (``memory://``, ``redis://...``)."""
    if isinstance(storage, Storage):
        return storage
    if not isinstance(storage, str) or "://" not in storage:
        raise ConfigurationError(f"not a limits storage or storage URI: {storage!r}")
    uri = storage if storage.startswith("async+") else "async+" + storage
    options: dict[str, float | str | bool] = {"wrap_exceptions": True}
    if uri.startswith(("async+redis", "async+rediss")):
        # The project depends on redis-py (limits defaults to coredis). Short timeouts so an
        # unreachable Redis turns into a prompt 503; query parameters in the URI still win.
        options |= {"implementation": "redispy", "socket_connect_timeout": 2.0}
        options |= {"socket_timeout": 2.0}
    try:
        made = storage_from_string(uri, **options)
    except Exception as exc:
        raise ConfigurationError(f"cannot build rate-limit storage {storage!r}: {exc}") from exc
    if not isinstance(made, Storage):  # pragma: no cover - defensive
        raise ConfigurationError(f"{storage!r} is not an async storage")
    return made


def _outage_errors(storage: Storage) -> tuple[type[Exception], ...]:
    """What a storage outage raises: ``limits``' ``StorageError`` (storages built by
    ``make_storage`` wrap their errors) and the storage's own driver errors (an unwrapped
    storage passed in). Anything else is a bug and must surface as one, not as a 503.

    Used as ``except _outage_errors(storage):``, so it only runs once something was raised.
    """
    from limits.errors import StorageError

    own = storage.base_exceptions
    return (StorageError, *(own if isinstance(own, tuple) else (own,)))


def _digest(*parts: str) -> str:
    """Storage keys are hashed so usernames and IPs never appear in Redis."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


# --- request rate limiting ---------------------------------------------------------------


def _json_response(error: HTTPAuthError) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()
    ]
    return error.status_code, headers, body


class RateLimitMiddleware:
    """At most ``rate_limit`` requests per ``time_window`` seconds per key (client IP).

    Two forms, one class: ``app.add_middleware(RateLimitMiddleware(rate_limit=5,
    time_window=60))`` (called as ``mw(request, response, call_next)``) and
    ``app.wrap_asgi(RateLimitMiddleware, rate_limit=5, ...)`` (pure ASGI, cheaper). Over the
    limit: 429 with ``Retry-After``; storage down: 503. Both are *returned*, never raised,
    because Nexios turns an exception in app middleware into a 500.

    ``paths`` selects by glob (``/api/*``) or prefix (``/login`` covers ``/login/x``);
    ``key_func`` receives the ASGI scope and returns the bucket key.
    """

    def __init__(
        self,
        app: Any = None,
        /,
        rate_limit: int = 5,
        time_window: int = 60,
        *,
        paths: Iterable[str] | None = None,
        methods: Iterable[str] | None = None,
        key_func: KeyFunc | None = None,
        storage_uri: str = "memory://",
        storage: Storage | None = None,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        if isinstance(app, int) or rate_limit < 1 or time_window < 1:
            raise ConfigurationError(
                "RateLimitMiddleware: pass rate_limit= and time_window= as keywords, both >= 1"
            )
        self.app = app
        self.item = RateLimitItemPerSecond(rate_limit, time_window, namespace="nexios_auth_di")
        self.paths = tuple(paths) if paths is not None else None
        self.methods = frozenset(m.upper() for m in methods) if methods is not None else None
        self.key_func = key_func
        self.trusted = trusted_networks(trusted_proxies)
        self.storage = make_storage(storage or storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)

    def selects(self, path: str, method: str) -> bool:
        """True when this request is subject to the limit."""
        if self.methods is not None and method.upper() not in self.methods:
            return False
        if self.paths is None:
            return True
        for pattern in self.paths:
            if any(c in pattern for c in "*?["):
                if fnmatch.fnmatchcase(path, pattern):
                    return True
            elif path == pattern or path.startswith(pattern.rstrip("/") + "/"):
                return True
        return False

    async def check(self, scope: Mapping[str, Any]) -> HTTPAuthError | None:
        """Spend one hit for this request; the error to answer with, or None to proceed."""
        if self.key_func is None:
            key = client_ip(scope, self.trusted)
        else:
            made = self.key_func(scope)
            key = await made if inspect.isawaitable(made) else made
        ident = _digest(str(key))
        try:
            if await self.limiter.hit(self.item, ident):
                return None
            stats = await self.limiter.get_window_stats(self.item, ident)
        except _outage_errors(self.storage):
            logger.warning("rate-limit storage failed; answering 503", exc_info=True)
            return StoreUnavailable("rate_limit_storage")
        return Throttled(stats.reset_time - time.time(), reason="rate_limited")

    async def __call__(self, *args: Any) -> Any:
        if isinstance(args[0], dict):
            return await self._asgi(*args)
        request, response, call_next = args
        scope = request.scope
        if self.selects(scope.get("path", "/"), scope.get("method", "GET")):
            error = await self.check(scope)
            if error is not None:
                return response.json(
                    error.body(), status_code=error.status_code, headers=dict(error.headers)
                )
        return await call_next()

    async def _asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.app is None:
            raise ConfigurationError("RateLimitMiddleware used as ASGI without an app")
        if scope["type"] == "http" and self.selects(scope["path"], scope["method"]):
            error = await self.check(scope)
            if error is not None:
                status, headers, body = _json_response(error)
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
