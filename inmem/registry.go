package inmem

import (
	"context"
	"sync"
	"time"

	"github.com/fourd/fourd"
)

var (
	_ fourd.ProcessRegistry = (*ProcessRegistry)(nil)
	_ fourd.ProcessIDSource = (*ProcessIDs)(nil)
)

// ProcessIDs hands out process IDs on one node that remembers nothing
// across restarts: its first block starts at fourd.ProcessIDFloor of the
// clock, each later one right after the previous one, so that a node's
// IDs are dense (fourd top and the console read the request rate from
// them) and a restarted node starts above every ID of its previous run
// unless that run started more than a million processes a second on
// average (or the clock went back).
type ProcessIDs struct {
	// Now is the clock of the floor; time.Now by default.
	Now func() time.Time

	mu   sync.Mutex
	last int64
}

// ReserveIDs implements fourd.ProcessIDSource.
func (s *ProcessIDs) ReserveIDs(_ context.Context, n int) (int64, error) {
	if n < 1 {
		n = 1
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.last + 1
	if s.last == 0 {
		first = fourd.ProcessIDFloor(now())
	}
	if first > fourd.MaxProcessID-int64(n)+1 {
		return 0, fourd.ErrProcessIDsExhausted
	}
	s.last = first + int64(n) - 1
	return first, nil
}

// ProcessRegistry is the cluster of one node: its process table. It
// implements fourd.ProcessRegistry for a server that shares nothing.
type ProcessRegistry struct {
	// IDs hands out the process IDs; its clock may be set before use.
	IDs ProcessIDs

	node    string
	table   fourd.ProcessTable
	started time.Time
	now     func() time.Time
}

// NewProcessRegistry returns the registry of the node named node whose
// processes are in table. The caller makes the table take its IDs from it
// (ProcessTable.IDs).
func NewProcessRegistry(node string, table fourd.ProcessTable) *ProcessRegistry {
	return &ProcessRegistry{node: node, table: table, started: time.Now(), now: time.Now}
}

// Node implements fourd.ProcessRegistry.
func (r *ProcessRegistry) Node() string { return r.node }

// ReserveIDs implements fourd.ProcessRegistry.
func (r *ProcessRegistry) ReserveIDs(ctx context.Context, n int) (int64, error) {
	return r.IDs.ReserveIDs(ctx, n)
}

// Processes implements fourd.ProcessRegistry: this node's processes, each
// with its node. No node can fail to answer.
func (r *ProcessRegistry) Processes(_ context.Context, sessionID string) (fourd.ProcessSnapshot, error) {
	list := r.table.Processes(sessionID)
	for i := range list {
		list[i].Node = r.node
	}
	return fourd.ProcessSnapshot{Processes: list}, nil
}

// Nodes implements fourd.ProcessRegistry: this node, up, its heartbeat
// now.
func (r *ProcessRegistry) Nodes(context.Context) ([]fourd.NodeInfo, error) {
	return []fourd.NodeInfo{{
		Name:          r.node,
		State:         fourd.NodeUp,
		Started:       r.started.UTC(),
		LastHeartbeat: r.now().UTC(),
		Processes:     r.table.Len(),
		Self:          true,
	}}, nil
}

// Control implements fourd.ProcessRegistry on this node's table.
func (r *ProcessRegistry) Control(_ context.Context, id int64, action fourd.ProcessAction) error {
	return fourd.ControlProcess(r.table.ProcessByID(id), id, action)
}
