package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/redis"
	"github.com/fourd/fourd/server"
)

// openClusterServer opens a server named node whose processes are in the
// cluster's registry on db; it returns the server and its registry.
func openClusterServer(t *testing.T, db *redis.DB, node string) (*server.Server, *redis.ProcessRegistry) {
	t.Helper()
	tab := inmem.NewProcessTable()
	reg := redis.NewProcessRegistry(db, node, tab)
	reg.Heartbeat, reg.NodeTimeout, reg.AnswerTimeout = 100*time.Millisecond, 2*time.Second, 2*time.Second
	tab.IDs = reg
	if err := reg.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() }) // after the server's Close, registered below
	srv := servertest.MustOpenServer(t, func(s *server.Server) {
		s.Node, s.Processes, s.Registry = node, tab, reg
	})
	return srv, reg
}

// TestClusterActivity runs three servers on one Redis: $activity asked of
// one lists the processes of all three with their node, an abort sent to
// one reaches a process of another, and a node killed leaves the view
// once its heartbeat expires.
func TestClusterActivity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := redistest.Open(t)
	a, _ := openClusterServer(t, db, "a")
	b, _ := openClusterServer(t, db, "b")
	_, regC := openClusterServer(t, db, "c")
	job := servertest.BlockedNamed(t, b, "job on b")
	ca := servertest.NewClient(t, a)

	t.Run("OKEveryNodesProcesses", func(t *testing.T) {
		act, err := ca.Activity(ctx, "", fourd.ProcessesAndSessions)
		if err != nil {
			t.Fatal(err)
		}
		mains := map[string]bool{}
		var found *fourd.ProcessInfo
		for i, p := range act.Processes {
			if p.Type == fourd.TypeMainProcess {
				mains[p.Node] = true
			}
			if p.ID == job.ID() {
				found = &act.Processes[i]
			}
		}
		if len(mains) != 3 || !mains["a"] || !mains["b"] || !mains["c"] {
			t.Errorf("main processes of nodes %v, want a, b and c", mains)
		}
		if found == nil || found.Node != "b" || found.Name != "job on b" {
			t.Fatalf("b's job in a's $activity: %+v", found)
		}
		if len(act.UnansweredNodes) != 0 {
			t.Errorf("unanswered nodes %v", act.UnansweredNodes)
		}
		if first := act.Processes[0]; first.Node != "a" {
			t.Errorf("first process on %s, want the answering node a first", first.Node)
		}
	})
	t.Run("OKAbortThroughAnotherNode", func(t *testing.T) {
		if err := ca.AbortProcess(ctx, job.ID()); err != nil {
			t.Fatal(err)
		}
		servertest.Receive(t, "b's job to end", job.Ended())
		if err := ca.AbortProcess(ctx, job.ID()); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("abort of the ended job: %v, want 404", err)
		}
	})
	t.Run("OKKilledNodeLeaves", func(t *testing.T) {
		regC.Kill() // as SIGKILL: no heartbeat, no answer, its key left to expire
		servertest.EventuallyWithin(t, 20*time.Second, "node c to leave a's $activity", func() bool {
			act, err := ca.Activity(ctx, "", fourd.ProcessesOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range act.Processes {
				if p.Node == "c" {
					t.Fatal("a process of c listed after c stopped answering")
				}
			}
			return len(act.UnansweredNodes) == 0
		})
		nodes, err := a.Registry.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			if n.Name == "c" {
				t.Fatalf("c still among the nodes: %+v", nodes)
			}
		}
	})
}
