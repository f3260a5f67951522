package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fourd/fourd"
)

var _ fourd.LoginLimiter = (*LoginLimiter)(nil)

// LoginLimiter counts failed logins for every node of a cluster, in Redis,
// so that ten nodes do not give an attacker ten times the attempts.
//
// A key's window is a hash {start, failures} (start in Unix microseconds,
// the nodes' clock); a failure is one Lua script that opens a new window
// when the old one has closed and counts otherwise, atomically. A known
// address is a string holding its last login. Redis expires both (a
// window a minute after it closes, an address after its lifetime), so
// nothing needs sweeping and nothing grows without bound.
//
// It is safe for concurrent use.
type LoginLimiter struct {
	db   *DB
	base string
}

// NewLoginLimiter returns the login limiter of db.
func NewLoginLimiter(db *DB) *LoginLimiter {
	return &LoginLimiter{db: db, base: db.key("login:")}
}

// loginGrace is how long Redis keeps a window after it has closed: a
// margin for clocks that disagree.
const loginGrace = time.Minute

// loginFail counts a failure of each key (KEYS) at now (ARGV[1], Unix
// microseconds) in windows of ARGV[2] microseconds, keeping each window
// ARGV[3] milliseconds.
var loginFail = goredis.NewScript(`
local now, window, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
for _, k in ipairs(KEYS) do
  local start = tonumber(redis.call('HGET', k, 'start') or '')
  if not start or now - start >= window then
    redis.call('HSET', k, 'start', now, 'failures', 1)
  else
    redis.call('HINCRBY', k, 'failures', 1)
  end
  redis.call('PEXPIRE', k, ttl)
end
return 0
`)

// Blocked implements fourd.LoginLimiter: one read.
func (l *LoginLimiter) Blocked(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	if limit <= 0 {
		return 0, nil
	}
	vals, err := l.db.Client.HMGet(ctx, l.window(key), "start", "failures").Result()
	if err != nil {
		return 0, fmt.Errorf("redis: login limits: %w", err)
	}
	if len(vals) != 2 || vals[0] == nil || vals[1] == nil {
		return 0, nil
	}
	startUS, err1 := strconv.ParseInt(fmt.Sprint(vals[0]), 10, 64)
	failures, err2 := strconv.Atoi(fmt.Sprint(vals[1]))
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("redis: login limits: %w", err)
	}
	start := time.UnixMicro(startUS)
	if failures < limit || now.Sub(start) >= window {
		return 0, nil
	}
	return start.Add(window).Sub(now), nil
}

// Fail implements fourd.LoginLimiter: one script for all the keys.
func (l *LoginLimiter) Fail(ctx context.Context, window time.Duration, now time.Time, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = l.window(k)
	}
	err := loginFail.Run(ctx, l.db.Client, ks, now.UnixMicro(), window.Microseconds(), (window + loginGrace).Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("redis: login limits: %w", err)
	}
	return nil
}

// Succeed implements fourd.LoginLimiter: one transaction.
func (l *LoginLimiter) Succeed(ctx context.Context, key, known string, lifetime time.Duration, now time.Time) error {
	_, err := l.db.Client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, l.window(key))
		p.Set(ctx, l.known(known), now.UnixMicro(), max(lifetime, time.Millisecond))
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: login limits: %w", err)
	}
	return nil
}

// Known implements fourd.LoginLimiter: one read.
func (l *LoginLimiter) Known(ctx context.Context, known string, lifetime time.Duration, now time.Time) (bool, error) {
	us, err := l.db.Client.Get(ctx, l.known(known)).Int64()
	switch {
	case errors.Is(err, goredis.Nil):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("redis: login limits: %w", err)
	}
	return now.Sub(time.UnixMicro(us)) < lifetime, nil
}

func (l *LoginLimiter) window(key string) string  { return l.base + "w:" + key }
func (l *LoginLimiter) known(known string) string { return l.base + "k:" + known }
