package rest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
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
	// A login never takes a guest slot: a login request without a session
	// is served without one, and its session is stored only once the login
	// succeeds.
	MaxGuestSessions int
	// MaxGuestSessionsPerAddress caps the live guest sessions opened from
	// one client address, so that one client cannot take every guest slot:
	// 402.
	MaxGuestSessionsPerAddress int
	// MaxEntitySetsPerSession caps the sets one session holds: a request
	// that would store one more gets 429 with Retry-After (when the first
	// of its sets expires).
	MaxEntitySetsPerSession int
	// Brute-force protection on logins (see docs/security.md): failed
	// logins are counted per LoginWindow in three buckets, and a bucket
	// that is full answers 429 with Retry-After, without the password
	// being checked.
	//
	// MaxLoginFailuresPerUser caps the failures of one user name from one
	// client address. MaxLoginFailuresPerAddress caps the failures from
	// one client address, whatever the names. MaxLoginFailuresElsewhere
	// caps the failures of one user name from every address it has not
	// logged in from successfully in the last KnownAddressLifetime: an
	// attack spread over many addresses slows down, yet cannot lock a user
	// out of the addresses it usually logs in from.
	MaxLoginFailuresPerUser    int
	MaxLoginFailuresPerAddress int
	MaxLoginFailuresElsewhere  int
	LoginWindow                time.Duration
	KnownAddressLifetime       time.Duration
}

