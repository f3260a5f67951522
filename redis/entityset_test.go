package redis_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/redis"
	"github.com/fourd/fourd/storetest"
)

func openEntitySetStore(t *testing.T, size int64, now func() time.Time) fourd.EntitySetStore {
	st := redis.NewEntitySetStore(redistest.Open(t), size)
	st.Now = now
	return st
}

func TestEntitySetStore(t *testing.T) {
	t.Parallel()
	storetest.TestEntitySetStore(t, openEntitySetStore)
}

// Two stores on one DB are two nodes of a cluster.
func TestEntitySetStoreAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := redistest.Open(t)
	clock := storetest.NewClock(time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC))
	a, b := redis.NewEntitySetStore(db, 1<<20), redis.NewEntitySetStore(db, 1<<20)
	a.Now, b.Now = clock.Now, clock.Now
	put := func(st *redis.EntitySetStore, id string, rows []fourd.RowID) {
		t.Helper()
		now := clock.Now()
		if err := st.Put(ctx, &fourd.EntitySet{ID: id, DataClass: "Employee", Rows: st.NewRowSet(rows, true),
			SessionID: "S", Created: now, Refreshed: now, Timeout: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	page := func(st *redis.EntitySetStore, id string) []fourd.RowID {
		t.Helper()
		es, err := st.Get(ctx, id, clock.Now())
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		return es.Rows.Page(0, 10)
	}
	const id = "00000000000000000000000000000001"
	put(a, id, []fourd.RowID{3, 2, 1})
	t.Run("PutThroughOneGotThroughOther", func(t *testing.T) {
		if got := page(b, id); !slices.Equal(got, []fourd.RowID{3, 2, 1}) {
			t.Fatalf("node b pages %v", got)
		}
	})
	t.Run("ReplacementSeenByNodeHoldingOldRows", func(t *testing.T) {
		page(b, id) // b holds the rows decoded
		put(a, id, []fourd.RowID{9, 8})
		if got := page(b, id); !slices.Equal(got, []fourd.RowID{9, 8}) {
			t.Fatalf("node b pages %v after node a replaced the set", got)
		}
	})
	t.Run("ReleaseSeenByNodeHoldingRows", func(t *testing.T) {
		page(b, id)
		if err := a.Release(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, id, clock.Now()); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("node b's Get after node a's release: %v", err)
		}
		if a.Used() != 0 || b.Used() != 0 {
			t.Fatalf("Used() = %d and %d after the release", a.Used(), b.Used())
		}
	})
	t.Run("EvictionByOneNodeSeenByOther", func(t *testing.T) {
		rows := make([]fourd.RowID, 1000)
		one := (&fourd.EntitySet{ID: id, DataClass: "Employee", Rows: a.NewRowSet(rows, true), SessionID: "S"}).Bytes()
		small := redis.NewEntitySetStore(db, int64(one+one/2))
		small.Now = clock.Now
		put(small, "00000000000000000000000000000002", rows)
		page(b, "00000000000000000000000000000002")
		put(small, "00000000000000000000000000000003", rows)
		if _, err := b.Get(ctx, "00000000000000000000000000000002", clock.Now()); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("node b's Get of a set evicted by another node: %v", err)
		}
		if used := b.Used(); used != int64(one) {
			t.Fatalf("Used() = %d, want %d: one set", used, one)
		}
	})
}
