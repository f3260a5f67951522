package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/fourd/fourd"
)

// testRowSet checks the two representations NewRowSet builds.
func testRowSet(t *testing.T, open OpenEntitySetStore) {
	st := open(t, 1<<20, NewClock(t0).Now)
	t.Run("Empty", func(t *testing.T) {
		for _, sorted := range []bool{false, true} {
			rs := st.NewRowSet(nil, sorted)
			if rs.Len() != 0 || rs.Sorted() != sorted || len(rs.Page(0, 20)) != 0 || len(rs.AppendTo(nil)) != 0 || rs.Contains(0) {
				t.Fatalf("empty set (sorted %v): Len %d, Sorted %v, Page %v", sorted, rs.Len(), rs.Sorted(), rs.Page(0, 20))
			}
			if rs.Bytes() <= 0 {
				t.Fatalf("an empty set holds %d bytes", rs.Bytes())
			}
		}
	})
	t.Run("UnsortedAscendingWithoutDuplicates", func(t *testing.T) {
		rs := st.NewRowSet([]fourd.RowID{70000, 3, 1 << 31, 3, 0, 65535, 65536, 70000}, false)
		want := []fourd.RowID{0, 3, 65535, 65536, 70000, 1 << 31}
		if got := rs.AppendTo(nil); !slices.Equal(got, want) || rs.Len() != len(want) || rs.Sorted() {
			t.Fatalf("unsorted set: %v (Len %d, Sorted %v), want %v", got, rs.Len(), rs.Sorted(), want)
		}
	})
	t.Run("UnsortedRangesAndGaps", func(t *testing.T) {
		for _, tc := range []struct{ in, want []fourd.RowID }{
			{[]fourd.RowID{5, 6, 7, 8}, []fourd.RowID{5, 6, 7, 8}},
			{[]fourd.RowID{1, 1, 3}, []fourd.RowID{1, 3}}, // as many rows as the span, yet a gap
			{[]fourd.RowID{1<<32 - 2, 1<<32 - 1}, []fourd.RowID{1<<32 - 2, 1<<32 - 1}},
			{[]fourd.RowID{0}, []fourd.RowID{0}},
		} {
			if got := st.NewRowSet(tc.in, false).AppendTo(nil); !slices.Equal(got, tc.want) {
				t.Fatalf("NewRowSet(%v) = %v, want %v", tc.in, got, tc.want)
			}
		}
	})
	t.Run("SortedKeepsOrder", func(t *testing.T) {
		in := []fourd.RowID{9, 1 << 31, 0, 70000, 4}
		rs := st.NewRowSet(in, true)
		if got := rs.AppendTo(nil); !slices.Equal(got, in) || rs.Len() != len(in) || !rs.Sorted() {
			t.Fatalf("sorted set: %v (Len %d, Sorted %v), want %v", got, rs.Len(), rs.Sorted(), in)
		}
	})
	t.Run("InputCopied", func(t *testing.T) {
		for _, sorted := range []bool{false, true} {
			in := []fourd.RowID{5, 2, 8}
			rs := st.NewRowSet(in, sorted)
			in[0], in[1], in[2] = 100, 101, 102
			if rs.Contains(100) || !rs.Contains(5) || rs.Len() != 3 {
				t.Fatalf("sorted %v: the set changed with the slice it was built from: %v", sorted, rs.AppendTo(nil))
			}
		}
	})
	t.Run("AppendToKeepsPrefix", func(t *testing.T) {
		for _, sorted := range []bool{false, true} {
			rs := st.NewRowSet([]fourd.RowID{2, 1}, sorted)
			dst := append(make([]fourd.RowID, 0, 8), 7, 7)
			got := rs.AppendTo(dst)
			want := []fourd.RowID{7, 7, 1, 2}
			if sorted {
				want = []fourd.RowID{7, 7, 2, 1}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("sorted %v: AppendTo([7 7]) = %v, want %v", sorted, got, want)
			}
		}
	})
	t.Run("Page", func(t *testing.T) { testPage(t, st) })
	t.Run("MatchesSortedSlice", func(t *testing.T) { testRowSetProperties(t, st) })
	t.Run("ConcurrentReads", func(t *testing.T) { testRowSetConcurrentReads(t, st) })
}

// testPage pages through a set of 1,000 rows of each representation: the
// unsorted one spans several 65,536-row chunks.
func testPage(t *testing.T, st fourd.EntitySetStore) {
	const n = 1000
	asc := make([]fourd.RowID, n)
	for i := range asc {
		asc[i] = fourd.RowID(i) * 997 // 0 … 996,003
	}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	for _, tc := range []struct {
		name string
		rs   fourd.RowSet
		want []fourd.RowID // the rows in order
	}{
		{"Unsorted", st.NewRowSet(desc, false), asc},
		{"Sorted", st.NewRowSet(desc, true), desc},
	} {
		for _, p := range []struct {
			name       string
			skip, top  int
			start, end int // of want
		}{
			{"Start", 0, 20, 0, 20},
			{"Middle", 500, 20, 500, 520},
			{"AcrossChunks", 60, 10, 60, 70}, // 65,536 lies between rows 65 and 66
			{"EndPartial", 990, 20, 990, n},
			{"EndExact", 980, 20, 980, n},
			{"Whole", 0, n + 5, 0, n},
			{"PastEnd", n, 20, n, n},
			{"FarPastEnd", 10 * n, 20, n, n},
			{"TopZero", 10, 0, 10, 10},
		} {
			t.Run(tc.name+"/"+p.name, func(t *testing.T) {
				got := tc.rs.Page(p.skip, p.top)
				if want := tc.want[p.start:p.end]; !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
					t.Fatalf("Page(%d, %d) = %v\nwant %v", p.skip, p.top, got, want)
				}
			})
		}
	}
}

