package fourd

import "time"

// TimeLayout is the one date-time format fourd writes everywhere: ISO 8601,
// UTC, milliseconds, e.g. "2024-09-22T12:46:39.787Z".
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime writes t in TimeLayout, converted to UTC.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeLayout)
}

// AppendTime appends t in TimeLayout, converted to UTC, to b.
func AppendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, TimeLayout)
}

// ParseTime reads a date-time written by FormatTime. It also accepts any
// RFC 3339 date-time, so that values written by other 4D tools are read.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(TimeLayout, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}
