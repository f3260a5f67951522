package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/query"
	"github.com/jackc/pgx/v5/pgtype"
)

// How values are stored, type by type:
//
//	string  text (compared through lower(x) COLLATE "C", see textKey)
//	uuid    text COLLATE "C", 32 uppercase hex characters
//	long    bigint
//	long64  bigint
//	number  double precision
//	bool    boolean
//	date    date
//	object  jsonb
//
// A relatedEntity attribute stores the related entity's primary key, with
// the type of that key. The Go values are those fourd.AttributeType
// documents; pgx converts them both ways.

const dateLayout = time.DateOnly

// maxKey is the largest integer primary key: the same range as SQLite's,
// where an integer key is the row number, so that a client sees the same
// rules on either datastore.
const maxKey = math.MaxUint32

// toSQL converts v, a value given to Save for an attribute stored as typ,
// to the value written to PostgreSQL: query.Convert's, with text that
// PostgreSQL cannot hold (the NUL character) refused. The error says what
// was expected, without the attribute's name (the caller adds it).
func toSQL(typ fourd.AttributeType, v any) (any, error) {
	x, err := query.Convert(typ, v)
	if err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return nil, errors.New("text cannot hold the NUL character")
		}
	case map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("the object cannot be stored: %v", err)
		}
		if strings.Contains(string(b), `\u0000`) {
			return nil, errors.New("an object cannot hold the NUL character")
		}
	}
	return x, nil
}

// truncate shortens s to n bytes (at a rune boundary) for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// keyArg converts the text form of a primary key (REST's __KEY) to the value
// compared with the key column, and reports whether it could: "12" for a
// long key, 32 hex characters for a uuid key, anything for a string key.
func keyArg(typ fourd.AttributeType, key string) (any, bool) {
	switch typ {
	case fourd.AttrLong, fourd.AttrLong64:
		i, err := strconv.ParseInt(strings.TrimSpace(key), 10, 64)
		if err != nil || i < 1 || i > maxKey {
			return nil, false
		}
		return i, true
	case fourd.AttrUUID:
		return query.NormalizeUUID(key)
	case fourd.AttrString:
		return key, strings.IndexByte(key, 0) < 0
	}
	return nil, false
}

// keyText returns the text form of a stored key.
func keyText(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// fromSQL converts a value pgx read from a column of type typ to the Go
// type fourd.AttributeType documents.
func fromSQL(typ fourd.AttributeType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case fourd.AttrString, fourd.AttrUUID:
		if x, ok := v.(string); ok {
			return x, nil
		}
	case fourd.AttrLong, fourd.AttrLong64:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case pgtype.Numeric:
			return numericValue(x, true)
		}
	case fourd.AttrNumber:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case pgtype.Numeric:
			return numericValue(x, false)
		}
	case fourd.AttrBool:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case fourd.AttrDate:
		if x, ok := v.(time.Time); ok {
			y, m, d := x.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		}
	case fourd.AttrObject:
		if x, ok := v.(map[string]any); ok {
			return x, nil
		}
	}
	return nil, fmt.Errorf("stored %s value has Go type %T", typ, v)
}

// numericValue converts a numeric (a sum of bigints, an average) to int64
// when integer says so and it fits, else to float64.
func numericValue(n pgtype.Numeric, integer bool) (any, error) {
	if !n.Valid {
		return nil, nil
	}
	if integer && n.Exp >= 0 {
		i := new(big.Int).Mul(n.Int, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n.Exp)), nil))
		if i.IsInt64() {
			return i.Int64(), nil
		}
	}
	f, err := n.Float64Value()
	if err != nil {
		return nil, err
	}
	return f.Float64, nil
}

// jsonValue converts a JSON value read from an object property (pgx gives
// float64, string, bool, maps and slices) to what an aggregate or a
// distinct list returns: integral numbers as int64, as SQLite's
// json_extract gives them.
func jsonValue(v any) any {
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
		return int64(f)
	}
	return v
}
