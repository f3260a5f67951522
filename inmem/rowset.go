package inmem

import (
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/fourd/fourd"
)

// The two representations of an entity set's rows.
//
// An unsorted set is a roaring bitmap (github.com/RoaringBitmap/roaring/v2):
// the row space is cut into chunks of 65,536 rows, and each chunk holds its
// rows as the smallest of a sorted array of 16-bit values (2 bytes a row, up
// to 4,096 rows), a plain bitmap (8 KiB whatever the count) or a list of runs
// (4 bytes a run). A filter that keeps half the rows of a table at random
// costs about 0.25 byte a row; a whole table, a few bytes in all.
//
// A sorted set keeps an order of its own ($orderby), which no bitmap can, so
// it is a packed []uint32: 4 bytes a row.
//
// Both are immutable once built. Reading a roaring bitmap (Contains, Select,
// iterators, GetCardinality, And, Or, AndNot, Intersects) writes nothing in
// it as long as copy-on-write is off, which is roaring's default and is never
// turned on here: its binary operations then clone the containers they copy
// rather than marking the source shared (roaringArray.appendCopy). Every
// iterator is a fresh value owned by its caller. Concurrent readers are
// therefore safe; the conformance suite's RowSet/ConcurrentReads checks it
// under the race detector.

// Heap bytes of the fixed parts of the representations on 64-bit platforms,
// which roaring does not count. The test TestRowSetBytesMatchHeap compares
// the totals with what the Go heap really holds.
const (
	bitmapRowsHeader = 24 // bitmapRows: a pointer and two ints
	arrayRowsHeader  = 24 // arrayRows: a slice header
	roaringHeader    = 80 // roaring.Bitmap: three slice headers and a bool
	// Per container: its 2-byte key, its 16-byte interface value and its
	// 1-byte copy-on-write flag in the bitmap's three parallel slices.
	roaringPerContainer = 2 + 16 + 1
	roaringArrayStruct  = 24 // *arrayContainer: a []uint16 header
	roaringBitmapStruct = 32 // *bitmapContainer: an int and a []uint64 header
	roaringRunStruct    = 24 // *runContainer16: a []interval16 header
	// roaring's size of a run container counts 2 bytes for the run count
	// of its serialized form, which memory does not hold.
	roaringRunSerialExtra = 2
)

// NewRowSet builds the content of an entity set from rows. sorted keeps the
// rows in their order in a packed array (duplicates are kept, as given);
// unsorted stores them in a compressed bitmap, iterated in ascending row
// order (their order is lost and duplicates collapse). rows is copied: the
// caller may reuse it.
func NewRowSet(rows []fourd.RowID, sorted bool) fourd.RowSet {
	if sorted {
		return newArrayRows(rows)
	}
	return newBitmapRows(buildBitmap(rows))
}

// Combine applies a $logicOperator to two row sets of any representation
// (a nil RowSet is an empty one). SetAnd, SetOr and SetExcept return an
// unsorted set: the order of a sorted operand is lost, as a set operation
// has no order to keep. SetIntersect returns a nil RowSet and whether the
// two share a row. The operator is matched without regard to case; any
// other is refused with EINVALID.
func Combine(a, b fourd.RowSet, op fourd.SetOperator) (fourd.RowSet, bool, error) {
	switch strings.ToUpper(string(op)) {
	case string(fourd.SetIntersect):
		return nil, intersects(a, b), nil
	case string(fourd.SetAnd):
		return newBitmapRows(roaring.And(bitmapOf(a), bitmapOf(b))), false, nil
	case string(fourd.SetOr):
		return newBitmapRows(roaring.Or(bitmapOf(a), bitmapOf(b))), false, nil
	case string(fourd.SetExcept):
		return newBitmapRows(roaring.AndNot(bitmapOf(a), bitmapOf(b))), false, nil
	}
	return nil, false, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter,
		"$logicOperator must be AND, OR, EXCEPT or INTERSECT, not %q", op)
}

