package fourd

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fourd/fourd/internal/cpu"
)

// ErrAborted is the cause recorded when a process is aborted (4D's ABORT
// PROCESS BY ID, the admin console's Abort button, a dropped session).
// The process's context then reports context.Canceled from Err, as every
// context does; Cause returns ErrAborted.
var ErrAborted = errors.New("process aborted")

// ErrSessionEnded is the cause recorded when a process ends because its
// session expired or was dropped.
var ErrSessionEnded = errors.New("session ended")

// ErrServerStopping is the cause recorded when the server ends a process
// because it is shutting down.
var ErrServerStopping = errors.New("server stopping")

// ProcessSpec describes a process to create. A ProcessTable turns it into a
// numbered, registered *Process.
type ProcessSpec struct {
	Name      string      // process name, e.g. "GET /rest/$activity" or a worker's name
	Type      ProcessType // 4D process type
	SessionID string      // the session the process runs in; "" for internal processes
	Visible   bool        // 4D's visible flag; fourd sets it for user and request processes
	URL       string      // the legacy url property, for web request processes
	// Abortable says whether AbortProcessByID, pause and delay may act on the
	// process. User and request processes are; the permanent internal
	// processes (main, listener, timer, ...) are not, so that an
	// administrator cannot stop the server by accident.
	Abortable bool
	// Parent is the context the process's own context derives from: the
	// request's context for a request process, the server's for the others.
	// Nil means context.Background().
	Parent context.Context
}

// Process is one running unit of work, as 4D sees it: a numbered process
// with a unique ID, a type, a state and a session.
//
// A *Process is also the context.Context of the work it does: pass it to
// every call made on the process's behalf, and AbortProcessByID stops that
// work by cancelling it. Its Done channel is created lazily, on the first
// call, so tracking a request that never waits on it costs no allocation
// beyond the Process itself (see docs/performance.md).
//
// The state is changed only by the process's own goroutine: Pause and Delay
// are requests that the process honours at its next Checkpoint, as 4D's
// PAUSE PROCESS and DELAY PROCESS are. All methods are safe for concurrent
// use.
type Process struct {
	// Immutable after New.
	number      int
	id          int64
	name        string
	typ         ProcessType
	sessionID   string
	visible     bool
	abortable   bool
	url         string
	created     time.Time
	startMono   time.Time // monotonic clock reading at creation, for durations
	parent      context.Context
	onEnd       func(*Process)
	systemIDPtr atomic.Pointer[string]

	state atomic.Int32

	inner atomic.Pointer[innerContext] // made on first need; see context()

	mu         sync.Mutex
	pause      bool
	delayUntil time.Time // monotonic; zero when not delayed
	wake       chan struct{}
	ending     bool // End has begun: the context is cancelled
	ended      bool // End has finished: the process is out of the table
	endedCh    chan struct{}
	result     error

	// CPU accounting; see package internal/cpu.
	cpu cpu.Account

	work work // what a data request is doing; see phase.go
}

// New makes a *Process from the spec. It is meant for ProcessTable
// implementations, which choose the number and the ID and register the
// process; onEnd is called once when the process ends, to unregister it.
// The process starts in state Executing.
func (spec ProcessSpec) New(number int, id int64, created time.Time, onEnd func(*Process)) *Process {
	parent := spec.Parent
	if parent == nil {
		parent = context.Background()
	}
	p := &Process{
		number:    number,
		id:        id,
		name:      spec.Name,
		typ:       spec.Type,
		sessionID: spec.SessionID,
		visible:   spec.Visible,
		abortable: spec.Abortable,
		url:       spec.URL,
		created:   created,
		startMono: time.Now(),
		parent:    parent,
		onEnd:     onEnd,
	}
	p.cpu.Start(p.startMono)
	p.cpu.NoteThread(&p.systemIDPtr) // Run replaces it with the bound thread's ID
	return p
}

