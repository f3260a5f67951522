package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

const alicePassword = "alice-secret-1"

// withStdin runs the command line args with input as standard input.
func withStdin(t *testing.T, input string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(input)
	defer func() { stdin = old }()
	return runCmd(t, args...)
}

// openWithUsers opens a server with access control: alice is an
// administrator, bob is not.
func openWithUsers(t *testing.T) *server.Server {
	t.Helper()
	return servertest.MustOpenServer(t,
		servertest.WithUser(t, "alice", alicePassword, fourd.PrivilegeWebAdmin),
		servertest.WithUser(t, "bob", "bob-secret-22"))
}

func TestKill(t *testing.T) {
	t.Setenv("FOURD_USER", "")
	srv := openWithUsers(t)
	t.Run("OK", func(t *testing.T) {
		p := servertest.Blocked(t, srv)
		id := strconv.FormatInt(p.ID(), 10)
		stdout, stderr, err := withStdin(t, alicePassword+"\n", "kill", "--server", srv.URL(), "--user", "alice", "--password-stdin", id)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		if want := "aborted process " + id + "\n"; stdout != want {
			t.Errorf("stdout %q, want %q", stdout, want)
		}
		servertest.Receive(t, "the process to end", p.Ended())
		if !errors.Is(p.Cause(), fourd.ErrAborted) {
			t.Errorf("cause %v, want ErrAborted", p.Cause())
		}
	})
	t.Run("OKPasswordFromEnv", func(t *testing.T) {
		p := servertest.Blocked(t, srv)
		t.Setenv("FOURD_PASSWORD", alicePassword)
		if _, _, err := runCmd(t, "kill", "--server", srv.URL(), "--user", "alice", strconv.FormatInt(p.ID(), 10)); err != nil {
			t.Fatal(err)
		}
		servertest.Receive(t, "the process to end", p.Ended())
	})
	t.Run("OKPauseResumeByID", func(t *testing.T) {
		p := servertest.Blocked(t, srv)
		n := strconv.FormatInt(p.ID(), 10) // the unique ID, as kill takes
		stdout, _, err := withStdin(t, alicePassword+"\n", "pause", n, "--server", srv.URL(), "--user", "alice", "--password-stdin")
		if err != nil || stdout != "paused process "+n+"\n" {
			t.Fatalf("pause: %v %q", err, stdout)
		}
		servertest.Eventually(t, "state Paused", func() bool { return p.State() == fourd.StatePaused })
		stdout, _, err = withStdin(t, alicePassword+"\n", "resume", n, "--server", srv.URL(), "--user", "alice", "--password-stdin")
		if err != nil || stdout != "resumed process "+n+"\n" {
			t.Fatalf("resume: %v %q", err, stdout)
		}
		servertest.Eventually(t, "state Executing", func() bool { return p.State() == fourd.StateExecuting })
	})
	t.Run("ErrNoLogin", func(t *testing.T) {
		p := servertest.Blocked(t, srv)
		_, _, err := runCmd(t, "kill", "--server", srv.URL(), strconv.FormatInt(p.ID(), 10))
		wantExit(t, err, 1, srv.URL()+" answered: $process/abort needs the WebAdmin privilege: log in as an administrator ($directory/login or $catalog/authentify)")
	})
	t.Run("ErrNotAdmin", func(t *testing.T) {
		p := servertest.Blocked(t, srv)
		_, _, err := withStdin(t, "bob-secret-22\n", "kill", "--server", srv.URL(), "--user", "bob", "--password-stdin", strconv.FormatInt(p.ID(), 10))
		wantExit(t, err, 1, srv.URL()+" answered: $process/abort needs the WebAdmin privilege: log in as an administrator ($directory/login or $catalog/authentify)")
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		_, _, err := withStdin(t, "nope\n", "kill", "--server", srv.URL(), "--user", "alice", "--password-stdin", "12345")
		wantExit(t, err, 1, srv.URL()+` answered: login as "alice" refused: wrong user name or password`)
	})
	t.Run("ErrUnknownProcess", func(t *testing.T) {
		_, _, err := withStdin(t, alicePassword+"\n", "kill", "--server", srv.URL(), "--user", "alice", "--password-stdin", "987654321")
		wantExit(t, err, 1, srv.URL()+" answered: no process with ID 987654321")
	})
	t.Run("ErrUsage", func(t *testing.T) {
		_, _, err := runCmd(t, "kill", "--server", srv.URL(), "abc")
		wantExit(t, err, 2, `kill: "abc": the process ID is a positive integer (the ID column of fourd activity)`)
		_, _, err = runCmd(t, "kill", "--server", srv.URL())
		wantExit(t, err, 2, "kill: missing processID; usage: fourd kill processID [--server URL] [--user NAME [--password-stdin]] [--timeout D]")
		_, _, err = withStdin(t, "x\n", "kill", "--server", srv.URL(), "--password-stdin", "12")
		wantExit(t, err, 2, "kill: --password-stdin needs --user")
	})
}

