"""Throttle counters in Redis (one hash per counter), shared by every worker and host.

``reserve`` is one Lua script, so test-and-increment is atomic and one round trip; it
computes what ``limiter.advance`` computes. Times come from the app's clock (passed in),
and the key's TTL is relative, so app/server clock skew does not matter. The stores'
``RedisDatabase`` runs the scripts: its ``guard`` turns Redis and socket errors (only
those) into ``StoreUnavailable``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nexios_auth_di.throttle.limiter import Decision, Rule

if TYPE_CHECKING:
    from nexios_auth_di.stores.redis import RedisDatabase

__all__ = ["RedisLimiter"]

# KEYS[1] counter; ARGV now, limit, window, backoff ('1'/'0'), base, max
# -> {1, count, '0'} granted, or {0, count, retry_after}
_RESERVE = """
local now, limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local backoff, base, cap = ARGV[4] == '1', tonumber(ARGV[5]), tonumber(ARGV[6])
local v = redis.call('HMGET', KEYS[1], 'n', 'u', 'e')
local n, u, e = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0
if e <= now then n, u, e = 0, 0, now + window end
if u > now then return {0, n, string.format('%.17g', u - now)} end
if (not backoff) and n >= limit then return {0, n, string.format('%.17g', e - now)} end
n = n + 1
if backoff and n >= limit then
  local d = base * 2 ^ math.min(n - limit, 60)
  if d > cap then d = cap end
  u = now + d
  if u + window > e then e = u + window end
else
  u = 0
end
redis.call('HSET', KEYS[1], 'n', n, 'u', string.format('%.17g', u), 'e', string.format('%.17g', e))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((e - now) * 1000)))
return {1, n, '0'}
"""
# KEYS[1] counter; ARGV now, limit
_RELEASE = """
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'n', 'e')
local n, e = tonumber(v[1]), tonumber(v[2])
if (not n) or e <= now or n <= 0 then return 0 end
n = n - 1
redis.call('HSET', KEYS[1], 'n', n)
if n < limit then redis.call('HSET', KEYS[1], 'u', '0') end
return 1
"""


class RedisLimiter:
    """``Limiter`` over a ``RedisDatabase``; keys live under ``{namespace}:thr:``."""

    def __init__(self, db: RedisDatabase, *, owns_db: bool = False) -> None:
        self._db = db
        self._owns_db = owns_db
        self._scripts: dict[str, Any] = {}
        self._client: Any = None

    def _script(self, name: str) -> tuple[Any, Any]:
        client = self._db.client
        if client is not self._client:  # first use, or the database reconnected
            self._client = client
            self._scripts = {
                "reserve": client.register_script(_RESERVE),
                "release": client.register_script(_RELEASE),
            }
        return self._scripts[name], client

    async def reserve(self, rule: Rule, now: float) -> Decision:
        script, client = self._script("reserve")
        args = [repr(now), rule.limit, repr(float(rule.window)), int(rule.backoff)]
        args += [repr(float(rule.base_delay or 0.0)), repr(float(rule.max_delay))]
        with self._db.guard():
            ok, count, wait = await script(keys=[self._key(rule.key)], args=args, client=client)
        return Decision(bool(ok), int(count), max(float(wait), 0.0))

    async def release(self, rule: Rule, now: float) -> None:
        script, client = self._script("release")
        with self._db.guard():
            await script(keys=[self._key(rule.key)], args=[repr(now), rule.limit], client=client)

    async def clear(self, key: str) -> None:
        client = self._db.client
        with self._db.guard():
            await client.delete(self._key(key))

    async def close(self) -> None:
        if self._owns_db:
            await self._db.close()

    def _key(self, key: str) -> str:
        return self._db.key("thr", key)