// Number returns the process number: the slot number used by all 4D process
// commands. Numbers are reused once a process has ended; IDs are not.
func (p *Process) Number() int { return p.number }

// ID returns the process's unique ID, never reused while the server runs.
func (p *Process) ID() int64 { return p.id }

// Name returns the process name.
func (p *Process) Name() string { return p.name }

// Type returns the 4D process type.
func (p *Process) Type() ProcessType { return p.typ }

// SessionID returns the ID of the session the process runs in, or "".
func (p *Process) SessionID() string { return p.sessionID }

// Abortable reports whether the process may be aborted, paused or delayed
// from outside (see ProcessSpec.Abortable).
func (p *Process) Abortable() bool { return p.abortable }

// State returns the current 4D process state.
func (p *Process) State() ProcessState { return ProcessState(p.state.Load()) }

// Created returns the creation date-time.
func (p *Process) Created() time.Time { return p.created }

// SystemID returns the system-level ID: the OS thread ID of the thread the
// process is bound to, or of the thread that started it (see package internal/cpu).
func (p *Process) SystemID() string {
	if s := p.systemIDPtr.Load(); s != nil {
		return *s
	}
	return ""
}

// context.Context implementation.
//
// The cancellable context behind a process is a standard
// context.WithCancelCause of its parent, made the first time it is needed:
// when Done is called, when the process is aborted, or when a context is
// derived from it. A request that never waits on its context costs nothing
// more than the Process; one that does gets exactly the standard library's
// semantics, context.Cause included.

type innerContext struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

type processKey struct{}

// CurrentProcess returns the process whose context ctx is or derives from,
// or nil: 4D's Current process.
func CurrentProcess(ctx context.Context) *Process {
	p, _ := ctx.Value(processKey{}).(*Process)
	return p
}

// context returns the process's cancellable context, making it if needed.
func (p *Process) context() *innerContext {
	if c := p.inner.Load(); c != nil {
		return c
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.inner.Load(); c != nil {
		return c
	}
	ctx, cancel := context.WithCancelCause(p.parent)
	c := &innerContext{ctx: ctx, cancel: cancel}
	if p.ending {
		cancel(context.Canceled)
	}
	p.inner.Store(c)
	return c
}

// Deadline implements context.Context: the parent's deadline.
func (p *Process) Deadline() (time.Time, bool) { return p.parent.Deadline() }

// Value implements context.Context. CurrentProcess uses it.
func (p *Process) Value(key any) any {
	if key == (processKey{}) {
		return p
	}
	if c := p.inner.Load(); c != nil {
		return c.ctx.Value(key)
	}
	return p.parent.Value(key)
}

// Done implements context.Context. The channel is closed when the process
// is aborted, when it ends, or when its parent context is done.
func (p *Process) Done() <-chan struct{} { return p.context().ctx.Done() }

// Err implements context.Context: context.Canceled once the process has
// been aborted or has ended, the parent's error once the parent is done.
func (p *Process) Err() error {
	if c := p.inner.Load(); c != nil {
		return c.ctx.Err()
	}
	if p.hasEnded() {
		return context.Canceled
	}
	return p.parent.Err()
}

// Cause returns why the process's context was cancelled: ErrAborted,
// ErrSessionEnded, ErrServerStopping, the parent's cause, context.Canceled
// for a process that simply ended, or nil while it runs. context.Cause(p)
// gives the same answer once the context has been made.
func (p *Process) Cause() error {
	if c := p.inner.Load(); c != nil {
		return context.Cause(c.ctx)
	}
	if p.hasEnded() {
		return context.Canceled
	}
	if p.parent.Err() != nil {
		return context.Cause(p.parent)
	}
	return nil
}

func (p *Process) hasEnded() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ending
}

