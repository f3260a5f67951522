package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fourd/fourd"
)

// OpenEntitySetStore opens an empty fourd.EntitySetStore of size bytes
// whose clock is now, and arranges for it to be closed when t ends.
type OpenEntitySetStore = func(t *testing.T, size int64, now func() time.Time) fourd.EntitySetStore

// t0 is the suites' epoch: a time with nanoseconds, so that a backend that
// rounds times is caught.
var t0 = time.Date(2026, 11, 22, 10, 30, 0, 123456789, time.UTC)

// TestEntitySetStore checks the whole fourd.EntitySetStore contract on the
// stores open returns: the row sets it builds (both representations, Page,
// Contains, AppendTo, Combine), and the cache (Put and Get, refresh and
// expiry, LRU eviction, the bound on Used, EQUOTA, release, snapshots,
// concurrent use).
func TestEntitySetStore(t *testing.T, open OpenEntitySetStore) {
	t.Run("RowSet", func(t *testing.T) { testRowSet(t, open) })
	t.Run("Combine", func(t *testing.T) { testCombine(t, open) })
	t.Run("PutGet", func(t *testing.T) { testPutGet(t, open) })
	t.Run("Refresh", func(t *testing.T) { testRefresh(t, open) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, open) })
	t.Run("Eviction", func(t *testing.T) { testEviction(t, open) })
	t.Run("Quota", func(t *testing.T) { testQuota(t, open) })
	t.Run("Release", func(t *testing.T) { testRelease(t, open) })
	t.Run("ReleaseSession", func(t *testing.T) { testReleaseSession(t, open) })
	t.Run("ReleaseOwn", func(t *testing.T) { testReleaseOwn(t, open) })
	t.Run("MoveSession", func(t *testing.T) { testMoveSession(t, open) })
	t.Run("EntitySets", func(t *testing.T) { testEntitySets(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open) })
}

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set stops the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is a store with its clock and the suite's model of it: the sets
// that must be held, with the bytes the suite weighed them at.
type fixture struct {
	ctx   context.Context
	clock *Clock
	st    fourd.EntitySetStore
	held  map[string]int // ID → (*EntitySet).Bytes() as put
	next  int
}

func newFixture(t *testing.T, open OpenEntitySetStore, size int64) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), clock: NewClock(t0), held: make(map[string]int)}
	f.st = open(t, size, f.clock.Now)
	if got := f.st.Size(); got != size {
		t.Fatalf("Size() = %d, opened with %d", got, size)
	}
	f.check(t, "open")
	return f
}

// set returns a new set of the store's rows, refreshed now, not yet put.
func (f *fixture) set(session string, rows []fourd.RowID, sorted bool, timeout time.Duration) *fourd.EntitySet {
	f.next++
	now := f.clock.Now()
	return &fourd.EntitySet{
		ID:        fmt.Sprintf("%032X", f.next),
		DataClass: "Employee",
		Rows:      f.st.NewRowSet(rows, sorted),
		SessionID: session,
		Created:   now, Refreshed: now, Timeout: timeout,
		SavedFilter: "salary>50000",
	}
}

// put stores es and expects it to succeed, with the sets in evicted gone.
func (f *fixture) put(t *testing.T, es *fourd.EntitySet, evicted ...*fourd.EntitySet) {
	t.Helper()
	bytes := es.Bytes()
	if err := f.st.Put(f.ctx, es); err != nil {
		t.Fatalf("Put(%s): %v", es.ID, err)
	}
	for _, e := range evicted {
		delete(f.held, e.ID)
	}
	f.held[es.ID] = bytes
	f.check(t, "Put "+es.ID)
}

// gone records that the set left the store.
func (f *fixture) gone(ids ...string) {
	for _, id := range ids {
		delete(f.held, id)
	}
}

