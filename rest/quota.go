package rest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
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

// authenticate checks a user's credentials under the login quotas, counted
// by the Handler's LoginLimiter (shared by every node when it is Redis's).
func (h *Handler) authenticate(r *http.Request, name, password string) (*fourd.User, error) {
	ctx, q, now := r.Context(), h.Quotas, h.Now()
	addr, user := clientIP(r), fourd.FoldUserName(name)
	pairKey, addrKey, userKey := "pair:"+user+"|"+addr, "addr:"+addr, "user:"+user
	known, err := h.Logins.Known(ctx, user+"|"+addr, q.KnownAddressLifetime, now)
	if err != nil {
		return nil, err
	}
	for _, b := range []struct {
		key   string
		limit int
		msg   string
	}{
		{pairKey, q.MaxLoginFailuresPerUser, "too many failed logins for this user from this address: try again later"},
		{addrKey, q.MaxLoginFailuresPerAddress, "too many failed logins from this address: try again later"},
		{userKey, q.MaxLoginFailuresElsewhere, "too many failed logins for this user from addresses it does not usually log in from: try again later, or from your usual address"},
	} {
		if b.key == userKey && known {
			continue
		}
		wait, err := h.Logins.Blocked(ctx, b.key, b.limit, q.LoginWindow, now)
		if err != nil {
			return nil, err
		}
		if wait > 0 {
			h.observeLogin(LoginThrottled)
			return nil, errQuota(wait, "%s", b.msg)
		}
	}
	user2, err := h.Users.Authenticate(ctx, name, password)
	switch fourd.ErrorCode(err) {
	case "":
		h.observeLogin(LoginSucceeded)
		if err := h.Logins.Succeed(ctx, pairKey, user+"|"+addr, q.KnownAddressLifetime, now); err != nil {
			return nil, err
		}
	case fourd.EUNAUTHORIZED:
		h.observeLogin(LoginFailed)
		keys := []string{pairKey, addrKey}
		if !known {
			keys = append(keys, userKey)
		}
		if err := h.Logins.Fail(ctx, q.LoginWindow, now, keys...); err != nil {
			return nil, err
		}
	}
	return user2, err
}
