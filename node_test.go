package fourd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
)

func TestCheckNodeName(t *testing.T) {
	for _, ok := range []string{"a", "db1", "node-2.eu_west", "ip-10-0-0-7.ec2.internal", strings.Repeat("n", fourd.MaxNodeNameLen)} {
		if err := fourd.CheckNodeName(ok); err != nil {
			t.Errorf("CheckNodeName(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "-a", ".a", "é", "a/b", "a\n", strings.Repeat("n", fourd.MaxNodeNameLen+1)} {
		if err := fourd.CheckNodeName(bad); err == nil {
			t.Errorf("CheckNodeName(%q) = nil, want an error", bad)
		}
	}
}

func TestProcessIDFloor(t *testing.T) {
	for _, tt := range []struct {
		at   time.Time
		want int64
	}{
		{fourd.ProcessIDEpoch.Add(-time.Hour), 1},
		{fourd.ProcessIDEpoch, 1},
		{fourd.ProcessIDEpoch.Add(time.Second), 1_000_000},
		{fourd.ProcessIDEpoch.Add(time.Duration(fourd.MaxProcessID) * time.Microsecond), fourd.MaxProcessID},
		{time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC), fourd.MaxProcessID},
	} {
		if got := fourd.ProcessIDFloor(tt.at); got != tt.want {
			t.Errorf("ProcessIDFloor(%s) = %d, want %d", tt.at, got, tt.want)
		}
	}
}
