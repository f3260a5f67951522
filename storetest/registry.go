package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fourd/fourd"
)

// RegistryNode is one node of a cluster opened for the registry suites:
// its registry and its local process table, whose IDs come from the
// registry.
type RegistryNode struct {
	Registry fourd.ProcessRegistry
	Table    fourd.ProcessTable
	// Stop takes the node out of the cluster as a clean shutdown does; the
	// suite may call it before the test ends, and open's cleanup must then
	// do nothing more.
	Stop func()
}

// OpenProcessRegistry opens the node named node and arranges for it to be
// stopped when t ends. Called several times in one test with different
// names, it opens nodes of one cluster (TestProcessRegistryCluster); a
// backend that serves one node runs TestProcessRegistry only.
type OpenProcessRegistry = func(t *testing.T, node string) RegistryNode

// TestProcessRegistry checks the fourd.ProcessRegistry contract on one
// node: its name, process IDs reserved in disjoint blocks under the clock
// floor and the bound, the snapshot of this node's processes with their
// node and the session filter, the list of nodes, and abort, pause and
// resume by ID with their refusals.
func TestProcessRegistry(t *testing.T, open OpenProcessRegistry) {
	t.Run("Node", func(t *testing.T) {
		n := open(t, "alpha")
		if got := n.Registry.Node(); got != "alpha" {
			t.Fatalf("Node() = %q, want alpha", got)
		}
	})
	t.Run("IDsDisjointAboveTheClockFloor", func(t *testing.T) { testRegistryIDs(t, open) })
	t.Run("ProcessesCarryTheirNode", func(t *testing.T) { testRegistryProcesses(t, open) })
	t.Run("NodesListThisOne", func(t *testing.T) { testRegistryNodes(t, open) })
	t.Run("Control", func(t *testing.T) { testRegistryControl(t, open) })
}

func testRegistryIDs(t *testing.T, open OpenProcessRegistry) {
	n := open(t, "alpha")
	ctx := context.Background()
	before := fourd.ProcessIDFloor(time.Now())
	type block struct{ first, last int64 }
	var mu sync.Mutex
	var blocks []block
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			size := 1 + i*37
			first, err := n.Registry.ReserveIDs(ctx, size)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			blocks = append(blocks, block{first, first + int64(size) - 1})
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.SortFunc(blocks, func(a, b block) int { return int(a.first - b.first) })
	for i, b := range blocks {
		if b.first < before {
			t.Fatalf("block [%d, %d] starts below the clock floor %d taken before it was reserved", b.first, b.last, before)
		}
		if b.last > fourd.MaxProcessID {
			t.Fatalf("block [%d, %d] passes 2^53-1", b.first, b.last)
		}
		if i > 0 && b.first <= blocks[i-1].last {
			t.Fatalf("blocks [%d, %d] and [%d, %d] overlap", blocks[i-1].first, blocks[i-1].last, b.first, b.last)
		}
	}
	// The table's processes take their IDs from the registry.
	p := mustTrack(t, n.Table, fourd.ProcessSpec{Name: "x"})
	defer p.End(nil)
	if p.ID() < before || p.ID() > fourd.MaxProcessID {
		t.Fatalf("a process of the table has ID %d, not from the registry (floor %d)", p.ID(), before)
	}
	for _, b := range blocks {
		if b.first <= p.ID() && p.ID() <= b.last {
			t.Fatalf("a process got ID %d, already reserved in [%d, %d]", p.ID(), b.first, b.last)
		}
	}
}

