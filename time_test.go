package fourd_test

import (
	"testing"
	"time"

	"github.com/fourd/fourd"
)

// TestAppendTime compares the direct formatter with Time.Format across the
// range fourd writes and its edges.
func TestAppendTime(t *testing.T) {
	check := func(tm time.Time) {
		t.Helper()
		got := string(fourd.AppendTime(nil, tm))
		want := tm.UTC().Format(fourd.TimeLayout)
		if got != want {
			t.Fatalf("AppendTime(%v) = %s, want %s", tm, got, want)
		}
	}
	for _, s := range []string{"0001-01-01T00:00:00Z", "1600-02-29T23:59:59.999Z", "1900-03-01T00:00:00Z", "1969-12-31T23:59:59.999Z",
		"1970-01-01T00:00:00Z", "2000-02-29T12:00:00.5Z", "2024-09-22T12:46:39.787Z", "2100-02-28T00:00:00Z", "9999-12-31T23:59:59.999Z"} {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		check(tm)
	}
	paris := time.FixedZone("CET", 3600)
	check(time.Date(2026, 1, 1, 0, 30, 0, 0, paris)) // the UTC date is the day before
	for d := int64(-800000); d < 3000000; d += 997 { // from 1779 to past 9999 (where the Format fallback answers), in steps of 997 days
		check(time.Unix(d*86400+d%86400, (d%1000)*1e6))
	}
	check(time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)) // out of range: Format's own answer
}

func FuzzAppendTime(f *testing.F) {
	f.Add(int64(0), int64(0))
	f.Add(int64(1727009199), int64(787e6))
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tm := time.Unix(sec%300000000000, nsec%1e9)
		if got, want := string(fourd.AppendTime(nil, tm)), tm.UTC().Format(fourd.TimeLayout); got != want {
			t.Fatalf("AppendTime(%d, %d) = %s, want %s", sec, nsec, got, want)
		}
	})
}