// testRowSetProperties compares both representations, built from random
// rows of many shapes (sparse, dense, runs, duplicates, any order, across
// chunk boundaries and up to the largest row), with a plain slice.
func testRowSetProperties(t *testing.T, st fourd.EntitySetStore) {
	rnd := rand.New(rand.NewPCG(4, 20))
	shapes := []struct {
		name string
		gen  func(n int) []fourd.RowID
	}{
		{"Sparse", func(n int) []fourd.RowID {
			rows := make([]fourd.RowID, n)
			for i := range rows {
				rows[i] = rnd.Uint32()
			}
			return rows
		}},
		{"Dense", func(n int) []fourd.RowID {
			limit := uint32(n + n/2 + 1)
			rows := make([]fourd.RowID, n)
			for i := range rows {
				rows[i] = rnd.Uint32N(limit)
			}
			return rows
		}},
		{"Runs", func(n int) []fourd.RowID {
			var rows []fourd.RowID
			for start := rnd.Uint32N(200000); len(rows) < n; start += 1 + rnd.Uint32N(5000) {
				for l := rnd.IntN(3000); l > 0 && len(rows) < n; l-- {
					rows = append(rows, start)
					start++
				}
			}
			return rows
		}},
		{"Edges", func(n int) []fourd.RowID {
			rows := []fourd.RowID{0, 65535, 65536, 131071, 131072, 1<<32 - 1, 1<<32 - 2, 1 << 16 * 100}
			for len(rows) < n {
				rows = append(rows, 1<<32-1-rnd.Uint32N(100000))
			}
			return rows
		}},
	}
	for _, shape := range shapes {
		for _, n := range []int{1, 7, 4096, 4097, 30000, 150000} {
			t.Run(fmt.Sprintf("%s/%d", shape.name, n), func(t *testing.T) {
				in := shape.gen(n)
				rnd.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
				want := slices.Compact(slices.Sorted(slices.Values(in)))
				checkRowSet(t, rnd, st.NewRowSet(in, false), want, false)
				checkRowSet(t, rnd, st.NewRowSet(want, false), want, false)
				// A sorted set of distinct rows in a random order.
				order := slices.Clone(want)
				rnd.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				checkRowSet(t, rnd, st.NewRowSet(order, true), order, true)
			})
		}
	}
}

// checkRowSet compares rs with want (its rows in order, distinct).
func checkRowSet(t *testing.T, rnd *rand.Rand, rs fourd.RowSet, want []fourd.RowID, sorted bool) {
	t.Helper()
	if rs.Len() != len(want) || rs.Sorted() != sorted {
		t.Fatalf("Len %d, Sorted %v; want %d, %v", rs.Len(), rs.Sorted(), len(want), sorted)
	}
	if got := rs.AppendTo(nil); !slices.Equal(got, want) {
		t.Fatalf("AppendTo differs from the %d rows expected", len(want))
	}
	n := len(want)
	skips := []int{0, n / 2, max(n-1, 0), n, n + 1}
	for range 30 {
		skips = append(skips, rnd.IntN(n+1))
	}
	for _, skip := range skips {
		top := 1 + rnd.IntN(50)
		end := min(skip+top, n)
		got := rs.Page(skip, top)
		if skip >= n {
			if len(got) != 0 {
				t.Fatalf("Page(%d, %d) past the end of %d rows = %v", skip, top, n, got)
			}
			continue
		}
		if !slices.Equal(got, want[skip:end]) {
			t.Fatalf("Page(%d, %d) = %v, want %v", skip, top, got, want[skip:end])
		}
	}
	ascending := slices.Sorted(slices.Values(want))
	member := func(r fourd.RowID) bool { _, ok := slices.BinarySearch(ascending, r); return ok }
	for range 50 {
		r := want[rnd.IntN(n)]
		if !rs.Contains(r) {
			t.Fatalf("Contains(%d) = false for a row of the set", r)
		}
		for _, probe := range []fourd.RowID{r + 1, r - 1, rnd.Uint32()} {
			if rs.Contains(probe) != member(probe) {
				t.Fatalf("Contains(%d) = %v, want %v", probe, rs.Contains(probe), member(probe))
			}
		}
	}
}

