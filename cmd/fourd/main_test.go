package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
)

func TestMain(m *testing.M) {
	if args := os.Getenv(serveEnv); args != "" {
		os.Exit(serveForTest(args)) // a server subprocess of TestCrash
	}
	goleak.VerifyTestMain(m)
}

// runCmd runs the command line args and returns what it printed and its
// error.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// wantExit checks that err is an *exitError with that code and message.
func wantExit(t *testing.T, err error, code int, msg string) {
	t.Helper()
	var ee *exitError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v (%T), want *exitError with code %d", err, err, code)
	}
	if ee.code != code || ee.msg != msg {
		t.Errorf("exit %d %q, want exit %d %q", ee.code, ee.msg, code, msg)
	}
}

func TestRun(t *testing.T) {
	t.Run("ErrNoCommand", func(t *testing.T) {
		_, stderr, err := runCmd(t)
		wantExit(t, err, 2, "")
		if stderr != usage {
			t.Errorf("stderr %q, want the usage", stderr)
		}
	})
	t.Run("ErrUnknownCommandOneLine", func(t *testing.T) {
		_, stderr, err := runCmd(t, "frobnicate")
		wantExit(t, err, 2, `unknown command "frobnicate" (fourd help lists the commands)`)
		if stderr != "" {
			t.Errorf("stderr %q, want nothing but main's one line", stderr)
		}
	})
	t.Run("OKVersion", func(t *testing.T) {
		for _, arg := range []string{"version", "--version", "-v"} {
			stdout, _, err := runCmd(t, arg)
			if err != nil || !strings.HasPrefix(stdout, "fourd ") || !strings.HasSuffix(stdout, " "+runtime.Version()+"\n") || strings.Count(stdout, "\n") != 1 {
				t.Errorf("%s: %q, %v; want one line: fourd, the version, the Go version", arg, stdout, err)
			}
		}
	})
	t.Run("OKHelp", func(t *testing.T) {
		for _, arg := range []string{"help", "-h", "--help"} {
			stdout, _, err := runCmd(t, arg)
			if err != nil || stdout != usage {
				t.Errorf("%s: %q, %v; want the usage on stdout", arg, stdout, err)
			}
		}
	})
}

func TestServe(t *testing.T) {
	t.Run("ErrBadLogLevel", func(t *testing.T) {
		_, _, err := runCmd(t, "serve", "--log-level", "loud", "--addr", "127.0.0.1:0", "--data", t.TempDir())
		wantExit(t, err, 2, `--log-level "loud": want debug, info, warn or error`)
	})
	t.Run("ErrBadLogFormat", func(t *testing.T) {
		_, _, err := runCmd(t, "serve", "--log-format", "xml", "--addr", "127.0.0.1:0", "--data", t.TempDir())
		wantExit(t, err, 2, `--log-format "xml": want text or json`)
	})
	t.Run("ErrUnknownFlag", func(t *testing.T) {
		_, stderr, err := runCmd(t, "serve", "--port", "80")
		wantExit(t, err, 2, "")
		if first, _, _ := strings.Cut(stderr, "\n"); first != "flag provided but not defined: -port" {
			t.Errorf("stderr starts %q", first)
		}
	})
	t.Run("ErrBadEnvDuration", func(t *testing.T) {
		t.Setenv("FOURD_SESSION_TIMEOUT", "forever")
		_, _, err := runCmd(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
		wantExit(t, err, 2, `FOURD_SESSION_TIMEOUT="forever": not a duration (examples: 90s, 60m, 2h)`)
	})
	t.Run("ErrUnknownDatastore", func(t *testing.T) {
		_, _, err := runCmd(t, "serve", "--datastore", "redis://cache:6379", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "error")
		want := `datastore "redis://cache:6379": unknown scheme "redis" (known: postgres, postgresql, sqlite)`
		if err == nil || err.Error() != want {
			t.Errorf("serve --datastore redis://…: %v; want %q", err, want)
		}
	})
	t.Run("ErrBadAppName", func(t *testing.T) {
		_, _, err := runCmd(t, "serve", "--app-name", "my app", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "error")
		var ee *exitError
		if err == nil || errors.As(err, &ee) {
			t.Errorf("serve --app-name 'my app': %v; want a configuration error (exit 1)", err)
		}
	})
	t.Run("ErrBadNode", func(t *testing.T) {
		_, _, err := runCmd(t, "serve", "--node", "db 1", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "error")
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(ee.msg, `--node: node name "db 1": character ' ' at 3`) {
			t.Errorf("serve --node 'db 1': %v; want exit 2 naming the character", err)
		}
	})
	t.Run("OKServeThenStop", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		logR, logW := io.Pipe()
		served := make(chan error, 1)
		go func() {
			served <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--app-name", "cli", "--log-format", "json", "--admin-addr", "127.0.0.1:0"}, io.Discard, logW)
			logW.Close()
		}()
		// Read the JSON log: the "fourd serving" record gives the URL.
		urls, admins := make(chan string, 1), make(chan string, 1)
		logDone := make(chan struct{})
		go func() {
			defer close(logDone)
			sc := bufio.NewScanner(logR)
			for sc.Scan() {
				var rec struct{ Msg, URL, Admin string }
				if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "fourd serving" {
					urls <- rec.URL
					admins <- rec.Admin
				}
			}
			_, _ = io.Copy(io.Discard, logR)
		}()
		url := servertest.Receive(t, "the server to start", urls)
		admin := servertest.Receive(t, "the admin URL", admins)
		if resp, err := servertest.NewHTTPClient(t).Get(admin + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s/readyz: %v %v", admin, resp, err)
		} else {
			resp.Body.Close()
		}

		stdout, _, err := runCmd(t, "activity", "--server", url, "--json")
		if err != nil {
			t.Fatalf("activity against the served server: %v", err)
		}
		var a fourd.Activity
		if err := json.Unmarshal([]byte(stdout), &a); err != nil {
			t.Fatalf("decode: %v\n%s", err, stdout)
		}
		if len(a.Processes) != servertest.InternalProcesses+1 {
			t.Errorf("%d processes, want %d", len(a.Processes), servertest.InternalProcesses+1)
		}

		cancel()
		if err := servertest.Receive(t, "serve to return", served); err != nil {
			t.Errorf("serve after cancel: %v", err)
		}
		servertest.Receive(t, "the log to close", logDone)
		if _, _, err := runCmd(t, "activity", "--server", url); err == nil {
			t.Error("activity succeeded after the server stopped")
		}
	})
}