// Abort cancels the process's context with cause (ErrAborted if nil), so
// that the work under it stops; the process then ends and its final state is
// Aborted. It is 4D's ABORT PROCESS BY ID. Abort does not wait; use Ended to
// wait. Aborting an ended process does nothing.
func (p *Process) Abort(cause error) {
	if cause == nil {
		cause = ErrAborted
	}
	p.context().cancel(cause)
}

// Scheduling requests, honoured at checkpoints.

func (p *Process) signalLocked() {
	if p.wake != nil {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// Pause asks the process to stop at its next checkpoint until Resume
// (4D's PAUSE PROCESS). A delayed process becomes paused.
func (p *Process) Pause() {
	p.mu.Lock()
	p.pause = true
	p.signalLocked()
	p.mu.Unlock()
}

// Resume lets a paused or delayed process go on (4D's RESUME PROCESS);
// otherwise it does nothing.
func (p *Process) Resume() {
	p.mu.Lock()
	p.pause = false
	p.delayUntil = time.Time{}
	p.signalLocked()
	p.mu.Unlock()
}

// Delay asks the process to sleep for d at its next checkpoint (4D's DELAY
// PROCESS). A new call replaces the remaining time; d <= 0 cancels the delay.
func (p *Process) Delay(d time.Duration) {
	p.mu.Lock()
	if d <= 0 {
		p.delayUntil = time.Time{}
	} else {
		p.delayUntil = time.Now().Add(d)
	}
	p.signalLocked()
	p.mu.Unlock()
}

// Checkpoint is where a process honours requests made from outside: it
// returns the context's error if the process was aborted, sleeps in state
// Delayed while a delay runs, and blocks in state Paused while paused. Long
// work should call it regularly; it is cheap when there is nothing to do.
// Only the process's own goroutine may call it.
func (p *Process) Checkpoint() error {
	for {
		if err := p.Err(); err != nil {
			return err
		}
		p.mu.Lock()
		state := StateExecuting
		var wait time.Duration
		switch {
		case p.pause:
			state = StatePaused
		case !p.delayUntil.IsZero():
			wait = time.Until(p.delayUntil)
			if wait > 0 {
				state = StateDelayed
			} else {
				p.delayUntil = time.Time{}
			}
		}
		if state == StateExecuting {
			p.mu.Unlock()
			return nil
		}
		if p.wake == nil {
			p.wake = make(chan struct{}, 1)
		}
		wake := p.wake
		p.mu.Unlock()

		p.setState(state)
		var timer <-chan time.Time
		var t *time.Timer
		if state == StateDelayed {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-wake:
		case <-timer:
		case <-p.Done():
		}
		if t != nil {
			t.Stop()
		}
		p.setState(StateExecuting)
	}
}

// Sleep delays the calling process itself for d and honours the delay at
// once: DELAY PROCESS(Current process; d). It returns early with the
// context's error if the process is aborted, or when Resume is called.
func (p *Process) Sleep(d time.Duration) error {
	p.Delay(d)
	return p.Checkpoint()
}

// Wait shows the process in state (for example StateWaitingForInputOutput
// while it waits on the network, StateWaitingForInternalFlag while it waits
// on a mailbox) until the returned function is called, which puts it back
// in state Executing. Only the process's own goroutine may call it.
func (p *Process) Wait(state ProcessState) (done func()) {
	p.setState(state)
	return func() { p.setState(StateExecuting) }
}

func (p *Process) setState(s ProcessState) {
	old := ProcessState(p.state.Swap(int32(s)))
	if old == s {
		return
	}
	p.cpu.StateChanged(old == StateExecuting, s == StateExecuting)
}

// Ending.

// End ends the process: its final state is Aborted (4D reports every ended
// process so), its context is cancelled, its CPU time is frozen and the
// table is told to drop it; only then does Ended fire. result is what the
// work returned. End is idempotent; only the first call counts.
func (p *Process) End(result error) {
	p.mu.Lock()
	if p.ending {
		p.mu.Unlock()
		return
	}
	p.ending = true // from here on a new context() is born cancelled
	p.result = result
	p.mu.Unlock()

	p.cpu.Freeze(p.State() == StateExecuting)
	p.state.Store(int32(StateAborted))
	if c := p.inner.Load(); c != nil {
		c.cancel(context.Canceled) // no-op if it was aborted: the cause stays
	}
	if p.onEnd != nil {
		p.onEnd(p)
	}
	p.mu.Lock()
	p.ended = true
	if p.endedCh != nil {
		close(p.endedCh)
	}
	p.mu.Unlock()
}

// Ended returns a channel closed once the process has ended.
func (p *Process) Ended() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended && p.endedCh == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	if p.endedCh == nil {
		p.endedCh = make(chan struct{})
	}
	return p.endedCh
}

// Result returns what the process's work returned, once it has ended.
func (p *Process) Result() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.result
}

