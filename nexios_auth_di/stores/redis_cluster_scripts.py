"""The Lua scripts of the Redis Cluster layout (``redis_cluster.py``, ``redis_cluster_apikeys.py``).

A cluster runs a script on the node that owns the slot of its keys, so every key a
script touches is in ``KEYS`` and all of them share one hash slot (``{subject}`` or
``{owner}`` hash tags); no script builds a key from ``ARGV``. What spans two slots (a
session and its subject's index, an API key and its owner's table) is several scripts,
ordered so that a crash between them fails closed (see the callers).

API-key owner entries are strings ``revoked|created_at|expires_at|until_ms``
(``expires_at`` empty for none, ``until_ms`` -1 for a record without a TTL): plain
strings, because cjson re-encodes numbers with 14 digits.
"""

from __future__ import annotations

# KEYS[1] the subject's logins; ARGV now, family, end, limit. Drops ended logins, adds this
# one and returns the oldest beyond the limit as {family, end, ...}; they stay in the zset
# until the caller has marked them revoked (then ZREMs them): a crash leaves them listed.
_LOGIN_ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
local out = {}
if excess > 0 then
  local rows = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  local i = 1
  while excess > 0 and i < #rows do
    if rows[i] ~= ARGV[2] then
      out[#out + 1] = rows[i]
      out[#out + 1] = rows[i + 1]
      excess = excess - 1
    end
    i = i + 2
  end
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local now = tonumber(ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.max(1000, math.floor((tonumber(last[2]) - now) * 1000)))
return out
"""
# KEYS[1] subject index, KEYS[2] subject epoch; ARGV id, ttl ms -> {epoch, index size}.
# The id is listed *before* its session is written, so a logout-all sees it.
_SESSION_ENLIST = """
local ttl = tonumber(ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
for i = 1, 2 do
  if redis.call('PTTL', KEYS[i]) < ttl and redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return {redis.call('GET', KEYS[2]) or '0', redis.call('SCARD', KEYS[1])}
"""
# KEYS[1] a session; ARGV subject ('' none), epoch: is it live and not cut by a logout-all
# of that subject since the epoch? (a session of another subject is not this one's to cut)
_SESSION_LIB = """
local function current(raw)
  if not raw then return false end
  local s = cjson.decode(raw)
  if ARGV[1] == '' or s['s'] ~= ARGV[1] then return true end
  return tonumber(s['e'] or 0) >= tonumber(ARGV[2])
end
"""
# KEYS[1] previous session; ARGV subject, epoch -> 1 taken (deleted), 0 gone or cut
_SESSION_TAKE = (
    _SESSION_LIB
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
redis.call('DEL', KEYS[1])
if current(raw) then return 1 end
return 0
"""
)
# KEYS[1] session; ARGV subject, epoch, payload, ttl ms -> 1 rewritten, 0 gone or cut
_SESSION_REWRITE = (
    _SESSION_LIB
    + """
if not current(redis.call('GET', KEYS[1])) then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1
"""
)
# KEYS[1] subject index, KEYS[2] subject epoch; ARGV keep ('' none) -> {new epoch, ids}:
# bumps the epoch (in-flight saves of older sessions then fail) and unlists all but keep
_SESSION_CUT = """
local epoch = redis.call('INCR', KEYS[2])
local ttl = math.max(redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2]), 86400000)
redis.call('PEXPIRE', KEYS[2], ttl)
local ids = {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if sid ~= ARGV[1] then
    ids[#ids + 1] = sid
    redis.call('SREM', KEYS[1], sid)
  end
end
return {tostring(epoch), ids}
"""
# KEYS[1] session; ARGV subject -> 1 deleted (it was the subject's), 0 otherwise
_SESSION_DROP = """
local raw = redis.call('GET', KEYS[1])
if not raw or cjson.decode(raw)['s'] ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""
# KEYS[1] a value; ARGV the value read, its replacement (TTL kept) -> 1 swapped, 0 changed
_SWAP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""
# Owner-table helpers (KEYS[1] the owner's hash id -> entry; ARGV[1] now ms, always).
_OWNER_LIB = """
local now = tonumber(ARGV[1])
local function parse(v)
  local r, c, x, u = string.match(v, '^(%d)|([^|]*)|([^|]*)|([^|]*)$')
  return r, tonumber(c), tonumber(x), tonumber(u)
end
local function live(v)
  local r, _, x, _ = parse(v)
  return r == '0' and (x == nil or x * 1000 > now)
end
local function fix()
  local forever, longest = false, 0
  local rows = redis.call('HGETALL', KEYS[1])
  for i = 1, #rows, 2 do
    local _, _, _, u = parse(rows[i + 1])
    if u == -1 then forever = true
    elseif u <= now then redis.call('HDEL', KEYS[1], rows[i])
    elseif u - now > longest then longest = u - now end
  end
  if forever then redis.call('PERSIST', KEYS[1])
  elseif longest > 0 then redis.call('PEXPIRE', KEYS[1], longest) end
end
local function count_live()
  local n = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
    if live(v) then n = n + 1 end
  end
  return n
end
"""
# KEYS[1] owner table, KEYS[2] owner stamp; ARGV now ms, id, entry, max_live, stamp ->
# {0, trimmed ids...} admitted, {1} LIMIT, {2} STALE. Keeps the newest max_live dead entries.
_KEY_ADMIT = (
    _OWNER_LIB
    + """
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[5] then return {2} end
local keep = tonumber(ARGV[4])
if count_live() >= keep then return {1} end
local dead = {}
local rows = redis.call('HGETALL', KEYS[1])
for i = 1, #rows, 2 do
  if not live(rows[i + 1]) then
    local _, c = parse(rows[i + 1])
    dead[#dead + 1] = {c, rows[i]}
  end
end
local out = {0}
if #dead > keep then
  table.sort(dead, function(a, b)
    if a[1] == b[1] then return a[2] < b[2] end
    return a[1] < b[1]
  end)
  for i = 1, #dead - keep do
    redis.call('HDEL', KEYS[1], dead[i][2])
    out[#out + 1] = dead[i][2]
  end
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
fix()
return out
"""
)
# KEYS[1] owner table; ARGV now ms, id, entry ('' to remove the id)
_KEY_ENTRY = (
    _OWNER_LIB
    + """
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[2])
else redis.call('HSET', KEYS[1], ARGV[2], ARGV[3]) end
fix()
return 0
"""
)
# KEYS[1] owner table; ARGV now ms, retention ms, ids...: mark those entries revoked
_KEY_ENTRIES_RETIRED = (
    _OWNER_LIB
    + """
local cap = now + tonumber(ARGV[2])
for i = 3, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then
    local _, c, x, u = parse(v)
    if u == -1 or u > cap then u = cap end
    local xs = x and string.format('%.17g', x) or ''
    local entry = '1|' .. string.format('%.17g', c) .. '|' .. xs
    redis.call('HSET', KEYS[1], ARGV[i], entry .. '|' .. string.format('%.17g', u))
  end
end
fix()
return 0
"""
)
# KEYS[1] owner table, KEYS[2] owner stamp; ARGV now ms, new stamp, stamp ttl ms -> live ids
_KEY_SWEEP = (
    _OWNER_LIB
    + """
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
local ids = {}
local rows = redis.call('HGETALL', KEYS[1])
for i = 1, #rows, 2 do
  if live(rows[i + 1]) then ids[#ids + 1] = rows[i] end
end
return ids
"""
)
# KEYS[1] owner table; ARGV now ms
_KEY_COUNT_LIVE = _OWNER_LIB + "\nreturn count_live()\n"
# KEYS[1] record hash; ARGV rec json, revoked, last_used, ttl ms|''
_KEY_WRITE = """
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'rec', ARGV[1], 'revoked', ARGV[2], 'last_used', ARGV[3])
if ARGV[4] ~= '' then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4])) end
return 0
"""
# KEYS[1] record hash; ARGV retention ms, owner ('' any), now s -> {owner, pttl} when this
# call revoked the key ({} if already revoked; with an owner, also if not its or expired)
_KEY_RETIRE = """
local f = redis.call('HMGET', KEYS[1], 'revoked', 'rec')
if f[1] ~= '0' or not f[2] then return {} end
local rec = cjson.decode(f[2])
if ARGV[2] ~= '' then
  if rec['owner'] ~= ARGV[2] then return {} end
  local exp = rec['expires_at']
  if exp ~= cjson.null and tonumber(exp) <= tonumber(ARGV[3]) then return {} end
end
redis.call('HSET', KEYS[1], 'revoked', '1')
local ttl = tonumber(ARGV[1])
local p = redis.call('PTTL', KEYS[1])
if p < 0 or p > ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {rec['owner'], redis.call('PTTL', KEYS[1])}
"""

CLUSTER_SCRIPTS = {
    "c_login_admit": _LOGIN_ADMIT,
    "c_session_enlist": _SESSION_ENLIST,
    "c_session_take": _SESSION_TAKE,
    "c_session_rewrite": _SESSION_REWRITE,
    "c_session_cut": _SESSION_CUT,
    "c_session_drop": _SESSION_DROP,
    "c_swap": _SWAP,
    "c_key_admit": _KEY_ADMIT,
    "c_key_entry": _KEY_ENTRY,
    "c_key_entries_retired": _KEY_ENTRIES_RETIRED,
    "c_key_sweep": _KEY_SWEEP,
    "c_key_count_live": _KEY_COUNT_LIVE,
    "c_key_write": _KEY_WRITE,
    "c_key_retire": _KEY_RETIRE,
}
#: the single-node scripts whose keys are one key (or one hash tag): the cluster reuses them
SHARED_SCRIPTS = ("spend", "mark", "not_before", "generation", "key_touch")
