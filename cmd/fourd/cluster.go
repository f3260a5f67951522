package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/fourd/fourd"
)

// runCluster prints the nodes of a running server's cluster ($cluster):
// name, state, age, time since the last heartbeat, live processes. The
// node that answered is marked.
func runCluster(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cluster", stderr)
	co := connFlags(fs, 10*time.Second)
	asJSON := fs.Bool("json", false, "print the nodes as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := co.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	nodes, err := c.Nodes(c.ctx)
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		b, _ := json.Marshal(nodes)
		_, err := fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	return renderCluster(stdout, nodes, time.Now())
}

// renderCluster writes the nodes as a table, by name.
func renderCluster(w io.Writer, nodes []fourd.NodeInfo, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "NODES (%d)\n", len(nodes))
	fmt.Fprintln(tw, "NODE\tSTATE\tUP\tLAST HEARTBEAT\tPROCESSES")
	self := false
	for _, n := range nodes {
		name := n.Name
		if n.Self {
			name += ownMark
			self = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s ago\t%d\n", name, n.State, formatDuration(now.Sub(n.Started)),
			formatDuration(now.Sub(n.LastHeartbeat)), n.Processes)
	}
	if self {
		fmt.Fprintf(tw, "\n%s the node that answered\n", ownMark)
	}
	return tw.Flush()
}
