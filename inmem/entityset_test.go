package inmem_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/storetest"
)

func openEntitySetStore(t *testing.T, size int64, now func() time.Time) fourd.EntitySetStore {
	st := inmem.NewEntitySetStore(size)
	st.Now = now
	return st
}

func TestEntitySetStore(t *testing.T) {
	storetest.TestEntitySetStore(t, openEntitySetStore)
}

var t0 = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

// newSet returns an unsorted set of n rows refreshed at t0.
func newSet(id, session string, n int, timeout time.Duration) *fourd.EntitySet {
	rows := make([]fourd.RowID, n)
	for i := range rows {
		rows[i] = fourd.RowID(i * 3) // an array or a bitmap container, never runs
	}
	return &fourd.EntitySet{ID: id, DataClass: "Employee", Rows: inmem.NewRowSet(rows, false), SessionID: session,
		Created: t0, Refreshed: t0, Timeout: timeout}
}

func mustPut(tb testing.TB, st *inmem.EntitySetStore, sets ...*fourd.EntitySet) {
	tb.Helper()
	for _, es := range sets {
		if err := st.Put(context.Background(), es); err != nil {
			tb.Fatalf("Put(%s): %v", es.ID, err)
		}
	}
}

// These go beyond the root contract; see the EntitySetStore doc comment.
func TestEntitySetStoreInmem(t *testing.T) {
	ctx := context.Background()
	t.Run("ExpiredGoBeforeLeastRecentlyUsed", func(t *testing.T) {
		old, brief, mid := newSet("OLD", "S", 1000, time.Hour), newSet("BRF", "S", 1000, time.Minute), newSet("MID", "S", 1000, time.Hour)
		st := inmem.NewEntitySetStore(int64(3*old.Bytes() + old.Bytes()/2))
		st.Now = func() time.Time { return t0.Add(2 * time.Minute) }
		mustPut(t, st, old, brief, mid)
		if _, err := st.Get(ctx, "BRF", t0.Add(59*time.Second)); err != nil { // used last, then expired
			t.Fatal(err)
		}
		mustPut(t, st, newSet("NEW", "S", 1000, time.Hour))
		if got := st.Stats(); got.Expirations != 1 || got.Evictions != 0 {
			t.Fatalf("expirations %d, evictions %d; want BRF expired, none evicted", got.Expirations, got.Evictions)
		}
		if _, err := st.Get(ctx, "BRF", t0.Add(2*time.Minute)); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("Get(BRF) = %v, want ENOTFOUND", err)
		}
		for _, id := range []string{"OLD", "MID", "NEW"} {
			if _, err := st.Get(ctx, id, t0.Add(2*time.Minute)); err != nil {
				t.Fatalf("Get(%s): %v", id, err)
			}
		}
	})
	t.Run("CallerCopiesAreIndependent", func(t *testing.T) {
		st := inmem.NewEntitySetStore(1 << 20)
		es := newSet("A", "S", 10, time.Hour)
		mustPut(t, st, es)
		es.DataClass, es.Timeout = "Company", time.Second
		got, err := st.Get(ctx, "A", t0)
		if err != nil || got.DataClass != "Employee" || got.Timeout != time.Hour || got == es {
			t.Fatalf("after the caller changed its set: %+v, %v", got, err)
		}
		got.Refreshed = t0.Add(time.Hour)
		if again, _ := st.Get(ctx, "A", t0); !again.Refreshed.Equal(t0) {
			t.Fatalf("a change to a returned set reached the store: refreshed %v", again.Refreshed)
		}
	})
	t.Run("RefreshedNeverGoesBack", func(t *testing.T) {
		st := inmem.NewEntitySetStore(1 << 20)
		mustPut(t, st, newSet("A", "S", 10, time.Hour))
		st.Get(ctx, "A", t0.Add(time.Minute))
		got, err := st.Get(ctx, "A", t0.Add(time.Second))
		if err != nil || !got.Refreshed.Equal(t0.Add(time.Minute)) {
			t.Fatalf("Get with an earlier time: %+v, %v", got, err)
		}
	})
	t.Run("ExpiredGetRemoves", func(t *testing.T) {
		st := inmem.NewEntitySetStore(1 << 20)
		mustPut(t, st, newSet("A", "S", 10, time.Hour))
		if _, err := st.Get(ctx, "A", t0.Add(time.Hour)); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatal(err)
		}
		if _, err := st.Get(ctx, "A", t0); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("an earlier Get brought an expired set back: %v", err)
		}
		if st.Len() != 0 || st.Used() != 0 {
			t.Fatalf("%d sets, %d bytes left", st.Len(), st.Used())
		}
	})
	t.Run("TooBigMessage", func(t *testing.T) {
		st := inmem.NewEntitySetStore(1000)
		es := &fourd.EntitySet{ID: "BIG", Rows: inmem.NewRowSet(make([]fourd.RowID, 1000), true), Refreshed: t0, Timeout: time.Hour}
		err := st.Put(ctx, es)
		want := fmt.Sprintf(`entity set "BIG" of 1000 entities needs %d bytes, more than the whole entity-set cache (1000 bytes; see --cache-size)`, es.Bytes())
		if fourd.ErrorMessage(err) != want {
			t.Fatalf("message %q\nwant %q", fourd.ErrorMessage(err), want)
		}
	})
	t.Run("ZeroSizeHoldsNothing", func(t *testing.T) {
		st := inmem.NewEntitySetStore(-1)
		if err := st.Put(ctx, newSet("A", "S", 0, time.Hour)); fourd.ErrorCode(err) != fourd.EQUOTA || st.Size() != 0 {
			t.Fatalf("Put in a cache of size %d: %v", st.Size(), err)
		}
	})
}