// bitmapRows is an unsorted set: a run-optimized roaring bitmap, never
// modified after newBitmapRows.
type bitmapRows struct {
	bm    *roaring.Bitmap
	n     int
	bytes int
}

var _ fourd.RowSet = (*bitmapRows)(nil)

// newBitmapRows takes bm over: it run-optimizes it and keeps a compact copy
// in which every slice is exactly as long as its content, so that Bytes
// is what the heap holds. bm must not be used afterwards.
func newBitmapRows(bm *roaring.Bitmap) *bitmapRows {
	bm.RunOptimize()
	// Building (appends, dense chunks, run conversion) leaves slack
	// capacity; Clone allocates every slice at its length.
	bm = bm.Clone()
	st := bm.Stats()
	bytes := bitmapRowsHeader + roaringHeader +
		int(st.Containers)*roaringPerContainer +
		int(st.ArrayContainers)*roaringArrayStruct + int(st.ArrayContainerBytes) +
		int(st.BitmapContainers)*roaringBitmapStruct + int(st.BitmapContainerBytes) +
		int(st.RunContainers)*(roaringRunStruct-roaringRunSerialExtra) + int(st.RunContainerBytes)
	return &bitmapRows{bm: bm, n: int(st.Cardinality), bytes: bytes}
}

// buildBitmap returns a bitmap of rows, in any order, duplicates allowed.
// Increasing, contiguous rows (a whole table) are added as one range. When
// the rows are dense enough (at least one in 64 of the rows up to the
// largest) it fills a plain bitset first, which costs no more than 8 bytes a
// row and avoids sorting; sparse rows are sorted first (on a copy) so that
// roaring appends to its containers instead of inserting into them.
func buildBitmap(rows []fourd.RowID) *roaring.Bitmap {
	if len(rows) == 0 {
		return roaring.New()
	}
	maxRow, increasing := rows[0], true
	for i, r := range rows[1:] {
		if r > maxRow {
			maxRow = r
		}
		if r <= rows[i] {
			increasing = false
		}
	}
	if increasing && int(maxRow-rows[0]) == len(rows)-1 {
		// Distinct and contiguous: a whole table, or a range of it.
		bm := roaring.New()
		bm.AddRange(uint64(rows[0]), uint64(maxRow)+1)
		return bm
	}
	if words := int(maxRow>>6) + 1; words <= len(rows) {
		dense := make([]uint64, words)
		for _, r := range rows {
			dense[r>>6] |= 1 << (r & 63)
		}
		// Without a copy, the bitmap containers point into dense until
		// newBitmapRows clones them; dense is then garbage.
		return roaring.FromDense(dense, false)
	}
	if !increasing {
		rows = slices.Clone(rows)
		slices.Sort(rows)
	}
	bm := roaring.New()
	bm.AddMany(rows)
	return bm
}

// bitmapOf returns the bitmap of rs, built for the occasion if rs is not
// one. The result is only read.
func bitmapOf(rs fourd.RowSet) *roaring.Bitmap {
	switch rs := rs.(type) {
	case nil:
		return roaring.New()
	case *bitmapRows:
		return rs.bm
	case *arrayRows:
		return buildBitmap(rs.rows)
	default:
		return buildBitmap(rs.AppendTo(make([]fourd.RowID, 0, rs.Len())))
	}
}

// intersects reports whether a and b share a row, probing a bitmap with
// the rows of the other set rather than building a second bitmap.
func intersects(a, b fourd.RowSet) bool {
	if a == nil || b == nil || a.Len() == 0 || b.Len() == 0 {
		return false
	}
	ab, aIsBitmap := a.(*bitmapRows)
	bb, bIsBitmap := b.(*bitmapRows)
	var probe *roaring.Bitmap
	switch {
	case aIsBitmap && bIsBitmap:
		return ab.bm.Intersects(bb.bm)
	case aIsBitmap:
		probe, a = ab.bm, b
	case bIsBitmap:
		probe = bb.bm
	default: // index the smaller one
		if a.Len() < b.Len() {
			a, b = b, a
		}
		probe = bitmapOf(b)
	}
	if aa, ok := a.(*arrayRows); ok {
		return slices.ContainsFunc(aa.rows, probe.Contains)
	}
	return slices.ContainsFunc(a.AppendTo(make([]fourd.RowID, 0, a.Len())), probe.Contains)
}

