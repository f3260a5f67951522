package inmem

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/fourd/fourd"
)

// Message is the work a worker runs for one CALL WORKER: a function run on
// the worker's process, with the process as its context.
type Message = func(p *fourd.Process) error

// Workers are 4D's workers: each is a unique, case-sensitive name, a
// mailbox, and a process (type Worker process) that runs the mailbox's
// messages one at a time, in the order they were posted. The process stays
// alive between messages, waiting in state "Waiting for internal flag"; the
// mailbox outlives it, and a new message starts a new process for a worker
// whose process has ended.
type Workers struct {
	// Table runs the worker processes.
	Table *ProcessTable
	// SessionID is the session the worker processes run in: the server's
	// stored-procedure session.
	SessionID string
	// Logger receives the errors returned by messages; slog.Default() if nil.
	Logger *slog.Logger

	mu      sync.Mutex
	workers map[string]*worker
}

type worker struct {
	name    string
	mailbox []Message
	proc    *fourd.Process // nil when the worker has no process
	killed  bool           // KillWorker: end after the current message
	wake    chan struct{}
}

var _ fourd.Workers = (*Workers)(nil)

// NewWorkers returns the worker registry of a process table. Workers run
// on the in-memory table only: their processes restart from the table's
// own end-of-process hook.
func NewWorkers(t *ProcessTable, sessionID string) *Workers {
	return &Workers{Table: t, SessionID: sessionID, workers: make(map[string]*worker)}
}

// Call posts msg to the named worker's mailbox, creating the worker, or
// starting a new process for it, if needed (4D's CALL WORKER). It returns at
// once. It fails with EINVALID for an empty name, or EUNAVAILABLE when the
// table is closing.
func (ws *Workers) Call(name string, msg Message) error {
	if name == "" {
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "a worker needs a name")
	}
	if msg == nil {
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "a worker message needs a function")
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	w := ws.workers[name]
	if w == nil {
		w = &worker{name: name, wake: make(chan struct{}, 1)}
		ws.workers[name] = w
	}
	w.mailbox = append(w.mailbox, msg)
	if w.proc != nil {
		// A running process takes it; a killed one still ending leaves it
		// to the process started when it has really ended.
		select {
		case w.wake <- struct{}{}:
		default:
		}
		return nil
	}
	return ws.startLocked(w)
}

func (ws *Workers) startLocked(w *worker) error {
	p, err := ws.Table.start(fourd.ProcessSpec{
		Name:      w.name,
		Type:      fourd.TypeWorkerProcess,
		SessionID: ws.SessionID,
		Visible:   true,
		Abortable: true,
	}, func(p *fourd.Process) error { return ws.loop(w, p) }, func(p *fourd.Process) { ws.ended(w, p) })
	if err != nil {
		return err
	}
	w.proc = p
	w.killed = false
	return nil
}

// ended runs once the worker's process has really ended; messages posted
// since start a new one.
func (ws *Workers) ended(w *worker, p *fourd.Process) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if w.proc != p {
		return
	}
	w.proc = nil
	w.killed = false
	if len(w.mailbox) > 0 && !errors.Is(p.Cause(), fourd.ErrServerStopping) {
		if err := ws.startLocked(w); err != nil {
			ws.logger().Warn("worker not restarted", "worker", w.name, "err", err)
		}
	}
}

func (ws *Workers) loop(w *worker, p *fourd.Process) error {
	for {
		msg, ok := ws.next(w, p)
		if !ok {
			return p.Err()
		}
		if err := ws.run(msg, p); err != nil {
			ws.logger().Warn("worker message failed", "worker", w.name, "process", p.Number(), "err", err)
		}
	}
}

// run runs one message; a panicking message is reported like an error and
// the worker goes on with the next one.
func (ws *Workers) run(msg Message, p *fourd.Process) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("message panicked")
			ws.logger().Error("worker message panicked", "process", p.Number(), "panic", r)
		}
	}()
	return msg(p)
}

// next waits for the next message. It returns false when the worker was
// killed or its process aborted.
func (ws *Workers) next(w *worker, p *fourd.Process) (Message, bool) {
	for {
		if p.Checkpoint() != nil {
			return nil, false
		}
		ws.mu.Lock()
		if w.killed {
			ws.mu.Unlock()
			return nil, false
		}
		if len(w.mailbox) > 0 {
			msg := w.mailbox[0]
			w.mailbox[0] = nil
			w.mailbox = w.mailbox[1:]
			ws.mu.Unlock()
			return msg, true
		}
		ws.mu.Unlock()
		done := p.Wait(fourd.StateWaitingForInternalFlag)
		select {
		case <-w.wake:
		case <-p.Done():
		}
		done()
	}
}

// Kill empties the named worker's mailbox and asks its process to end after
// its current message (4D's KILL WORKER). A later Call starts a new process
// once this one has really ended. An unknown worker returns ENOTFOUND.
func (ws *Workers) Kill(name string) error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	w := ws.workers[name]
	if w == nil {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownProcess, "no worker named %q", name)
	}
	w.mailbox = nil
	if w.proc != nil {
		w.killed = true
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Process returns the named worker's live process, or nil.
func (ws *Workers) Process(name string) *fourd.Process {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if w := ws.workers[name]; w != nil {
		return w.proc
	}
	return nil
}

func (ws *Workers) logger() *slog.Logger {
	if ws.Logger != nil {
		return ws.Logger
	}
	return slog.Default()
}