func testRegistryProcesses(t *testing.T, open OpenProcessRegistry) {
	n := open(t, "alpha")
	ctx := context.Background()
	x := mustTrack(t, n.Table, fourd.ProcessSpec{Name: "x", SessionID: "S1", Type: fourd.TypeWebServerProcess, Visible: true})
	y := mustTrack(t, n.Table, fourd.ProcessSpec{Name: "y", SessionID: "S2"})
	z := mustTrack(t, n.Table, fourd.ProcessSpec{Name: "z", SessionID: "S1"})
	defer func() { x.End(nil); y.End(nil); z.End(nil) }()

	snap, err := n.Registry.Processes(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Unanswered) != 0 {
		t.Fatalf("unanswered nodes %v in a one-node cluster", snap.Unanswered)
	}
	var names []string
	for _, p := range snap.Processes {
		if p.Node != "alpha" {
			t.Fatalf("process %q has node %q, want alpha", p.Name, p.Node)
		}
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"x", "y", "z"}) {
		t.Fatalf("processes %v, want x y z in number order", names)
	}
	if snap.Processes[0].ID != x.ID() || snap.Processes[0].Number != x.Number() || snap.Processes[0].Type != fourd.TypeWebServerProcess {
		t.Fatalf("snapshot of x: %+v", snap.Processes[0])
	}
	s1, err := n.Registry.Processes(ctx, "S1")
	if err != nil {
		t.Fatal(err)
	}
	if len(s1.Processes) != 2 || s1.Processes[0].Name != "x" || s1.Processes[1].Name != "z" {
		t.Fatalf("session S1: %+v", s1.Processes)
	}
	none, err := n.Registry.Processes(ctx, "nobody")
	if err != nil || len(none.Processes) != 0 {
		t.Fatalf("unknown session: %+v, %v", none, err)
	}
	y.End(nil)
	after, err := n.Registry.Processes(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range after.Processes {
		if p.ID == y.ID() {
			t.Fatal("an ended process is still listed")
		}
	}
}

func testRegistryNodes(t *testing.T, open OpenProcessRegistry) {
	n := open(t, "alpha")
	p := mustTrack(t, n.Table, fourd.ProcessSpec{Name: "x"})
	defer p.End(nil)
	nodes, err := n.Registry.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var self *fourd.NodeInfo
	for i := range nodes {
		if nodes[i].Name == "alpha" {
			self = &nodes[i]
		}
	}
	if self == nil {
		t.Fatalf("nodes %+v do not list this node", nodes)
	}
	if !self.Self || self.State != fourd.NodeUp || self.LastHeartbeat.IsZero() || self.Started.IsZero() {
		t.Fatalf("this node: %+v, want self, up, with a heartbeat and a start", *self)
	}
	if self.LastHeartbeat.Before(self.Started) {
		t.Fatalf("last heartbeat %s before the start %s", self.LastHeartbeat, self.Started)
	}
}

func testRegistryControl(t *testing.T, open OpenProcessRegistry) {
	n := open(t, "alpha")
	ctx := context.Background()
	reg := n.Registry

	t.Run("OKPauseResume", func(t *testing.T) {
		p := mustTrack(t, n.Table, fourd.ProcessSpec{Name: "paused", Abortable: true})
		defer p.End(nil)
		if err := reg.Control(ctx, p.ID(), fourd.ProcessPause); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- p.Checkpoint() }() // blocks while paused
		waitState(t, p, fourd.StatePaused)
		if err := reg.Control(ctx, p.ID(), fourd.ProcessResume); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("checkpoint after resume: %v", err)
		}
	})
	t.Run("OKAbort", func(t *testing.T) {
		p := mustTrack(t, n.Table, fourd.ProcessSpec{Name: "aborted", Abortable: true})
		defer p.End(nil)
		if err := reg.Control(ctx, p.ID(), fourd.ProcessAbort); err != nil {
			t.Fatal(err)
		}
		<-p.Done()
		if !errors.Is(p.Cause(), fourd.ErrAborted) {
			t.Fatalf("cause %v, want ErrAborted", p.Cause())
		}
	})
	t.Run("ErrUnknownProcess", func(t *testing.T) {
		p := mustTrack(t, n.Table, fourd.ProcessSpec{Abortable: true})
		p.End(nil)
		for _, id := range []int64{p.ID(), -1, 0} {
			err := reg.Control(ctx, id, fourd.ProcessAbort)
			if fourd.ErrorCode(err) != fourd.ENOTFOUND || errCode(err) != fourd.ErrCodeUnknownProcess {
				t.Fatalf("Control(%d) = %v, want ENOTFOUND (%d)", id, err, fourd.ErrCodeUnknownProcess)
			}
		}
	})
	t.Run("ErrPermanentProcess", func(t *testing.T) {
		p := mustTrack(t, n.Table, fourd.ProcessSpec{Name: "Main process", Type: fourd.TypeMainProcess})
		defer p.End(nil)
		for _, a := range []fourd.ProcessAction{fourd.ProcessAbort, fourd.ProcessPause, fourd.ProcessResume} {
			if err := reg.Control(ctx, p.ID(), a); fourd.ErrorCode(err) != fourd.EINVALID {
				t.Fatalf("%s of a permanent process: %v, want EINVALID", a, err)
			}
		}
		if p.Err() != nil {
			t.Fatal("the permanent process was aborted")
		}
	})
}

