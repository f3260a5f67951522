package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/fourd/fourd"
)

// OpenProcessTable opens an empty fourd.ProcessTable whose clock is now,
// and arranges for it to be closed (its processes ended) when t ends.
type OpenProcessTable = func(t *testing.T, now func() time.Time) fourd.ProcessTable

// TestProcessTable checks the fourd.ProcessTable contract: numbers are the
// lowest free slot (dense, reused) while IDs are never reused; lookups by
// number and by ID, concurrent registration, Start's body and end, the
// snapshot in number order with its session filter, and AbortSession.
func TestProcessTable(t *testing.T, open OpenProcessTable) {
	t.Run("Numbers", func(t *testing.T) { testProcessNumbers(t, open) })
	t.Run("ConcurrentRegistrationsUnique", func(t *testing.T) { testProcessConcurrent(t, open) })
	t.Run("Start", func(t *testing.T) { testProcessStart(t, open) })
	t.Run("Snapshot", func(t *testing.T) { testProcessSnapshot(t, open) })
	t.Run("AbortSession", func(t *testing.T) { testProcessAbortSession(t, open) })
}

func mustTrack(t *testing.T, tab fourd.ProcessTable, spec fourd.ProcessSpec) *fourd.Process {
	t.Helper()
	p, err := tab.Track(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testProcessNumbers(t *testing.T, open OpenProcessTable) {
	tab := open(t, time.Now)
	var ps []*fourd.Process
	seen := map[int64]bool{}
	for range 5 {
		p := mustTrack(t, tab, fourd.ProcessSpec{})
		ps = append(ps, p)
		seen[p.ID()] = true
	}
	for i, p := range ps {
		if p.Number() != i+1 {
			t.Fatalf("process %d: number %d, want %d", i, p.Number(), i+1)
		}
		if i > 0 && p.ID() <= ps[i-1].ID() {
			t.Fatalf("IDs %d then %d: not increasing", ps[i-1].ID(), p.ID())
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
	for _, p := range []*fourd.Process{a, b, c} {
		if seen[p.ID()] {
			t.Fatalf("ID %d reused", p.ID())
		}
		seen[p.ID()] = true
	}
	if tab.Process(2) != a || tab.ProcessByID(ps[1].ID()) != nil || tab.ProcessByID(a.ID()) != a {
		t.Fatal("lookup by number or ID")
	}
	if tab.Process(0) != nil || tab.Process(99) != nil || tab.Process(-1) != nil || tab.ProcessByID(-1) != nil {
		t.Fatal("lookup of a number or ID out of range")
	}
	for _, p := range []*fourd.Process{ps[0], ps[2], ps[4], a, b, c} {
		p.End(nil)
	}
	if n := len(tab.Processes("")); n != 0 {
		t.Fatalf("%d processes left", n)
	}
}

func testProcessConcurrent(t *testing.T, open OpenProcessTable) {
	tab := open(t, time.Now)
	const n = 64
	var wg sync.WaitGroup
	var mu sync.Mutex
	numbers, ids := map[int]bool{}, map[int64]bool{}
	var live []*fourd.Process
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := tab.Track(fourd.ProcessSpec{})
			if err != nil {
				t.Error(err)
				return
			}
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
		if tab.ProcessByID(p.ID()) != p {
			t.Fatalf("ProcessByID(%d) is not the process", p.ID())
		}
		p.End(nil)
	}
}

func testProcessStart(t *testing.T, open OpenProcessTable) {
	tab := open(t, time.Now)
	release := make(chan struct{})
	boom := errors.New("boom")
	p, err := tab.Start(fourd.ProcessSpec{Name: "worker"}, func(p *fourd.Process) error {
		<-release
		return boom
	})
	if err != nil {
		t.Fatal(err)
	}
	if tab.ProcessByID(p.ID()) != p || len(tab.Processes("")) != 1 {
		t.Fatal("a started process is not listed")
	}
	close(release)
	<-p.Ended()
	if tab.ProcessByID(p.ID()) != nil {
		t.Fatal("an ended process is still listed")
	}
}

func testProcessSnapshot(t *testing.T, open OpenProcessTable) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	tab := open(t, func() time.Time { return created })
	x := mustTrack(t, tab, fourd.ProcessSpec{Name: "x", SessionID: "S1", Type: fourd.TypeWebServerProcess, Visible: true, URL: "/rest/x"})
	y := mustTrack(t, tab, fourd.ProcessSpec{Name: "y", SessionID: "S2"})
	z := mustTrack(t, tab, fourd.ProcessSpec{Name: "z", SessionID: "S1"})
	defer func() { x.End(nil); y.End(nil); z.End(nil) }()

	all := tab.Processes("")
	if len(all) != 3 || all[0].Name != "x" || all[1].Name != "y" || all[2].Name != "z" {
		t.Fatalf("snapshot %+v", all)
	}
	got := all[0]
	want := fourd.ProcessInfo{Number: 1, Name: "x", SessionID: "S1", ID: x.ID(), Visible: true, Type: fourd.TypeWebServerProcess,
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

func testProcessAbortSession(t *testing.T, open OpenProcessTable) {
	tab := open(t, time.Now)
	a := mustTrack(t, tab, fourd.ProcessSpec{SessionID: "S1"})
	b := mustTrack(t, tab, fourd.ProcessSpec{SessionID: "S2"})
	defer a.End(nil)
	defer b.End(nil)
	if n := tab.AbortSession("S1", fourd.ErrSessionEnded); n != 1 {
		t.Fatalf("aborted %d, want 1", n)
	}
	if !errors.Is(a.Cause(), fourd.ErrSessionEnded) || b.Err() != nil {
		t.Fatalf("a: %v, b: %v", a.Cause(), b.Err())
	}
	if tab.AbortSession("", nil) != 0 {
		t.Fatal("an empty session ID aborted internal processes")
	}
}
