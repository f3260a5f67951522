package rest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fourd/fourd"
)

// Quotas protect the server from clients that take too much; their
// defaults do not bother a normal user. 0 turns one off.
type Quotas struct {
	// MaxSessions caps the live sessions: a request that would open one
	// more gets 402 (4D's "No session").
	MaxSessions int
	// MaxGuestSessions caps the live guest sessions (no user, no
	// privilege), so that anonymous clients cannot take every session: 402.
	MaxGuestSessions int
	// MaxEntitySetsPerSession caps the sets one session holds: a request
	// that would store one more gets 429 with Retry-After (when the first
	// of its sets expires).
	MaxEntitySetsPerSession int
	// MaxLoginFailuresPerUser and MaxLoginFailuresPerAddress cap the failed
	// logins of one user name, and from one client address, per
	// LoginWindow: more attempts get 429 with Retry-After, without the
	// password being checked.
	MaxLoginFailuresPerUser    int
	MaxLoginFailuresPerAddress int
	LoginWindow                time.Duration
}

// DefaultQuotas are the quotas a Handler has unless told otherwise.
var DefaultQuotas = Quotas{
	MaxSessions:                100000,
	MaxGuestSessions:           80000,
	MaxEntitySetsPerSession:    1000,
	MaxLoginFailuresPerUser:    10,
	MaxLoginFailuresPerAddress: 50,
	LoginWindow:                time.Minute,
}

// quotaError is a 429 with the seconds a client should wait.
type quotaError struct {
	err        *fourd.Error
	retryAfter time.Duration
}

func (e *quotaError) Error() string { return e.err.Error() }
func (e *quotaError) Unwrap() error { return e.err }

func errQuota(retryAfter time.Duration, format string, args ...any) error {
	return &quotaError{err: fourd.Errorf(fourd.EQUOTA, fourd.ErrCodeQuota, format, args...), retryAfter: retryAfter}
}

// setRetryAfter writes the Retry-After header of a quota error.
func setRetryAfter(w http.ResponseWriter, err error) {
	var qe *quotaError
	if errors.As(err, &qe) {
		secs := int((qe.retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
}

// checkNewSession refuses a new session when the session quotas are
// reached.
func (h *Handler) checkNewSession(ctx context.Context) error {
	q := h.Quotas
	if q.MaxSessions <= 0 && q.MaxGuestSessions <= 0 {
		return nil
	}
	total, guests, err := h.Sessions.Count(ctx)
	if err != nil {
		return err
	}
	if q.MaxSessions > 0 && total >= q.MaxSessions {
		return fourd.Errorf(fourd.ESESSIONLIMIT, fourd.ErrCodeSessionLimit, "the server holds its maximum of %d sessions: no session can be opened now", q.MaxSessions)
	}
	if q.MaxGuestSessions > 0 && guests >= q.MaxGuestSessions {
		return fourd.Errorf(fourd.ESESSIONLIMIT, fourd.ErrCodeSessionLimit, "the server holds its maximum of %d guest sessions: send the session cookie you were given, or log in", q.MaxGuestSessions)
	}
	return nil
}

// checkNewEntitySet refuses a set beyond the session's quota.
func (h *Handler) checkNewEntitySet(r *http.Request) error {
	max := h.Quotas.MaxEntitySetsPerSession
	s := RequestSession(r)
	if max <= 0 || s == nil {
		return nil
	}
	n, first, err := h.EntitySets.SessionSets(r.Context(), s.ID)
	if err != nil {
		return err
	}
	if n >= max {
		return errQuota(first.Sub(h.Now()), "this session holds its maximum of %d entity sets: release some ($method=release or POST $entityset/$release) or wait for one to expire", max)
	}
	return nil
}

// loginLimiter counts failed logins in fixed windows, by user name and by
// client address.
type loginLimiter struct {
	mu      sync.Mutex
	windows map[string]*loginWindow
}

type loginWindow struct {
	start    time.Time
	failures int
}

// blocked says how long key must wait, or 0.
func (l *loginLimiter) blocked(key string, limit int, window time.Duration, now time.Time) time.Duration {
	if limit <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= window || w.failures < limit {
		return 0
	}
	return w.start.Add(window).Sub(now)
}

// fail records a failed login of key.
func (l *loginLimiter) fail(key string, window time.Duration, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.windows == nil {
		l.windows = map[string]*loginWindow{}
	}
	if len(l.windows) > 100000 { // forget finished windows, so that the map stays bounded
		for k, w := range l.windows {
			if now.Sub(w.start) >= window {
				delete(l.windows, k)
			}
		}
	}
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= window {
		w = &loginWindow{start: now}
		l.windows[key] = w
	}
	w.failures++
}

// succeed forgets the failures of key.
func (l *loginLimiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.windows, key)
}

// authenticate checks a user's credentials under the login quotas.
func (h *Handler) authenticate(r *http.Request, name, password string) (*fourd.User, error) {
	q, now := h.Quotas, h.Now()
	userKey, addrKey := "user:"+strings.ToLower(name), "addr:"+clientIP(r)
	if wait := h.logins.blocked(userKey, q.MaxLoginFailuresPerUser, q.LoginWindow, now); wait > 0 {
		return nil, errQuota(wait, "too many failed logins for this user: try again later")
	}
	if wait := h.logins.blocked(addrKey, q.MaxLoginFailuresPerAddress, q.LoginWindow, now); wait > 0 {
		return nil, errQuota(wait, "too many failed logins from this address: try again later")
	}
	user, err := h.Users.Authenticate(r.Context(), name, password)
	switch fourd.ErrorCode(err) {
	case "":
		h.logins.succeed(userKey)
	case fourd.EUNAUTHORIZED:
		h.logins.fail(userKey, q.LoginWindow, now)
		h.logins.fail(addrKey, q.LoginWindow, now)
	}
	return user, err
}
