"""Redis stores (redis-py asyncio): shared state for many workers and hosts.

One ``RedisDatabase`` owns one lazily created client, shared by the four stores. Every
key lives under ``{namespace}:`` and carries a TTL, computed from the injected clock
(relative ``PX``, so app/server clock skew does not matter). The one exception is an
API-key record without ``expires_at`` (and its owner index): it lives until deleted.
Each multi-step operation is one small Lua script, so it is atomic and one round trip.
Scripts build session keys from a prefix, so they need standalone Redis (not Cluster).

Any Redis or socket error becomes ``StoreUnavailable``: requests fail closed. The client
retries once on a broken connection, so the first call after a server restart works.
``RedisDatabase.close()`` (the container's shutdown) disconnects its pool.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.connection import BlockingConnectionPool, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from nexios_auth_di.exceptions import ConfigurationError, StoreUnavailable
from nexios_auth_di.stores.memory import GENERATION_STEP, MIN_MARKER_TTL
from nexios_auth_di.stores.protocols import (
    API_KEY_RETENTION,
    STAMP_TTL,
    APIKeyRecord,
    KeyAdd,
    SpendResult,
)

__all__ = [
    "RedisAPIKeyStore",
    "RedisDatabase",
    "RedisRefreshFamilyStore",
    "RedisRevocationStore",
    "RedisSessionStore",
]

Clock = Callable[[], float]

# KEYS[1] revoked-family marker, KEYS[2] spent marker; ARGV[1] ttl ms -> 0 OK, 1 REUSED, 2 REVOKED
_SPEND = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 2 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 0 end
return 1
"""
# KEYS[1] marker; ARGV[1] ttl ms: set it, never shortening a longer TTL already there.
# With ARGV[2] (a channel), ARGV[3] (the jti or family) and ARGV[4] (its kind, 'j' or
# 'f') it also publishes the mark, in the same atomic step (revocation_cache.py: no
# revocation is stored without its message).
_MARK = """
local ttl = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('SET', KEYS[1], '1', 'PX', ttl) end
if ARGV[2] then
  local kind = ARGV[4] or 'j'
  redis.call('PUBLISH', ARGV[2], cjson.encode({kind, ARGV[3], redis.call('PTTL', KEYS[1])}))
end
return 0
"""
# KEYS[1] not-before key; ARGV[1] now, ARGV[2] ttl ms, ARGV[3] step: move the mark to
# max(now, current + step), keep the longer TTL, return the new generation (17 digits:
# the exact double). With ARGV[4] (a channel) and ARGV[5] (the subject) it publishes it.
_GENERATION = """
local mark = tonumber(ARGV[1])
local cur = redis.call('GET', KEYS[1])
if cur then
  local nxt = tonumber(cur) + tonumber(ARGV[3])
  if nxt > mark then mark = nxt end
end
local value = string.format('%.17g', mark)
local ttl = tonumber(ARGV[2])
local pttl = redis.call('PTTL', KEYS[1])
if pttl > ttl then ttl = pttl end
redis.call('SET', KEYS[1], value, 'PX', ttl)
if ARGV[4] then redis.call('PUBLISH', ARGV[4], cjson.encode({'n', ARGV[5], value, ttl})) end
return value
"""
# KEYS[1] the subject's logins (zset family -> absolute end); ARGV now, family, end,
# limit, revoked-marker prefix and suffix. Drops ended logins, adds this one, and ends
# the oldest beyond the limit (marked revoked until their own end) -> their families.
_LOGIN_START = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
local evicted = {}
if excess > 0 then
  local rows = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  local i = 1
  while excess > 0 and i < #rows do
    local fam, score = rows[i], tonumber(rows[i + 1])
    if fam ~= ARGV[2] then
      local ttl = math.max(1000, math.floor((score - now) * 1000))
      redis.call('SET', ARGV[5] .. fam .. ARGV[6], '1', 'PX', ttl)
      redis.call('ZREM', KEYS[1], fam)
      evicted[#evicted + 1] = fam
      excess = excess - 1
    end
    i = i + 2
  end
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local keep = math.max(1000, math.floor((tonumber(last[2]) - now) * 1000))
redis.call('PEXPIRE', KEYS[1], keep)
return evicted
"""
# KEYS[1] the subject's logins; ARGV now, revoked-marker prefix and suffix: revoke every
# live one until its own end, delete the record -> their families
_LOGIN_END_ALL = """
local now = tonumber(ARGV[1])
local rows = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES')
local ended = {}
for i = 1, #rows, 2 do
  local ttl = math.max(1000, math.floor((tonumber(rows[i + 1]) - now) * 1000))
  redis.call('SET', ARGV[2] .. rows[i] .. ARGV[3], '1', 'PX', ttl)
  ended[#ended + 1] = rows[i]
end
redis.call('DEL', KEYS[1])
return ended
"""
# KEYS[1] not-before key; ARGV[1] not_before, ARGV[2] ttl ms: keep the max of both.
# With ARGV[3] (a channel) and ARGV[4] (the subject) it also publishes the kept mark.
_NOT_BEFORE = """
local value, ttl = ARGV[1], tonumber(ARGV[2])
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) >= tonumber(value) then value = cur end
local pttl = redis.call('PTTL', KEYS[1])
if pttl > ttl then ttl = pttl end
redis.call('SET', KEYS[1], value, 'PX', ttl)
if ARGV[3] then redis.call('PUBLISH', ARGV[3], cjson.encode({'n', ARGV[4], value, ttl})) end
return 0
"""
# KEYS[1] session, KEYS[2] subject index (optional); ARGV payload, ttl ms, id, session
# prefix, previous id ('' for a new session) -> 1 written, 0 previous gone (nothing written)
_SESSION_SAVE = """
local ttl = tonumber(ARGV[2])
local previous = ARGV[5]
if previous ~= '' then
  if redis.call('EXISTS', ARGV[4] .. previous) == 0 then return 0 end
  if previous ~= ARGV[3] then
    redis.call('DEL', ARGV[4] .. previous)
    if #KEYS == 2 then redis.call('SREM', KEYS[2], previous) end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
if #KEYS == 2 then
  redis.call('SADD', KEYS[2], ARGV[3])
  if redis.call('SCARD', KEYS[2]) > 32 then
    for _, sid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
      if redis.call('EXISTS', ARGV[4] .. sid) == 0 then redis.call('SREM', KEYS[2], sid) end
    end
  end
  if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
end
return 1
"""
# KEYS[1] subject index; ARGV subject, keep ('' for none), session prefix -> deleted count
_SESSION_DELETE_FOR_SUBJECT = """
local n = 0
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if sid ~= ARGV[2] then
    local key = ARGV[3] .. sid
    local v = redis.call('GET', key)
    if v and cjson.decode(v)['s'] == ARGV[1] then
      redis.call('DEL', key)
      n = n + 1
    end
    redis.call('SREM', KEYS[1], sid)
  end
end
return n
"""
# API-key helpers shared by the scripts below. An owner index lives as long as its
# longest-lived record (no TTL only while it holds a live key that never expires), and
# loses ids whose record is gone; a dead record keeps at most the retention period.
_KEY_LIB = """
local function fix_index(index, prefix)
  local forever, longest = false, 0
  for _, id in ipairs(redis.call('SMEMBERS', index)) do
    local p = redis.call('PTTL', prefix .. id)
    if p == -2 then redis.call('SREM', index, id)
    elseif p == -1 then forever = true
    elseif p > longest then longest = p end
  end
  if forever then redis.call('PERSIST', index)
  elseif longest > 0 then redis.call('PEXPIRE', index, longest) end
end
local function live(key, owner, now)
  local f = redis.call('HMGET', key, 'revoked', 'rec')
  if f[1] ~= '0' or not f[2] then return false end
  local rec = cjson.decode(f[2])
  local exp = rec['expires_at']
  return rec['owner'] == owner and (exp == cjson.null or tonumber(exp) > now)
end
local function count_live(index, prefix, owner, now)
  local n = 0
  for _, id in ipairs(redis.call('SMEMBERS', index)) do
    if live(prefix .. id, owner, now) then n = n + 1 end
  end
  return n
end
local function trim_dead(index, prefix, owner, now, keep)
  local dead = {}
  for _, id in ipairs(redis.call('SMEMBERS', index)) do
    local raw = redis.call('HGET', prefix .. id, 'rec')
    if raw and not live(prefix .. id, owner, now) then
      local rec = cjson.decode(raw)
      if rec['owner'] == owner then table.insert(dead, {tonumber(rec['created_at']), id}) end
    end
  end
  if #dead > keep then
    table.sort(dead, function(a, b)
      if a[1] == b[1] then return a[2] < b[2] end
      return a[1] < b[1]
    end)
    for i = 1, #dead - keep do
      redis.call('DEL', prefix .. dead[i][2])
      redis.call('SREM', index, dead[i][2])
    end
  end
end
local function retire(key, ttl)
  redis.call('HSET', key, 'revoked', '1')
  local p = redis.call('PTTL', key)
  if p < 0 or p > ttl then redis.call('PEXPIRE', key, ttl) end
end
local function put(key, index, rec, revoked, last_used, ttl, id)
  redis.call('DEL', key)
  redis.call('HSET', key, 'rec', rec, 'revoked', revoked, 'last_used', last_used)
  redis.call('SADD', index, id)
  if ttl ~= '' then redis.call('PEXPIRE', key, tonumber(ttl)) end
end
"""
# KEYS[1] record hash, KEYS[2] owner index; ARGV rec json, revoked, last_used, ttl ms|'', id,
# record prefix
_KEY_PUT = (
    _KEY_LIB
    + """
put(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
fix_index(KEYS[2], ARGV[6])
return 0
"""
)
# KEYS as _KEY_PUT plus KEYS[3] owner stamp; ARGV as _KEY_PUT plus max_live, stamp, now,
# owner -> 0 OK, 1 LIMIT, 2 STALE. Only the owner's newest max_live dead records are kept.
_KEY_ADD = (
    _KEY_LIB
    + """
if (redis.call('GET', KEYS[3]) or '') ~= ARGV[8] then return 2 end
if count_live(KEYS[2], ARGV[6], ARGV[10], tonumber(ARGV[9])) >= tonumber(ARGV[7]) then
  return 1
end
trim_dead(KEYS[2], ARGV[6], ARGV[10], tonumber(ARGV[9]), tonumber(ARGV[7]))
put(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
fix_index(KEYS[2], ARGV[6])
return 0
"""
)
# KEYS[1] record hash; ARGV retention ms, owner-index prefix, record prefix
_KEY_REVOKE = (
    _KEY_LIB
    + """
if redis.call('HGET', KEYS[1], 'revoked') ~= '0' then return 0 end
retire(KEYS[1], tonumber(ARGV[1]))
fix_index(ARGV[2] .. cjson.decode(redis.call('HGET', KEYS[1], 'rec'))['owner'], ARGV[3])
return 1
"""
)
# KEYS[1] owner index, KEYS[2] owner stamp; ARGV new stamp, stamp ttl ms, retention ms, now,
# record prefix, owner -> how many live keys were revoked
_KEY_REVOKE_ALL = (
    _KEY_LIB
    + """
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[5] .. id
  if live(key, ARGV[6], tonumber(ARGV[4])) then
    retire(key, tonumber(ARGV[3]))
    n = n + 1
  end
end
fix_index(KEYS[1], ARGV[5])
return n
"""
)
# KEYS[1] owner index; ARGV record prefix, owner, now
_KEY_COUNT = (
    _KEY_LIB
    + """
return count_live(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]))
"""
)
_KEY_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'last_used', ARGV[1]) end
return 0
"""
_SCRIPTS = {
    "spend": _SPEND,
    "mark": _MARK,
    "not_before": _NOT_BEFORE,
    "generation": _GENERATION,
    "login_start": _LOGIN_START,
    "login_end_all": _LOGIN_END_ALL,
    "session_save": _SESSION_SAVE,
    "session_delete_for_subject": _SESSION_DELETE_FOR_SUBJECT,
    "key_put": _KEY_PUT,
    "key_add": _KEY_ADD,
    "key_revoke": _KEY_REVOKE,
    "key_revoke_all": _KEY_REVOKE_ALL,
    "key_count": _KEY_COUNT,
    "key_touch": _KEY_TOUCH,
}


class RedisDatabase:
    """The client, the namespace and the scripts, shared by the stores.

    ``socket_timeout`` bounds every call (connect and read), so a dead server costs at
    most about twice that (one retry) before ``StoreUnavailable``.
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "nxauth",
        socket_timeout: float = 0.5,
        clock: Clock = time.time,
        api_key_retention: float = API_KEY_RETENTION,
    ) -> None:
        try:
            parse_url(url)
        except ValueError as exc:
            raise ConfigurationError(f"invalid Redis URL {url!r}: {exc}") from exc
        if not namespace or any(c.isspace() for c in namespace):
            raise ConfigurationError("Redis namespace must be a non-empty word")
        self.url = url
        self.namespace = namespace
        self.socket_timeout = socket_timeout
        self.clock = clock
        self.api_key_retention = api_key_retention
        self._client: Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}

    @property
    def client(self) -> Redis:
        """The redis-py client, created on first use."""
        if self._client is None:
            # A blocking pool: a burst past the pool's 100 connections waits (bounded) for
            # a free one; redis-py's default pool raises MaxConnectionsError (a 503) at once.
            pool = BlockingConnectionPool.from_url(
                self.url,
                max_connections=100,
                timeout=max(1.0, 2 * self.socket_timeout),
                socket_timeout=self.socket_timeout,
                socket_connect_timeout=self.socket_timeout,
                retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                decode_responses=True,
            )
            self._client = Redis.from_pool(pool)
            self._scripts = {n: self._client.register_script(s) for n, s in _SCRIPTS.items()}
        return self._client

    def key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    def ttl_ms(self, expires_at: float) -> int:
        """Milliseconds from now (by ``clock``) until ``expires_at``; at least 1."""
        return max(1, int((expires_at - self.clock()) * 1000))

    async def script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        client = self.client
        with self.guard():
            return await self._scripts[name](keys=keys, args=args, client=client)

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn every Redis/socket failure into ``StoreUnavailable`` (fail closed)."""
        try:
            yield
        except (RedisError, OSError) as exc:  # TimeoutError is an OSError
            raise StoreUnavailable(f"redis: {type(exc).__name__}: {exc}") from exc

    async def durability_problem(self) -> str | None:
        """Why a restart of this server would forget revocations, or ``None``.

        Asks ``CONFIG GET appendonly`` and ``save``: with neither AOF nor snapshots, a
        restart comes back empty and every revoked token works again until it expires
        (docs/deployment.md). ``None`` too when the server does not say (managed
        services often disable CONFIG) or cannot be reached: this is advice, not a gate.
        """
        try:
            with self.guard():
                aof = await self.client.config_get("appendonly")
                rdb = await self.client.config_get("save")
        except Exception:  # StoreUnavailable, or CONFIG disabled: nothing to report
            return None
        if str(aof.get("appendonly", "")).lower() == "yes":
            return None
        if str(rdb.get("save", "")).strip():
            return (
                "RDB snapshots only (appendonly no): revocations made since the last "
                "snapshot are lost on restart"
            )
        return "no persistence (appendonly no, save ''): a restart forgets every revocation"

    async def close(self) -> None:
        """Disconnect the client's pool (the container's shutdown calls this). Harmless
        when nothing is open or when called twice; the next use makes a new client."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


class RedisRevocationStore:
    """``rev:jti:{jti}`` and ``rev:fam:{family}`` markers and ``rev:nbf:{subject}`` marks
    (generations); one MGET checks all three."""

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db

    async def revoke_jti(self, jti: str, expires_at: float) -> None:
        if expires_at > self._db.clock():
            key = self._db.key("rev", "jti", jti)
            await self._db.script("mark", [key], [self._db.ttl_ms(expires_at)])

    async def revoke_subject(self, subject: str, not_before: float, ttl: float) -> None:
        key = self._db.key("rev", "nbf", subject)
        await self._db.script("not_before", [key], [repr(float(not_before)), int(ttl * 1000)])

    async def revoke_family(self, family: str, expires_at: float) -> None:
        if expires_at > self._db.clock():
            key = self._db.key("rev", "fam", family)
            await self._db.script("mark", [key], [self._db.ttl_ms(expires_at)])

    async def advance_generation(self, subject: str, now: float, ttl: float) -> float:
        key = self._db.key("rev", "nbf", subject)
        args = [repr(float(now)), int(ttl * 1000), repr(GENERATION_STEP)]
        return float(await self._db.script("generation", [key], args))

    async def current_generation(self, subject: str) -> float:
        client = self._db.client
        with self._db.guard():
            value = await client.get(self._db.key("rev", "nbf", subject))
        return 0.0 if value is None else float(value)

    async def is_refused(
        self, jti: str, subject: str, issued_at: float, family: str | None = None
    ) -> bool:
        keys = [self._db.key("rev", "jti", jti), self._db.key("rev", "nbf", subject)]
        if family is not None:
            keys.append(self._db.key("rev", "fam", family))
        client = self._db.client
        with self._db.guard():
            revoked, not_before, *family_revoked = await client.mget(keys)
        if revoked is not None or any(v is not None for v in family_revoked):
            return True
        return not_before is not None and issued_at < float(not_before)


class RedisRefreshFamilyStore:
    """``rf:{family}:revoked`` and ``rf:{family}:spent:{jti}`` (hash-tagged by family), and
    ``rf-subj:{subject}``, a zset of the subject's logins scored by their absolute end."""

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db

    async def spend(self, family: str, jti: str, expires_at: float) -> SpendResult:
        ttl = self._db.ttl_ms(max(expires_at, self._db.clock() + MIN_MARKER_TTL))
        tag = "{" + family + "}"
        keys = [self._db.key("rf", tag, "revoked"), self._db.key("rf", tag, "spent", jti)]
        result = int(await self._db.script("spend", keys, [ttl]))
        return (SpendResult.OK, SpendResult.REUSED, SpendResult.REVOKED)[result]

    async def revoke_family(self, family: str, expires_at: float) -> None:
        ttl = self._db.ttl_ms(max(expires_at, self._db.clock() + MIN_MARKER_TTL))
        key = self._db.key("rf", "{" + family + "}", "revoked")
        await self._db.script("mark", [key], [ttl])

    def _logins(self, subject: str) -> str:
        return self._db.key("rf-subj", subject)

    def _marker_affixes(self) -> list[str]:
        return [self._db.key("rf", "{"), "}:revoked"]

    async def start(self, subject: str, family: str, expires_at: float, limit: int) -> list[str]:
        args = [repr(self._db.clock()), family, repr(float(expires_at)), limit]
        args += self._marker_affixes()
        evicted = await self._db.script("login_start", [self._logins(subject)], args)
        return [str(f) for f in evicted]

    async def end(self, subject: str, family: str, expires_at: float) -> None:
        await self.revoke_family(family, expires_at)
        client = self._db.client
        with self._db.guard():
            await client.zrem(self._logins(subject), family)

    async def end_all(self, subject: str) -> list[str]:
        args = [repr(self._db.clock()), *self._marker_affixes()]
        ended = await self._db.script("login_end_all", [self._logins(subject)], args)
        return [str(f) for f in ended]


class RedisSessionStore:
    """``sess:{id}`` = JSON {s: subject, d: data}; ``sess-subj:{subject}`` = set of ids."""

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db
        self._prefix = db.key("sess", "")

    async def load(self, session_id: str) -> dict[str, Any] | None:
        client = self._db.client
        with self._db.guard():
            raw = await client.get(self._prefix + session_id)
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)["d"]
        return data

    async def save(
        self,
        session_id: str,
        data: dict[str, Any],
        ttl: float,
        subject: str | None = None,
        *,
        previous: str | None = None,
    ) -> bool:
        payload = json.dumps({"s": subject, "d": data}, separators=(",", ":"))
        keys = [self._prefix + session_id]
        if subject is not None:
            keys.append(self._db.key("sess-subj", subject))
        args = [payload, max(1, int(ttl * 1000)), session_id, self._prefix, previous or ""]
        return bool(await self._db.script("session_save", keys, args))

    async def delete(self, session_id: str) -> None:
        client = self._db.client
        with self._db.guard():
            await client.delete(self._prefix + session_id)

    async def delete_for_subject(self, subject: str, keep: str | None = None) -> int:
        keys = [self._db.key("sess-subj", subject)]
        args = [subject, keep or "", self._prefix]
        return int(await self._db.script("session_delete_for_subject", keys, args))