// Len implements fourd.RowSet.
func (r *bitmapRows) Len() int { return r.n }

// Sorted implements fourd.RowSet: a bitmap has no order of its own.
func (r *bitmapRows) Sorted() bool { return false }

// Bytes implements fourd.RowSet. It counts what the heap holds for the set:
// the payload of each container (2 bytes a value in an array container,
// 8 KiB for a bitmap container, 4 bytes a run), which is what roaring's
// GetSizeInBytes adds up, plus what that leaves out: the Bitmap and this
// wrapper, the container structs, and each container's slot in the
// bitmap's key, interface and flag slices. It does not count the rounding
// of each allocation up to the Go allocator's size class (at most 12.5 %
// for the small ones; none for 8 KiB bitmap containers).
func (r *bitmapRows) Bytes() int { return r.bytes }

// Contains implements fourd.RowSet in O(log containers).
func (r *bitmapRows) Contains(row fourd.RowID) bool { return r.bm.Contains(row) }

// Page implements fourd.RowSet without walking the rows before skip: Select
// finds the skip-th row by adding the containers' counts, then an iterator
// jumps to it (a binary search within its container).
func (r *bitmapRows) Page(skip, n int) []fourd.RowID {
	skip = max(skip, 0)
	if n <= 0 || skip >= r.n {
		return nil
	}
	n = min(n, r.n-skip)
	first, err := r.bm.Select(uint32(skip))
	if err != nil { // cannot happen: skip < Len
		return nil
	}
	it := r.bm.Iterator()
	it.AdvanceIfNeeded(first)
	page := make([]fourd.RowID, 0, n)
	for len(page) < n && it.HasNext() {
		page = append(page, it.Next())
	}
	return page
}

// AppendTo implements fourd.RowSet, in ascending row order.
func (r *bitmapRows) AppendTo(dst []fourd.RowID) []fourd.RowID {
	start := len(dst)
	dst = slices.Grow(dst, r.n)[:start+r.n]
	tail := dst[start:]
	r.bm.ToExistingArray(&tail)
	return dst
}

// arrayRows is a sorted set: the rows in their order.
type arrayRows struct {
	rows []fourd.RowID // len == cap
}

var _ fourd.RowSet = (*arrayRows)(nil)

func newArrayRows(rows []fourd.RowID) *arrayRows {
	// make, not slices.Clone: append rounds the capacity up.
	a := &arrayRows{rows: make([]fourd.RowID, len(rows))}
	copy(a.rows, rows)
	return a
}

// Len implements fourd.RowSet.
func (a *arrayRows) Len() int { return len(a.rows) }

// Sorted implements fourd.RowSet.
func (a *arrayRows) Sorted() bool { return true }

// Bytes implements fourd.RowSet: 4 bytes a row (the capacity equals the
// length) and the slice header.
func (a *arrayRows) Bytes() int { return arrayRowsHeader + 4*cap(a.rows) }

// Contains implements fourd.RowSet. The rows are in their own order, so it
// is a linear scan; Combine builds a bitmap instead of calling it row by row.
func (a *arrayRows) Contains(row fourd.RowID) bool { return slices.Contains(a.rows, row) }

// Page implements fourd.RowSet. The page is a copy.
func (a *arrayRows) Page(skip, n int) []fourd.RowID {
	skip = max(skip, 0)
	if n <= 0 || skip >= len(a.rows) {
		return nil
	}
	end := skip + min(n, len(a.rows)-skip)
	return slices.Clone(a.rows[skip:end])
}

// AppendTo implements fourd.RowSet, in the set's order.
func (a *arrayRows) AppendTo(dst []fourd.RowID) []fourd.RowID { return append(dst, a.rows...) }
