package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
)

func TestRenderCluster(t *testing.T) {
	now := time.Date(2026, 11, 30, 5, 0, 0, 0, time.UTC)
	nodes := []fourd.NodeInfo{
		{Name: "a", State: fourd.NodeUp, Started: now.Add(-3 * time.Hour), LastHeartbeat: now, Processes: 12, Self: true},
		{Name: "b", State: fourd.NodeLate, Started: now.Add(-90 * time.Second), LastHeartbeat: now.Add(-3 * time.Second), Processes: 7},
	}
	var out bytes.Buffer
	if err := renderCluster(&out, nodes, now); err != nil {
		t.Fatal(err)
	}
	want := `NODES (2)
NODE  STATE  UP        LAST HEARTBEAT  PROCESSES
a*    up     3h00m00s  0s ago          12
b     late   1m30s     3s ago          7

* the node that answered
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// TestCluster runs fourd cluster against a single server: a cluster of one
// node, up, marked as the one that answered.
func TestCluster(t *testing.T) {
	srv := servertest.MustOpenServer(t)
	t.Run("OKTable", func(t *testing.T) {
		stdout, _, err := runCmd(t, "cluster", "--server", srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(stdout, "\n")
		if len(lines) < 3 || lines[0] != "NODES (1)" || !strings.HasPrefix(lines[2], servertest.Node+"*") || strings.Fields(lines[2])[1] != "up" {
			t.Fatalf("output:\n%s", stdout)
		}
	})
	t.Run("OKJSON", func(t *testing.T) {
		stdout, _, err := runCmd(t, "cluster", "--server", srv.URL(), "--json")
		if err != nil {
			t.Fatal(err)
		}
		var nodes []fourd.NodeInfo
		if err := json.Unmarshal([]byte(stdout), &nodes); err != nil {
			t.Fatalf("%v: %s", err, stdout)
		}
		if len(nodes) != 1 || nodes[0].Name != servertest.Node || !nodes[0].Self || nodes[0].Processes < servertest.InternalProcesses {
			t.Fatalf("nodes %+v", nodes)
		}
	})
}
