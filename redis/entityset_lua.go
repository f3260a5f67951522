package redis

import goredis "github.com/redis/go-redis/v9"

// The entity-set scripts. Each runs atomically in Redis: a Put's
// evictions, a Get's refresh and LRU move, a release and the counters
// they change are one step for every node.
//
// Keys, under KEYS[1] = "{prefix}:es:":
//
//	s:<id>      hash: the set (fields below), with a Redis TTL of its
//	            timeout plus a grace period, renewed on use
//	lru         sorted set: IDs by last use (score: a tick)
//	age         sorted set: IDs by the Put that stored them (a tick)
//	exp         sorted set: IDs by expiry (score: Unix seconds, rounded;
//	            the exact expiry is in the hash)
//	bytes       hash: ID → the bytes the set weighs
//	owner       hash: ID → the session that made it
//	sess:<sid>  set: the IDs of a session's sets
//	used        the sum of bytes (Used)
//	tick        a counter: LRU and age order, and each set's version
//
// The hash's fields: v (version: the tick of its Put), d (data class),
// s (session), c (created, Unix nanoseconds), rs rn (refreshed: Unix
// seconds and nanoseconds), ts tn (timeout: seconds, nanoseconds), xs xn
// (expiry), f o (saved filter and order), n (rows), so (sorted 1 or 0),
// by (bytes), b (the encoded rows).
//
// Times travel as two integers, seconds and nanoseconds, because Lua's
// numbers are doubles: a Unix time in nanoseconds (about 1.8e18) is beyond
// their exact range (2^53), seconds and nanoseconds each are not. The
// times compared are the stores' clocks' (passed as ARGV), never Redis's:
// Redis's own TTL is only a backstop for a cluster that stops sweeping.

// esPrelude holds the helpers every entity-set script starts with.
const esPrelude = `
local B = KEYS[1]
local function lt(as, an, bs, bn) return as < bs or (as == bs and an < bn) end
-- gone reports whether the set id has expired at (ns, nn), or vanished.
local function gone(id, ns, nn)
  local x = redis.call('HMGET', B .. 's:' .. id, 'xs', 'xn')
  if not x[1] then return true end
  return not lt(ns, nn, tonumber(x[1]), tonumber(x[2]))
end
-- remove takes id out of every index and the used counter; it returns
-- the bytes it freed (0 when id was not held).
local function remove(id)
  local by = redis.call('HGET', B .. 'bytes', id)
  if not by then
    redis.call('DEL', B .. 's:' .. id)
    return 0
  end
  local sid = redis.call('HGET', B .. 'owner', id) or ''
  redis.call('DEL', B .. 's:' .. id)
  redis.call('ZREM', B .. 'lru', id)
  redis.call('ZREM', B .. 'age', id)
  redis.call('ZREM', B .. 'exp', id)
  redis.call('HDEL', B .. 'bytes', id)
  redis.call('HDEL', B .. 'owner', id)
  redis.call('SREM', B .. 'sess:' .. sid, id)
  redis.call('DECRBY', B .. 'used', by)
  return tonumber(by)
end
`

// esPut stores a set. ARGV: id, bytes, size, now (s, ns), ttl ms,
// session, expiry score, then the hash's field-value pairs (all but v).
// It answers the set's version, or the error "full" when the set does
// not fit even in an empty cache (the caller checked size first).
var esPut = goredis.NewScript(esPrelude + `
local id, bytes, size = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local ns, nn, ttl, sid, score = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8]
local used = tonumber(redis.call('GET', B .. 'used') or '0')
local old = tonumber(redis.call('HGET', B .. 'bytes', id) or '0')
local need = used + bytes - old
if need > size then
  -- Expired sets first: nobody can get them any more.
  for _, e in ipairs(redis.call('ZRANGEBYSCORE', B .. 'exp', '-inf', ns + 1)) do
    if e ~= id and gone(e, ns, nn) then need = need - remove(e) end
  end
  -- Then the least recently used, skipping the set being replaced.
  while need > size do
    local ids = redis.call('ZRANGE', B .. 'lru', 0, 1)
    local victim = ids[1]
    if victim == id then victim = ids[2] end
    if not victim then break end
    need = need - remove(victim)
  end
  if need > size then return redis.error_reply('full') end
end
remove(id)
local tick = redis.call('INCR', B .. 'tick')
local k = B .. 's:' .. id
redis.call('HSET', k, 'v', tick, unpack(ARGV, 9))
redis.call('PEXPIRE', k, ttl)
redis.call('ZADD', B .. 'lru', tick, id)
redis.call('ZADD', B .. 'age', tick, id)
redis.call('ZADD', B .. 'exp', score, id)
redis.call('HSET', B .. 'bytes', id, bytes)
redis.call('HSET', B .. 'owner', id, sid)
redis.call('SADD', B .. 'sess:' .. sid, id)
redis.call('INCRBY', B .. 'used', bytes)
return tick
`)

