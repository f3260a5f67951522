package rest

import (
	"container/list"
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/fourd/fourd"
)

// Admission of data requests. A query that reads many rows holds a reader
// connection (and a core) for as long as it runs; left alone, a few
// clients sending expensive queries hold every reader, and a lookup by key
// waits behind them. So:
//
//   - every data request that reads has a time budget (QueryTimeout): on
//     expiry its work is cancelled and it answers 503 with 4D's error 1006
//     ("program interrupted");
//   - at most MaxQueries selections run at once, all sessions together,
//     and at most MaxQueriesPerSession of one session; the others wait in
//     their session's queue, and a free slot goes to the sessions in turn
//     (round robin), so a session that sends many requests waits for its
//     own, not others for it; a session with MaxQueuedPerSession requests
//     waiting already gets 429;
//   - a lookup by key (/rest/Employee(1), one entity) is not queued: it
//     costs one row, and the reader MaxQueries leaves free serves it.

// Defaults of the admission limits.
const (
	DefaultQueryTimeout         = 30 * time.Second
	DefaultMaxQueries           = 3
	DefaultMaxQueriesPerSession = 2
	DefaultMaxQueuedPerSession  = 32
)

func errQueryTimeout(d time.Duration) *fourd.Error {
	e := fourd.Errorf(fourd.EUNAVAILABLE, fourd.ErrCodeInterrupted,
		"the request ran past its time budget of %s (--query-timeout) and was interrupted: narrow the query ($filter, $top), or keep the selection with $method=entityset and page through it", d)
	e.Component = fourd.ComponentDB
	return e
}

// admit applies the time budget and the admission limits to a data
// request. It returns the request to serve (its context carries the
// budget) and a function to call when it has been served.
func (h *Handler) admit(r *http.Request, req *dataRequest, p *dataParams) (*http.Request, func(), error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return r, func() {}, nil // writes are bounded by their bodies and the writer
	}
	ctx, cancel := r.Context(), context.CancelFunc(func() {})
	if h.QueryTimeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, h.QueryTimeout, errQueryTimeout(h.QueryTimeout))
	}
	r = r.WithContext(ctx)
	if req.hasKey && len(req.attrs) == 0 && p.filter == nil {
		return r, cancel, nil // one entity: not queued
	}
	sessionID := ""
	if s := RequestSession(r); s != nil {
		sessionID = s.ID
	}
	release, err := h.queries.acquire(ctx, sessionID)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return r, func() { release(); cancel() }, nil
}

// queries is the admission of selections: slots, per-session queues, and
// the sessions waiting, in turn.
type queries struct {
	max, perSession, maxQueued int

	mu       sync.Mutex
	running  int
	sessions map[string]*sessionQueries // sessions running or waiting
	turn     list.List                  // of *sessionQueries with waiters, in turn order
}

type sessionQueries struct {
	id      string
	running int
	waiting list.List     // of *waiter, oldest first
	inTurn  *list.Element // in queries.turn while waiting is not empty
}

type waiter struct {
	ready   chan struct{}
	granted bool
}

// acquire waits for a slot for a request of session id, until ctx ends.
func (q *queries) acquire(ctx context.Context, id string) (release func(), err error) {
	if q.max <= 0 {
		return func() {}, nil
	}
	q.mu.Lock()
	if q.sessions == nil {
		q.sessions = map[string]*sessionQueries{}
	}
	sq := q.sessions[id]
	if sq == nil {
		sq = &sessionQueries{id: id}
		q.sessions[id] = sq
	}
	release = func() { q.release(sq) }
	if q.running < q.max && q.roomFor(sq) && sq.waiting.Len() == 0 {
		q.running++
		sq.running++
		q.mu.Unlock()
		return release, nil
	}
	if q.maxQueued > 0 && sq.waiting.Len() >= q.maxQueued {
		q.forget(sq)
		q.mu.Unlock()
		return nil, errQuota(time.Second, "this session has %d requests waiting for the server already: wait for their answers before sending more", q.maxQueued)
	}
	w := &waiter{ready: make(chan struct{})}
	e := sq.waiting.PushBack(w)
	if sq.inTurn == nil {
		sq.inTurn = q.turn.PushBack(sq)
	}
	q.mu.Unlock()

	var done func()
	if p := fourd.CurrentProcess(ctx); p != nil {
		done = p.Wait(fourd.StateWaitingForInternalFlag)
	}
	select {
	case <-w.ready:
	case <-ctx.Done():
	}
	if done != nil {
		done()
	}
	q.mu.Lock()
	if w.granted {
		q.mu.Unlock()
		if ctx.Err() != nil {
			release()
			return nil, context.Cause(ctx)
		}
		return release, nil
	}
	sq.waiting.Remove(e)
	if sq.waiting.Len() == 0 && sq.inTurn != nil {
		q.turn.Remove(sq.inTurn)
		sq.inTurn = nil
	}
	q.forget(sq)
	q.mu.Unlock()
	return nil, context.Cause(ctx)
}

func (q *queries) roomFor(sq *sessionQueries) bool {
	return q.perSession <= 0 || sq.running < q.perSession
}

// release frees a slot of sq and hands free slots to the waiting
// sessions in turn.
func (q *queries) release(sq *sessionQueries) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.running--
	sq.running--
	q.dispatch()
	q.forget(sq)
}

// dispatch grants free slots: the session first in turn that has room
// gets one and goes to the back of the turn. q.mu is held.
func (q *queries) dispatch() {
	for q.running < q.max {
		var next *sessionQueries
		for e := q.turn.Front(); e != nil; e = e.Next() {
			if sq := e.Value.(*sessionQueries); q.roomFor(sq) {
				next = sq
				break
			}
		}
		if next == nil {
			return
		}
		w := next.waiting.Remove(next.waiting.Front()).(*waiter)
		w.granted = true
		close(w.ready)
		q.running++
		next.running++
		if next.waiting.Len() == 0 {
			q.turn.Remove(next.inTurn)
			next.inTurn = nil
		} else {
			q.turn.MoveToBack(next.inTurn)
		}
	}
}

// forget drops sq once it has nothing running or waiting. q.mu is held.
func (q *queries) forget(sq *sessionQueries) {
	if sq.running == 0 && sq.waiting.Len() == 0 {
		delete(q.sessions, sq.id)
	}
}

// overBudget returns the time budget's error for an error that comes from
// the budget's expiry (an internal one: the datastore's context error),
// and err otherwise.
func overBudget(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	if code := fourd.ErrorCode(err); code != fourd.EINTERNAL {
		return err
	}
	var fe *fourd.Error
	if errors.As(context.Cause(ctx), &fe) {
		return fe
	}
	return err
}
