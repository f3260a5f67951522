package fourd

import "time"

// TimeLayout is the one date-time format fourd writes everywhere: ISO 8601,
// UTC, milliseconds, e.g. "2024-09-22T12:46:39.787Z".
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime writes t in TimeLayout, converted to UTC.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeLayout)
}

// AppendTime appends t in TimeLayout, converted to UTC, to b. It computes
// the civil date with integer arithmetic and writes the digits directly,
// several times faster than Time.AppendFormat: snapshots format tens of
// thousands of dates.
func AppendTime(b []byte, t time.Time) []byte {
	sec := t.Unix()
	const minSec, maxSec = -62135596800, 253402300799 // years 0001 to 9999
	if sec < minSec || sec > maxSec {
		return t.UTC().AppendFormat(b, TimeLayout)
	}
	days := floorDiv(sec, 86400)
	rem := int(sec - days*86400)
	year, month, day := civil(days)
	hour, min, s := rem/3600, rem/60%60, rem%60
	ms := t.Nanosecond() / 1e6
	return append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date, with
// the well-known era arithmetic (400-year cycles of 146,097 days, years
// counted from March so that the leap day falls last).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // day of era, 0..146096
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of era, 0..399
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of year from March 1, 0..365
	mp := (5*doy + 2) / 153                                // month from March, 0..11
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

// ParseTime reads a date-time written by FormatTime. It also accepts any
// RFC 3339 date-time, so that values written by other 4D tools are read.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(TimeLayout, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}
