package inmem_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

// randomHalf returns the rows a filter keeping each row of a table of n rows
// with probability 1/2 selects, in ascending order (as a query returns them).
func randomHalf(n int, seed uint64) []fourd.RowID {
	rnd := rand.New(rand.NewPCG(seed, 1))
	rows := make([]fourd.RowID, 0, n/2+n/100)
	for r := range fourd.RowID(n) {
		if rnd.IntN(2) == 0 {
			rows = append(rows, r)
		}
	}
	return rows
}

func wholeTable(n int) []fourd.RowID {
	rows := make([]fourd.RowID, n)
	for i := range rows {
		rows[i] = fourd.RowID(i)
	}
	return rows
}

// every returns n rows, one every step rows.
func every(step, n int) []fourd.RowID {
	rows := make([]fourd.RowID, n)
	for i := range rows {
		rows[i] = fourd.RowID(i * step)
	}
	return rows
}

// shortRuns returns runs of length rows at the start of n 65,536-row chunks:
// one run container each.
func shortRuns(n, length int) []fourd.RowID {
	var rows []fourd.RowID
	for c := range n {
		for i := range length {
			rows = append(rows, fourd.RowID(c<<16+i))
		}
	}
	return rows
}

// shuffled returns rows in a random order: a set sorted by some attribute.
func shuffled(rows []fourd.RowID, seed uint64) []fourd.RowID {
	out := slices.Clone(rows)
	rand.New(rand.NewPCG(seed, 2)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// TestRowSetBytesTargets checks the targets: at most 0.5 byte an
// entity unsorted, 4.5 bytes sorted, for tables of 100,000 and 1,000,000
// rows.
func TestRowSetBytesTargets(t *testing.T) {
	for _, n := range []int{100000, 1000000} {
		for _, tc := range []struct {
			name   string
			rows   []fourd.RowID
			sorted bool
			max    float64
		}{
			{"UnsortedRandomHalf", randomHalf(n, 1), false, 0.5},
			{"UnsortedWholeTable", wholeTable(n), false, 0.5},
			{"SortedRandomHalf", shuffled(randomHalf(n, 1), 1), true, 4.5},
			{"SortedWholeTable", shuffled(wholeTable(n), 1), true, 4.5},
		} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, n), func(t *testing.T) {
				rs := inmem.NewRowSet(tc.rows, tc.sorted)
				perEntity := float64(rs.Bytes()) / float64(rs.Len())
				t.Logf("%d entities, %d bytes, %.3f bytes/entity", rs.Len(), rs.Bytes(), perEntity)
				if perEntity > tc.max {
					t.Fatalf("%.3f bytes/entity, target ≤ %.1f", perEntity, tc.max)
				}
			})
		}
	}
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}

// TestRowSetBytesMatchHeap compares what Bytes reports with what the Go
// heap holds once the sets are built and the garbage collected. The
// difference left is the allocator's rounding to size classes, which Bytes
// leaves out.
func TestRowSetBytesMatchHeap(t *testing.T) {
	if raceEnabled() {
		t.Skip("-race: the allocator pads small objects (no tiny allocator), so the heap holds more than a normal build")
	}
	for _, tc := range []struct {
		name      string
		rows      []fourd.RowID
		sorted    bool
		tolerance float64
	}{
		{"BitmapContainers", randomHalf(1000000, 2), false, 0.02},
		{"ArrayContainers", every(20, 32768), false, 0.15}, // 3,277 rows a chunk
		{"ArrayContainersSparse", shuffled(randomHalf(1000000, 3), 3)[:2000], false, 0.15},
		{"RunContainers", shortRuns(16, 10), false, 0.15},
		{"Array", shuffled(randomHalf(1000000, 4), 4), true, 0.02},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Enough copies to weigh a few megabytes, far above the noise.
			copies := max(20, 4<<20/inmem.NewRowSet(tc.rows, tc.sorted).Bytes())
			sets := make([]fourd.RowSet, copies)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range sets {
				sets[i] = inmem.NewRowSet(tc.rows, tc.sorted)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap := float64(int64(after.HeapAlloc) - int64(before.HeapAlloc))
			reported := float64(copies * sets[0].Bytes())
			t.Logf("%d sets of %d rows: Bytes %.0f, heap %.0f (%.1f %%)", copies, sets[0].Len(), reported, heap, 100*(reported-heap)/heap)
			if reported > heap*(1+tc.tolerance) || reported < heap*(1-tc.tolerance) {
				t.Fatalf("Bytes reports %.0f bytes for sets that hold %.0f, more than %.0f %% apart", reported, heap, 100*tc.tolerance)
			}
			runtime.KeepAlive(sets)
		})
	}
}

