package inmem_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

// BenchmarkNewRowSet builds the sets of the targets: a filter that
// keeps half the rows of a table at random (rows in ascending order, as a
// query without $orderby returns them, or in a random order, as one sorted
// by an attribute returns them) and the whole table.
//
//	go test -run=XXX -bench=NewRowSet -benchmem ./inmem
func BenchmarkNewRowSet(b *testing.B) {
	for _, n := range []int{100000, 1000000} {
		half, whole := randomHalf(n, 1), wholeTable(n)
		for _, bc := range []struct {
			name   string
			rows   []fourd.RowID
			sorted bool
		}{
			{"Unsorted/RandomHalf", half, false},
			{"Unsorted/RandomHalfShuffled", shuffled(half, 1), false},
			{"Unsorted/WholeTable", whole, false},
			{"Sorted/RandomHalf", shuffled(half, 2), true},
			{"Sorted/WholeTable", shuffled(whole, 2), true},
		} {
			b.Run(fmt.Sprintf("%s/table=%d", bc.name, n), func(b *testing.B) {
				var rs fourd.RowSet
				for b.Loop() {
					rs = inmem.NewRowSet(bc.rows, bc.sorted)
				}
				b.ReportMetric(float64(rs.Bytes())/float64(rs.Len()), "bytes/entity")
				b.ReportMetric(float64(rs.Len()), "entities")
			})
		}
	}
}

// BenchmarkRowSetPage reads a page of 20 at the start, middle and end of
// sets of about 1,000,000 rows.
//
//	go test -run=XXX -bench=RowSetPage -benchmem ./inmem
func BenchmarkRowSetPage(b *testing.B) {
	for _, bc := range []struct {
		name string
		rs   fourd.RowSet
	}{
		{"Bitmap/RandomHalf", inmem.NewRowSet(randomHalf(2000000, 3), false)}, // 1,000,000 rows in 2,000,000
		{"Bitmap/WholeTable", inmem.NewRowSet(wholeTable(1000000), false)},
		{"Array/Shuffled", inmem.NewRowSet(shuffled(wholeTable(1000000), 3), true)},
	} {
		n := bc.rs.Len()
		for _, at := range []struct {
			name string
			skip int
		}{{"Start", 0}, {"Middle", n / 2}, {"End", n - 20}} {
			b.Run(bc.name+"/"+at.name, func(b *testing.B) {
				for b.Loop() {
					if page := bc.rs.Page(at.skip, 20); len(page) != 20 {
						b.Fatalf("Page(%d, 20) returned %d rows", at.skip, len(page))
					}
				}
			})
		}
	}
}

// BenchmarkEntitySetStore measures the store's own work on a cache holding
// 10,000 sets: Put then Get of a set (its rows built beforehand), Get alone
// from every core, and the $info snapshot.
//
//	go test -run=XXX -bench=EntitySetStore -benchmem ./inmem
func BenchmarkEntitySetStore(b *testing.B) {
	ctx := context.Background()
	const held = 10000
	rows := inmem.NewRowSet(randomHalf(2000, 4), false)
	ids := make([]string, 4*held)
	for i := range ids {
		ids[i] = fourd.NewID()
	}
	open := func(b *testing.B) *inmem.EntitySetStore {
		st := inmem.NewEntitySetStore(209715200)
		st.Now = func() time.Time { return t0 }
		for _, id := range ids[:held] {
			mustPut(b, st, &fourd.EntitySet{ID: id, DataClass: "Employee", Rows: rows, SessionID: ids[0],
				Created: t0, Refreshed: t0, Timeout: fourd.DefaultEntitySetTimeout})
		}
		return st
	}
	b.Run("PutGet", func(b *testing.B) {
		st := open(b)
		i := 0
		for b.Loop() {
			id := ids[held+i%(len(ids)-held)]
			i++
			if err := st.Put(ctx, &fourd.EntitySet{ID: id, DataClass: "Employee", Rows: rows, SessionID: ids[0],
				Created: t0, Refreshed: t0, Timeout: fourd.DefaultEntitySetTimeout}); err != nil {
				b.Fatal(err)
			}
			if _, err := st.Get(ctx, id, t0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PutEvicting", func(b *testing.B) {
		// A cache that is full: every Put evicts the least recently used.
		st := inmem.NewEntitySetStore(int64(held * (&fourd.EntitySet{ID: ids[0], DataClass: "Employee", Rows: rows, SessionID: ids[0]}).Bytes()))
		st.Now = func() time.Time { return t0 }
		i := 0
		for b.Loop() {
			id := ids[i%len(ids)]
			i++
			if err := st.Put(ctx, &fourd.EntitySet{ID: id, DataClass: "Employee", Rows: rows, SessionID: ids[0],
				Created: t0, Refreshed: t0, Timeout: fourd.DefaultEntitySetTimeout}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetParallel", func(b *testing.B) {
		st := open(b)
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := st.Get(ctx, ids[i%held], t0); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
	b.Run("EntitySets", func(b *testing.B) {
		st := open(b)
		for b.Loop() {
			if infos, _ := st.EntitySets(ctx); len(infos) != held {
				b.Fatalf("%d sets listed", len(infos))
			}
		}
	})
}

// BenchmarkSessionQuota is what making an entity set costs the store while
// the session already holds n sets: the quota check (SessionSets), the Put
// of the new set, then its Release (so that n stays the same). Each set has
// its own timeout, so that their expiries differ.
//
//	go test -run=XXX -bench=SessionQuota -benchmem ./inmem
func BenchmarkSessionQuota(b *testing.B) {
	ctx := context.Background()
	rows := inmem.NewRowSet(randomHalf(2000, 5), false)
	for _, n := range []int{1, 55000} {
		b.Run(fmt.Sprintf("sets=%d", n), func(b *testing.B) {
			st := inmem.NewEntitySetStore(1 << 40)
			st.Now = func() time.Time { return t0 }
			const session = "S"
			for i := range n {
				mustPut(b, st, &fourd.EntitySet{ID: fourd.NewID(), DataClass: "Employee", Rows: rows, SessionID: session,
					Created: t0, Refreshed: t0, Timeout: time.Hour + time.Duration(i)*time.Millisecond})
			}
			id := fourd.NewID()
			for b.Loop() {
				held, first, err := st.SessionSets(ctx, session)
				if err != nil || held != n || first.IsZero() {
					b.Fatalf("SessionSets = %d, %v, %v; want %d sets", held, first, err, n)
				}
				mustPut(b, st, &fourd.EntitySet{ID: id, DataClass: "Employee", Rows: rows, SessionID: session,
					Created: t0, Refreshed: t0, Timeout: 2 * time.Hour})
				if err := st.Release(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
