package cpu

import (
	"math"
	"testing"
	"time"
)

func TestShareClamped(t *testing.T) {
	for _, tt := range []struct {
		cpu, over time.Duration
		want      float64
	}{
		{time.Second, 2 * time.Second, 0.5},
		{3 * time.Second, time.Second, 1},
		{-time.Second, time.Second, 0},
		{time.Second, 0, 0},
		{0, 0, 0},
	} {
		if got := Share(tt.cpu, tt.over); got != tt.want || math.IsNaN(got) {
			t.Errorf("Share(%v, %v) = %v, want %v", tt.cpu, tt.over, got, tt.want)
		}
	}
}

// TestUnboundCountsExecutingTime checks what an unbound process reports:
// the time since it started executing, frozen when it ends, and a usage
// only once a sampling window has closed.
func TestUnboundCountsExecutingTime(t *testing.T) {
	var a Account
	t0 := time.Now()
	a.Start(t0)
	if got := a.Time(t0.Add(3 * time.Second)); got != 3*time.Second {
		t.Errorf("Time after 3 s executing = %v", got)
	}
	if _, ok := a.Usage(); ok {
		t.Error("a usage before the first window closed")
	}
	a.Sample(t0.Add(4 * time.Second))
	if u, ok := a.Usage(); !ok || u != 1 {
		t.Errorf("usage of a process executing the whole window = %v, %v", u, ok)
	}
	a.Freeze(true)
	frozen := a.Time(time.Now())
	if got := a.Time(time.Now().Add(time.Hour)); got != frozen {
		t.Errorf("Time after Freeze moved from %v to %v", frozen, got)
	}
}
