package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/fourd/fourd"
)

// withProcess runs the request as a process of its session, named after
// its method and path, for as long as it is handled.
func (h *Handler) withProcess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessionID := ""
		if s := RequestSession(r); s != nil {
			sessionID = s.ID
		}
		// A class function's process is named after it: "Employee.raise".
		name := r.Method + " " + r.URL.Path
		fn := h.resolveFunction(r)
		if fn != nil {
			name = fn.def.String()
		}
		p, err := h.Processes.Track(fourd.ProcessSpec{
			Name:      name,
			Type:      fourd.TypeWebServerProcess,
			SessionID: sessionID,
			Visible:   true,
			URL:       r.RequestURI,
			Abortable: true,
			Parent:    r.Context(),
		})
		if err != nil {
			writeError(w, r, h.Logger, err)
			return
		}
		if rec := recordOf(r.Context()); rec != nil {
			rec.proc = p
		}
		defer func() {
			if v := recover(); v != nil {
				p.End(errors.New("request panicked"))
				panic(v) // net/http logs it and closes the connection
			}
			p.End(nil)
		}()
		stop := h.bindConnection(p, w, r)
		defer stop()
		var ctx context.Context = p
		if fn != nil {
			ctx = context.WithValue(ctx, funcTargetKey{}, fn)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// DefaultBodyTimeout is how long a client has to send a request's whole
// body, from the moment the request is served: Handler.BodyTimeout's
// default (fourd serve --body-timeout).
const DefaultBodyTimeout = time.Minute

// AbortWriteGrace is how long an aborted request may still take to write
// its answer before its connection is cut.
const AbortWriteGrace = 5 * time.Second

// bindConnection ties the request's connection to its process p:
//
//   - the body must arrive within BodyTimeout: a read deadline, which
//     net/http lifts itself once the body has been read to its end (so
//     that it never cuts work that goes on longer);
//   - when p is aborted (ABORT PROCESS BY ID, its session ending, the
//     server stopping), a body read still under way stops at once and a
//     write to a client that does not read stops after AbortWriteGrace,
//     so that the process ends whatever it waits on and never outlives
//     its session.
//
// Reads are cut only while the body is being read: once it has been read
// (or when there is none), net/http reads the connection in the
// background to notice a client that leaves, and a deadline there would
// cancel the connection's context, so that the next request on a
// kept-alive connection would start cancelled.
//
// The returned stop must be called when the request has been served.
func (h *Handler) bindConnection(p *fourd.Process, w http.ResponseWriter, r *http.Request) (stop func()) {
	rc := http.NewResponseController(w)
	var body *timedBody
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		body = &timedBody{ReadCloser: r.Body, p: p, limit: h.BodyTimeout}
		if h.BodyTimeout > 0 && rc.SetReadDeadline(time.Now().Add(h.BodyTimeout)) != nil {
			body.limit = 0 // the connection takes no deadline (HTTP/2 streams do)
		}
		r.Body = body
	}
	stopAbort := context.AfterFunc(p, func() {
		now := time.Now()
		if body != nil && body.cut() {
			_ = rc.SetReadDeadline(now)
		}
		_ = rc.SetWriteDeadline(now.Add(AbortWriteGrace))
	})
	return func() {
		if !stopAbort() {
			// The abort ran: its write deadline must not outlive the
			// request on a kept-alive connection (net/http sets the read
			// deadline of the next request itself).
			_ = rc.SetWriteDeadline(time.Time{})
		}
	}
}

// timedBody is a request body under a read deadline: a read the deadline
// or an abort cuts says so. It knows whether the body has been read to its
// end, so that an abort cuts the connection's reads only while the body
// is still being read.
type timedBody struct {
	io.ReadCloser
	p     *fourd.Process
	limit time.Duration // the body timeout; 0: none

	mu       sync.Mutex
	reading  bool // a Read is under way
	finished bool // a Read returned an error or the end of the body
}

// cut reports whether the body is still being read, and if so marks it
// finished: the caller then cuts the connection's reads.
func (b *timedBody) cut() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return false
	}
	b.finished = true
	return true
}

func (b *timedBody) Read(buf []byte) (int, error) {
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		if b.p.Err() != nil {
			return 0, fmt.Errorf("the request was aborted while its body was read: %w", context.Cause(b.p))
		}
		return 0, io.EOF
	}
	b.reading = true
	b.mu.Unlock()
	n, err := b.ReadCloser.Read(buf)
	b.mu.Lock()
	b.reading = false
	if err != nil {
		b.finished = true
	}
	b.mu.Unlock()
	switch {
	case err == nil || err == io.EOF:
	case b.p.Err() != nil:
		err = fmt.Errorf("the request was aborted while its body was read: %w", context.Cause(b.p))
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("the body did not arrive within %s (--body-timeout)", b.limit)
	}
	return n, err
}
