package inmem

import (
	"context"
	"sync"
	"time"

	"github.com/fourd/fourd"
)

var _ fourd.LoginLimiter = (*LoginLimiter)(nil)

// maxLoginKeys bounds a LoginLimiter's maps: beyond it, finished windows
// and forgotten addresses are dropped, and then any entries, down to 90%,
// so that the scans stay rare (amortised O(1) per failure).
const maxLoginKeys = 100000

// LoginLimiter is the login limiter of one node, in memory. It holds at
// most about 100,000 keys of each kind: past that it forgets finished
// windows and old addresses first, then any.
//
// It is safe for concurrent use.
type LoginLimiter struct {
	mu      sync.Mutex
	windows map[string]*loginWindow
	known   map[string]time.Time // known -> last successful login
}

type loginWindow struct {
	start    time.Time
	failures int
}

// NewLoginLimiter returns an empty limiter.
func NewLoginLimiter() *LoginLimiter {
	return &LoginLimiter{windows: map[string]*loginWindow{}, known: map[string]time.Time{}}
}

// Blocked implements fourd.LoginLimiter.
func (l *LoginLimiter) Blocked(_ context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	if limit <= 0 {
		return 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= window || w.failures < limit {
		return 0, nil
	}
	return w.start.Add(window).Sub(now), nil
}

// Fail implements fourd.LoginLimiter.
func (l *LoginLimiter) Fail(_ context.Context, window time.Duration, now time.Time, keys ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.windows) > maxLoginKeys {
		trim(l.windows, func(w *loginWindow) bool { return now.Sub(w.start) >= window })
	}
	for _, key := range keys {
		w := l.windows[key]
		if w == nil || now.Sub(w.start) >= window {
			w = &loginWindow{start: now}
			l.windows[key] = w
		}
		w.failures++
	}
	return nil
}

// Succeed implements fourd.LoginLimiter.
func (l *LoginLimiter) Succeed(_ context.Context, key, known string, lifetime time.Duration, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.windows, key)
	if len(l.known) > maxLoginKeys {
		trim(l.known, func(t time.Time) bool { return now.Sub(t) >= lifetime })
	}
	l.known[known] = now
	return nil
}

// Known implements fourd.LoginLimiter.
func (l *LoginLimiter) Known(_ context.Context, known string, lifetime time.Duration, now time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.known[known]
	return ok && now.Sub(t) < lifetime, nil
}

// trim drops the entries done says are finished, then any, until m holds
// at most 90% of maxLoginKeys.
func trim[V any](m map[string]V, done func(V) bool) {
	for k, v := range m {
		if done(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) <= maxLoginKeys*9/10 {
			break
		}
		delete(m, k)
	}
}