// DefaultQuotas are the quotas a Handler has unless told otherwise.
var DefaultQuotas = Quotas{
	MaxSessions:                100000,
	MaxGuestSessions:           80000,
	MaxGuestSessionsPerAddress: 1000,
	MaxEntitySetsPerSession:    1000,
	MaxLoginFailuresPerUser:    10,
	MaxLoginFailuresPerAddress: 50,
	MaxLoginFailuresElsewhere:  100,
	LoginWindow:                time.Minute,
	KnownAddressLifetime:       30 * 24 * time.Hour,
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

// setRetryAfter writes the Retry-After header of a quota error, or of an
// error made by RetryAfter.
func setRetryAfter(w http.ResponseWriter, err error) {
	var qe *quotaError
	var re *retryError
	var after time.Duration
	switch {
	case errors.As(err, &qe):
		after = qe.retryAfter
	case errors.As(err, &re):
		after = re.after
	default:
		return
	}
	secs := int((after + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
}

// RetryAfter returns err, whose answer then carries a Retry-After header
// of d (whole seconds, at least 1): for a 503 or a 429 that will pass.
func RetryAfter(err error, d time.Duration) error { return &retryError{err: err, after: d} }

type retryError struct {
	err   error
	after time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// checkNewSession refuses a new session when the session quotas are
// reached: the total, and for a guest session the guests in all and from
// the client's address. It reads counters: its cost does not depend on the
// number of sessions.
func (h *Handler) checkNewSession(ctx context.Context, address string, guest bool) error {
	err := h.sessionQuotas(ctx, address, guest)
	if fourd.ErrorCode(err) == fourd.ESESSIONLIMIT {
		h.observeRefused(QuotaSessions)
	}
	return err
}

func (h *Handler) sessionQuotas(ctx context.Context, address string, guest bool) error {
	q := h.Quotas
	if q.MaxSessions <= 0 && (!guest || q.MaxGuestSessions <= 0 && q.MaxGuestSessionsPerAddress <= 0) {
		return nil
	}
	n, err := h.Sessions.Count(ctx, address)
	if err != nil {
		return err
	}
	if q.MaxSessions > 0 && n.Total >= q.MaxSessions {
		return fourd.Errorf(fourd.ESESSIONLIMIT, fourd.ErrCodeSessionLimit, "the server holds its maximum of %d sessions: no session can be opened now", q.MaxSessions)
	}
	if !guest {
		return nil
	}
	if q.MaxGuestSessions > 0 && n.Guests >= q.MaxGuestSessions {
		return fourd.Errorf(fourd.ESESSIONLIMIT, fourd.ErrCodeSessionLimit, "the server holds its maximum of %d guest sessions: send the session cookie you were given, or log in", q.MaxGuestSessions)
	}
	if q.MaxGuestSessionsPerAddress > 0 && n.GuestsFromAddress >= q.MaxGuestSessionsPerAddress {
		return fourd.Errorf(fourd.ESESSIONLIMIT, fourd.ErrCodeSessionLimit, "your address holds its maximum of %d guest sessions: send the session cookie you were given, or log in", q.MaxGuestSessionsPerAddress)
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
		h.observeRefused(QuotaEntitySets)
		return errQuota(first.Sub(h.Now()), "this session holds its maximum of %d entity sets: release some ($method=release or POST $entityset/$release) or wait for one to expire", max)
	}
	return nil
}

// maxLoginKeys bounds the limiter's maps: beyond it, finished windows and
// forgotten addresses are dropped, and then any entries, down to 90%, so
// that the scans stay rare (amortised O(1) per failure).
const maxLoginKeys = 100000

// loginLimiter counts failed logins in fixed windows, by key, and
// remembers the addresses each user logged in from.
type loginLimiter struct {
	mu      sync.Mutex
	windows map[string]*loginWindow
	known   map[string]time.Time // user + "|" + address -> last successful login
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

// fail records a failed login of each key.
func (l *loginLimiter) fail(window time.Duration, now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.windows == nil {
		l.windows = map[string]*loginWindow{}
	}
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
}

// succeed forgets the failures of key and remembers the user's address.
func (l *loginLimiter) succeed(key, userAddr string, lifetime time.Duration, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.windows, key)
	if l.known == nil {
		l.known = map[string]time.Time{}
	}
	if len(l.known) > maxLoginKeys {
		trim(l.known, func(t time.Time) bool { return now.Sub(t) >= lifetime })
	}
	l.known[userAddr] = now
}

// knows reports whether the user logged in from the address within
// lifetime.
func (l *loginLimiter) knows(userAddr string, lifetime time.Duration, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.known[userAddr]
	return ok && now.Sub(t) < lifetime
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

// authenticate checks a user's credentials under the login quotas.
func (h *Handler) authenticate(r *http.Request, name, password string) (*fourd.User, error) {
	q, now := h.Quotas, h.Now()
	addr, user := clientIP(r), fourd.FoldUserName(name)
	pairKey, addrKey, userKey := "pair:"+user+"|"+addr, "addr:"+addr, "user:"+user
	known := h.logins.knows(user+"|"+addr, q.KnownAddressLifetime, now)
	if wait := h.loginThrottle(pairKey, q.MaxLoginFailuresPerUser, q.LoginWindow, now); wait > 0 {
		return nil, errQuota(wait, "too many failed logins for this user from this address: try again later")
	}
	if wait := h.loginThrottle(addrKey, q.MaxLoginFailuresPerAddress, q.LoginWindow, now); wait > 0 {
		return nil, errQuota(wait, "too many failed logins from this address: try again later")
	}
	if !known {
		if wait := h.loginThrottle(userKey, q.MaxLoginFailuresElsewhere, q.LoginWindow, now); wait > 0 {
			return nil, errQuota(wait, "too many failed logins for this user from addresses it does not usually log in from: try again later, or from your usual address")
		}
	}
	user2, err := h.Users.Authenticate(r.Context(), name, password)
	switch fourd.ErrorCode(err) {
	case "":
		h.observeLogin(LoginSucceeded)
		h.logins.succeed(pairKey, user+"|"+addr, q.KnownAddressLifetime, now)
	case fourd.EUNAUTHORIZED:
		h.observeLogin(LoginFailed)
		keys := []string{pairKey, addrKey}
		if !known {
			keys = append(keys, userKey)
		}
		h.logins.fail(q.LoginWindow, now, keys...)
	}
	return user2, err
}

// loginThrottle is loginLimiter.blocked, telling the Observer of a login
// it throttles.
func (h *Handler) loginThrottle(key string, limit int, window time.Duration, now time.Time) time.Duration {
	wait := h.logins.blocked(key, limit, window, now)
	if wait > 0 {
		h.observeLogin(LoginThrottled)
	}
	return wait
}
