package main

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

// sessionIDs returns the IDs of the server's live sessions but the
// stored-procedure one.
func sessionIDs(t *testing.T, srv *server.Server) []string {
	t.Helper()
	list, err := srv.Sessions.Sessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		if s.ID != srv.StoredProcedureSession().ID {
			ids = append(ids, s.ID+" "+s.UserName)
		}
	}
	return ids
}

// TestCLILeavesNoSession runs the CLI's commands again and again: none
// leaves a session behind (each logs out as it ends), so that what the
// next one shows is the server's, not the CLI's.
func TestCLILeavesNoSession(t *testing.T) {
	t.Setenv("FOURD_USER", "")
	t.Setenv("FOURD_PASSWORD", "")
	t.Run("OKGuest", func(t *testing.T) {
		srv := servertest.MustOpenServer(t)
		for _, args := range [][]string{{"activity"}, {"activity", "--json"}, {"info"}, {"sessions", "list"}, {"sets", "list"}, {"activity"}} {
			if _, stderr, err := runCmd(t, append(args, "--server", srv.URL())...); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, stderr)
			}
			if ids := sessionIDs(t, srv); len(ids) != 0 {
				t.Fatalf("after fourd %v: sessions %v left", args, ids)
			}
		}
	})
	t.Run("OKLoggedIn", func(t *testing.T) {
		srv := openWithUsers(t)
		for range 3 {
			stdout, stderr, err := withStdin(t, alicePassword+"\n", "activity", "--server", srv.URL(), "--user", "alice", "--password-stdin", "--sessions-only")
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			// The table shows one REST session, the command's own, marked.
			if strings.Count(stdout, " rest ") != 1 || !strings.Contains(stdout, "alice"+ownMark) || !strings.Contains(stdout, ownNote) {
				t.Fatalf("the command's own session is not the one REST session, marked:\n%s", stdout)
			}
			if ids := sessionIDs(t, srv); len(ids) != 0 {
				t.Fatalf("sessions %v left", ids)
			}
		}
	})
	t.Run("OKFailedLogin", func(t *testing.T) {
		srv := openWithUsers(t)
		_, _, err := withStdin(t, "wrong-password\n", "info", "--server", srv.URL(), "--user", "alice", "--password-stdin")
		wantExit(t, err, 1, srv.URL()+` answered: login as "alice" refused: wrong user name or password`)
		if ids := sessionIDs(t, srv); len(ids) != 0 {
			t.Fatalf("sessions %v left after a failed login", ids)
		}
	})
}

// serverCommands are the commands that talk to a running server, with the
// arguments they need.
var serverCommands = [][]string{
	{"activity"}, {"info"}, {"index", "Employee.lastName"}, {"flush"},
	{"kill", "1"}, {"pause", "1"}, {"resume", "1"},
	{"sessions", "list"}, {"sessions", "drop", "0123456789ABCDEF0123456789ABCDEF"},
	{"sets", "list"}, {"sets", "release", "0123456789ABCDEF0123456789ABCDEF"},
}

