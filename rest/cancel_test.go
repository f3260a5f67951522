package rest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
)

// blockingData is a datastore whose Page blocks until its context ends and
// then fails as the SQLite datastore does: with the context's error,
// wrapped. Each call announces itself on started.
type blockingData struct {
	fourd.Datastore // nil: only Model and Page are called
	model           *fourd.Model
	started         chan struct{}
}

func (d *blockingData) Model() *fourd.Model { return d.model }

func (d *blockingData) Page(ctx context.Context, sel fourd.Selection, skip, top int, attrs []string) ([]*fourd.Entity, int, error) {
	d.started <- struct{}{}
	<-ctx.Done()
	return nil, 0, fmt.Errorf("page of %s: %w", sel.DataClass.Name, ctx.Err())
}

// errorLog counts the error records written to a logger.
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		l.mu.Lock()
		l.errs = append(l.errs, r.Message)
		l.mu.Unlock()
	}
	return nil
}
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

func (l *errorLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.errs)
}

// TestCancelledRequest interrupts a request while its query runs, in each
// of the four ways, and checks the answer and the log: never a 500.
func TestCancelledRequest(t *testing.T) {
	model, err := fourd.ParseModel([]byte(fixtureModel))
	if err != nil {
		t.Fatal(err)
	}
	open := func(t *testing.T) (*rest.Handler, *inmem.ProcessTable, *blockingData, *errorLog, string) {
		procs := inmem.NewProcessTable()
		t.Cleanup(func() { _ = procs.Close(context.Background()) })
		data := &blockingData{model: model, started: make(chan struct{}, 1)}
		log := &errorLog{}
		h := &rest.Handler{Processes: procs, Registry: inmem.NewProcessRegistry("n1", procs), Sessions: inmem.NewSessionStore(), Data: data,
			EntitySets: inmem.NewEntitySetStore(1 << 20), Logger: slog.New(log)}
		h.Init()
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return h, procs, data, log, srv.URL
	}
	// request sends GET /rest/Employee in the background and returns its
	// outcome once it has one.
	request := func(ctx context.Context, u string) <-chan error {
		return requestWith(ctx, http.DefaultClient, u)
	}
	// requestProcess returns the process serving the blocked request.
	requestProcess := func(t *testing.T, procs *inmem.ProcessTable) *fourd.Process {
		t.Helper()
		for _, pi := range procs.Processes("") {
			if pi.Name == "GET /rest/Employee" {
				return procs.ProcessByID(pi.ID)
			}
		}
		t.Fatal("no process serves the request")
		return nil
	}
	check := func(t *testing.T, got error, status, errCode int, log *errorLog) {
		t.Helper()
		var a *answer
		if !errors.As(got, &a) {
			t.Fatalf("no answer: %v", got)
		}
		if a.status != status {
			t.Fatalf("status %d %s, want %d", a.status, a.body, status)
		}
		if code, _ := errorOf(t, a.status, a.body); code != errCode {
			t.Fatalf("errCode %d, want %d: %s", code, errCode, a.body)
		}
		if n := log.count(); n != 0 {
			t.Fatalf("%d error records logged: %v", n, log.errs)
		}
	}

	t.Run("Aborted", func(t *testing.T) {
		_, procs, data, log, u := open(t)
		done := request(context.Background(), u)
		servertest.Receive(t, "the query to start", data.started)
		requestProcess(t, procs).Abort(fourd.ErrAborted)
		check(t, servertest.Receive(t, "the answer", done), http.StatusConflict, fourd.ErrCodeInterrupted, log)
	})
	t.Run("AbortedThenSameConnection", func(t *testing.T) {
		// An aborted request must leave its kept-alive connection fit for
		// the next request: cutting the connection's reads on abort
		// cancelled the connection's context, and the next request on it
		// was answered 200 with an empty body.
		_, procs, data, log, u := open(t)
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		c := &http.Client{Transport: tr}
		var conns []bool
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { conns = append(conns, i.Reused) },
		})
		for i := range 3 {
			done := requestWith(ctx, c, u)
			servertest.Receive(t, "the query to start", data.started)
			for _, pi := range procs.Processes("") {
				if pi.Name == "GET /rest/Employee" {
					procs.ProcessByID(pi.ID).Abort(fourd.ErrAborted)
				}
			}
			check(t, servertest.Receive(t, fmt.Sprintf("answer %d", i), done), http.StatusConflict, fourd.ErrCodeInterrupted, log)
		}
		if len(conns) != 3 || !conns[1] || !conns[2] {
			t.Fatalf("connections reused: %v, want [false true true]: the test shows nothing", conns)
		}
	})
	t.Run("SessionEnded", func(t *testing.T) {
		_, procs, data, log, u := open(t)
		done := request(context.Background(), u)
		servertest.Receive(t, "the query to start", data.started)
		p := requestProcess(t, procs)
		if n := procs.AbortSession(p.SessionID(), fourd.ErrSessionEnded); n != 1 {
			t.Fatalf("%d processes aborted", n)
		}
		check(t, servertest.Receive(t, "the answer", done), http.StatusConflict, fourd.ErrCodeInterrupted, log)
	})
	t.Run("ServerStopping", func(t *testing.T) {
		_, procs, data, log, u := open(t)
		done := request(context.Background(), u)
		servertest.Receive(t, "the query to start", data.started)
		closed := make(chan error, 1)
		go func() { closed <- procs.Close(context.Background()) }()
		check(t, servertest.Receive(t, "the answer", done), http.StatusServiceUnavailable, fourd.ErrCodeShuttingDown, log)
		if err := servertest.Receive(t, "the process table to close", closed); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ClientGone", func(t *testing.T) {
		_, procs, data, log, u := open(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := request(ctx, u)
		servertest.Receive(t, "the query to start", data.started)
		p := requestProcess(t, procs)
		cancel()
		if err := servertest.Receive(t, "the client to give up", done); !errors.Is(err, context.Canceled) {
			t.Fatalf("client: %v", err)
		}
		servertest.Receive(t, "the request's process to end", p.Ended())
		if n := log.count(); n != 0 {
			t.Fatalf("%d error records logged for a client that went away: %v", n, log.errs)
		}
	})
}

// requestWith sends GET /rest/Employee through c in the background and
// returns its outcome once it has one.
func requestWith(ctx context.Context, c *http.Client, u string) <-chan error {
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u+"/rest/Employee", nil)
		resp, err := c.Do(req)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		done <- &answer{resp.StatusCode, body}
	}()
	return done
}

// answer is an HTTP answer passed as an error through a channel.
type answer struct {
	status int
	body   []byte
}

func (a *answer) Error() string { return fmt.Sprintf("HTTP %d %s", a.status, a.body) }