// Run runs body as the process's work on the calling goroutine and ends the
// process when body returns (or panics: the panic is recovered and becomes
// the result, so one failing process does not stop the server). When
// bindThread is true the goroutine is locked to its OS thread for the run,
// so that the process's CPU time is the thread's real CPU time.
func (p *Process) Run(bindThread bool, body func(*Process) error) {
	var result error
	defer func() {
		if r := recover(); r != nil {
			result = &panicError{value: r}
		}
		p.cpu.Unbind()
		p.End(result)
	}()
	if bindThread {
		p.cpu.Bind(&p.systemIDPtr)
	} else {
		p.cpu.NoteThread(&p.systemIDPtr)
	}
	result = body(p)
}

type panicError struct{ value any }

func (e *panicError) Error() string { return "process panicked: " + toString(e.value) }

func toString(v any) string {
	switch v := v.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return "non-error panic value"
}

// CPU time and usage.

// CPUTime returns the process's CPU time; see package internal/cpu for what is measured.
func (p *Process) CPUTime() time.Duration { return p.cpu.Time(time.Now()) }

// CPUUsage returns the share of one CPU the process used over the last
// sampling window, from 0 to 1; a process younger than one window reports
// its share since creation. Sample updates the window.
func (p *Process) CPUUsage() float64 {
	now := time.Now()
	return p.cpuUsage(p.cpu.Time(now), now)
}

func (p *Process) cpuUsage(t time.Duration, now time.Time) float64 {
	if u, ok := p.cpu.Usage(); ok {
		return u
	}
	return cpu.Share(t, now.Sub(p.startMono))
}

// Sample closes one CPU-usage window: the usage becomes the CPU time spent
// since the previous Sample divided by the time elapsed. A ProcessTable
// calls it for every live process once per window.
func (p *Process) Sample(now time.Time) { p.cpu.Sample(now) }

// Info returns the process's 4D Process info object, read now. Session is
// left nil; ProcessActivity fills it.
func (p *Process) Info() ProcessInfo { return p.InfoAt(time.Now()) }

// InfoAt is Info with the time of reading given, so that a snapshot of many
// processes reads the clock once. now must come from time.Now (it carries
// the monotonic clock).
func (p *Process) InfoAt(now time.Time) ProcessInfo {
	cpuTime := p.cpu.Time(now)
	info := ProcessInfo{
		Number:           p.number,
		Name:             p.name,
		SessionID:        p.sessionID,
		ID:               p.id,
		Visible:          p.visible,
		Type:             p.typ,
		State:            p.State(),
		CreationDateTime: p.created,
		Preemptive:       true,
		SystemID:         p.SystemID(),
		CPUUsage:         p.cpuUsage(cpuTime, now),
		CPUTime:          cpuTime.Seconds(),
		URL:              p.url,
	}
	p.fillWork(&info)
	return info
}