// check compares the store with the model: Used is the sum of the Bytes of
// the sets held and never exceeds Size, and the unexpired sets held are
// exactly those EntitySets lists, with their bytes.
func (f *fixture) check(t *testing.T, step string) {
	t.Helper()
	used, size := f.st.Used(), f.st.Size()
	want := int64(0)
	for _, b := range f.held {
		want += int64(b)
	}
	if used != want {
		t.Fatalf("after %s: Used() = %d, want %d, the sum of the Bytes of %d sets held", step, used, want, len(f.held))
	}
	if used > size {
		t.Fatalf("after %s: Used() = %d > Size() = %d", step, used, size)
	}
	infos, err := f.st.EntitySets(f.ctx)
	if err != nil {
		t.Fatalf("after %s: EntitySets: %v", step, err)
	}
	listed := make(map[string]int, len(infos))
	for _, in := range infos {
		listed[in.ID] = in.Bytes
	}
	if !maps.Equal(listed, f.held) {
		t.Fatalf("after %s: EntitySets lists (ID → bytes)\n%v\nwant\n%v", step, listed, f.held)
	}
}

// mustGet gets id at now and expects it to be there.
func (f *fixture) mustGet(t *testing.T, id string, now time.Time) *fourd.EntitySet {
	t.Helper()
	es, err := f.st.Get(f.ctx, id, now)
	if err != nil {
		t.Fatalf("Get(%s) at %v: %v", id, now, err)
	}
	if es.ID != id {
		t.Fatalf("Get(%s) returned set %s", id, es.ID)
	}
	return es
}

// wantNotFound checks that err is 4D's "entity set not found".
func wantNotFound(t *testing.T, err error, id string) {
	t.Helper()
	var e *fourd.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want a *fourd.Error ENOTFOUND 1802", err, err)
	}
	want := `EntitySet "` + id + `" cannot be found`
	if e.Code != fourd.ENOTFOUND || e.ErrCode != fourd.ErrCodeEntitySetNotFound || e.Component != fourd.ComponentDB || e.Message != want {
		t.Fatalf("error {Code %q, ErrCode %d, Component %q, Message %q}, want {%q, %d, %q, %q}",
			e.Code, e.ErrCode, e.Component, e.Message, fourd.ENOTFOUND, fourd.ErrCodeEntitySetNotFound, fourd.ComponentDB, want)
	}
}

func wantCode(t *testing.T, err error, code string, errCode int) {
	t.Helper()
	var e *fourd.Error
	if !errors.As(err, &e) || e.Code != code || e.ErrCode != errCode {
		t.Fatalf("error %v, want a *fourd.Error %s %d", err, code, errCode)
	}
}

func rowRange(from, to fourd.RowID) []fourd.RowID {
	rows := make([]fourd.RowID, 0, to-from)
	for r := from; r < to; r++ {
		rows = append(rows, r)
	}
	return rows
}