// waitState waits until p shows state; the process's own goroutine sets
// it, so the suite polls without a time limit of its own (the test's
// deadline is the bound).
func waitState(t *testing.T, p *fourd.Process, s fourd.ProcessState) {
	t.Helper()
	for p.State() != s {
		time.Sleep(time.Millisecond)
	}
}

func errCode(err error) int {
	var e *fourd.Error
	if errors.As(err, &e) {
		return e.ErrCode
	}
	return 0
}

// TestProcessRegistryCluster checks what a shared registry adds: several
// nodes, each seeing the others' processes with their node, reaching
// them by ID, listing them, and never sharing an ID; a node that stops
// leaves the view.
func TestProcessRegistryCluster(t *testing.T, open OpenProcessRegistry) {
	ctx := context.Background()
	a, b := open(t, "a"), open(t, "b")
	pa := mustTrack(t, a.Table, fourd.ProcessSpec{Name: "on a", SessionID: "S1", Abortable: true})
	pb := mustTrack(t, b.Table, fourd.ProcessSpec{Name: "on b", SessionID: "S1", Abortable: true})
	defer pa.End(nil)
	defer pb.End(nil)

	t.Run("IDsUniqueAcrossNodes", func(t *testing.T) {
		if pa.ID() == pb.ID() {
			t.Fatalf("both nodes gave ID %d", pa.ID())
		}
		fa, err := a.Registry.ReserveIDs(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		fb, err := b.Registry.ReserveIDs(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if fa <= fb && fb < fa+100 || fb <= fa && fa < fb+100 {
			t.Fatalf("blocks at %d and %d overlap", fa, fb)
		}
	})
	t.Run("ProcessesOfEveryNode", func(t *testing.T) {
		for _, from := range []RegistryNode{a, b} {
			snap, err := from.Registry.Processes(ctx, "S1")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range snap.Processes {
				got[p.Name] = p.Node
			}
			if got["on a"] != "a" || got["on b"] != "b" || len(got) != 2 || len(snap.Unanswered) != 0 {
				t.Fatalf("from %s: %v (unanswered %v), want both nodes' processes with their node", from.Registry.Node(), got, snap.Unanswered)
			}
			if first := snap.Processes[0].Node; first != from.Registry.Node() {
				t.Fatalf("from %s: first process on %s, want this node's first", from.Registry.Node(), first)
			}
		}
	})
	t.Run("NodesListBoth", func(t *testing.T) {
		nodes, err := a.Registry.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]fourd.NodeInfo{}
		for _, n := range nodes {
			names[n.Name] = n
		}
		if len(names) != 2 || !names["a"].Self || names["b"].Self || names["b"].State != fourd.NodeUp || names["b"].LastHeartbeat.IsZero() {
			t.Fatalf("nodes from a: %+v", nodes)
		}
	})
	t.Run("ControlReachesTheOwningNode", func(t *testing.T) {
		if err := a.Registry.Control(ctx, pb.ID(), fourd.ProcessPause); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- pb.Checkpoint() }()
		waitState(t, pb, fourd.StatePaused)
		if err := a.Registry.Control(ctx, pb.ID(), fourd.ProcessResume); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := a.Registry.Control(ctx, pb.ID(), fourd.ProcessAbort); err != nil {
			t.Fatal(err)
		}
		<-pb.Done()
		if pa.Err() != nil {
			t.Fatal("the abort reached a's process too")
		}
		perm := mustTrack(t, b.Table, fourd.ProcessSpec{Name: "Main process", Type: fourd.TypeMainProcess})
		defer perm.End(nil)
		if err := a.Registry.Control(ctx, perm.ID(), fourd.ProcessAbort); fourd.ErrorCode(err) != fourd.EINVALID {
			t.Fatalf("abort of b's permanent process from a: %v, want EINVALID", err)
		}
		if err := a.Registry.Control(ctx, 1, fourd.ProcessAbort); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("abort of an unknown ID: %v, want ENOTFOUND", err)
		}
	})
	t.Run("StoppedNodeLeaves", func(t *testing.T) {
		b.Stop()
		nodes, err := a.Registry.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			if n.Name == "b" {
				t.Fatalf("b still listed after it stopped: %+v", nodes)
			}
		}
		snap, err := a.Registry.Processes(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range snap.Processes {
			if p.Node == "b" {
				t.Fatalf("b's process %q still listed after b stopped", p.Name)
			}
		}
		if len(snap.Unanswered) != 0 {
			t.Fatalf("a cleanly stopped node is named unanswered: %v", snap.Unanswered)
		}
	})
}
