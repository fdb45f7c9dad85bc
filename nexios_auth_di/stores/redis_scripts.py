"""The Lua scripts of the Redis stores: each multi-step operation is one script, so it
is atomic and one round trip. Kept apart from ``redis.py`` so the store logic reads on
its own; ``RedisDatabase`` registers ``SCRIPTS`` by name."""

from __future__ import annotations

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
SCRIPTS = {
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
