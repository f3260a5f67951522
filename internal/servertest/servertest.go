// Package servertest opens real fourd servers for tests: listening on
// 127.0.0.1:0, with a temporary data directory, an injectable clock, and
// clients whose connections are closed when the test ends (so that goleak
// sees no leftover goroutine).
package servertest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fourd/fourd/internal/pgtest"
	"github.com/fourd/fourd/userfile"
	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd"

	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

// InternalTypes are the types of the internal processes of a server
// without a datastore, in process-number order: main, HTTP listener,
// session timer, process monitor, cache manager. A server with a datastore
// adds a flusher and an indexer.
var InternalTypes = []fourd.ProcessType{fourd.TypeMainProcess, fourd.TypeHTTPListener, fourd.TypeInternalTimerProcess,
	fourd.TypeMonitorProcess, fourd.TypeCacheManager}

// InternalProcesses is len(InternalTypes).
var InternalProcesses = len(InternalTypes)

// DatastoreEnv, set to "postgres", makes MustOpenServer serve the data of
// a server that names no datastore from a new PostgreSQL schema
// (internal/pgtest) instead of the SQLite default, so that a package's
// end-to-end tests run once per datastore: .ci/run runs those of rest
// both ways.
const DatastoreEnv = "FOURD_TEST_DATASTORE"

// Node is the node name of the servers MustOpenServer opens (not the host
// name, so that answers compared with golden files do not depend on the
// machine).
const Node = "n1"

// MustOpenServer opens a server named Node on 127.0.0.1:0 with tb.TempDir() as its data
// directory and a logger that discards, applies opts to it before Open, and
// registers Close with tb.Cleanup. It fails the test if Open fails. With
// FOURD_TEST_DATASTORE=postgres, a server whose options name no datastore
// gets a PostgreSQL schema of its own.
func MustOpenServer(tb testing.TB, opts ...func(*server.Server)) *server.Server {
	tb.Helper()
	srv := server.New()
	srv.Node = Node
	srv.Addr = "127.0.0.1:0"
	srv.DataDir = tb.TempDir()
	srv.Logger = slog.New(slog.DiscardHandler)
	for _, o := range opts {
		o(srv)
	}
	if srv.Datastore == "" && os.Getenv(DatastoreEnv) == "postgres" {
		if os.Getenv(pgtest.Env) == "" {
			tb.Fatalf("%s=postgres needs %s (scripts/postgres)", DatastoreEnv, pgtest.Env)
		}
		// A database named data, as the SQLite default is data.sqlite: the
		// messages that name the database (4D's 1046) read the same.
		srv.Datastore = pgtest.MustSchemaIn(tb, "data")
		if srv.Users == nil {
			// On a postgres:// datastore the server would keep its users in
			// the database; these tests write users.json (WithUser, and
			// tests that change the file while the server runs), so the
			// users directory stays that file. postgres.UserStore has its
			// own suite (storetest.TestUserStore) and server tests.
			users, err := userfile.Open(filepath.Join(srv.DataDir, userfile.FileName))
			if err != nil {
				tb.Fatal(err)
			}
			users.Cost = bcrypt.MinCost
			srv.Users = users
		}
	}
	if err := srv.Open(); err != nil {
		tb.Fatalf("open server: %v", err)
	}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	return srv
}

// WithClock makes the server read time from c.
func WithClock(c *Clock) func(*server.Server) {
	return func(s *server.Server) { s.Now = c.Now }
}

// WithQuietTicks makes the timer and monitor processes tick once an hour,
// so that only the test moves sessions and CPU windows, and so that those
// processes stay in state Delayed.
func WithQuietTicks() func(*server.Server) {
	return func(s *server.Server) {
		s.SweepInterval = time.Hour
		s.SampleInterval = time.Hour
	}
}

// WithModel writes model (a model.json document) into the server's data
// directory before it opens, so that it serves a datastore of that model.
func WithModel(tb testing.TB, model string) func(*server.Server) {
	return func(s *server.Server) {
		if err := os.WriteFile(filepath.Join(s.DataDir, server.ModelFile), []byte(model), 0o640); err != nil {
			tb.Fatal(err)
		}
	}
}

// WithDemo makes the server create the demo model and generate that many
// companies and employees; WaitForDemo waits until they are in.
func WithDemo(companies, employees int) func(*server.Server) {
	return func(s *server.Server) {
		s.Demo, s.DemoCompanies, s.DemoEmployees = true, companies, employees
	}
}

