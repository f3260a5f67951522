package query

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// convert turns a filter constant into the value compared with f, as 4D
// converts it: to a number for a number attribute, to text for a text
// attribute, and so on (see Field.Type). It refuses values that do not
// convert.
func convert(f Field, v *filter.Value) (any, error) {
	bad := func(what string) error {
		return badFilter("%s is %s: %s is not %s", f.Name(), article(f.Type), valueText(*v), what)
	}
	switch f.Type {
	case fourd.AttrString:
		return textOf(*v), nil
	case fourd.AttrUUID:
		s := textOf(*v)
		if u, ok := NormalizeUUID(s); ok {
			return u, nil
		}
		return s, nil
	case fourd.AttrLong, fourd.AttrLong64, fourd.AttrNumber:
		switch v.Kind {
		case filter.KindInt:
			if f.Type == fourd.AttrNumber {
				return float64(v.Int), nil
			}
			return v.Int, nil
		case filter.KindFloat:
			return v.Float, nil
		case filter.KindString:
			s := strings.TrimSpace(v.Str)
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				if f.Type == fourd.AttrNumber {
					return float64(i), nil
				}
				return i, nil
			}
			if x, err := strconv.ParseFloat(s, 64); err == nil {
				return x, nil
			}
		}
		return nil, bad("a number")
	case fourd.AttrBool:
		switch v.Kind {
		case filter.KindBool:
			return v.Bool, nil
		case filter.KindString:
			switch strings.ToLower(strings.TrimSpace(v.Str)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		case filter.KindInt:
			if v.Int == 0 || v.Int == 1 {
				return v.Int == 1, nil
			}
		}
		return nil, bad("true or false")
	case fourd.AttrDate:
		switch v.Kind {
		case filter.KindDate:
			return v.Date, nil
		case filter.KindString:
			if d, ok := ParseDate(v.Str); ok {
				return d, nil
			}
		}
		return nil, bad("a date (YYYY-MM-DD)")
	case "": // an object property: its JSON type decides
		switch v.Kind {
		case filter.KindInt:
			return v.Int, nil
		case filter.KindFloat:
			return v.Float, nil
		case filter.KindBool:
			return v.Bool, nil
		case filter.KindDate:
			return v.Date, nil
		}
		return v.Str, nil
	}
	return nil, bad("comparable")
}

// textOf returns the text of a constant as it was written, for a text
// attribute.
func textOf(v filter.Value) string {
	if v.Str != "" || v.Kind == filter.KindString {
		return v.Str
	}
	switch v.Kind {
	case filter.KindInt:
		return strconv.FormatInt(v.Int, 10)
	case filter.KindFloat:
		return strconv.FormatFloat(v.Float, 'f', -1, 64)
	case filter.KindBool:
		return strconv.FormatBool(v.Bool)
	case filter.KindDate:
		return v.Date.Format(time.DateOnly)
	}
	return v.String()
}

// valueText quotes a constant for a message.
func valueText(v filter.Value) string {
	if v.Kind == filter.KindString {
		return strconv.Quote(truncate(v.Str, 40))
	}
	return truncate(textOf(v), 40)
}

func article(typ fourd.AttributeType) string {
	switch typ {
	case fourd.AttrLong, fourd.AttrLong64:
		return "a long"
	case fourd.AttrNumber:
		return "a number"
	case fourd.AttrBool:
		return "a bool"
	case fourd.AttrDate:
		return "a date"
	}
	return "a " + string(typ)
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

// ParseDate reads the date forms 4D's REST clients send: YYYY-MM-DD, an ISO
// 8601 date-time (its date, in UTC), and 4D's dd!mm!yyyy. The date is at
// midnight UTC.
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if d, err := time.Parse(time.DateOnly, s); err == nil {
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

// NormalizeUUID accepts 32 hexadecimal characters, or 36 with the usual
// dashes, and returns the 32 uppercase characters 4D uses.
func NormalizeUUID(s string) (string, bool) {
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' {
		s = strings.ReplaceAll(s, "-", "")
	}
	if !fourd.ValidID(s) {
		return "", false
	}
	return strings.ToUpper(s), true
}

// Convert converts v, a value a client gives to save in an attribute of
// type typ, to the Go value fourd.Entity carries for that type (see
// fourd.AttributeType): string (for uuid, 32 uppercase hexadecimal
// characters), int64, float64, bool, time.Time (midnight UTC) or
// map[string]any. It accepts what encoding/json produces (with or without
// UseNumber) and the Go equivalents (int, int32, int64, time.Time): a
// number for a number, the text of one too; true, false or their text for
// a bool; YYYY-MM-DD, an ISO 8601 date-time or dd!mm!yyyy for a date.
// nil, and an empty date string (4D's empty date), convert to nil. The
// error says what was expected, without the attribute's name (the caller
// adds it).
func Convert(typ fourd.AttributeType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case fourd.AttrString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("expected a string, found %s", Describe(v))
	case fourd.AttrUUID:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a UUID string, found %s", Describe(v))
		}
		u, ok := NormalizeUUID(s)
		if !ok {
			return nil, fmt.Errorf("%q is not a UUID (32 hexadecimal characters)", s)
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
		return nil, fmt.Errorf("expected true or false, found %s", Describe(v))
	case fourd.AttrDate:
		switch x := v.(type) {
		case time.Time:
			y, m, d := x.UTC().Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		case string:
			if strings.TrimSpace(x) == "" {
				return nil, nil // 4D's empty date
			}
			d, ok := ParseDate(x)
			if !ok {
				return nil, fmt.Errorf("%q is not a date (YYYY-MM-DD, an ISO 8601 date-time or dd!mm!yyyy)", x)
			}
			return d, nil
		}
		return nil, fmt.Errorf("expected a date string, found %s", Describe(v))
	case fourd.AttrObject:
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
		return nil, fmt.Errorf("expected an object, found %s", Describe(v))
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
		return nil, fmt.Errorf("%q is not an integer", x)
	}
	return nil, fmt.Errorf("expected an integer, found %s", Describe(v))
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
			return nil, fmt.Errorf("%q is not a number", x)
		}
		return f, nil
	}
	return nil, fmt.Errorf("expected a number, found %s", Describe(v))
}

// Describe names the kind of v, a value decoded from JSON, for an error
// message: "the string \"abc\"", "the number 3", "an object", "null".
func Describe(v any) string {
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