func testPutGet(t *testing.T, open OpenEntitySetStore) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t, open, 1<<20)
		es := f.set("S1", []fourd.RowID{9, 3, 7}, true, time.Hour)
		want := *es
		f.put(t, es)
		got := f.mustGet(t, es.ID, f.clock.Now())
		if got.ID != want.ID || got.DataClass != want.DataClass || got.SessionID != want.SessionID ||
			!got.Created.Equal(want.Created) || !got.Refreshed.Equal(want.Refreshed) || got.Timeout != want.Timeout ||
			got.SavedFilter != want.SavedFilter || got.SavedOrderBy != want.SavedOrderBy {
			t.Fatalf("Get = %+v\nwant %+v", *got, want)
		}
		if rows := got.Rows.AppendTo(nil); !slices.Equal(rows, []fourd.RowID{9, 3, 7}) || !got.Rows.Sorted() {
			t.Fatalf("rows %v (sorted %v), want [9 3 7] sorted", rows, got.Rows.Sorted())
		}
		f.check(t, "Get")
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		f := newFixture(t, open, 1<<20)
		const id = "4C51204DD8184B65AC7D79F09A077F24"
		_, err := f.st.Get(f.ctx, id, f.clock.Now())
		wantNotFound(t, err, id)
	})
	t.Run("ReplacedUnderSameID", func(t *testing.T) {
		// $savedfilter rebuilds a set under its own ID.
		f := newFixture(t, open, 1<<20)
		first := f.set("S1", rowRange(0, 100), false, time.Hour)
		f.put(t, first)
		again := f.set("S1", rowRange(0, 5000), true, fourd.RebuiltEntitySetTimeout)
		again.ID = first.ID
		f.put(t, again)
		got := f.mustGet(t, first.ID, f.clock.Now())
		if got.Rows.Len() != 5000 || got.Timeout != fourd.RebuiltEntitySetTimeout {
			t.Fatalf("after replacement: %d rows, timeout %v", got.Rows.Len(), got.Timeout)
		}
		f.check(t, "Get")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		f := newFixture(t, open, 1<<20)
		noID := f.set("", nil, false, time.Hour)
		noID.ID = ""
		noRows := f.set("", nil, false, time.Hour)
		noRows.Rows = nil
		for name, es := range map[string]*fourd.EntitySet{
			"Nil": nil, "NoID": noID, "NoRows": noRows,
			"ZeroTimeout": f.set("", nil, false, 0), "NegativeTimeout": f.set("", nil, false, -time.Second),
		} {
			t.Run(name, func(t *testing.T) {
				wantCode(t, f.st.Put(f.ctx, es), fourd.EINVALID, fourd.ErrCodeBadParameter)
				f.check(t, "a refused Put")
			})
		}
	})
}

func testRefresh(t *testing.T, open OpenEntitySetStore) {
	t.Run("ExpiresMovesByTimeout", func(t *testing.T) {
		f := newFixture(t, open, 1<<20)
		es := f.set("S1", rowRange(0, 10), false, 10*time.Minute)
		f.put(t, es)
		at := t0.Add(7*time.Minute + 3*time.Millisecond)
		f.clock.Set(at)
		got := f.mustGet(t, es.ID, at)
		if !got.Refreshed.Equal(at) || !got.Expires().Equal(at.Add(10*time.Minute)) || !got.Created.Equal(t0) {
			t.Fatalf("after Get at %v: created %v, refreshed %v, expires %v", at, got.Created, got.Refreshed, got.Expires())
		}
		infos, _ := f.st.EntitySets(f.ctx)
		if len(infos) != 1 || !infos[0].Refreshed.Equal(at) || infos[0].Expires.Sub(infos[0].Refreshed) != 10*time.Minute {
			t.Fatalf("EntitySets after the refresh: %+v", infos)
		}
		// Without the refresh it would have expired at t0+10m.
		later := t0.Add(16 * time.Minute)
		f.clock.Set(later)
		if ids, _ := f.st.Expire(f.ctx, later); len(ids) != 0 {
			t.Fatalf("Expire at %v removed %v", later, ids)
		}
		f.mustGet(t, es.ID, later)
		f.check(t, "Get")
	})
	t.Run("GetAfterExpiryIsNotFound", func(t *testing.T) {
		f := newFixture(t, open, 1<<20)
		es := f.set("S1", rowRange(0, 10), false, 10*time.Minute)
		f.put(t, es)
		_, err := f.st.Get(f.ctx, es.ID, t0.Add(10*time.Minute))
		wantNotFound(t, err, es.ID)
		f.gone(es.ID)
		f.st.Expire(f.ctx, t0.Add(10*time.Minute))
		f.check(t, "Expire")
	})
}