def _encode(record: APIKeyRecord) -> str:
    fields = {
        "key_id": record.key_id,
        "prefix": record.prefix,
        "owner": record.owner,
        "secret_hash": record.secret_hash,
        "scopes": list(record.scopes),
        "name": record.name,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "extra": record.extra,
    }
    return json.dumps(fields, separators=(",", ":"))


def _decode(raw: dict[str, str]) -> APIKeyRecord | None:
    if "rec" not in raw:
        return None
    fields = json.loads(raw["rec"])
    fields["scopes"] = tuple(fields["scopes"])
    last_used = raw.get("last_used", "")
    return APIKeyRecord(
        **fields,
        revoked=raw.get("revoked") == "1",
        last_used=float(last_used) if last_used else None,
    )


class RedisAPIKeyStore:
    """``ak:{key_id}`` hash (record JSON + mutable fields), ``ak-owner:{owner}`` set of
    ids and ``ak-stamp:{owner}`` (changed by ``revoke_all``).

    A record with ``expires_at`` is kept ``api_key_retention`` seconds past it, a revoked
    one at most that long after revocation; a live key that never expires (and its owner
    index) is the only state without a TTL, and revoking it gives it one.
    """

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db
        self._records = db.key("ak", "")
        self._owners = db.key("ak-owner", "")

    def _put_args(self, record: APIKeyRecord) -> tuple[list[str], list[Any]]:
        retention = self._db.api_key_retention
        ttl: int | None = None
        if record.expires_at is not None:
            ttl = self._db.ttl_ms(record.expires_at + retention)
        if record.revoked:
            ttl = min(ttl or int(retention * 1000), int(retention * 1000))
        last_used = "" if record.last_used is None else repr(float(record.last_used))
        keys = [self._records + record.key_id, self._owners + record.owner]
        args = [
            _encode(record),
            "1" if record.revoked else "0",
            last_used,
            "" if ttl is None else ttl,
            record.key_id,
            self._records,
        ]
        return keys, args

    async def put(self, record: APIKeyRecord) -> None:
        keys, args = self._put_args(record)
        await self._db.script("key_put", keys, args)

    async def get(self, key_id: str) -> APIKeyRecord | None:
        client = self._db.client
        with self._db.guard():
            raw = await client.hgetall(self._records + key_id)
        return _decode(cast(dict[str, str], raw))

    async def list_for_owner(self, owner: str) -> list[APIKeyRecord]:
        client = self._db.client
        with self._db.guard():
            ids = cast(set[str], await client.smembers(self._owners + owner))
            async with client.pipeline(transaction=False) as pipe:
                for key_id in sorted(ids):
                    pipe.hgetall(self._records + key_id)
                raws = await pipe.execute()
        records = [r for r in map(_decode, raws) if r is not None and r.owner == owner]
        return sorted(records, key=lambda r: (r.created_at, r.key_id))

    async def revoke(self, key_id: str) -> bool:
        retention = int(self._db.api_key_retention * 1000)
        args = [retention, self._owners, self._records]
        return bool(await self._db.script("key_revoke", [self._records + key_id], args))

    async def touch(self, key_id: str, when: float) -> None:
        await self._db.script("key_touch", [self._records + key_id], [repr(float(when))])

    async def add(self, record: APIKeyRecord, *, max_live: int, stamp: str) -> KeyAdd:
        keys, args = self._put_args(record)
        keys.append(self._db.key("ak-stamp", record.owner))
        args += [max_live, stamp, repr(float(self._db.clock())), record.owner]
        result = int(await self._db.script("key_add", keys, args))
        return (KeyAdd.OK, KeyAdd.LIMIT, KeyAdd.STALE)[result]

    async def stamp(self, owner: str) -> str:
        client = self._db.client
        with self._db.guard():
            value = await client.get(self._db.key("ak-stamp", owner))
        return "" if value is None else str(value)

    async def revoke_all(self, owner: str) -> int:
        keys = [self._owners + owner, self._db.key("ak-stamp", owner)]
        args = [
            secrets.token_hex(8),
            int(STAMP_TTL * 1000),
            int(self._db.api_key_retention * 1000),
            repr(float(self._db.clock())),
            self._records,
            owner,
        ]
        return int(await self._db.script("key_revoke_all", keys, args))

    async def count_live(self, owner: str) -> int:
        args = [self._records, owner, repr(float(self._db.clock()))]
        return int(await self._db.script("key_count", [self._owners + owner], args))
