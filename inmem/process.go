package inmem

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fourd/fourd"
)

// DefaultMaxBoundThreads is how many processes may own an OS thread at once
// (and so report real CPU time); see ProcessTable.MaxBoundThreads.
const DefaultMaxBoundThreads = 128

// DefaultIDBlock is how many process IDs a table reserves at a time: one
// call to a shared registry per that many processes.
const DefaultIDBlock = 1024

// idReserveTimeout bounds the wait for a new block of IDs.
const idReserveTimeout = 10 * time.Second

var _ fourd.ProcessTable = (*ProcessTable)(nil)

// ProcessTable is the in-memory table of a server's processes.
//
// A process takes the lowest free number, as in 4D, and a unique ID that is
// never reused: unique in the cluster and across restarts when IDs is the
// cluster's registry (see fourd.ProcessIDFloor). An ended process leaves the table at once: its number is
// free for the next process, and ProcessInfo on it returns nil. (4D keeps an
// ended process as Aborted until its slot is reused; fourd does not, so that
// the table and Process activity list only running work, as
// pg_stat_activity does. The *Process handle itself keeps reporting state
// Aborted.)
type ProcessTable struct {
	// Now is the clock for creation dates; time.Now by default.
	Now func() time.Time
	// MaxBoundThreads caps how many processes started with Start own an OS
	// thread, so that their CPU time is real CPU time; further processes
	// run on Go's scheduler and report their executing time. It protects
	// Go's limit of 10,000 threads. Default DefaultMaxBoundThreads.
	MaxBoundThreads int
	// IDs hands out the process IDs, in blocks of IDBlock: a
	// fourd.ProcessRegistry, so that they are unique in the cluster. nil:
	// a ProcessIDs of the table's own (unique on this node and across its
	// restarts). Set it before the first process.
	IDs fourd.ProcessIDSource
	// IDBlock is how many IDs the table reserves at a time; default
	// DefaultIDBlock.
	IDBlock int

	idMu   sync.Mutex // guards the IDs reserved and not used yet:
	idNext int64      // the next ID to give
	idEnd  int64      // one past the last ID reserved
	ownIDs ProcessIDs // the IDs source when IDs is nil

	bound atomic.Int32
	wg    sync.WaitGroup

	mu      sync.Mutex
	slots   []*fourd.Process // index number-1; nil for a free slot
	byID    map[int64]*fourd.Process
	free    numberHeap // free numbers below len(slots)
	live    int
	closing bool
}

// NewProcessTable returns an empty table.
func NewProcessTable() *ProcessTable {
	return &ProcessTable{Now: time.Now, MaxBoundThreads: DefaultMaxBoundThreads, byID: make(map[int64]*fourd.Process)}
}

// nextID returns the next process ID, reserving a new block when the
// current one is used up.
func (t *ProcessTable) nextID() (int64, error) {
	t.idMu.Lock()
	defer t.idMu.Unlock()
	if t.idNext >= t.idEnd {
		src := t.IDs
		if src == nil {
			src = &t.ownIDs
		}
		n := t.IDBlock
		if n < 1 {
			n = DefaultIDBlock
		}
		ctx, cancel := context.WithTimeout(context.Background(), idReserveTimeout)
		first, err := src.ReserveIDs(ctx, n)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("reserve process IDs: %w", err)
		}
		t.idNext, t.idEnd = first, first+int64(n)
	}
	id := t.idNext
	t.idNext++
	return id, nil
}

func (t *ProcessTable) register(spec fourd.ProcessSpec) (*fourd.Process, error) {
	id, err := t.nextID()
	if err != nil {
		return nil, err
	}
	created := t.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return nil, fourd.Errorf(fourd.EUNAVAILABLE, fourd.ErrCodeShuttingDown, "the server is shutting down")
	}
	var n int
	if len(t.free) > 0 {
		n = t.free.pop()
	} else {
		t.slots = append(t.slots, nil)
		n = len(t.slots)
	}
	p := spec.New(n, id, created, t.remove)
	t.slots[n-1] = p
	t.byID[id] = p
	t.live++
	return p, nil
}

func (t *ProcessTable) remove(p *fourd.Process) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := p.Number()
	if n < 1 || n > len(t.slots) || t.slots[n-1] != p {
		return
	}
	t.slots[n-1] = nil
	delete(t.byID, p.ID())
	t.live--
	t.free.push(n)
}