// TestEntitySetStoreRemovalReasons checks that each way a set leaves the
// store is counted under its own reason.
func TestEntitySetStoreRemovalReasons(t *testing.T) {
	ctx := context.Background()
	one := newSet("EVICTED", "S", 100, time.Hour).Bytes()
	st := inmem.NewEntitySetStore(int64(2*one + 100)) // IDs differ in length
	st.Now = func() time.Time { return t0 }
	mustPut(t, st, newSet("EVICTED", "S", 100, time.Hour), newSet("EXPIRED", "S", 100, time.Minute))
	st.Expire(ctx, t0.Add(time.Minute))
	mustPut(t, st, newSet("RELEASED", "S", 100, time.Hour), newSet("SESSION", "T", 100, time.Hour)) // evicts EVICTED
	if err := st.Release(ctx, "RELEASED"); err != nil {
		t.Fatal(err)
	}
	st.ReleaseSession(ctx, "T")
	got := st.Stats()
	if got.Evictions != 1 || got.Expirations != 1 || got.Releases != 2 {
		t.Fatalf("evictions %d, expirations %d, releases %d; want 1, 1, 2", got.Evictions, got.Expirations, got.Releases)
	}
}

func TestEntitySetStoreStats(t *testing.T) {
	ctx := context.Background()
	one := newSet("X", "S", 100, time.Hour).Bytes()
	st := inmem.NewEntitySetStore(int64(2*one + one/2))
	st.Now = func() time.Time { return t0 }
	mustPut(t, st, newSet("A", "S", 100, time.Hour), newSet("B", "S", 100, time.Minute))
	st.Get(ctx, "A", t0)
	st.Get(ctx, "Z", t0)
	mustPut(t, st, newSet("C", "S", 100, time.Hour)) // evicts B
	st.Put(ctx, newSet("D", "S", 10000, time.Hour))  // refused
	st.Release(ctx, "A")
	mustPut(t, st, newSet("E", "S", 100, time.Minute))
	st.Expire(ctx, t0.Add(time.Minute))
	got := st.Stats()
	want := inmem.EntitySetStats{Sets: 1, Used: int64(one), Size: int64(2*one + one/2),
		Puts: 4, Refused: 1, Hits: 1, Misses: 1, Evictions: 1, Expirations: 1, Releases: 1}
	if got != want {
		t.Fatalf("Stats() = %+v\nwant %+v", got, want)
	}
}

// TestEntitySetStoreStress mixes every operation from many goroutines and
// checks the counters against what the goroutines saw. Run with -race.
func TestEntitySetStoreStress(t *testing.T) {
	ctx := context.Background()
	sets := make([]fourd.RowSet, 0, 16)
	for i := range 16 {
		sets = append(sets, inmem.NewRowSet(make([]fourd.RowID, 100*(i+1)), true))
	}
	one := (&fourd.EntitySet{ID: "00", SessionID: "S0", Rows: sets[15]}).Bytes()
	st := inmem.NewEntitySetStore(int64(8 * one))
	var mu sync.Mutex
	now := t0
	st.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	var (
		wg                 sync.WaitGroup
		total              sync.Mutex
		puts, hits, misses uint64
	)
	for w := range 16 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 9))
			var p, h, m uint64
			for range 1000 {
				id := fmt.Sprintf("%02d", rnd.IntN(40))
				at := st.Now()
				switch rnd.IntN(8) {
				case 0, 1:
					err := st.Put(ctx, &fourd.EntitySet{ID: id, SessionID: fmt.Sprintf("S%d", rnd.IntN(3)),
						Rows: sets[rnd.IntN(len(sets))], Refreshed: at, Timeout: time.Duration(1+rnd.IntN(30)) * time.Second})
					if err != nil {
						t.Error(err)
					}
					p++
				case 2, 3, 4:
					if _, err := st.Get(ctx, id, at); err == nil {
						h++
					} else {
						m++
					}
				case 5:
					st.Release(ctx, id)
				case 6:
					mu.Lock()
					now = now.Add(time.Duration(rnd.IntN(1000)) * time.Millisecond)
					mu.Unlock()
					st.Expire(ctx, st.Now())
				default:
					if rnd.IntN(2) == 0 {
						st.ReleaseSession(ctx, fmt.Sprintf("S%d", rnd.IntN(3)))
					} else {
						st.EntitySets(ctx)
					}
				}
				if used := st.Used(); used > st.Size() {
					t.Errorf("Used() = %d > Size() = %d", used, st.Size())
				}
			}
			total.Lock()
			puts, hits, misses = puts+p, hits+h, misses+m
			total.Unlock()
		})
	}
	wg.Wait()
	s := st.Stats()
	if s.Puts != puts || s.Hits != hits || s.Misses != misses {
		t.Fatalf("Stats %+v; the goroutines saw %d puts, %d hits, %d misses", s, puts, hits, misses)
	}
	if held := s.Puts - s.Evictions - s.Expirations - s.Releases; int(held) < s.Sets {
		// Replacements leave without a count, so held ≥ Sets.
		t.Fatalf("Stats %+v: %d puts not accounted for leave fewer than the %d sets held", s, held, s.Sets)
	}
	st.Expire(ctx, st.Now().Add(time.Hour))
	if st.Used() != 0 || st.Len() != 0 {
		t.Fatalf("after the last sweep: %d sets, %d bytes", st.Len(), st.Used())
	}
}