// TestConnectionFlags checks that every command that talks to a server
// takes the same connection flags, and that index and flush log in with
// them.
func TestConnectionFlags(t *testing.T) {
	for _, args := range serverCommands {
		_, stderr, err := runCmd(t, append(args[:len(args):len(args)], "-h")...)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("fourd %v -h: %v", args, err)
		}
		for _, f := range []string{"-server", "-timeout", "-user", "-password-stdin"} {
			if !strings.Contains(stderr, f) {
				t.Errorf("fourd %v -h does not list %s:\n%s", args, f, stderr)
			}
		}
	}
	t.Run("OKIndexAndFlushLogIn", func(t *testing.T) {
		t.Setenv("FOURD_USER", "")
		t.Setenv("FOURD_PASSWORD", "")
		srv := servertest.MustOpenServer(t, servertest.WithDemo(2, 50),
			servertest.WithUser(t, "alice", alicePassword, fourd.PrivilegeWebAdmin))
		servertest.WaitForDemo(t, srv)
		_, _, err := runCmd(t, "flush", "--server", srv.URL())
		wantExit(t, err, 1, srv.URL()+" answered: $flush needs the WebAdmin privilege: log in as an administrator ($directory/login or $catalog/authentify)")
		stdout, stderr, err := withStdin(t, alicePassword+"\n", "flush", "--server", srv.URL(), "--user", "alice", "--password-stdin")
		if err != nil || stdout != "cache flushed\n" {
			t.Fatalf("flush: %v %q\n%s", err, stdout, stderr)
		}
		stdout, stderr, err = withStdin(t, alicePassword+"\n", "index", "Employee.lastName", "--server", srv.URL(), "--user", "alice", "--password-stdin", "--timeout", "0")
		if err != nil || stdout != "index of Employee.lastName built\n" {
			t.Fatalf("index: %v %q\n%s", err, stdout, stderr)
		}
		if ids := sessionIDs(t, srv); len(ids) != 0 {
			t.Fatalf("sessions %v left", ids)
		}
	})
}

// TestHelpExitsZero asks every command for its help: each answers with
// flag.ErrHelp or nothing, which main turns into exit status 0.
func TestHelpExitsZero(t *testing.T) {
	cmds := append([][]string{{"serve"}, {"users", "add"}, {"users", "remove"}, {"users", "list"}, {"users", "passwd"},
		{"users", "privileges"}, {"users"}, {"sessions"}, {"sets"}, {"help"}}, serverCommands...)
	for _, args := range cmds {
		for _, h := range []string{"-h", "--help"} {
			_, _, err := runCmd(t, append(args[:len(args):len(args)], h)...)
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("fourd %v %s: %v, want exit 0", args, h, err)
			}
		}
	}
}

// TestFlagValidation gives flags values that cannot be meant.
func TestFlagValidation(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"serve", "--demo", "--demo-size", "10", "--data", dir}, `--demo-size "10": give companies,employees (at least 1 company), as in 1000,100000`},
		{[]string{"serve", "--demo-size", "0,10", "--data", dir}, `--demo-size "0,10": give companies,employees (at least 1 company), as in 1000,100000`},
		{[]string{"serve", "--max-sessions", "-1", "--data", dir}, `--max-sessions -1: give 0 (no limit) or a positive number`},
		{[]string{"serve", "--max-entity-sets", "-5", "--data", dir}, `--max-entity-sets -5: give 0 (no limit) or a positive number`},
		{[]string{"activity", "--timeout", "-1s"}, `activity: --timeout -1s: give 0 (no limit) or a positive duration`},
		{[]string{"users", "add", "carol", "--data", dir, "--privileges", "Web Admin", "--password-stdin"},
			`users add: privilege "Web Admin": a privilege name has no space unless roles.json declares it so; did you mean WebAdmin?`},
	} {
		_, _, err := withStdin(t, "carol-secret-1\n", tc.args...)
		wantExit(t, err, 2, tc.msg)
	}
	t.Run("OKTimeoutZeroMeansNoLimit", func(t *testing.T) {
		srv := servertest.MustOpenServer(t)
		if _, _, err := runCmd(t, "activity", "--server", srv.URL(), "--timeout", "0"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestNotFourdServer points --server at servers that are not fourd: the
// message says so, instead of showing their page or a decoding error.
func TestNotFourdServer(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"HTML404": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("<html><body><h1>Not Found</h1>\n</body></html>"))
		},
		"HTML200": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Welcome to nginx!</body></html>"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(h)
			defer ts.Close()
			_, _, err := runCmd(t, "activity", "--server", ts.URL)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 1 || !strings.HasPrefix(ee.msg, ts.URL+" does not answer as a fourd server") || strings.Contains(ee.msg, "\n") {
				t.Errorf("%v; want one line saying %s is not a fourd server", err, ts.URL)
			}
		})
	}
}
