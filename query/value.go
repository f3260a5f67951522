package query

import (
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
func convert(f Field, v filter.Value) (any, error) {
	bad := func(what string) error {
		return badFilter("%s is %s: %s is not %s", f.Name, article(f.Type), valueText(v), what)
	}
	switch f.Type {
	case fourd.AttrString:
		return textOf(v), nil
	case fourd.AttrUUID:
		s := textOf(v)
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
