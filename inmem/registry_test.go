package inmem_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/storetest"
)

// TestProcessRegistry runs the fourd.ProcessRegistry suite on the
// single-node registry.
func TestProcessRegistry(t *testing.T) {
	storetest.TestProcessRegistry(t, func(t *testing.T, node string) storetest.RegistryNode {
		tab := MustOpenTable(t)
		reg := inmem.NewProcessRegistry(node, tab)
		tab.IDs = reg
		return storetest.RegistryNode{Registry: reg, Table: tab, Stop: func() {}}
	})
}

// TestProcessIDsAfterRestart checks that a node that forgets everything
// still never gives an ID twice: a restarted one starts at the clock's
// floor, above the IDs of its previous run; within a run IDs are dense,
// whatever the clock does.
func TestProcessIDsAfterRestart(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)
	first := &inmem.ProcessIDs{Now: func() time.Time { return clock }}
	a, err := first.ReserveIDs(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if want := fourd.ProcessIDFloor(clock); a != want {
		t.Fatalf("first block at %d, want the floor %d", a, want)
	}
	b, err := first.ReserveIDs(ctx, 10) // same microsecond: after the first block
	if err != nil || b != a+1000 {
		t.Fatalf("second block at %d (%v), want %d", b, err, a+1000)
	}
	clock = clock.Add(-time.Hour) // the clock went back
	c, err := first.ReserveIDs(ctx, 1)
	if err != nil || c != b+10 {
		t.Fatalf("after the clock went back: %d (%v), want %d", c, err, b+10)
	}
	clock = clock.Add(2 * time.Hour) // and forward
	if c2, err := first.ReserveIDs(ctx, 1); err != nil || c2 != c+1 {
		t.Fatalf("after the clock went forward: %d (%v), want %d (dense)", c2, err, c+1)
	}

	clock = clock.Add(-time.Hour + 50*time.Millisecond) // a restart 50 ms after the first block
	restarted := &inmem.ProcessIDs{Now: func() time.Time { return clock }}
	d, err := restarted.ReserveIDs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d <= c+1 {
		t.Fatalf("restarted node's first ID %d not above the previous run's last %d", d, c+1)
	}
}

// TestProcessIDsExhausted checks that IDs never pass 2^53-1: the block
// that would is refused.
func TestProcessIDsExhausted(t *testing.T) {
	ctx := context.Background()
	end := fourd.ProcessIDEpoch.Add(time.Duration(fourd.MaxProcessID-5) * time.Microsecond)
	ids := &inmem.ProcessIDs{Now: func() time.Time { return end }}
	first, err := ids.ReserveIDs(ctx, 6)
	if err != nil || first+5 != fourd.MaxProcessID {
		t.Fatalf("last block at %d (%v), want it to end at 2^53-1", first, err)
	}
	if _, err := ids.ReserveIDs(ctx, 1); !errors.Is(err, fourd.ErrProcessIDsExhausted) {
		t.Fatalf("past 2^53-1: %v, want ErrProcessIDsExhausted", err)
	}
	tab := MustOpenTable(t)
	tab.IDs = ids
	if _, err := tab.Track(fourd.ProcessSpec{}); !errors.Is(err, fourd.ErrProcessIDsExhausted) {
		t.Fatalf("Track with IDs exhausted: %v", err)
	}
}