func testExpiry(t *testing.T, open OpenEntitySetStore) {
	f := newFixture(t, open, 1<<20)
	short := f.set("S1", rowRange(0, 10), false, 5*time.Minute)
	long := f.set("S1", rowRange(0, 10), true, time.Hour)
	probe := f.set("S2", rowRange(0, 10), false, 5*time.Minute)
	for _, es := range []*fourd.EntitySet{short, long, probe} {
		f.put(t, es)
	}
	deadline := t0.Add(5 * time.Minute)
	t.Run("LiveJustBefore", func(t *testing.T) {
		f.clock.Set(deadline.Add(-time.Nanosecond))
		if ids, err := f.st.Expire(f.ctx, deadline.Add(-time.Nanosecond)); err != nil || len(ids) != 0 {
			t.Fatalf("Expire one nanosecond before the deadline = %v, %v", ids, err)
		}
		f.check(t, "Expire before the deadline") // EntitySets lists all three
		f.mustGet(t, probe.ID, deadline.Add(-time.Nanosecond))
	})
	t.Run("HiddenAtDeadline", func(t *testing.T) {
		// Expired but not yet swept: neither Get nor EntitySets shows it.
		f.clock.Set(deadline)
		_, err := f.st.Get(f.ctx, short.ID, deadline)
		wantNotFound(t, err, short.ID)
		infos, _ := f.st.EntitySets(f.ctx)
		for _, in := range infos {
			if in.ID == short.ID {
				t.Fatalf("EntitySets lists a set expired at %v", deadline)
			}
		}
	})
	t.Run("SweptAtDeadline", func(t *testing.T) {
		f.clock.Set(deadline)
		ids, err := f.st.Expire(f.ctx, deadline)
		if err != nil {
			t.Fatal(err)
		}
		// The Get above may have removed short already; the sweep takes
		// whatever is left of it, and nothing else.
		if others := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == short.ID }); len(others) != 0 {
			t.Fatalf("Expire at the deadline removed %v, want at most [%s]", ids, short.ID)
		}
		f.gone(short.ID)
		f.check(t, "Expire at the deadline")
		_, err = f.st.Get(f.ctx, short.ID, deadline)
		wantNotFound(t, err, short.ID)
		f.mustGet(t, long.ID, deadline)
		f.mustGet(t, probe.ID, deadline) // refreshed one nanosecond before the deadline
	})
	t.Run("AllSweptLater", func(t *testing.T) {
		end := t0.Add(24 * time.Hour)
		f.clock.Set(end)
		ids, err := f.st.Expire(f.ctx, end)
		slices.Sort(ids)
		if want := []string{long.ID, probe.ID}; err != nil || !slices.Equal(ids, want) {
			t.Fatalf("Expire a day later = %v, %v; want %v", ids, err, want)
		}
		f.gone(long.ID, probe.ID)
		f.check(t, "Expire a day later")
		if f.st.Used() != 0 {
			t.Fatalf("Used() = %d in an empty store", f.st.Used())
		}
	})
}

func testEviction(t *testing.T, open OpenEntitySetStore) {
	// Weigh one set, then make a cache that holds three and a half.
	probe := open(t, 1<<30, NewClock(t0).Now)
	rows := rowRange(0, 1000)
	one := (&fourd.EntitySet{ID: fmt.Sprintf("%032X", 1), DataClass: "Employee", Rows: probe.NewRowSet(rows, true),
		SessionID: "S1", SavedFilter: "salary>50000"}).Bytes()
	f := newFixture(t, open, int64(3*one+one/2))
	s1 := f.set("S1", rows, true, time.Hour)
	s2 := f.set("S1", rows, true, time.Hour)
	s3 := f.set("S1", rows, true, time.Hour)
	for _, es := range []*fourd.EntitySet{s1, s2, s3} {
		if es.Bytes() != one {
			t.Fatalf("sets of the same rows weigh %d and %d bytes", es.Bytes(), one)
		}
		f.clock.Add(time.Second)
		f.put(t, es)
	}
	s4 := f.set("S1", rows, true, time.Hour)
	t.Run("LeastRecentlyUsedEvicted", func(t *testing.T) {
		f.clock.Add(time.Second)
		f.mustGet(t, s1.ID, f.clock.Now()) // s2 is now the least recently used
		f.check(t, "Get")
		f.put(t, s4, s2)
		_, err := f.st.Get(f.ctx, s2.ID, f.clock.Now())
		wantNotFound(t, err, s2.ID)
		f.check(t, "Get of the evicted set")
	})
	t.Run("TouchedKept", func(t *testing.T) {
		f.mustGet(t, s1.ID, f.clock.Now())
		f.mustGet(t, s3.ID, f.clock.Now())
	})
	s5 := f.set("S1", rows, true, time.Hour)
	t.Run("RecencyNotAgeDecides", func(t *testing.T) {
		// Order of use is now s4 (put), s1, s3: s4 goes next, though newest.
		f.put(t, s5, s4)
	})
	t.Run("SeveralEvictedForABigSet", func(t *testing.T) {
		big := f.set("S2", rowRange(0, 1800), true, time.Hour) // weighs almost two
		if b := big.Bytes(); b <= 2*one-one/2 || b > 3*one {
			t.Fatalf("a set of 1,800 rows weighs %d, one of 1,000 %d", b, one)
		}
		f.put(t, big, s1, s3)
		f.mustGet(t, s5.ID, f.clock.Now())
	})
}