// TestAwaitShutdown sends shutdown signals as a terminal, timeout(1) or a
// process manager does, with the clock held: a second signal within the
// grace period is the same request, one after it ends the program at once.
func TestAwaitShutdown(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	start := func(t *testing.T) (sigs chan os.Signal, clock *servertest.Clock, closing, release chan struct{}, result chan error, logs *servertest.LogBuffer) {
		sigs, clock = make(chan os.Signal), servertest.NewClock(t0)
		closing, release, result = make(chan struct{}), make(chan struct{}), make(chan error, 1)
		logs = servertest.NewLogBuffer()
		closeFn := func() error {
			close(closing)
			<-release // the clean shutdown takes until the test says
			return nil
		}
		go func() {
			result <- awaitShutdown(context.Background(), sigs, closeFn, time.Second, logs.Logger(), clock.Now)
		}()
		return
	}
	t.Run("OKSecondSignalIsTheSameRequest", func(t *testing.T) {
		sigs, clock, closing, release, result, logs := start(t)
		sigs <- syscall.SIGINT
		servertest.Receive(t, "the shutdown to start", closing)
		clock.Advance(signalGrace / 2)
		sigs <- syscall.SIGTERM
		servertest.Eventually(t, "the second signal handled", func() bool { return strings.Contains(logs.String(), "the same shutdown request") })
		close(release)
		if err := servertest.Receive(t, "awaitShutdown to return", result); err != nil {
			t.Fatalf("%v; want a clean shutdown", err)
		}
		if out := logs.String(); !strings.Contains(out, "the same shutdown request") || strings.Count(out, "shutting down") != 1 {
			t.Errorf("log:\n%s", out)
		}
	})
	t.Run("ErrSignalAfterGraceStopsNow", func(t *testing.T) {
		sigs, clock, closing, release, result, logs := start(t)
		sigs <- syscall.SIGTERM
		servertest.Receive(t, "the shutdown to start", closing)
		sigs <- syscall.SIGTERM // within the grace period: the same request
		servertest.Eventually(t, "the second signal handled", func() bool { return strings.Contains(logs.String(), "the same shutdown request") })
		clock.Advance(signalGrace)
		sigs <- syscall.SIGINT // a third one, later: now
		err := servertest.Receive(t, "awaitShutdown to return", result)
		wantExit(t, err, 1, "stopped by another signal before the shutdown was complete")
		if !strings.Contains(logs.String(), "stopping now") {
			t.Errorf("log:\n%s", logs)
		}
		close(release) // the shutdown goroutine ends: goleak sees none left
	})
}
