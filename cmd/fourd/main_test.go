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
	"testing"

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
		want := `datastore "redis://cache:6379": unknown scheme "redis" (known: sqlite)`
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