// esGet returns a live set, refreshing it at now (forward only) and
// making it the most recently used. ARGV: id, now (s, ns), the version
// the caller holds decoded ("" for none), the TTL grace in ms. It answers
// nil for a set that is not there (removing an expired or vanished one),
// else the fields of esFields, with the rows (b) only when the version
// differs from the caller's.
var esGet = goredis.NewScript(esPrelude + `
local id, ns, nn, have, grace = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local k = B .. 's:' .. id
local m = redis.call('HMGET', k, 'v', 'xs', 'xn', 'rs', 'rn', 'ts', 'tn')
if not m[1] or not lt(ns, nn, tonumber(m[2]), tonumber(m[3])) then
  remove(id)
  return false
end
if lt(tonumber(m[4]), tonumber(m[5]), ns, nn) then
  local ts, tn = tonumber(m[6]), tonumber(m[7])
  local xs, xn = ns + ts, nn + tn
  if xn >= 1000000000 then xs, xn = xs + 1, xn - 1000000000 end
  redis.call('HSET', k, 'rs', ns, 'rn', nn, 'xs', xs, 'xn', xn)
  redis.call('ZADD', B .. 'exp', xs + xn / 1e9, id)
  redis.call('PEXPIRE', k, ts * 1000 + math.floor(tn / 1000000) + grace)
end
redis.call('ZADD', B .. 'lru', redis.call('INCR', B .. 'tick'), id)
if m[1] == have then
  return redis.call('HMGET', k, 'v', 'd', 's', 'c', 'rs', 'rn', 'ts', 'tn', 'f', 'o', 'n', 'so', 'by')
end
return redis.call('HMGET', k, 'v', 'd', 's', 'c', 'rs', 'rn', 'ts', 'tn', 'f', 'o', 'n', 'so', 'by', 'b')
`)

// esRelease removes a live set. ARGV: id, now (s, ns), "1" to release
// only a set of session ARGV[5]. It answers 1 when a live set was
// released, 0 when there was none (an expired one is removed all the
// same).
var esRelease = goredis.NewScript(esPrelude + `
local id, ns, nn = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local x = redis.call('HMGET', B .. 's:' .. id, 'xs', 'xn', 's')
if not x[1] then
  remove(id)
  return 0
end
if ARGV[4] == '1' and x[3] ~= ARGV[5] then return 0 end
local live = lt(ns, nn, tonumber(x[1]), tonumber(x[2]))
remove(id)
if live then return 1 end
return 0
`)

// esReleaseSession removes every set of session ARGV[1]. ARGV: sid, now
// (s, ns). It answers how many had not expired.
var esReleaseSession = goredis.NewScript(esPrelude + `
local sid, ns, nn = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', B .. 'sess:' .. sid)) do
  if not gone(id, ns, nn) then n = n + 1 end
  remove(id)
end
return n
`)

// esMoveSession gives every set of session ARGV[1] to session ARGV[2].
// It answers how many moved.
var esMoveSession = goredis.NewScript(esPrelude + `
local from, to = ARGV[1], ARGV[2]
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', B .. 'sess:' .. from)) do
  local k = B .. 's:' .. id
  if redis.call('EXISTS', k) == 1 then redis.call('HSET', k, 's', to) end
  redis.call('HSET', B .. 'owner', id, to)
  redis.call('SMOVE', B .. 'sess:' .. from, B .. 'sess:' .. to, id)
  n = n + 1
end
return n
`)

// esSessionSets counts the live sets of session ARGV[1] at now (ARGV 2,
// 3) and finds the first expiry: it answers {n, xs, xn}.
var esSessionSets = goredis.NewScript(esPrelude + `
local sid, ns, nn = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local n, fs, fn = 0, 0, 0
for _, id in ipairs(redis.call('SMEMBERS', B .. 'sess:' .. sid)) do
  local x = redis.call('HMGET', B .. 's:' .. id, 'xs', 'xn')
  if x[1] then
    local xs, xn = tonumber(x[1]), tonumber(x[2])
    if lt(ns, nn, xs, xn) then
      n = n + 1
      if n == 1 or lt(xs, xn, fs, fn) then fs, fn = xs, xn end
    end
  end
end
return {n, fs, fn}
`)

// esList answers the live sets at now (ARGV 1, 2), oldest Put first: for
// each, the fields of esListFields.
var esList = goredis.NewScript(esPrelude + `
local ns, nn = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', B .. 'age', 0, -1)) do
  local m = redis.call('HMGET', B .. 's:' .. id, 'xs', 'xn', 'd', 'n', 'so', 'rs', 'rn', 's', 'by')
  if m[1] and lt(ns, nn, tonumber(m[1]), tonumber(m[2])) then
    table.insert(out, id)
    for i = 1, 9 do table.insert(out, m[i]) end
  end
end
return out
`)

// esExpire removes the sets expired at now (ARGV 1, 2), or vanished, and
// answers their IDs in the order they were put.
var esExpire = goredis.NewScript(esPrelude + `
local ns, nn = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', B .. 'exp', '-inf', ns + 1)) do
  if gone(id, ns, nn) then
    table.insert(out, {tonumber(redis.call('ZSCORE', B .. 'age', id) or '0'), id})
    remove(id)
  end
end
table.sort(out, function(a, b) return a[1] < b[1] end)
local ids = {}
for i, e in ipairs(out) do ids[i] = e[2] end
return ids
`)
