package redis

import goredis "github.com/redis/go-redis/v9"

// The session scripts. Keys, under KEYS[1] = "{prefix}:ss:":
//
//	s:<id>       hash: the session (fields below), with a Redis TTL of its
//	             lifetime (see SessionStore), renewed by each written Touch
//	all          sorted set: every session by deadline (Unix seconds; +inf
//	             for a session that never expires)
//	guests       sorted set: the guest sessions, by deadline
//	guests:<ip>  sorted set: the guest sessions of one address
//	gaddr        hash: guest session ID → address
//	order        sorted set: every session by creation (a tick), which a
//	             login's successor inherits
//	tick         the counter of order
//
// The hash's fields: j (the session as JSON; its lastActivity is not
// read back), las lan (LastActivity: Unix seconds, nanoseconds), ds dn
// (the deadline: LastActivity + IdleTimeout + TouchInterval, the moment a
// lazily touched session is gone; "" for a session that never expires),
// ls ln (IdleTimeout + TouchInterval), is in (TouchInterval), g ("1" for
// a guest), a (the address), o (its order score). gaddr maps each guest
// session to its address, so that its indexes can be found even once
// Redis expired its hash.
//
// The counters the quotas read are the sizes of the sorted sets: a session
// leaves them when it is deleted, replaced or swept by Expire (which
// trims them by deadline), also when Redis expired its hash first; until
// then it counts, as the contract allows.

// ssPrelude holds the helpers every session script starts with.
const ssPrelude = `
local B = KEYS[1]
local function lt(as, an, bs, bn) return as < bs or (as == bs and an < bn) end
-- unindex takes id out of the indexes.
local function unindex(id)
  redis.call('ZREM', B .. 'all', id)
  redis.call('ZREM', B .. 'order', id)
  local a = redis.call('HGET', B .. 'gaddr', id)
  if a then
    redis.call('ZREM', B .. 'guests', id)
    redis.call('ZREM', B .. 'guests:' .. a, id)
    redis.call('HDEL', B .. 'gaddr', id)
  end
end
`

// ssCreate stores a new session. ARGV: id, TTL ms ("0": none), deadline
// score, then the hash's field-value pairs (g and a among them). It
// answers 0 when the ID is taken.
var ssCreate = goredis.NewScript(ssPrelude + `
local id, ttl, score = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local k = B .. 's:' .. id
if redis.call('EXISTS', k) == 1 then return 0 end
local tick = redis.call('INCR', B .. 'tick')
redis.call('HSET', k, 'o', tick, unpack(ARGV, 4))
if ttl > 0 then redis.call('PEXPIRE', k, ttl) end
redis.call('ZADD', B .. 'all', score, id)
redis.call('ZADD', B .. 'order', tick, id)
local m = redis.call('HMGET', k, 'g', 'a')
if m[1] == '1' then
  redis.call('HSET', B .. 'gaddr', id, m[2])
  redis.call('ZADD', B .. 'guests', score, id)
  redis.call('ZADD', B .. 'guests:' .. m[2], score, id)
end
return 1
`)

// ssDelete removes a session. ARGV: id. It answers 0 when there was none.
var ssDelete = goredis.NewScript(ssPrelude + `
local k = B .. 's:' .. ARGV[1]
unindex(ARGV[1])
return redis.call('DEL', k)
`)

// ssTouch writes a request's time into a session when its stored
// LastActivity is TouchInterval or more behind (forward only), sliding
// its deadline, TTL and scores. ARGV: id, now (s, ns), TTL grace ms. It
// answers 0 for a session that is not there or is past its deadline, 1
// otherwise (written or not).
var ssTouch = goredis.NewScript(ssPrelude + `
local id, ns, nn, grace = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local k = B .. 's:' .. id
local m = redis.call('HMGET', k, 'las', 'lan', 'ds', 'dn', 'ls', 'ln', 'is', 'in')
if not m[1] then return 0 end
if m[3] ~= '' and not lt(ns, nn, tonumber(m[3]), tonumber(m[4])) then return 0 end
-- due: las + TouchInterval <= now
local ds, dn = tonumber(m[1]) + tonumber(m[7]), tonumber(m[2]) + tonumber(m[8])
if dn >= 1000000000 then ds, dn = ds + 1, dn - 1000000000 end
if lt(ns, nn, ds, dn) then return 1 end
redis.call('HSET', k, 'las', ns, 'lan', nn)
if m[3] ~= '' then
  local xs, xn = ns + tonumber(m[5]), nn + tonumber(m[6])
  if xn >= 1000000000 then xs, xn = xs + 1, xn - 1000000000 end
  redis.call('HSET', k, 'ds', xs, 'dn', xn)
  redis.call('PEXPIRE', k, tonumber(m[5]) * 1000 + math.floor(tonumber(m[6]) / 1000000) + grace)
  local score = xs + xn / 1e9
  redis.call('ZADD', B .. 'all', 'XX', score, id)
  local a = redis.call('HGET', B .. 'gaddr', id)
  if a then
    redis.call('ZADD', B .. 'guests', 'XX', score, id)
    redis.call('ZADD', B .. 'guests:' .. a, 'XX', score, id)
  end
end
return 1
`)

// ssList answers every session's j, las, lan, ds, dn, oldest first.
var ssList = goredis.NewScript(ssPrelude + `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', B .. 'order', 0, -1)) do
  local m = redis.call('HMGET', B .. 's:' .. id, 'j', 'las', 'lan', 'ds', 'dn')
  if m[1] then
    for i = 1, 5 do table.insert(out, m[i]) end
  end
end
return out
`)

// ssExpire removes the sessions past their deadline at now (ARGV 1, 2),
// or whose hash Redis expired, and answers their IDs oldest first.
var ssExpire = goredis.NewScript(ssPrelude + `
local ns, nn = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', B .. 'all', '-inf', ns + 1)) do
  local k = B .. 's:' .. id
  local m = redis.call('HMGET', k, 'ds', 'dn')
  if not m[1] or (m[1] ~= '' and not lt(ns, nn, tonumber(m[1]), tonumber(m[2]))) then
    table.insert(out, {tonumber(redis.call('ZSCORE', B .. 'order', id) or '0'), id})
    unindex(id)
    redis.call('DEL', k)
  end
end
table.sort(out, function(a, b) return a[1] < b[1] end)
local ids = {}
for i, e in ipairs(out) do ids[i] = e[2] end
return ids
`)
