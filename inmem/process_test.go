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

// TestProcessTable runs the fourd.ProcessTable conformance suite.
func TestProcessTable(t *testing.T) {
	storetest.TestProcessTable(t, func(t *testing.T, now func() time.Time) fourd.ProcessTable {
		tab := MustOpenTable(t)
		tab.Now = now
		return tab
	})
}

// TestProcessIDs checks the single-node ID scheme: IDs follow one another
// from the clock floor and are never reused while numbers are.
func TestProcessIDs(t *testing.T) {
	floor := fourd.ProcessIDFloor(time.Now())
	tab := MustOpenTable(t)
	var ps []*fourd.Process
	for range 3 {
		ps = append(ps, mustTrack(t, tab, fourd.ProcessSpec{}))
	}
	if ps[0].ID() < floor {
		t.Fatalf("first ID %d below the clock floor %d", ps[0].ID(), floor)
	}
	ps[1].End(nil)
	a := mustTrack(t, tab, fourd.ProcessSpec{})
	if a.Number() != 2 || a.ID() != ps[0].ID()+3 {
		t.Fatalf("number %d ID %d, want 2 and %d", a.Number(), a.ID(), ps[0].ID()+3)
	}
	for _, p := range []*fourd.Process{ps[0], ps[2], a} {
		p.End(nil)
	}
}

func TestTableClose(t *testing.T) {
	tab := inmem.NewProcessTable()
	p, err := tab.Start(fourd.ProcessSpec{Name: "blocked"}, func(p *fourd.Process) error {
		<-p.Done()
		return p.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tab.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(p.Cause(), fourd.ErrServerStopping) || p.State() != fourd.StateAborted {
		t.Fatalf("cause %v, state %v", p.Cause(), p.State())
	}
	if _, err := tab.Track(fourd.ProcessSpec{}); fourd.ErrorCode(err) != fourd.EUNAVAILABLE {
		t.Fatalf("Track after Close: %v", err)
	}
	if _, err := tab.Start(fourd.ProcessSpec{}, func(*fourd.Process) error { return nil }); fourd.ErrorCode(err) != fourd.EUNAVAILABLE {
		t.Fatalf("Start after Close: %v", err)
	}
	if err := tab.Close(ctx); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestTableCloseTimesOut(t *testing.T) {
	tab := inmem.NewProcessTable()
	release := make(chan struct{})
	p, err := tab.Start(fourd.ProcessSpec{}, func(*fourd.Process) error { <-release; return nil }) // ignores its context
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := tab.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded", err)
	}
	close(release)
	<-p.Ended()
	if err := tab.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestMaxBoundThreads(t *testing.T) {
	tab := MustOpenTable(t)
	tab.MaxBoundThreads = 1
	release := make(chan struct{})
	body := func(p *fourd.Process) error { <-release; return nil }
	a, err := tab.Start(fourd.ProcessSpec{}, body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tab.Start(fourd.ProcessSpec{}, body)
	if err != nil {
		t.Fatal(err)
	}
	close(release)
	<-a.Ended()
	<-b.Ended()
	if a.SystemID() == "" || b.SystemID() == "" {
		t.Fatal("a process past the bound-thread limit has no systemID")
	}
}
