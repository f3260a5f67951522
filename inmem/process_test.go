package inmem_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

func TestProcessNumbers(t *testing.T) {
	t.Run("LowestFreeSlotReusedIDNever", func(t *testing.T) {
		tab := MustOpenTable(t)
		var ps []*fourd.Process
		for i := 0; i < 5; i++ {
			ps = append(ps, mustTrack(t, tab, fourd.ProcessSpec{}))
		}
		for i, p := range ps {
			if p.Number() != i+1 || p.ID() != int64(i+1) {
				t.Fatalf("process %d: number %d, ID %d", i, p.Number(), p.ID())
			}
		}
		ps[3].End(nil)
		ps[1].End(nil)
		a := mustTrack(t, tab, fourd.ProcessSpec{})
		b := mustTrack(t, tab, fourd.ProcessSpec{})
		c := mustTrack(t, tab, fourd.ProcessSpec{})
		if a.Number() != 2 || b.Number() != 4 || c.Number() != 6 {
			t.Fatalf("numbers %d %d %d, want 2 4 6 (lowest free first)", a.Number(), b.Number(), c.Number())
		}
		if a.ID() != 6 || b.ID() != 7 || c.ID() != 8 {
			t.Fatalf("IDs %d %d %d, want 6 7 8 (never reused)", a.ID(), b.ID(), c.ID())
		}
		if tab.Process(2) != a || tab.ProcessByID(2) != nil || tab.ProcessByID(6) != a {
			t.Fatal("lookup by number or ID")
		}
		if tab.Process(0) != nil || tab.Process(99) != nil || tab.Process(-1) != nil {
			t.Fatal("lookup of a number out of range")
		}
		for _, p := range []*fourd.Process{ps[0], ps[2], ps[4], a, b, c} {
			p.End(nil)
		}
		if tab.Len() != 0 {
			t.Fatalf("%d processes left", tab.Len())
		}
	})
	t.Run("ConcurrentRegistrationsUnique", func(t *testing.T) {
		tab := MustOpenTable(t)
		const n = 64
		var wg sync.WaitGroup
		var mu sync.Mutex
		numbers, ids := map[int]bool{}, map[int64]bool{}
		var live []*fourd.Process
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := mustTrack(t, tab, fourd.ProcessSpec{})
				mu.Lock()
				defer mu.Unlock()
				if numbers[p.Number()] || ids[p.ID()] {
					t.Errorf("duplicate number %d or ID %d", p.Number(), p.ID())
				}
				numbers[p.Number()], ids[p.ID()] = true, true
				live = append(live, p)
			}()
		}
		wg.Wait()
		for i := 1; i <= n; i++ {
			if !numbers[i] {
				t.Fatalf("number %d not used: numbers are not dense", i)
			}
		}
		for _, p := range live {
			p.End(nil)
		}
	})
}

func TestProcessesSnapshot(t *testing.T) {
	tab := MustOpenTable(t)
	created := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	tab.Now = func() time.Time { return created }
	x := mustTrack(t, tab, fourd.ProcessSpec{Name: "x", SessionID: "S1", Type: fourd.TypeWebServerProcess, Visible: true, URL: "/rest/x"})
	y := mustTrack(t, tab, fourd.ProcessSpec{Name: "y", SessionID: "S2"})
	z := mustTrack(t, tab, fourd.ProcessSpec{Name: "z", SessionID: "S1"})
	defer func() { x.End(nil); y.End(nil); z.End(nil) }()

	all := tab.Processes("")
	if len(all) != 3 || all[0].Name != "x" || all[1].Name != "y" || all[2].Name != "z" {
		t.Fatalf("snapshot %+v", all)
	}
	got := all[0]
	want := fourd.ProcessInfo{Number: 1, Name: "x", SessionID: "S1", ID: 1, Visible: true, Type: fourd.TypeWebServerProcess,
		State: fourd.StateExecuting, CreationDateTime: created, Preemptive: true, SystemID: got.SystemID,
		CPUUsage: got.CPUUsage, CPUTime: got.CPUTime, URL: "/rest/x"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("info\n%+v\nwant\n%+v", got, want)
	}
	if got.SystemID == "" {
		t.Fatal("no systemID")
	}
	s1 := tab.Processes("S1")
	if len(s1) != 2 || s1[0].Name != "x" || s1[1].Name != "z" {
		t.Fatalf("session filter %+v", s1)
	}
	if n := len(tab.Processes("nobody")); n != 0 {
		t.Fatalf("%d processes for an unknown session", n)
	}
}

func TestAbortSession(t *testing.T) {
	tab := MustOpenTable(t)
	a := mustTrack(t, tab, fourd.ProcessSpec{SessionID: "S1"})
	b := mustTrack(t, tab, fourd.ProcessSpec{SessionID: "S2"})
	defer a.End(nil)
	defer b.End(nil)
	if n := tab.AbortSession("S1", fourd.ErrSessionEnded); n != 1 {
		t.Fatalf("aborted %d", n)
	}
	if !errors.Is(a.Cause(), fourd.ErrSessionEnded) || b.Err() != nil {
		t.Fatalf("a: %v, b: %v", a.Cause(), b.Err())
	}
	if tab.AbortSession("", nil) != 0 {
		t.Fatal("empty session ID aborted internal processes")
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
