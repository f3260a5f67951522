package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/rest"
)

// runKill aborts a process of a running server by its unique ID (4D's
// ABORT PROCESS BY ID): fourd kill 123456.
func runKill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "--filter" || a == "-filter" || strings.HasPrefix(a, "--filter=") || strings.HasPrefix(a, "-filter=") {
			return runKillFilter(ctx, args, stdout, stderr)
		}
	}
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

// runKillFilter aborts every process a filter selects: fourd kill --filter
// "type=-13 age>=5m". It prints how many it reached; with --dry-run it
// lists them and aborts nothing. The permanent internal processes are never
// aborted.
func runKillFilter(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("kill", stderr)
	serverURL := fs.String("server", env("FOURD_SERVER", "http://"+defaultServerAddr), "server base URL (env FOURD_SERVER)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the server")
	filterText := fs.String("filter", "", `abort every process the filter selects, e.g. "type=-13 age>=5m" (docs/operations.md)`)
	dryRun := fs.Bool("dry-run", false, "list the processes the filter selects; abort nothing")
	lo := loginFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFilter(*filterText, fourd.ProcessesOnly); err != nil {
		return err
	}
	if strings.TrimSpace(*filterText) == "" {
		return &exitError{code: 2, msg: "kill: --filter is empty; it would abort every process"}
	}
	client, ctx, cancel, err := connect(ctx, *serverURL, *timeout, lo)
	if err != nil {
		return err
	}
	defer cancel()
	if *dryRun {
		a, err := client.ActivityMatch(ctx, "", fourd.ProcessesAndSessions, *filterText)
		if err != nil {
			return describeCallError(client.URL(), err)
		}
		a.Sessions = nil
		// As the server's abort would: not the permanent internal
		// processes, not the request that asked.
		var kept []fourd.ProcessInfo
		own := client.OwnSessionID()
		for _, p := range a.Processes {
			self := p.SessionID == own && p.Name == "GET /rest/$activity"
			if !p.Type.Internal() && !self {
				kept = append(kept, p)
			}
		}
		a.Processes = kept
		if a.Processes == nil {
			a.Processes = []fourd.ProcessInfo{}
		}
		if err := renderActivity(stdout, a, time.Now()); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "would abort %d processes (dry run)\n", len(a.Processes))
		return err
	}
	ids, err := client.AbortMatching(ctx, *filterText)
	if err != nil {
		return describeCallError(client.URL(), err)
	}
	for _, id := range ids {
		fmt.Fprintf(stdout, "aborted process with ID %d\n", id)
	}
	_, err = fmt.Fprintf(stdout, "aborted %d processes\n", len(ids))
	return err
}