func testQuota(t *testing.T, open OpenEntitySetStore) {
	f := newFixture(t, open, 64<<10)
	small := f.set("S1", rowRange(0, 100), true, time.Hour)
	f.put(t, small)
	big := f.set("S1", rowRange(0, 100000), true, time.Hour) // ≥ 400,000 bytes
	t.Run("ErrLargerThanCache", func(t *testing.T) {
		err := f.st.Put(f.ctx, big)
		var e *fourd.Error
		if !errors.As(err, &e) || e.Code != fourd.EQUOTA || e.ErrCode != fourd.ErrCodeCacheFull || e.Message == "" {
			t.Fatalf("Put of a set of %d bytes in a cache of %d: %v, want EQUOTA %d", big.Bytes(), f.st.Size(), err, fourd.ErrCodeCacheFull)
		}
		f.check(t, "a refused Put") // nothing evicted for it
		_, err = f.st.Get(f.ctx, big.ID, f.clock.Now())
		wantNotFound(t, err, big.ID)
		f.mustGet(t, small.ID, f.clock.Now())
	})
	t.Run("ExactFitAccepted", func(t *testing.T) {
		g := newFixture(t, open, int64(big.Bytes()))
		es := g.set("S1", rowRange(0, 100000), true, time.Hour)
		es.ID = big.ID
		g.put(t, es)
	})
}