func TestSessionsDrop(t *testing.T) {
	t.Setenv("FOURD_USER", "")
	srv := openWithUsers(t)
	guest := servertest.NewClient(t, srv)
	if _, err := guest.Activity(t.Context(), "", fourd.SessionsOnly); fourd.ErrorCode(err) != fourd.EUNAUTHORIZED {
		t.Fatalf("a guest's $activity: %v", err)
	}
	id := guest.SessionID(srv.AppName)
	_, _, err := runCmd(t, "sessions", "drop", id, "--server", srv.URL())
	wantExit(t, err, 1, srv.URL()+" answered: $session/drop needs the WebAdmin privilege: log in as an administrator ($directory/login or $catalog/authentify)")
	stdout, stderr, err := withStdin(t, alicePassword+"\n", "sessions", "drop", id, "--server", srv.URL(), "--user", "alice", "--password-stdin")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if stdout != "dropped session "+id+"\n" {
		t.Errorf("stdout %q", stdout)
	}
	if srv.SessionInfo(id) != nil {
		t.Error("the session is still there")
	}
	_, _, err = runCmd(t, "sessions")
	wantExit(t, err, 2, "")
	_, _, err = runCmd(t, "sessions", "frobnicate")
	wantExit(t, err, 2, `sessions: unknown command "frobnicate" (fourd sessions -h lists them)`)
}

func TestActivityAndInfoLogin(t *testing.T) {
	t.Setenv("FOURD_USER", "")
	t.Setenv("FOURD_PASSWORD", "")
	srv := openWithUsers(t)
	_, _, err := runCmd(t, "activity", "--server", srv.URL(), "--json")
	wantExit(t, err, 1, srv.URL()+" answered: $activity needs the WebAdmin privilege: log in as an administrator ($directory/login or $catalog/authentify)")
	stdout, stderr, err := withStdin(t, alicePassword+"\n", "activity", "--server", srv.URL(), "--json", "--user", "alice", "--password-stdin")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var a fourd.Activity
	if err := json.Unmarshal([]byte(stdout), &a); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	var alice bool
	for _, s := range a.Sessions {
		alice = alice || s.UserName == "alice"
	}
	if !alice || a.Session(srv.StoredProcedureSession().ID) == nil {
		t.Errorf("sessions %+v: want alice's and the stored-procedure session", a.Sessions)
	}
	stdout, stderr, err = withStdin(t, alicePassword+"\n", "info", "--server", srv.URL(), "--user", "alice", "--password-stdin")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "YOUR PRIVILEGES  WebAdmin") {
		t.Errorf("info:\n%s", stdout)
	}
	_, _, err = runCmd(t, "info", "--server", srv.URL(), "--user", "alice")
	wantExit(t, err, 2, "info: standard input is not a terminal; give alice's password with --password-stdin or FOURD_PASSWORD")
}

func TestSetsRelease(t *testing.T) {
	t.Setenv("FOURD_USER", "")
	srv := servertest.MustOpenServer(t, servertest.WithDemo(2, 50),
		servertest.WithUser(t, "alice", alicePassword, fourd.PrivilegeWebAdmin))
	servertest.WaitForDemo(t, srv)
	rows := srv.EntitySets.NewRowSet([]fourd.RowID{1, 2, 3}, false)
	id := fourd.NewID()
	if err := srv.EntitySets.Put(t.Context(), &fourd.EntitySet{ID: id, DataClass: "Employee", Rows: rows, SessionID: fourd.NewID(),
		Created: time.Now(), Refreshed: time.Now(), Timeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	_, _, err := runCmd(t, "sets", "release", id, "--server", srv.URL())
	wantExit(t, err, 1, srv.URL()+` answered: no entity set "`+id+`"`) // another session's set: not even told it exists
	stdout, stderr, err := withStdin(t, alicePassword+"\n", "sets", "release", id, "--server", srv.URL(), "--user", "alice", "--password-stdin")
	if err != nil || stdout != "released entity set "+id+"\n" {
		t.Fatalf("%v %q %s", err, stdout, stderr)
	}
	if servertest.EntitySets(t, srv) != 0 {
		t.Fatal("the set is still held")
	}
	_, _, err = runCmd(t, "sets")
	wantExit(t, err, 2, "")
}
