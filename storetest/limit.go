package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fourd/fourd"
)

// OpenLoginLimiter opens an empty fourd.LoginLimiter and arranges for it
// to be closed when t ends. Two calls with the same t may return two
// views of one shared limiter (two nodes) or two separate ones: the
// suite does not depend on it.
type OpenLoginLimiter = func(t *testing.T) fourd.LoginLimiter

// TestLoginLimiter checks the fourd.LoginLimiter contract: windows open at
// the first failure and close window later, limits, keys counted apart,
// success forgetting failures, known addresses and their lifetime, and
// counting under concurrent failures. Its times are whole microseconds,
// which a backend may round to.
func TestLoginLimiter(t *testing.T, open OpenLoginLimiter) {
	ctx := context.Background()
	start := t0.Truncate(time.Microsecond)
	const window = time.Minute
	mustFail := func(t *testing.T, l fourd.LoginLimiter, now time.Time, keys ...string) {
		t.Helper()
		if err := l.Fail(ctx, window, now, keys...); err != nil {
			t.Fatal(err)
		}
	}
	wantBlocked := func(t *testing.T, l fourd.LoginLimiter, key string, limit int, now time.Time, want time.Duration) {
		t.Helper()
		got, err := l.Blocked(ctx, key, limit, window, now)
		if err != nil || got != want {
			t.Fatalf("Blocked(%q, limit %d) at start+%v = %v, %v; want %v", key, limit, now.Sub(start), got, err, want)
		}
	}
	t.Run("UnknownKeyNotBlocked", func(t *testing.T) {
		l := open(t)
		wantBlocked(t, l, "user:nobody", 1, start, 0)
	})
	t.Run("BlockedAtLimitUntilWindowCloses", func(t *testing.T) {
		l := open(t)
		for i := range 3 {
			wantBlocked(t, l, "pair:sam|10.0.0.1", 3, start.Add(time.Duration(i)*time.Second), 0)
			mustFail(t, l, start.Add(time.Duration(i)*time.Second), "pair:sam|10.0.0.1")
		}
		wantBlocked(t, l, "pair:sam|10.0.0.1", 3, start.Add(10*time.Second), 50*time.Second)
		wantBlocked(t, l, "pair:sam|10.0.0.1", 4, start.Add(10*time.Second), 0)
		wantBlocked(t, l, "pair:sam|10.0.0.1", 0, start.Add(10*time.Second), 0)
		wantBlocked(t, l, "pair:sam|10.0.0.1", 3, start.Add(window-time.Microsecond), time.Microsecond)
		wantBlocked(t, l, "pair:sam|10.0.0.1", 3, start.Add(window), 0)
	})
	t.Run("NewWindowAfterClose", func(t *testing.T) {
		l := open(t)
		mustFail(t, l, start, "k")
		mustFail(t, l, start.Add(window), "k") // opens a new window of one failure
		wantBlocked(t, l, "k", 2, start.Add(window+time.Second), 0)
		mustFail(t, l, start.Add(window+time.Second), "k")
		wantBlocked(t, l, "k", 2, start.Add(window+2*time.Second), window-2*time.Second)
	})
	t.Run("KeysCountedApart", func(t *testing.T) {
		l := open(t)
		mustFail(t, l, start, "addr:10.0.0.1", "user:sam")
		mustFail(t, l, start, "addr:10.0.0.1")
		wantBlocked(t, l, "addr:10.0.0.1", 2, start, window)
		wantBlocked(t, l, "user:sam", 2, start, 0)
		wantBlocked(t, l, "user:ann", 1, start, 0)
	})
	t.Run("SucceedForgetsFailures", func(t *testing.T) {
		l := open(t)
		mustFail(t, l, start, "pair:sam|a", "addr:a")
		if err := l.Succeed(ctx, "pair:sam|a", "sam|a", time.Hour, start); err != nil {
			t.Fatal(err)
		}
		wantBlocked(t, l, "pair:sam|a", 1, start, 0)
		wantBlocked(t, l, "addr:a", 1, start, window) // only the key named
	})
	t.Run("KnownForLifetime", func(t *testing.T) {
		l := open(t)
		known := func(who string, at time.Time) bool {
			t.Helper()
			ok, err := l.Known(ctx, who, time.Hour, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if known("sam|a", start) {
			t.Fatal("Known before any login")
		}
		if err := l.Succeed(ctx, "pair:sam|a", "sam|a", time.Hour, start); err != nil {
			t.Fatal(err)
		}
		if !known("sam|a", start.Add(time.Hour-time.Microsecond)) || known("sam|b", start) {
			t.Fatal("Known: want sam|a within the hour, not sam|b")
		}
		if known("sam|a", start.Add(time.Hour)) {
			t.Fatal("Known after the lifetime")
		}
	})
	t.Run("ConcurrentFailuresAllCounted", func(t *testing.T) {
		l := open(t)
		const workers, each = 8, 25
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for range each {
					if err := l.Fail(ctx, window, start, "addr:x", fmt.Sprintf("w%d", w)); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		wantBlocked(t, l, "addr:x", workers*each, start, window)
		wantBlocked(t, l, "addr:x", workers*each+1, start, 0)
		wantBlocked(t, l, "w3", each, start, window)
	})
}
