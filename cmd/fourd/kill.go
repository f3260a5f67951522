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

// Every command that acts on a process names it by its unique ID, the
// first column of fourd activity: a process number is reused as soon as
// its process ends, an ID never is, so a command given an ID read a
// moment ago cannot hit another process.

// runKill aborts a process of a running server by its unique ID (4D's
// ABORT PROCESS BY ID): fourd kill 123456.
func runKill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "--filter" || a == "-filter" || strings.HasPrefix(a, "--filter=") || strings.HasPrefix(a, "-filter=") {
			return runKillFilter(ctx, args, stdout, stderr)
		}
	}
	return runProcessAction(ctx, "kill", "aborted process %d\n", args, stdout, stderr, (*rest.Client).AbortProcess)
}

// runPause pauses a process of a running server by its unique ID (4D's
// PAUSE PROCESS): fourd pause 123456.
func runPause(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runProcessAction(ctx, "pause", "paused process %d\n", args, stdout, stderr, (*rest.Client).PauseProcessByID)
}

// runResume resumes a paused process of a running server by its unique ID
// (4D's RESUME PROCESS): fourd resume 123456.
func runResume(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runProcessAction(ctx, "resume", "resumed process %d\n", args, stdout, stderr, (*rest.Client).ResumeProcessByID)
}

// runProcessAction runs an admin action on one process named by its ID.
func runProcessAction(ctx context.Context, name, done string, args []string, stdout, stderr io.Writer,
	call func(*rest.Client, context.Context, int64) error) error {
	fs := newFlagSet(name, stderr)
	co := connFlags(fs, 10*time.Second)
	synopsis := "processID [--server URL] [--user NAME [--password-stdin]] [--timeout D]"
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: fourd %s %s\n\nprocessID is the process's unique ID, the first column of fourd activity.\n\n", name, synopsis)
		fs.PrintDefaults()
	}
	pos, err := parseUsersFlags(fs, args, synopsis)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return &exitError{code: 2, msg: fmt.Sprintf("%s: %q: the process ID is a positive integer (the ID column of fourd activity)", name, pos[0])}
	}
	c, err := co.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	if err := call(c.Client, c.ctx, id); err != nil {
		return c.fail(err)
	}
	_, err = fmt.Fprintf(stdout, done, id)
	return err
}

// runKillFilter aborts every process a filter selects: fourd kill --filter
// "type=-13 age>=5m". It prints how many it reached; with --dry-run it
// lists them and aborts nothing. The permanent internal processes are never
// aborted.
func runKillFilter(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("kill", stderr)
	co := connFlags(fs, 10*time.Second)
	filterText := fs.String("filter", "", `abort every process the filter selects, e.g. "type=-13 age>=5m" (docs/operations.md)`)
	dryRun := fs.Bool("dry-run", false, "list the processes the filter selects; abort nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFilter(*filterText, fourd.ProcessesOnly); err != nil {
		return err
	}
	if strings.TrimSpace(*filterText) == "" {
		return &exitError{code: 2, msg: "kill: --filter is empty; it would abort every process"}
	}
	c, err := co.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	client, ctx := c.Client, c.ctx
	if *dryRun {
		a, err := client.ActivityMatch(ctx, "", fourd.ProcessesAndSessions, *filterText)
		if err != nil {
			return c.fail(err)
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
		if err := renderActivity(stdout, a, time.Now(), ""); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "would abort %d processes (dry run)\n", len(a.Processes))
		return err
	}
	ids, err := client.AbortMatching(ctx, *filterText)
	if err != nil {
		return c.fail(err)
	}
	for _, id := range ids {
		fmt.Fprintf(stdout, "aborted process %d\n", id)
	}
	_, err = fmt.Fprintf(stdout, "aborted %d processes\n", len(ids))
	return err
}
