package sqlite

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/query"
)

// How values are stored, type by type:
//
//	string  TEXT COLLATE NOCASE
//	uuid    TEXT COLLATE NOCASE, 32 uppercase hex characters
//	long    INTEGER (64 bits)
//	long64  INTEGER
//	number  REAL
//	bool    INTEGER 0 or 1
//	date    TEXT "YYYY-MM-DD": sorts and compares as dates, readable in
//	        the sqlite3 shell, and usable with SQLite's date functions
//	object  TEXT, the JSON of the object, read with json_extract
//
// A relatedEntity attribute stores the related entity's primary key, with
// the type of that key.

const dateLayout = time.DateOnly

// maxRowKey is the largest integer primary key: integer keys are the rowid,
// and entity sets hold rowids as 32-bit numbers (fourd.RowID).
const maxRowKey = math.MaxUint32

// toSQL converts v, a value given to Save for an attribute of type typ,
// to the value written to SQLite: query.Convert's Go value in the form
// above. The error says what was expected, without the attribute's name
// (the caller adds it).
func toSQL(typ fourd.AttributeType, v any) (any, error) {
	x, err := query.Convert(typ, v)
	if err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case bool:
		return boolInt(x), nil
	case time.Time:
		return x.Format(dateLayout), nil
	case map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("the object cannot be stored: %v", err)
		}
		return string(b), nil
	}
	return x, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// truncate shortens s to n bytes (at a rune boundary) for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// keyArg converts the text form of a primary key (REST's __KEY) to the value
// stored in the key column, and reports whether it could: "12" for a long
// key, 32 hex characters for a uuid key, anything for a string key.
func keyArg(typ fourd.AttributeType, key string) (any, bool) {
	switch typ {
	case fourd.AttrLong, fourd.AttrLong64:
		i, err := strconv.ParseInt(strings.TrimSpace(key), 10, 64)
		if err != nil || i < 1 || i > maxRowKey {
			return nil, false
		}
		return i, true
	case fourd.AttrUUID:
		return query.NormalizeUUID(key)
	case fourd.AttrString:
		return key, true
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

// fromSQL converts a value read from a column of type typ to the Go type
// model.go documents.
func fromSQL(typ fourd.AttributeType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case fourd.AttrString, fourd.AttrUUID:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case fourd.AttrLong, fourd.AttrLong64:
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			return int64(x), nil
		}
	case fourd.AttrNumber:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case fourd.AttrBool:
		if x, ok := v.(int64); ok {
			return x != 0, nil
		}
	case fourd.AttrDate:
		if x, ok := v.(string); ok {
			d, err := time.Parse(dateLayout, x)
			if err != nil {
				return nil, fmt.Errorf("stored date %q: %w", x, err)
			}
			return d, nil
		}
	case fourd.AttrObject:
		if x, ok := v.(string); ok {
			var m map[string]any
			if err := json.Unmarshal([]byte(x), &m); err != nil {
				return nil, fmt.Errorf("stored object: %w", err)
			}
			return m, nil
		}
	}
	return nil, fmt.Errorf("stored %s value has SQLite type %T", typ, v)
}
