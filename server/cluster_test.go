package server_test

import (
	"context"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
)

// TestSharedRedisClusterView runs two servers with --shared on one Redis:
// each one's Process activity lists the other's processes with their
// node, an abort sent to one reaches a process of the other, and $cluster
// lists both nodes.
func TestSharedRedisClusterView(t *testing.T) {
	ctx := context.Background()
	nodes := openCluster(t, 2)
	a, b := nodes[0], nodes[1]
	job := servertest.BlockedNamed(t, b, "job on n2")
	ca := servertest.NewClient(t, a)

	act, err := ca.Activity(ctx, "", fourd.ProcessesOnly)
	if err != nil {
		t.Fatal(err)
	}
	var found *fourd.ProcessInfo
	mains := map[string]bool{}
	for i, p := range act.Processes {
		if p.ID == job.ID() {
			found = &act.Processes[i]
		}
		if p.Type == fourd.TypeMainProcess {
			mains[p.Node] = true
		}
	}
	if found == nil || found.Node != "n2" || !mains["n1"] || !mains["n2"] || len(act.UnansweredNodes) != 0 {
		t.Fatalf("n1's $activity: b's job %+v, main processes of %v, unanswered %v", found, mains, act.UnansweredNodes)
	}
	if err := ca.AbortProcess(ctx, job.ID()); err != nil {
		t.Fatal(err)
	}
	servertest.Receive(t, "n2's job to end", job.Ended())

	list, err := ca.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "n1" || !list[0].Self || list[1].Name != "n2" || list[1].State != fourd.NodeUp {
		t.Fatalf("$cluster from n1: %+v", list)
	}
}