// Start implements fourd.ProcessTable.
func (t *ProcessTable) Start(spec fourd.ProcessSpec, body func(*fourd.Process) error) (*fourd.Process, error) {
	return t.start(spec, body, nil)
}

// start runs body as a new process; after, if set, runs on the process's
// goroutine once the process has ended.
func (t *ProcessTable) start(spec fourd.ProcessSpec, body func(*fourd.Process) error, after func(*fourd.Process)) (*fourd.Process, error) {
	p, err := t.register(spec)
	if err != nil {
		return nil, err
	}
	bind := false
	if max := int32(t.MaxBoundThreads); max > 0 && t.bound.Add(1) <= max {
		bind = true
	} else if max > 0 {
		t.bound.Add(-1)
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		p.Run(bind, body)
		if bind {
			t.bound.Add(-1)
		}
		if after != nil {
			after(p)
		}
	}()
	return p, nil
}

// Track implements fourd.ProcessTable.
func (t *ProcessTable) Track(spec fourd.ProcessSpec) (*fourd.Process, error) {
	return t.register(spec)
}

// Process implements fourd.ProcessTable.
func (t *ProcessTable) Process(number int) *fourd.Process {
	t.mu.Lock()
	defer t.mu.Unlock()
	if number < 1 || number > len(t.slots) {
		return nil
	}
	return t.slots[number-1]
}

// ProcessByID implements fourd.ProcessTable: one lookup in an index by
// ID, whatever the number of live processes.
func (t *ProcessTable) ProcessByID(id int64) *fourd.Process {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID[id]
}

// list copies the live processes (of one session, or all) under the lock.
func (t *ProcessTable) list(sessionID string) []*fourd.Process {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.live
	if sessionID != "" {
		n = 0
		for _, p := range t.slots {
			if p != nil && p.SessionID() == sessionID {
				n++
			}
		}
	}
	out := make([]*fourd.Process, 0, n)
	for _, p := range t.slots {
		if p != nil && (sessionID == "" || p.SessionID() == sessionID) {
			out = append(out, p)
		}
	}
	return out
}

// Processes implements fourd.ProcessTable. The table's lock is held only to
// copy the list of live processes; each process's values are then read
// from the process itself.
func (t *ProcessTable) Processes(sessionID string) []fourd.ProcessInfo {
	list := t.list(sessionID)
	out := make([]fourd.ProcessInfo, len(list))
	now := time.Now()
	for i, p := range list {
		out[i] = p.InfoAt(now)
	}
	return out
}

// Len returns the number of live processes.
func (t *ProcessTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.live
}

// AbortSession implements fourd.ProcessTable.
func (t *ProcessTable) AbortSession(sessionID string, cause error) int {
	if sessionID == "" {
		return 0
	}
	list := t.list(sessionID)
	for _, p := range list {
		p.Abort(cause)
	}
	return len(list)
}

// Sample closes a CPU-usage window for every live process.
func (t *ProcessTable) Sample(now time.Time) {
	for _, p := range t.list("") {
		p.Sample(now)
	}
}

// Close refuses new processes, aborts every live one with cause
// fourd.ErrServerStopping and waits until the processes started with Start
// have ended or ctx is done. Tracked processes end when their caller calls
// End. Close may be called more than once.
func (t *ProcessTable) Close(ctx context.Context) error {
	t.mu.Lock()
	t.closing = true
	t.mu.Unlock()
	for _, p := range t.list("") {
		p.Abort(fourd.ErrServerStopping)
	}
	done := make(chan struct{})
	go func() { t.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// numberHeap is a min-heap of free process numbers. It is typed rather
// than built on container/heap, whose interface boxing would allocate on
// every request.
type numberHeap []int

func (h *numberHeap) push(n int) {
	*h = append(*h, n)
	a := *h
	for i := len(a) - 1; i > 0; {
		parent := (i - 1) / 2
		if a[parent] <= a[i] {
			break
		}
		a[parent], a[i] = a[i], a[parent]
		i = parent
	}
}

func (h *numberHeap) pop() int {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	for i := 0; ; {
		l, r, small := 2*i+1, 2*i+2, i
		if l < len(a) && a[l] < a[small] {
			small = l
		}
		if r < len(a) && a[r] < a[small] {
			small = r
		}
		if small == i {
			break
		}
		a[i], a[small] = a[small], a[i]
		i = small
	}
	*h = a
	return top
}