func testRelease(t *testing.T, open OpenEntitySetStore) {
	f := newFixture(t, open, 1<<20)
	a := f.set("S1", rowRange(0, 10), false, time.Hour)
	b := f.set("S1", rowRange(0, 10), false, time.Hour)
	f.put(t, a)
	f.put(t, b)
	t.Run("OK", func(t *testing.T) {
		if err := f.st.Release(f.ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		f.gone(a.ID)
		f.check(t, "Release")
		_, err := f.st.Get(f.ctx, a.ID, f.clock.Now())
		wantNotFound(t, err, a.ID)
		f.mustGet(t, b.ID, f.clock.Now())
	})
	t.Run("ErrAlreadyReleased", func(t *testing.T) {
		wantNotFound(t, f.st.Release(f.ctx, a.ID), a.ID)
		f.check(t, "second Release")
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		const id = "4C51204DD8184B65AC7D79F09A077F24"
		wantNotFound(t, f.st.Release(f.ctx, id), id)
		f.check(t, "Release of an unknown set")
	})
	t.Run("ErrExpired", func(t *testing.T) {
		f.clock.Set(t0.Add(time.Hour))
		wantNotFound(t, f.st.Release(f.ctx, b.ID), b.ID)
		f.st.Expire(f.ctx, f.clock.Now())
		f.gone(b.ID)
		f.check(t, "Expire")
	})
}

func testReleaseSession(t *testing.T, open OpenEntitySetStore) {
	f := newFixture(t, open, 1<<20)
	a1 := f.set("A", rowRange(0, 10), false, time.Hour)
	b1 := f.set("B", rowRange(0, 10), false, time.Hour)
	a2 := f.set("A", rowRange(0, 20), true, time.Hour)
	server := f.set("", rowRange(0, 30), false, time.Hour)
	for _, es := range []*fourd.EntitySet{a1, b1, a2, server} {
		f.put(t, es)
	}
	t.Run("OK", func(t *testing.T) {
		n, err := f.st.ReleaseSession(f.ctx, "A")
		if err != nil || n != 2 {
			t.Fatalf("ReleaseSession(A) = %d, %v; want 2", n, err)
		}
		f.gone(a1.ID, a2.ID)
		f.check(t, "ReleaseSession")
		for _, es := range []*fourd.EntitySet{a1, a2} {
			_, err := f.st.Get(f.ctx, es.ID, f.clock.Now())
			wantNotFound(t, err, es.ID)
		}
		f.mustGet(t, b1.ID, f.clock.Now())
		f.mustGet(t, server.ID, f.clock.Now())
	})
	t.Run("NoneLeft", func(t *testing.T) {
		for _, id := range []string{"A", "unknown"} {
			if n, err := f.st.ReleaseSession(f.ctx, id); err != nil || n != 0 {
				t.Fatalf("ReleaseSession(%s) = %d, %v; want 0", id, n, err)
			}
		}
		f.check(t, "ReleaseSession with no set")
	})
}

func testReleaseOwn(t *testing.T, open OpenEntitySetStore) {
	f := newFixture(t, open, 1<<20)
	a := f.set("A", rowRange(0, 10), false, time.Hour)
	b := f.set("B", rowRange(0, 10), false, time.Hour)
	short := f.set("A", rowRange(0, 10), false, time.Minute)
	for _, es := range []*fourd.EntitySet{a, b, short} {
		f.put(t, es)
	}
	t.Run("ErrAnotherSessions", func(t *testing.T) {
		wantNotFound(t, f.st.ReleaseOwn(f.ctx, b.ID, "A"), b.ID)
		wantNotFound(t, f.st.ReleaseOwn(f.ctx, b.ID, ""), b.ID)
		f.mustGet(t, b.ID, f.clock.Now())
		f.check(t, "ReleaseOwn of another session's set")
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		wantNotFound(t, f.st.ReleaseOwn(f.ctx, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "A"), "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF")
	})
	t.Run("OK", func(t *testing.T) {
		if err := f.st.ReleaseOwn(f.ctx, a.ID, "A"); err != nil {
			t.Fatalf("ReleaseOwn(own set): %v", err)
		}
		f.gone(a.ID)
		f.check(t, "ReleaseOwn")
		wantNotFound(t, f.st.ReleaseOwn(f.ctx, a.ID, "A"), a.ID)
	})
	t.Run("ErrExpired", func(t *testing.T) {
		f.clock.Add(2 * time.Minute)
		wantNotFound(t, f.st.ReleaseOwn(f.ctx, short.ID, "A"), short.ID)
		f.gone(short.ID)
		f.check(t, "ReleaseOwn of an expired set")
	})
}

func testMoveSession(t *testing.T, open OpenEntitySetStore) {
	f := newFixture(t, open, 1<<20)
	a1 := f.set("A", rowRange(0, 10), false, time.Hour)
	a2 := f.set("A", rowRange(0, 20), true, time.Hour)
	b := f.set("B", rowRange(0, 10), false, time.Hour)
	server := f.set("", rowRange(0, 10), false, time.Hour)
	for _, es := range []*fourd.EntitySet{a1, a2, b, server} {
		f.put(t, es)
	}
	if n, err := f.st.MoveSession(f.ctx, "A", "B"); err != nil || n != 2 {
		t.Fatalf("MoveSession(A, B) = %d, %v; want 2", n, err)
	}
	if n, _, _ := f.st.SessionSets(f.ctx, "A"); n != 0 {
		t.Fatalf("A still holds %d sets", n)
	}
	if n, _, _ := f.st.SessionSets(f.ctx, "B"); n != 3 {
		t.Fatalf("B holds %d sets, want 3", n)
	}
	if got := f.mustGet(t, a1.ID, f.clock.Now()); got.SessionID != "B" {
		t.Fatalf("a moved set's SessionID = %q, want B", got.SessionID)
	}
	if err := f.st.ReleaseOwn(f.ctx, a2.ID, "B"); err != nil {
		t.Fatalf("the new session releasing a moved set: %v", err)
	}
	f.gone(a2.ID)
	if n, err := f.st.MoveSession(f.ctx, "", "B"); err != nil || n != 0 {
		t.Fatalf("MoveSession of the server's own sets = %d, %v; want 0", n, err)
	}
	if n, err := f.st.ReleaseSession(f.ctx, "B"); err != nil || n != 2 {
		t.Fatalf("ReleaseSession(B) = %d, %v; want 2", n, err)
	}
	f.gone(a1.ID, b.ID)
	f.check(t, "MoveSession")
}

func testEntitySets(t *testing.T, open OpenEntitySetStore) {
	f := newFixture(t, open, 1<<20)
	t.Run("EmptyStore", func(t *testing.T) {
		if infos, err := f.st.EntitySets(f.ctx); err != nil || len(infos) != 0 {
			t.Fatalf("EntitySets = %v, %v", infos, err)
		}
	})
	first := f.set("A", rowRange(0, 49), true, 10*time.Minute)
	f.put(t, first)
	f.clock.Add(time.Minute)
	second := f.set("", rowRange(100, 137), false, 2*time.Hour)
	second.DataClass = "Company"
	f.put(t, second)
	f.clock.Add(time.Minute)
	third := f.set("B", []fourd.RowID{5}, false, 5*time.Minute)
	f.put(t, third)
	refreshed := f.clock.Now().Add(time.Second)
	f.clock.Set(refreshed)
	f.mustGet(t, first.ID, refreshed) // the most recently used, still the oldest
	t.Run("OldestFirstWithValues", func(t *testing.T) {
		infos, err := f.st.EntitySets(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []fourd.EntitySetInfo{
			{ID: first.ID, DataClass: "Employee", SelectionSize: 49, Sorted: true, Refreshed: refreshed,
				Expires: refreshed.Add(10 * time.Minute), SessionID: "A", Bytes: first.Bytes()},
			{ID: second.ID, DataClass: "Company", SelectionSize: 37, Sorted: false, Refreshed: t0.Add(time.Minute),
				Expires: t0.Add(time.Minute + 2*time.Hour), SessionID: "", Bytes: second.Bytes()},
			{ID: third.ID, DataClass: "Employee", SelectionSize: 1, Sorted: false, Refreshed: t0.Add(2 * time.Minute),
				Expires: t0.Add(7 * time.Minute), SessionID: "B", Bytes: third.Bytes()},
		}
		if len(infos) != len(want) {
			t.Fatalf("EntitySets = %+v\nwant %+v", infos, want)
		}
		for i := range want {
			got := infos[i]
			if got.ID != want[i].ID || got.DataClass != want[i].DataClass || got.SelectionSize != want[i].SelectionSize ||
				got.Sorted != want[i].Sorted || !got.Refreshed.Equal(want[i].Refreshed) || !got.Expires.Equal(want[i].Expires) ||
				got.SessionID != want[i].SessionID || got.Bytes != want[i].Bytes {
				t.Fatalf("EntitySets[%d] = %+v\nwant %+v", i, got, want[i])
			}
		}
	})
	t.Run("SnapshotIsACopy", func(t *testing.T) {
		infos, _ := f.st.EntitySets(f.ctx)
		infos[0].ID, infos[0].SelectionSize = "changed", -1
		again, _ := f.st.EntitySets(f.ctx)
		if again[0].ID != first.ID || again[0].SelectionSize != 49 {
			t.Fatalf("a change to a snapshot reached the store: %+v", again[0])
		}
		f.mustGet(t, second.ID, f.clock.Now())
		if !infos[1].Refreshed.Equal(t0.Add(time.Minute)) {
			t.Fatalf("a Get changed an earlier snapshot: %+v", infos[1])
		}
	})
}

// testConcurrent runs Put, Get, Release, ReleaseSession, Expire and
// EntitySets from many goroutines on a cache that fills up, while another
// goroutine checks that Used never exceeds Size. Run it with -race.
func testConcurrent(t *testing.T, open OpenEntitySetStore) {
	const workers, ops, ids = 8, 400, 64
	clock := NewClock(t0)
	probe := open(t, 1<<30, clock.Now)
	var rowSets []fourd.RowSet
	for i := range 8 {
		rowSets = append(rowSets,
			probe.NewRowSet(rowRange(fourd.RowID(i*1000), fourd.RowID(i*1000+200*(i+1))), true),
			probe.NewRowSet(rowRange(0, fourd.RowID(70000*(i+1))), false))
	}
	one := (&fourd.EntitySet{ID: fmt.Sprintf("%032X", 0), Rows: rowSets[len(rowSets)-2], SessionID: "S0"}).Bytes()
	st := open(t, int64(6*one), clock.Now)
	ctx := context.Background()
	stop := make(chan struct{})
	var checker sync.WaitGroup
	checker.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if used, size := st.Used(), st.Size(); used > size {
				t.Errorf("Used() = %d > Size() = %d", used, size)
				return
			}
			runtime.Gosched()
		}
	})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 1))
			for range ops {
				id := fmt.Sprintf("%032X", rnd.IntN(ids))
				now := clock.Now()
				var err error
				switch op := rnd.IntN(10); {
				case op < 3:
					err = st.Put(ctx, &fourd.EntitySet{ID: id, DataClass: "Employee", Rows: rowSets[rnd.IntN(len(rowSets))],
						SessionID: fmt.Sprintf("S%d", rnd.IntN(4)), Created: now, Refreshed: now, Timeout: time.Duration(1+rnd.IntN(60)) * time.Second})
				case op < 6:
					var es *fourd.EntitySet
					if es, err = st.Get(ctx, id, now); err == nil {
						es.Rows.Page(es.Rows.Len()/2, 20)
					}
				case op < 7:
					err = st.Release(ctx, id)
				case op < 8:
					_, err = st.ReleaseSession(ctx, fmt.Sprintf("S%d", rnd.IntN(4)))
				case op < 9:
					clock.Add(time.Duration(rnd.IntN(2000)) * time.Millisecond)
					_, err = st.Expire(ctx, clock.Now())
				default:
					var infos []fourd.EntitySetInfo
					infos, err = st.EntitySets(ctx)
					sum := int64(0)
					for _, in := range infos {
						sum += int64(in.Bytes)
					}
					if sum > st.Size() {
						t.Errorf("EntitySets lists %d bytes in a cache of %d", sum, st.Size())
					}
				}
				if err != nil && fourd.ErrorCode(err) != fourd.ENOTFOUND {
					t.Errorf("unexpected error: %v", err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	checker.Wait()
	t.Run("UsedIsSumOfHeld", func(t *testing.T) {
		// Sweep first: EntitySets does not list what has expired.
		if _, err := st.Expire(ctx, clock.Now()); err != nil {
			t.Fatal(err)
		}
		infos, _ := st.EntitySets(ctx)
		sum := int64(0)
		for _, in := range infos {
			sum += int64(in.Bytes)
		}
		if used := st.Used(); used != sum || used > st.Size() {
			t.Fatalf("Used() = %d; the live sets hold %d; Size() = %d", used, sum, st.Size())
		}
	})
	t.Run("EmptyAfterSweep", func(t *testing.T) {
		if _, err := st.Expire(ctx, clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if used := st.Used(); used != 0 {
			t.Fatalf("Used() = %d after every set expired", used)
		}
		if infos, _ := st.EntitySets(ctx); len(infos) != 0 {
			t.Fatalf("EntitySets lists %d sets after every set expired", len(infos))
		}
	})
}
