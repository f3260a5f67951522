package main

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
)

// ptyScreen collects what top writes to a pseudo-terminal.
type ptyScreen struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (s *ptyScreen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

// since returns what was written after offset, and the new offset.
func (s *ptyScreen) since(off int) (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()[off:], s.out.Len()
}

// TestTop drives fourd top through a pseudo-terminal of 80×24: the
// process list with a running process, the sort key, the filter, the
// session view, aborting with confirmation, and Ctrl-C restoring the
// terminal.
func TestTop(t *testing.T) {
	t.Setenv("FOURD_USER", "")
	srv := servertest.MustOpenServer(t)
	batch := servertest.BlockedNamed(t, srv, "import batch")
	servertest.BlockedNamed(t, srv, "nightly report")

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	before, err := term.GetState(int(tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	screen := &ptyScreen{}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()

	old := stdin
	stdin = tty
	defer func() { stdin = old }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"top", "--server", srv.URL(), "--interval", "100ms"}, tty, os.Stderr)
	}()

	off := 0
	// waitFor waits until top has drawn all of want since the last wait.
	waitFor := func(what string, want ...string) {
		t.Helper()
		var seen strings.Builder
		defer func() {
			if t.Failed() {
				t.Logf("screen: %q", seen.String())
			}
		}()
		servertest.EventuallyWithin(t, 20*time.Second, what, func() bool {
			s, n := screen.since(off)
			seen.WriteString(s)
			off = n
			for _, w := range want {
				if !strings.Contains(seen.String(), w) {
					return false
				}
			}
			return true
		})
	}
	send := func(keys string) {
		t.Helper()
		if _, err := ptmx.Write([]byte(keys)); err != nil {
			t.Fatal(err)
		}
	}

	waitFor("the process list", "fourd top", "import batch", "nightly report", "sort: cpu", "HTTP Listener")
	send("s")
	waitFor("the sort by running time", "sort: time")
	send("f")
	waitFor("the filter prompt", "filter: ")
	send("name=import@\r")
	waitFor("the filtered list", "filter: name=import@", "processes 1 ")
	send("\r")
	waitFor("the session view", "session    "+srv.StoredProcedureSession().ID, "(server)")
	send("x") // any key returns to the list
	send("a")
	waitFor("the confirmation", "abort process "+strconv.FormatInt(batch.ID(), 10)+" (import batch)? y/n")
	if srv.Processes.ProcessByID(batch.ID()) == nil {
		t.Fatal("aborted before the confirmation")
	}
	send("y")
	servertest.Receive(t, "the batch to be aborted", batch.Ended())
	if cause := batch.Cause(); cause != fourd.ErrAborted {
		t.Errorf("cause %v, want ErrAborted", cause)
	}
	waitFor("the outcome", "aborted process "+strconv.FormatInt(batch.ID(), 10))

	send("\x03") // Ctrl-C
	if err := servertest.Receive(t, "top to exit on Ctrl-C", done); err != nil {
		t.Fatalf("top: %v", err)
	}
	after, err := term.GetState(int(tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Error("the terminal was not restored after Ctrl-C")
	}
	waitFor("top to leave the alternate screen and show the cursor", "\x1b[?25h\x1b[?1049l")
	send("q\r") // one more line (the terminal is cooked again), which ends top's key reader
	tty.Close()
	servertest.Receive(t, "the terminal to close", readDone)
}

func TestTopNotATerminal(t *testing.T) {
	old := stdin
	stdin = strings.NewReader("")
	defer func() { stdin = old }()
	_, _, err := runCmd(t, "top", "--server", "http://127.0.0.1:1")
	wantExit(t, err, 2, "top: standard input is not a terminal (use fourd activity for a one-shot table)")
}