// WaitForDemo waits until the demo data import has ended.
func WaitForDemo(tb testing.TB, srv *server.Server) {
	tb.Helper()
	EventuallyWithin(tb, 2*time.Minute, "the demo data import to end", func() bool {
		for _, p := range srv.Processes.Processes("") {
			if p.Name == "Demo data import" {
				return false
			}
		}
		for _, pi := range srv.Progress.Snapshot() {
			if pi.UserInfo == fourd.ProgressImport {
				return false
			}
		}
		return true
	})
}

// WithUser adds a user to the server's users directory before it opens
// (at bcrypt's lowest cost, so tests run fast), which turns access control
// on.
func WithUser(tb testing.TB, name, password string, privileges ...string) func(*server.Server) {
	return func(s *server.Server) {
		store, err := userfile.Open(filepath.Join(s.DataDir, userfile.FileName))
		if err != nil {
			tb.Fatal(err)
		}
		store.Cost = bcrypt.MinCost
		if _, err := store.Add(context.Background(), name, password, privileges); err != nil {
			tb.Fatal(err)
		}
	}
}

// Blocked starts a user process named "blocked" that runs until it is
// aborted, passing a checkpoint every millisecond so that it can be paused
// and delayed; the test's cleanup aborts it and waits for its end.
func Blocked(tb testing.TB, srv *server.Server) *fourd.Process {
	tb.Helper()
	return BlockedNamed(tb, srv, "blocked")
}

// BlockedNamed is Blocked with the process named name.
func BlockedNamed(tb testing.TB, srv *server.Server, name string) *fourd.Process {
	tb.Helper()
	p, err := srv.NewProcess(name, func(p *fourd.Process) error {
		for {
			if err := p.Checkpoint(); err != nil {
				return err
			}
			select {
			case <-p.Done():
				return p.Err()
			case <-time.After(time.Millisecond):
			}
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Abort(nil); <-p.Ended() })
	return p
}

// WithAppName sets the server's application name.
func WithAppName(name string) func(*server.Server) {
	return func(s *server.Server) { s.AppName = name }
}

// Clock is a clock that moves only when told; safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// T0 is a fixed starting time for clocks, with milliseconds, as fourd writes
// date-times.
var T0 = time.Date(2024, time.September, 22, 12, 46, 39, 787_000_000, time.UTC)

// NewHTTPClient returns an HTTP client with its own transport and a cookie
// jar; its idle connections are closed when the test ends.
func NewHTTPClient(tb testing.TB) *http.Client {
	tb.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(tr.CloseIdleConnections)
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Transport: tr, Jar: jar}
}

// NewClient returns a REST client of srv with its own session (cookie jar).
func NewClient(tb testing.TB, srv *server.Server) *rest.Client {
	tb.Helper()
	c, err := rest.NewClient(srv.URL(), NewHTTPClient(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Eventually polls cond every millisecond until it holds, and fails the test
// if it still does not after 5 seconds. It is for asynchronous states (a
// process reaching Paused, a request process leaving the table), never a
// measure of speed.
func Eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	EventuallyWithin(tb, 5*time.Second, what, cond)
}

// EventuallyWithin is Eventually with another deadline, for work that runs
// long under the race detector (a data import). It is a deadline, never a
// measure of speed.
func EventuallyWithin(tb testing.TB, limit time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("still not %s after %s", what, limit)
		}
		time.Sleep(time.Millisecond)
	}
}

// Receive waits for ch to be closed or to deliver, failing the test after 5
// seconds: a guard against a hang, not a timing assertion.
func Receive[T any](tb testing.TB, what string, ch <-chan T) T {
	tb.Helper()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case v := <-ch:
		return v
	case <-t.C:
		tb.Fatalf("%s: nothing after 5s", what)
	}
	var zero T
	return zero
}

// Sessions returns how many sessions srv holds (the stored-procedure
// session included), through the SessionStore contract.
func Sessions(tb testing.TB, srv *server.Server) int {
	tb.Helper()
	n, err := srv.Sessions.Count(context.Background(), "")
	if err != nil {
		tb.Fatal(err)
	}
	return n.Total
}

// EntitySets returns how many entity sets srv holds, through the
// EntitySetStore contract.
func EntitySets(tb testing.TB, srv *server.Server) int {
	tb.Helper()
	list, err := srv.EntitySets.EntitySets(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return len(list)
}

// LogBuffer collects a server's logs as text, for tests that check what
// the server says; safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf []byte
}

// NewLogBuffer returns an empty LogBuffer.
func NewLogBuffer() *LogBuffer { return &LogBuffer{} }

// Write implements io.Writer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// String returns everything logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// Logger returns a text logger, at debug level, writing into b.
func (b *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