// ProcessInfo is 4D's Process info object: a copy of a process's
// properties at one moment. The JSON form has 4D's property names and order.
type ProcessInfo struct {
	Number           int          // slot number
	Name             string       // process name
	SessionID        string       // "" for internal processes, which run in no session
	ID               int64        // unique ID, never reused
	Visible          bool         // false for internal processes
	Type             ProcessType  // 4D process type
	State            ProcessState // 4D process state
	CreationDateTime time.Time    // creation date-time, UTC
	Preemptive       bool         // always true: every fourd process runs in parallel on its own goroutine
	SystemID         string       // OS thread ID (see package internal/cpu)
	CPUUsage         float64      // 0..1 over the last sampling window
	CPUTime          float64      // seconds (see package internal/cpu)
	URL              string       // legacy url property: request path and query, web request processes only
	// What a data request is doing (fourd extensions, left out of the JSON
	// form when empty): its dataclass, its $filter as the client wrote it,
	// its phase, and the rows it found, loaded or wrote so far.
	DataClass string
	Filter    string
	Phase     Phase
	RowsDone  int64
	// Node is the node that runs the process (a fourd extension, left out
	// of the JSON form when empty): set by the ProcessTable of a node with
	// a name, as every server's is.
	Node string
	// Session is the .info of the process's session, set by ProcessActivity
	// unless "Processes only" was asked; nil for processes without a session.
	Session *SessionInfo

	sessionIndex int32 // 1 + index of Session in its Activity's Sessions; 0 if unknown
}

// ProcessTable is the table of a server's live processes. It numbers them
// (the lowest free slot, as 4D does), gives each a unique ID, and answers
// the snapshots of Process activity.
//
// Implementations are safe for concurrent use; snapshots copy values under
// short locks and never block registration for longer than it takes to copy
// the list of live processes.
type ProcessTable interface {
	// Start registers a process and runs body as its work on a new
	// goroutine; the process ends when body returns. It fails with
	// EUNAVAILABLE once the table is closing.
	Start(spec ProcessSpec, body func(*Process) error) (*Process, error)
	// Track registers a process for work the caller runs on its own
	// goroutine, such as a REST request; the caller must call End. It fails
	// with EUNAVAILABLE once the table is closing.
	Track(spec ProcessSpec) (*Process, error)
	// Process returns the live process with that number, or nil.
	Process(number int) *Process
	// ProcessByID returns the live process with that unique ID, or nil.
	ProcessByID(id int64) *Process
	// Processes returns a snapshot of the live processes in number order:
	// all of them when sessionID is "", else those of that session.
	Processes(sessionID string) []ProcessInfo
	// AbortSession aborts every process of the session with cause and
	// returns how many it aborted.
	AbortSession(sessionID string, cause error) int
	// Len returns the number of live processes, at a cost that does not
	// depend on it.
	Len() int
	// Sample closes a CPU-usage window for every live process (the
	// monitor process calls it every sampling interval).
	Sample(now time.Time)
	// Close refuses new processes (Start and Track fail with EUNAVAILABLE),
	// aborts every live one with cause ErrServerStopping and waits until
	// the processes started with Start have ended or ctx is done. Tracked
	// processes end when their caller calls End. Close may be called more
	// than once.
	Close(ctx context.Context) error
}

// Workers are 4D's workers on one node: each a unique, case-sensitive
// name, a mailbox, and a process (type Worker process) that runs the
// mailbox's messages one at a time, in the order they were posted (CALL
// WORKER, KILL WORKER). Implementations are safe for concurrent use.
type Workers interface {
	// Call posts msg to the named worker's mailbox, creating the worker, or
	// starting a new process for it, if needed; it returns at once. It
	// fails with EINVALID for an empty name, or EUNAVAILABLE when the
	// process table is closing.
	Call(name string, msg func(p *Process) error) error
	// Kill empties the named worker's mailbox and ends its process after
	// its current message; ENOTFOUND for an unknown worker.
	Kill(name string) error
	// Process returns the named worker's live process, or nil.
	Process(name string) *Process
}
