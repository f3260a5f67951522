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
// to the value written to PostgreSQL. Accepted values are those
// encoding/json produces (with or without UseNumber) and their Go
// equivalents: int, int64, time.Time. The error says what was expected,
// without the attribute's name (the caller adds it).
func toSQL(typ fourd.AttributeType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case fourd.AttrString:
		if s, ok := v.(string); ok {
			if strings.IndexByte(s, 0) >= 0 {
				return nil, errors.New("text cannot hold the NUL character")
			}
			return s, nil
		}
		return nil, fmt.Errorf("expected a string, found %s", describe(v))
	case fourd.AttrUUID:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a UUID string, found %s", describe(v))
		}
		u, ok := normalizeUUID(s)
		if !ok {
			return nil, fmt.Errorf("%q is not a UUID (32 hexadecimal characters)", truncate(s, 64))
		}
		return u, nil
	case fourd.AttrLong, fourd.AttrLong64:
		return toInt(v)
	case fourd.AttrNumber:
		return toFloat(v)
	case fourd.AttrBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.TrimSpace(x) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, fmt.Errorf("expected true or false, found %s", describe(v))
	case fourd.AttrDate:
		switch x := v.(type) {
		case time.Time:
			y, m, d := x.UTC().Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		case string:
			if strings.TrimSpace(x) == "" {
				return nil, nil // 4D's empty date
			}
			d, ok := parseDate(x)
			if !ok {
				return nil, fmt.Errorf("%q is not a date (YYYY-MM-DD, an ISO 8601 date-time or dd!mm!yyyy)", truncate(x, 64))
			}
			return d, nil
		}
		return nil, fmt.Errorf("expected a date string, found %s", describe(v))
	case fourd.AttrObject:
		if m, ok := v.(map[string]any); ok {
			b, err := json.Marshal(m)
			if err != nil {
				return nil, fmt.Errorf("the object cannot be stored: %v", err)
			}
			if strings.Contains(string(b), `\u0000`) {
				return nil, errors.New("an object cannot hold the NUL character")
			}
			return m, nil // pgx writes it as JSON
		}
		return nil, fmt.Errorf("expected an object, found %s", describe(v))
	}
	return nil, fmt.Errorf("unsupported type %q", typ)
}

// toInt converts a number (or the text of one) without fraction to int64.
func toInt(v any) (any, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
			return int64(x), nil
		}
		return nil, fmt.Errorf("%v is not an integer", x)
	case json.Number:
		return toInt(string(x))
	case string:
		s := strings.TrimSpace(x)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return toInt(f)
		}
		return nil, fmt.Errorf("%q is not an integer", truncate(x, 64))
	}
	return nil, fmt.Errorf("expected an integer, found %s", describe(v))
}

// toFloat converts a number (or the text of one) to float64.
func toFloat(v any) (any, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, errors.New("not a finite number")
		}
		return x, nil
	case json.Number:
		return toFloat(string(x))
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%q is not a number", truncate(x, 64))
		}
		return f, nil
	}
	return nil, fmt.Errorf("expected a number, found %s", describe(v))
}

// describe names v's kind for an error message, as a JSON reader would.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", truncate(x, 40))
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case float64, int, int32, int64, json.Number:
		return fmt.Sprintf("the number %v", x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case time.Time:
		return "a date"
	}
	return fmt.Sprintf("a %T", v)
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

// parseDate reads the date forms 4D's REST clients send: YYYY-MM-DD, an ISO
// 8601 date-time (its date, in UTC), and 4D's dd!mm!yyyy.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if d, err := time.Parse(dateLayout, s); err == nil {
		return d, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		y, m, d := t.UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true
	}
	if d, err := time.Parse("02!01!2006", s); err == nil {
		return d, true
	}
	return time.Time{}, false
}

// normalizeUUID accepts 32 hexadecimal characters, or 36 with the usual
// dashes, and returns the 32 uppercase characters 4D uses.
func normalizeUUID(s string) (string, bool) {
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' {
		s = strings.ReplaceAll(s, "-", "")
	}
	if !fourd.ValidID(s) {
		return "", false
	}
	return strings.ToUpper(s), true
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
		return normalizeUUID(key)
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
