package fourd

import "sync/atomic"

// Phase says what a request process is doing with data: a fourd
// extension of Process activity, as PostgreSQL's pg_stat_activity shows a
// backend's query and MongoDB's $currentOp its progress.
type Phase int32

// The phases of a data request, in the order a request goes through them.
const (
	PhaseNone     Phase = iota // not a data request, or not started on the data yet
	PhaseQuerying              // running the query ($filter, $orderby) in the datastore
	PhaseLoading               // reading the entities of the answer (and their relations)
	PhaseEncoding              // writing the answer
	PhaseSaving                // saving or deleting entities
)

var phaseNames = [...]string{"", "querying", "loading", "encoding", "saving"}

// String returns the phase's name as Process activity writes it
// ("querying", "loading", "encoding", "saving"), "" for PhaseNone.
func (ph Phase) String() string {
	if ph < 0 || int(ph) >= len(phaseNames) {
		return ""
	}
	return phaseNames[ph]
}

// ParsePhase is the inverse of String; unknown names give PhaseNone.
func ParsePhase(s string) Phase {
	for i, n := range phaseNames {
		if n == s {
			return Phase(i)
		}
	}
	return PhaseNone
}

// target is what a data request works on.
type target struct {
	dataClass, filter string
}

// work is what a request process is doing, set by its own goroutine and
// read by snapshots: each field is atomic on its own.
type work struct {
	target atomic.Pointer[target]
	phase  atomic.Int32
	rows   atomic.Int64
}

// SetTarget records the dataclass and the $filter (as the client wrote it)
// a data request works on, for Process activity.
func (p *Process) SetTarget(dataClass, filter string) {
	p.work.target.Store(&target{dataClass: dataClass, filter: filter})
}

// SetPhase records what the request is doing now.
func (p *Process) SetPhase(ph Phase) { p.work.phase.Store(int32(ph)) }

// SetRows records how many rows (entities) the request has found, loaded
// or written so far in its phase.
func (p *Process) SetRows(n int) { p.work.rows.Store(int64(n)) }

// fillWork copies the process's work into its info.
func (p *Process) fillWork(info *ProcessInfo) {
	if t := p.work.target.Load(); t != nil {
		info.DataClass, info.Filter = t.dataClass, t.filter
	}
	info.Phase = Phase(p.work.phase.Load())
	info.RowsDone = p.work.rows.Load()
}