// testRowSetConcurrentReads reads the same row sets from many goroutines:
// with -race, it proves that reading never writes.
func testRowSetConcurrentReads(t *testing.T, st fourd.EntitySetStore) {
	rnd := rand.New(rand.NewPCG(7, 7))
	var half []fourd.RowID
	for r := range fourd.RowID(300000) {
		if rnd.IntN(2) == 0 {
			half = append(half, r)
		}
	}
	perm := slices.Clone(half[:50000])
	rnd.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	sets := []fourd.RowSet{st.NewRowSet(half, false), st.NewRowSet(perm, true), st.NewRowSet(rowRange(1000, 200000), false)}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 3))
			for i := range 50 {
				a, b := sets[r.IntN(len(sets))], sets[r.IntN(len(sets))]
				a.Page(r.IntN(a.Len()), 20)
				a.Contains(r.Uint32N(300000))
				if i%10 == 0 {
					a.AppendTo(nil)
				}
				op := []fourd.SetOperator{fourd.SetAnd, fourd.SetOr, fourd.SetExcept, fourd.SetIntersect}[r.IntN(4)]
				if c, _, err := st.Combine(a, b, op); err != nil {
					t.Error(err)
				} else if c != nil {
					c.Page(c.Len()/2, 20)
				}
			}
		})
	}
	wg.Wait()
	for i, rs := range sets { // and nothing changed
		want := [][]fourd.RowID{half, perm, rowRange(1000, 200000)}[i]
		if got := rs.AppendTo(nil); !slices.Equal(got, want) {
			t.Fatalf("set %d changed while it was read", i)
		}
	}
}

// testCombine checks the truth tables of $logicOperator on small sets of
// both representations, in every pairing.
func testCombine(t *testing.T, open OpenEntitySetStore) {
	st := open(t, 1<<20, NewClock(t0).Now)
	// Rows on both sides of a chunk boundary.
	a := []fourd.RowID{70000, 1, 3, 2, 1 << 31}   // {1 2 3 70000 2^31}
	b := []fourd.RowID{6, 3, 70000, 4, 1<<31 + 1} // {3 4 6 70000 2^31+1}
	disjoint := []fourd.RowID{10, 11, 1 << 30}
	reprs := []struct {
		name   string
		sorted bool
	}{{"Unsorted", false}, {"Sorted", true}}
	for _, ra := range reprs {
		for _, rb := range reprs {
			x, y := st.NewRowSet(a, ra.sorted), st.NewRowSet(b, rb.sorted)
			z := st.NewRowSet(disjoint, rb.sorted)
			empty := st.NewRowSet(nil, rb.sorted)
			for _, tc := range []struct {
				name  string
				x, y  fourd.RowSet
				op    fourd.SetOperator
				want  []fourd.RowID
				share bool
			}{
				{"AND", x, y, fourd.SetAnd, []fourd.RowID{3, 70000}, false},
				{"OR", x, y, fourd.SetOr, []fourd.RowID{1, 2, 3, 4, 6, 70000, 1 << 31, 1<<31 + 1}, false},
				{"EXCEPT", x, y, fourd.SetExcept, []fourd.RowID{1, 2, 1 << 31}, false},
				{"EXCEPTReversed", y, x, fourd.SetExcept, []fourd.RowID{4, 6, 1<<31 + 1}, false},
				{"INTERSECTTrue", x, y, fourd.SetIntersect, nil, true},
				{"INTERSECTFalseDisjoint", x, z, fourd.SetIntersect, nil, false},
				{"INTERSECTFalseEmpty", x, empty, fourd.SetIntersect, nil, false},
				{"ANDDisjointEmpty", x, z, fourd.SetAnd, []fourd.RowID{}, false},
				{"ANDEmpty", x, empty, fourd.SetAnd, []fourd.RowID{}, false},
				{"OREmpty", x, empty, fourd.SetOr, []fourd.RowID{1, 2, 3, 70000, 1 << 31}, false},
				{"EXCEPTEmpty", x, empty, fourd.SetExcept, []fourd.RowID{1, 2, 3, 70000, 1 << 31}, false},
				{"EXCEPTSelf", x, x, fourd.SetExcept, []fourd.RowID{}, false},
			} {
				t.Run(ra.name+rb.name+"/"+tc.name, func(t *testing.T) {
					got, share, err := st.Combine(tc.x, tc.y, tc.op)
					if err != nil {
						t.Fatal(err)
					}
					if tc.op == fourd.SetIntersect {
						if got != nil || share != tc.share {
							t.Fatalf("INTERSECT = %v, %v; want nil, %v", got, share, tc.share)
						}
						return
					}
					if got == nil {
						t.Fatalf("%s = nil, want a set", tc.op)
					}
					if rows := got.AppendTo([]fourd.RowID{}); got.Sorted() || got.Len() != len(tc.want) || !slices.Equal(rows, tc.want) {
						t.Fatalf("%s = %v (Len %d, Sorted %v); want the unsorted set %v", tc.op, rows, got.Len(), got.Sorted(), tc.want)
					}
				})
			}
		}
	}
	t.Run("ErrUnknownOperator", func(t *testing.T) {
		x := st.NewRowSet(a, false)
		_, _, err := st.Combine(x, x, "XOR")
		wantCode(t, err, fourd.EINVALID, fourd.ErrCodeBadParameter)
	})
}
