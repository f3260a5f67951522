package inmem

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/fourd/fourd"
)

// The encoded form of a row set, for stores that keep sets outside the
// process (redis): one tag byte, then the rows.
const (
	tagBitmap = 'r' // an unsorted set: roaring's portable serialization
	tagArray  = 'a' // a sorted set: the rows as little-endian uint32s
)

// MarshalRowSet encodes rs: an unsorted set in roaring's portable
// serialization format (the format every roaring implementation reads), a
// sorted set as its rows packed in 4 bytes each, little-endian, each after
// a tag byte. A RowSet of another package is encoded through AppendTo.
func MarshalRowSet(rs fourd.RowSet) ([]byte, error) {
	if rs == nil {
		return nil, errors.New("marshal row set: nil")
	}
	if rs.Sorted() {
		rows, ok := rs.(*arrayRows)
		if !ok {
			rows = &arrayRows{rows: rs.AppendTo(make([]fourd.RowID, 0, rs.Len()))}
		}
		b := make([]byte, 1, 1+4*len(rows.rows))
		b[0] = tagArray
		for _, r := range rows.rows {
			b = binary.LittleEndian.AppendUint32(b, r)
		}
		return b, nil
	}
	bm := bitmapOf(rs)
	var buf bytes.Buffer
	buf.Grow(1 + int(bm.GetSerializedSizeInBytes()))
	buf.WriteByte(tagBitmap)
	if _, err := bm.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("marshal row set: %w", err)
	}
	return buf.Bytes(), nil
}

// UnmarshalRowSet decodes what MarshalRowSet encoded into this package's
// representations, which weigh (Bytes) what sets built by NewRowSet of the
// same rows weigh. It does not keep b.
func UnmarshalRowSet(b []byte) (fourd.RowSet, error) {
	if len(b) == 0 {
		return nil, errors.New("unmarshal row set: empty")
	}
	switch b[0] {
	case tagArray:
		if (len(b)-1)%4 != 0 {
			return nil, fmt.Errorf("unmarshal row set: %d bytes of rows, not a multiple of 4", len(b)-1)
		}
		rows := make([]fourd.RowID, (len(b)-1)/4)
		for i := range rows {
			rows[i] = binary.LittleEndian.Uint32(b[1+4*i:])
		}
		return &arrayRows{rows: rows}, nil
	case tagBitmap:
		bm := roaring.New()
		if _, err := bm.ReadFrom(bytes.NewReader(b[1:])); err != nil {
			return nil, fmt.Errorf("unmarshal row set: %w", err)
		}
		return newBitmapRows(bm), nil
	}
	return nil, fmt.Errorf("unmarshal row set: unknown tag %q", b[0])
}
