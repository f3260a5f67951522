package inmem_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

func TestRowSetCodec(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	sparse := make([]fourd.RowID, 5000)
	for i := range sparse {
		sparse[i] = rnd.Uint32()
	}
	shapes := map[string][]fourd.RowID{
		"Empty": nil, "One": {7}, "Range": rowsFrom(0, 100000), "Sparse": sparse,
		"Edges": {0, 65535, 65536, 1<<32 - 1},
	}
	for name, rows := range shapes {
		for _, sorted := range []bool{false, true} {
			t.Run(name, func(t *testing.T) {
				rs := inmem.NewRowSet(rows, sorted)
				b, err := inmem.MarshalRowSet(rs)
				if err != nil {
					t.Fatal(err)
				}
				got, err := inmem.UnmarshalRowSet(b)
				if err != nil {
					t.Fatal(err)
				}
				if got.Sorted() != sorted || !slices.Equal(got.AppendTo(nil), rs.AppendTo(nil)) {
					t.Fatalf("sorted %v: decoded %d rows (sorted %v), want %d", sorted, got.Len(), got.Sorted(), rs.Len())
				}
				if got.Bytes() != rs.Bytes() {
					t.Fatalf("sorted %v: decoded set weighs %d bytes, the original %d", sorted, got.Bytes(), rs.Bytes())
				}
			})
		}
	}
	t.Run("ErrCorrupt", func(t *testing.T) {
		for _, b := range [][]byte{nil, {'a', 1, 2}, {'r', 1, 2, 3}, {'x'}} {
			if _, err := inmem.UnmarshalRowSet(b); err == nil {
				t.Fatalf("UnmarshalRowSet(%q) = nil error", b)
			}
		}
	})
}

func rowsFrom(from, to fourd.RowID) []fourd.RowID {
	rows := make([]fourd.RowID, 0, to-from)
	for r := from; r < to; r++ {
		rows = append(rows, r)
	}
	return rows
}
