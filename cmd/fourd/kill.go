package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/fourd/fourd/rest"
)

// runKill aborts a process of a running server by its unique ID (4D's
// ABORT PROCESS BY ID): fourd kill 123456.
func runKill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runProcessAction(ctx, "kill", "processID", "aborted process with ID %d\n", args, stdout, stderr,
		func(ctx context.Context, c *rest.Client, n int64) error { return c.AbortProcess(ctx, n) })
}

// runPause pauses a process of a running server by its number (4D's PAUSE
// PROCESS): fourd pause 12.
func runPause(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runProcessAction(ctx, "pause", "number", "paused process %d\n", args, stdout, stderr,
		func(ctx context.Context, c *rest.Client, n int64) error { return c.PauseProcess(ctx, int(n)) })
}

// runResume resumes a paused process of a running server by its number
// (4D's RESUME PROCESS): fourd resume 12.
func runResume(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runProcessAction(ctx, "resume", "number", "resumed process %d\n", args, stdout, stderr,
		func(ctx context.Context, c *rest.Client, n int64) error { return c.ResumeProcess(ctx, int(n)) })
}

// runProcessAction runs an admin action on one process named by a number.
func runProcessAction(ctx context.Context, name, argName, done string, args []string, stdout, stderr io.Writer,
	call func(context.Context, *rest.Client, int64) error) error {
	fs := newFlagSet(name, stderr)
	serverURL := fs.String("server", env("FOURD_SERVER", "http://"+defaultServerAddr), "server base URL (env FOURD_SERVER)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the server")
	lo := loginFlags(fs)
	synopsis := argName + " [--server URL] [--user NAME [--password-stdin]]"
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: fourd %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	pos, err := parseUsersFlags(fs, args, synopsis)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || n <= 0 {
		return &exitError{code: 2, msg: fmt.Sprintf("%s: %q: the %s is a positive integer", name, pos[0], argName)}
	}
	client, ctx, cancel, err := connect(ctx, *serverURL, *timeout, lo)
	if err != nil {
		return err
	}
	defer cancel()
	if err := call(ctx, client, n); err != nil {
		return describeCallError(client.URL(), err)
	}
	_, err = fmt.Fprintf(stdout, done, n)
	return err
}
