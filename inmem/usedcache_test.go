package inmem_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

// TestUsedMatchesHeap puts 10,000 sets in a store, as the server makes
// them (a new ID, new rows, the caller's EntitySet dropped after Put), and
// compares Used, what $info reports as usedCache, with the growth of the
// Go heap once the garbage is collected. Tolerant: 5 %, the goal.
func TestUsedMatchesHeap(t *testing.T) {
	if raceEnabled() {
		t.Skip("-race: the allocator pads small objects, so the heap holds more than a normal build")
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		rows   func(i int) []fourd.RowID
		sorted bool
	}{
		{"Sorted20", func(i int) []fourd.RowID { return shuffled(randomHalf(200, uint64(i)), uint64(i))[:20] }, true},
		{"Sorted1000", func(i int) []fourd.RowID { return shuffled(randomHalf(4000, uint64(i)), uint64(i))[:1000] }, true},
		{"Bitmap2000", func(i int) []fourd.RowID { return randomHalf(4000, uint64(i)) }, false},
		{"BitmapOneRow", func(i int) []fourd.RowID { return []fourd.RowID{fourd.RowID(i)} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 10000
			rows := make([][]fourd.RowID, n)
			for i := range rows {
				rows[i] = tc.rows(i)
			}
			sessions := make([]string, 100)
			for i := range sessions {
				sessions[i] = fourd.NewID()
			}
			st := inmem.NewEntitySetStore(1 << 40)
			st.Now = func() time.Time { return t0 }
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range n {
				es := &fourd.EntitySet{ID: fourd.NewID(), DataClass: "Employee", Rows: inmem.NewRowSet(rows[i], tc.sorted),
					SessionID: sessions[i%len(sessions)], Created: t0, Refreshed: t0, Timeout: fourd.DefaultEntitySetTimeout}
				if err := st.Put(ctx, es); err != nil {
					t.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap := float64(int64(after.HeapAlloc) - int64(before.HeapAlloc))
			used := float64(st.Used())
			t.Logf("%d sets: usedCache %.0f, heap growth %.0f: %.3f of it", n, used, heap, used/heap)
			if used > heap*1.05 || used < heap*0.95 {
				t.Errorf("usedCache %.0f is %.3f of the heap growth %.0f; want within 5 %%", used, used/heap, heap)
			}
			runtime.KeepAlive(rows)
			runtime.KeepAlive(st)
		})
	}
}
