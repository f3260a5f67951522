package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/redis"
	"github.com/fourd/fourd/storetest"
)

// openNode opens a node of the cluster on db: a process table taking its
// IDs from a registry with short timeouts, stopped when t ends.
func openNode(t *testing.T, db *redis.DB, node string) (storetest.RegistryNode, *redis.ProcessRegistry) {
	t.Helper()
	tab := inmem.NewProcessTable()
	reg := redis.NewProcessRegistry(db, node, tab)
	reg.Heartbeat, reg.NodeTimeout, reg.AnswerTimeout = 100*time.Millisecond, 2*time.Second, 2*time.Second
	tab.IDs = reg
	if err := reg.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		if err := reg.Close(); err != nil {
			t.Errorf("close node %s: %v", node, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tab.Close(ctx); err != nil {
			t.Errorf("close node %s's table: %v", node, err)
		}
	}
	t.Cleanup(stop)
	return storetest.RegistryNode{Registry: reg, Table: tab, Stop: stop}, reg
}

func TestProcessRegistry(t *testing.T) {
	t.Parallel()
	storetest.TestProcessRegistry(t, func(t *testing.T, node string) storetest.RegistryNode {
		n, _ := openNode(t, redistest.Open(t), node)
		return n
	})
}

func TestProcessRegistryCluster(t *testing.T) {
	t.Parallel()
	storetest.TestProcessRegistryCluster(t, func() storetest.OpenProcessRegistry {
		var db *redis.DB
		return func(t *testing.T, node string) storetest.RegistryNode {
			if db == nil {
				db = redistest.Open(t)
			}
			n, _ := openNode(t, db, node)
			return n
		}
	}())
}

// TestProcessRegistryNodeLoss checks the two ways a node fails: one that
// hangs (its heartbeat goes on, it answers nothing) is named in the
// snapshot and in a Control that could not find the process, within the
// answer timeout; one that dies (no heartbeat) leaves the view once its
// heartbeat key expires.
func TestProcessRegistryNodeLoss(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := redistest.Open(t)
	a, _ := openNode(t, db, "a")
	b, regB := openNode(t, db, "b")
	pb := mustTrack(t, b.Table, fourd.ProcessSpec{Name: "on b", Abortable: true})
	defer pb.End(nil)

	regB.StopAnswering()
	snap, err := a.Registry.Processes(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Unanswered) != 1 || snap.Unanswered[0] != "b" {
		t.Fatalf("unanswered %v, want [b]", snap.Unanswered)
	}
	for _, p := range snap.Processes {
		if p.Node != "a" {
			t.Fatalf("a process of %s listed though it did not answer", p.Node)
		}
	}
	err = a.Registry.Control(ctx, pb.ID(), fourd.ProcessAbort)
	if fourd.ErrorCode(err) != fourd.EUNAVAILABLE {
		t.Fatalf("abort of a hung node's process: %v, want EUNAVAILABLE", err)
	}
	if pb.Err() != nil {
		t.Fatal("the hung node's process was aborted")
	}

	// b dies as with SIGKILL: nothing removes its heartbeat key, which
	// expires NodeTimeout (2 s) after its last heartbeat. The deadline
	// below only bounds a broken test.
	regB.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for {
		nodes, err := a.Registry.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes) == 1 && nodes[0].Name == "a" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b still listed 10s after its heartbeat stopped: %+v", nodes)
		}
		time.Sleep(20 * time.Millisecond)
	}
	snap, err = a.Registry.Processes(ctx, "")
	if err != nil || len(snap.Unanswered) != 0 {
		t.Fatalf("after b left: unanswered %v, %v", snap.Unanswered, err)
	}
}

// TestProcessRegistryNameInUse checks that a second node with a live
// node's name is refused.
func TestProcessRegistryNameInUse(t *testing.T) {
	t.Parallel()
	db := redistest.Open(t)
	openNode(t, db, "a")
	reg := redis.NewProcessRegistry(db, "a", inmem.NewProcessTable())
	if err := reg.Open(context.Background()); err == nil {
		reg.Close()
		t.Fatal("a second node named a joined")
	}
}

func mustTrack(t *testing.T, tab fourd.ProcessTable, spec fourd.ProcessSpec) *fourd.Process {
	t.Helper()
	p, err := tab.Track(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
