package server_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// MustOpenServer opens a server on 127.0.0.1:0 with a temporary data
// directory, closed when the test ends; see servertest.MustOpenServer.
func MustOpenServer(tb testing.TB, opts ...func(*server.Server)) *server.Server {
	tb.Helper()
	return servertest.MustOpenServer(tb, opts...)
}

func TestOpen_InternalProcesses(t *testing.T) {
	srv := MustOpenServer(t)

	want := []struct {
		typ   fourd.ProcessType
		state fourd.ProcessState // the state it waits in
	}{
		{fourd.TypeMainProcess, fourd.StateWaitingForInternalFlag},
		{fourd.TypeHTTPListener, fourd.StateWaitingForInputOutput},
		{fourd.TypeInternalTimerProcess, fourd.StateDelayed},
		{fourd.TypeMonitorProcess, fourd.StateDelayed},
		{fourd.TypeCacheManager, fourd.StateDelayed},
	}
	if got := srv.Processes.Len(); got != len(want) {
		t.Fatalf("Processes.Len() = %d after Open, want %d internal processes", got, len(want))
	}
	byType := map[fourd.ProcessType]fourd.ProcessInfo{}
	for _, p := range srv.Processes.Processes("") {
		if _, dup := byType[p.Type]; dup {
			t.Fatalf("two processes of type %v", p.Type)
		}
		byType[p.Type] = p
	}
	if main := byType[fourd.TypeMainProcess]; main.Number != 1 || main.Name != "Main process" {
		t.Errorf("main process = number %d name %q, want number 1 named %q", main.Number, main.Name, "Main process")
	}
	for _, w := range want {
		info, ok := byType[w.typ]
		if !ok {
			t.Errorf("no process of type %d (%v)", int(w.typ), w.typ)
			continue
		}
		t.Run(w.typ.String(), func(t *testing.T) {
			if info.Visible {
				t.Error("visible; internal processes are invisible")
			}
			if info.SessionID != "" {
				t.Errorf("sessionID = %q, want none", info.SessionID)
			}
			servertest.Eventually(t, "in state "+w.state.String(), func() bool {
				p := srv.ProcessInfo(info.Number)
				return p != nil && p.State == w.state
			})
			t.Run("ErrNotAbortable", func(t *testing.T) {
				for name, err := range map[string]error{
					"AbortProcessByID": srv.AbortProcessByID(info.ID),
					"PauseProcess":     srv.PauseProcess(info.Number),
					"DelayProcess":     srv.DelayProcess(info.Number, 1),
					"ResumeProcess":    srv.ResumeProcess(info.Number),
				} {
					if code := fourd.ErrorCode(err); code != fourd.EINVALID {
						t.Errorf("%s: error %v (code %q), want code %q", name, err, code, fourd.EINVALID)
					}
				}
				if p := srv.Processes.ProcessByID(info.ID); p == nil || p.Err() != nil {
					t.Fatal("the internal process was stopped by a refused command")
				}
			})
		})
	}
}

func TestOpen_StoredProcedureSession(t *testing.T) {
	srv := MustOpenServer(t)
	sp := srv.StoredProcedureSession()
	a, err := srv.ProcessActivity(context.Background(), "", fourd.SessionsOnly)
	if err != nil {
		t.Fatal(err)
	}
	info := a.Session(sp.ID)
	if info == nil {
		t.Fatalf("stored-procedure session %s not in sessions %v", sp.ID, a.Sessions)
	}
	if info.Type != fourd.SessionStoredProcedure {
		t.Errorf("type = %q, want %q", info.Type, fourd.SessionStoredProcedure)
	}
	if !info.Expiration.IsZero() {
		t.Errorf("expiration = %v, want none", info.Expiration)
	}
	if got := srv.SessionInfo(sp.ID); got == nil || !reflect.DeepEqual(*got, *info) {
		t.Errorf("SessionInfo = %+v, want %+v", got, info)
	}
}