func TestRowSetPage(t *testing.T) {
	for _, sorted := range []bool{false, true} {
		rs := inmem.NewRowSet([]fourd.RowID{1, 2, 3}, sorted)
		t.Run(fmt.Sprintf("NegativeSkipIsZero/sorted=%v", sorted), func(t *testing.T) {
			if got := rs.Page(-5, 2); !slices.Equal(got, []fourd.RowID{1, 2}) {
				t.Fatalf("Page(-5, 2) = %v", got)
			}
		})
		t.Run(fmt.Sprintf("NegativeTopIsEmpty/sorted=%v", sorted), func(t *testing.T) {
			if got := rs.Page(0, -1); len(got) != 0 {
				t.Fatalf("Page(0, -1) = %v", got)
			}
		})
		t.Run(fmt.Sprintf("HugeTopIsTheRest/sorted=%v", sorted), func(t *testing.T) {
			if got := rs.Page(1, 1<<62); !slices.Equal(got, []fourd.RowID{2, 3}) {
				t.Fatalf("Page(1, 1<<62) = %v", got)
			}
		})
		t.Run(fmt.Sprintf("PageIsACopy/sorted=%v", sorted), func(t *testing.T) {
			rs.Page(0, 3)[0] = 99
			if rs.Contains(99) || !rs.Contains(1) {
				t.Fatalf("changing a page changed the set: %v", rs.AppendTo(nil))
			}
		})
	}
}

// foreignRows is a RowSet of another backend.
type foreignRows []fourd.RowID

func (f foreignRows) Len() int                                 { return len(f) }
func (f foreignRows) Sorted() bool                             { return true }
func (f foreignRows) Bytes() int                               { return 4 * len(f) }
func (f foreignRows) Page(skip, n int) []fourd.RowID           { return f[skip : skip+n] }
func (f foreignRows) Contains(r fourd.RowID) bool              { return slices.Contains(f, r) }
func (f foreignRows) AppendTo(dst []fourd.RowID) []fourd.RowID { return append(dst, f...) }

func TestCombine(t *testing.T) {
	bitmap := inmem.NewRowSet([]fourd.RowID{1, 2, 3}, false)
	array := inmem.NewRowSet([]fourd.RowID{3, 2}, true)
	foreign := foreignRows{4, 3}
	for _, tc := range []struct {
		name  string
		a, b  fourd.RowSet
		op    fourd.SetOperator
		want  []fourd.RowID
		share bool
	}{
		{"LowerCaseOperator", bitmap, array, "except", []fourd.RowID{1}, false},
		{"MixedCaseOperator", bitmap, array, "Intersect", nil, true},
		{"NilIsEmpty", bitmap, nil, fourd.SetOr, []fourd.RowID{1, 2, 3}, false},
		{"NilIntersectsNothing", nil, bitmap, fourd.SetIntersect, nil, false},
		{"ForeignRowSet", foreign, bitmap, fourd.SetAnd, []fourd.RowID{3}, false},
		{"ForeignIntersectsArray", array, foreign, fourd.SetIntersect, nil, true},
		{"ForeignIntersectsBitmap", foreign, bitmap, fourd.SetIntersect, nil, true},
		{"ForeignDisjoint", foreignRows{9}, array, fourd.SetIntersect, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, share, err := inmem.Combine(tc.a, tc.b, tc.op)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if got != nil || share != tc.share {
					t.Fatalf("%s = %v, %v; want nil, %v", tc.op, got, share, tc.share)
				}
				return
			}
			if rows := got.AppendTo(nil); !slices.Equal(rows, tc.want) || got.Sorted() {
				t.Fatalf("%s = %v, want %v", tc.op, rows, tc.want)
			}
		})
	}
}
