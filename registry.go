package fourd

import (
	"context"
	"time"
)

// ProcessRegistry is what runs in the cluster, as ProcessTable is what
// runs on this node: it hands out process IDs unique across nodes and
// restarts, lists the processes of every live node, lists the nodes, and
// routes an abort, pause or resume to the node that runs the process.
// Process activity, the admin actions and the CLI go through it.
//
// The in-memory implementation (inmem) is the single-node case: the
// cluster is this node. A shared implementation (redis) lets several nodes
// see and control one another; a node that does not answer within the
// registry's bounded wait is named in the answer, never waited for
// without end. Implementations are safe for concurrent use.
type ProcessRegistry interface {
	// Node returns the name of this node.
	Node() string
	// ReserveIDs hands out the IDs of this node's process table.
	ProcessIDSource
	// Processes returns a snapshot of the live processes of every node
	// that answered, each with its Node: all of them when sessionID is "",
	// else those of that session. Processes are ordered by node name, this
	// node first, then by number.
	Processes(ctx context.Context, sessionID string) (ProcessSnapshot, error)
	// Nodes returns the nodes of the cluster, this one included, sorted
	// by name.
	Nodes(ctx context.Context) ([]NodeInfo, error)
	// Control applies action to the process with that unique ID on
	// whichever node runs it. It returns ENOTFOUND (ErrCodeUnknownProcess)
	// when no node that answered runs it, EINVALID for a permanent internal
	// process, and EUNAVAILABLE (ErrCodeNodeUnreachable) when the process
	// was not found and some node did not answer in time.
	Control(ctx context.Context, id int64, action ProcessAction) error
}

// ProcessIDSource hands out blocks of process IDs to a ProcessTable.
type ProcessIDSource interface {
	// ReserveIDs reserves n consecutive process IDs (n >= 1) and returns
	// the first. No other call, on this node or another, before or after
	// a restart, gets any of them; see ProcessIDFloor. It fails with
	// ErrProcessIDsExhausted past MaxProcessID, or with the shared store's
	// error.
	ReserveIDs(ctx context.Context, n int) (first int64, err error)
}

// ProcessSnapshot is what ProcessRegistry.Processes returns.
type ProcessSnapshot struct {
	Processes []ProcessInfo
	// Unanswered names the nodes, sorted, that are registered but did not
	// answer within the bounded wait: their processes are missing.
	Unanswered []string
}

// NodeState is a node's state in the cluster view.
type NodeState string

// Node states.
const (
	NodeUp   NodeState = "up"   // its last heartbeat is recent
	NodeLate NodeState = "late" // it missed a heartbeat but has not timed out yet
)

// NodeInfo describes one node of the cluster.
type NodeInfo struct {
	Name          string    `json:"name"`          // the node name (fourd serve --node)
	State         NodeState `json:"state"`         // up or late
	Started       time.Time `json:"started"`       // when the node joined
	LastHeartbeat time.Time `json:"lastHeartbeat"` // when it last said it was alive
	Processes     int       `json:"processes"`     // its live processes at that heartbeat: its load
	Self          bool      `json:"self"`          // this is the node that answered
}

// ProcessAction is what ProcessRegistry.Control does to a process.
type ProcessAction int

// The actions of ProcessRegistry.Control.
const (
	ProcessAbort  ProcessAction = iota + 1 // ABORT PROCESS BY ID
	ProcessPause                           // PAUSE PROCESS
	ProcessResume                          // RESUME PROCESS
)

// String returns the action's name: "abort", "pause" or "resume".
func (a ProcessAction) String() string {
	switch a {
	case ProcessAbort:
		return "abort"
	case ProcessPause:
		return "pause"
	case ProcessResume:
		return "resume"
	}
	return "unknown action"
}

func (a ProcessAction) pastParticiple() string {
	switch a {
	case ProcessAbort:
		return "aborted"
	case ProcessPause:
		return "paused"
	case ProcessResume:
		return "resumed"
	}
	return "controlled"
}

// ControlProcess applies action to p, a live process of this node found
// by its unique ID id (nil when there is none): ENOTFOUND for nil, EINVALID
// for a permanent internal process (ProcessSpec.Abortable), EINVALID for
// an unknown action. Registries call it on the node that runs the process.
func ControlProcess(p *Process, id int64, action ProcessAction) error {
	if action < ProcessAbort || action > ProcessResume {
		return Errorf(EINVALID, ErrCodeBadParameter, "unknown process action %d", int(action))
	}
	if p == nil {
		return Errorf(ENOTFOUND, ErrCodeUnknownProcess, "no process with ID %d", id)
	}
	if !p.Abortable() {
		return Errorf(EINVALID, ErrCodeBadParameter,
			"process %d (%s, %s) is a permanent internal process and cannot be %s", p.Number(), p.Name(), p.Type(), action.pastParticiple())
	}
	switch action {
	case ProcessAbort:
		p.Abort(ErrAborted)
	case ProcessPause:
		p.Pause()
	case ProcessResume:
		p.Resume()
	}
	return nil
}