// TestOpen_Node checks the node name: every process and session of
// Process activity carries it, and a bad one, or a registry of another
// node, is refused at Open.
func TestOpen_Node(t *testing.T) {
	t.Run("OKOnProcessesAndSessions", func(t *testing.T) {
		srv := MustOpenServer(t, func(s *server.Server) { s.Node = "db-7" })
		a, err := srv.ProcessActivity(context.Background(), "", fourd.ProcessesAndSessions)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Processes) == 0 || len(a.Sessions) == 0 {
			t.Fatalf("activity %+v", a)
		}
		for _, p := range a.Processes {
			if p.Node != "db-7" {
				t.Errorf("process %q on node %q, want db-7", p.Name, p.Node)
			}
		}
		for _, s := range a.Sessions {
			if s.Node != "db-7" {
				t.Errorf("session %s of node %q, want db-7", s.ID, s.Node)
			}
		}
	})
	t.Run("OKDefaultIsTheHostName", func(t *testing.T) {
		if n := server.New().Node; n != server.DefaultNode() || fourd.CheckNodeName(n) != nil {
			t.Errorf("default node %q (DefaultNode %q)", n, server.DefaultNode())
		}
	})
	for name, set := range map[string]func(*server.Server){
		"ErrBadName":   func(s *server.Server) { s.Node = "a/b" },
		"ErrEmptyName": func(s *server.Server) { s.Node = "" },
		"ErrRegistryOfAnother": func(s *server.Server) {
			s.Node = "a"
			s.Registry = inmem.NewProcessRegistry("b", inmem.NewProcessTable())
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := server.New()
			srv.Addr, srv.DataDir, srv.Logger = "127.0.0.1:0", t.TempDir(), slog.New(slog.DiscardHandler)
			set(srv)
			if err := srv.Open(); err == nil {
				srv.Close()
				t.Fatal("Open accepted it")
			}
		})
	}
}

func TestOpen(t *testing.T) {
	t.Run("ErrBadAppName", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		srv := server.New()
		srv.Addr = "127.0.0.1:0"
		srv.DataDir = t.TempDir()
		srv.AppName = "bad name;"
		if err := srv.Open(); err == nil {
			srv.Close()
			t.Fatal("Open succeeded with app name \"bad name;\"")
		}
		if err := srv.Close(); err != nil {
			t.Errorf("Close after a failed Open: %v", err)
		}
	})
	t.Run("ErrAddressInUse", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		srv := server.New()
		srv.Addr = ln.Addr().String()
		srv.DataDir = t.TempDir()
		err = srv.Open()
		if err == nil {
			srv.Close()
			t.Fatalf("Open on %s, already in use, succeeded", srv.Addr)
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("Open: %v, want an error wrapping EADDRINUSE", err)
		}
		if n := srv.Processes.Len(); n != 0 {
			t.Errorf("%d processes left after a failed Open", n)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("Close after a failed Open: %v", err)
		}
	})
	t.Run("ErrNoDataDir", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		srv := server.New()
		srv.Addr = "127.0.0.1:0"
		if err := srv.Open(); err == nil {
			srv.Close()
			t.Fatal("Open succeeded without a data directory")
		}
	})
	t.Run("ErrOpenTwice", func(t *testing.T) {
		srv := MustOpenServer(t)
		if err := srv.Open(); err == nil {
			t.Fatal("second Open succeeded")
		}
	})
}

