package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/fourd/fourd"
)

// nodeJSON is a node as GET /rest/$cluster writes it (fourd's resource;
// times in 4D's form).
type nodeJSON struct {
	Name          string          `json:"name"`
	State         fourd.NodeState `json:"state"`
	Started       string          `json:"started"`
	LastHeartbeat string          `json:"lastHeartbeat"`
	Processes     int             `json:"processes"`
	Self          bool            `json:"self"`
}

// getCluster serves GET /rest/$cluster (admin-only, as $info): the nodes
// of the cluster, {"nodes":[{name, state, started, lastHeartbeat,
// processes, self}]}, sorted by name. A single server is a cluster of one.
func (h *Handler) getCluster(w http.ResponseWriter, r *http.Request) error {
	nodes, err := h.Registry.Nodes(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Nodes []nodeJSON `json:"nodes"`
	}{Nodes: make([]nodeJSON, len(nodes))}
	for i, n := range nodes {
		out.Nodes[i] = nodeJSON{Name: n.Name, State: n.State, Started: formatTime(n.Started),
			LastHeartbeat: formatTime(n.LastHeartbeat), Processes: n.Processes, Self: n.Self}
	}
	body, err := json.Marshal(out)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func formatTime(t time.Time) string { return string(fourd.AppendTime(nil, t)) }

// Nodes calls GET /rest/$cluster: the nodes of the server's cluster.
func (c *Client) Nodes(ctx context.Context) ([]fourd.NodeInfo, error) {
	body, err := c.get(ctx, "/rest/$cluster", nil)
	if err != nil {
		return nil, err
	}
	var in struct {
		Nodes []nodeJSON `json:"nodes"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("decode $cluster: %w", err)
	}
	out := make([]fourd.NodeInfo, len(in.Nodes))
	for i, n := range in.Nodes {
		started, err1 := fourd.ParseTime(n.Started)
		beat, err2 := fourd.ParseTime(n.LastHeartbeat)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("decode $cluster: node %q: bad time %q or %q", n.Name, n.Started, n.LastHeartbeat)
		}
		out[i] = fourd.NodeInfo{Name: n.Name, State: n.State, Started: started, LastHeartbeat: beat, Processes: n.Processes, Self: n.Self}
	}
	return out, nil
}
