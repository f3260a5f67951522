package fourd

import (
	"context"
	"time"
)

// LoginLimiter counts failed logins, for the brute-force protection of
// logins (see docs/security.md): failures by key in fixed windows, and
// the addresses each user logged in from. Keys are opaque to it: the
// caller builds them from a user name folded with FoldUserName and a
// client address, so that "ſam" and "sam" share one bucket.
//
// A window opens at a key's first failure and lasts window; failures
// after it open a new one. The contract, which storetest.TestLoginLimiter
// checks for every backend: a backend may round times to the microsecond; a key
// with fewer than limit failures in its open window is not blocked; a
// blocked key waits until its window closes.
//
// Implementations are safe for concurrent use. The in-memory one (inmem)
// counts for one node; the Redis one (redis) for every node of a
// cluster, so that ten nodes do not give an attacker ten times the
// attempts. Blocked and Fail are separate calls: logins checked at the
// same moment may each pass before any failure is counted, on one node as
// on several, which bounds the excess by the concurrent attempts, not by
// the number of nodes.
type LoginLimiter interface {
	// Blocked returns how long key must wait before its next attempt, or
	// 0: it waits while its open window holds limit failures or more. A
	// limit of 0 or less blocks nothing.
	Blocked(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error)
	// Fail counts one failed login at now for each key.
	Fail(ctx context.Context, window time.Duration, now time.Time, keys ...string) error
	// Succeed forgets the failures of key and remembers that known (a
	// user and an address) logged in at now, for lifetime.
	Succeed(ctx context.Context, key, known string, lifetime time.Duration, now time.Time) error
	// Known reports whether known logged in within lifetime before now.
	Known(ctx context.Context, known string, lifetime time.Duration, now time.Time) (bool, error)
}