func TestClose(t *testing.T) {
	t.Run("EndsProcessesWithServerStopping", func(t *testing.T) {
		srv := MustOpenServer(t)
		running := make(chan struct{})
		p, err := srv.NewProcess("blocked", func(p *fourd.Process) error {
			close(running)
			<-p.Done()
			return p.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		servertest.Receive(t, "process start", running)
		if err := srv.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		select {
		case <-p.Ended():
		default:
			t.Fatal("process still running after Close returned")
		}
		if p.State() != fourd.StateAborted {
			t.Errorf("state = %v, want Aborted", p.State())
		}
		if p.Cause() != fourd.ErrServerStopping {
			t.Errorf("cause = %v, want %v", p.Cause(), fourd.ErrServerStopping)
		}
		if n := srv.Processes.Len(); n != 0 {
			t.Errorf("%d processes left after Close", n)
		}
		if _, err := srv.NewProcess("late", func(*fourd.Process) error { return nil }); fourd.ErrorCode(err) != fourd.EUNAVAILABLE {
			t.Errorf("NewProcess after Close: %v, want code %q", err, fourd.EUNAVAILABLE)
		}
	})
	t.Run("OKTwice", func(t *testing.T) {
		srv := MustOpenServer(t)
		for i := 0; i < 2; i++ {
			if err := srv.Close(); err != nil {
				t.Fatalf("Close #%d: %v", i+1, err)
			}
		}
	})
	t.Run("ErrConnectionRefusedAfter", func(t *testing.T) {
		srv := MustOpenServer(t)
		c := servertest.NewClient(t, srv)
		if _, err := c.Activity(context.Background(), "", fourd.ProcessesAndSessions); err != nil {
			t.Fatal(err)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		fresh := servertest.NewClient(t, srv) // no kept-alive connection to find closed
		if _, err := fresh.Activity(context.Background(), "", fourd.ProcessesAndSessions); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Activity after Close: %v, want connection refused", err)
		}
		if sp := srv.StoredProcedureSession(); srv.SessionInfo(sp.ID) != nil {
			t.Error("stored-procedure session still there after Close")
		}
	})
}

func TestOpen_Roles(t *testing.T) {
	open := func(t *testing.T, roles string, opts ...func(*server.Server)) error {
		srv := server.New()
		srv.Addr = "127.0.0.1:0"
		srv.DataDir = t.TempDir()
		srv.Logger = slog.New(slog.DiscardHandler)
		for _, o := range opts {
			o(srv)
		}
		if err := os.WriteFile(filepath.Join(srv.DataDir, server.RolesFile), []byte(roles), 0o600); err != nil {
			t.Fatal(err)
		}
		err := srv.Open()
		if err == nil {
			t.Cleanup(func() { srv.Close() })
			if !srv.AccessControl() {
				t.Error("a roles.json does not turn access control on")
			}
		}
		return err
	}
	t.Run("OK", func(t *testing.T) {
		if err := open(t, `{"privileges":[{"privilege":"sales","includes":[]}],"roles":[],"permissions":{"allowed":[]}}`); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrSyntaxNamesLine", func(t *testing.T) {
		err := open(t, "{\n  \"privileges\": [\n    {\"privilege\": \"sales\",}\n  ]\n}")
		if err == nil || !strings.Contains(err.Error(), "roles.json: line 3") {
			t.Fatalf("Open = %v, want an error naming roles.json line 3", err)
		}
	})
	t.Run("ErrUnknownDataClass", func(t *testing.T) {
		model := servertest.WithModel(t, `{"dataClasses":[{"name":"Company","primaryKey":"ID","attributes":[{"name":"ID","type":"long"}]}]}`)
		err := open(t, "{\"privileges\":[{\"privilege\":\"sales\"}],\n\"permissions\":{\"allowed\":[\n{\"applyTo\":\"Invoice\",\"type\":\"dataclass\",\"read\":[\"sales\"]}]}}", model)
		if err == nil || !strings.Contains(err.Error(), "Invoice") || !strings.Contains(err.Error(), "line 3") {
			t.Fatalf("Open = %v, want an error naming Invoice and its line", err)
		}
	})
}

// TestOpen_LogsAccess checks what the start-up log says of access control:
// off without users and roles.json, on with users, and a warning when
// roles.json forces a login that no user can make.
func TestOpen_LogsAccess(t *testing.T) {
	const forceLogin = `{"privileges":[],"roles":[],"permissions":{"allowed":[]},"forceLogin":true}`
	for _, tc := range []struct {
		name  string
		opts  []func(*server.Server)
		roles string
		want  []string
		not   []string
	}{
		{name: "OKOff", want: []string{"access control off"}, not: []string{"forceLogin"}},
		{name: "OKOnWithUsers", opts: []func(*server.Server){servertest.WithUser(t, "alice", "alice-secret-1", fourd.PrivilegeWebAdmin)},
			want: []string{"access control on", "users=1"}, not: []string{"forceLogin"}},
		{name: "OKWarnForceLoginWithoutUsers", roles: forceLogin,
			want: []string{"access control on", "level=WARN", "forceLogin but no user can log in"}},
		{name: "OKForceLoginWithUsers", roles: forceLogin, opts: []func(*server.Server){servertest.WithUser(t, "alice", "alice-secret-1")},
			want: []string{"access control on"}, not: []string{"no user can log in"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := servertest.NewLogBuffer()
			opts := append([]func(*server.Server){func(s *server.Server) {
				s.Logger = logs.Logger()
				if tc.roles != "" {
					if err := os.WriteFile(filepath.Join(s.DataDir, server.RolesFile), []byte(tc.roles), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}}, tc.opts...)
			servertest.MustOpenServer(t, opts...)
			out := logs.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("the log lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("the log says %q:\n%s", n, out)
				}
			}
		})
	}
}
