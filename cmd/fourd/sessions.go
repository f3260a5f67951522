package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fourd/fourd"
)

const sessionsUsage = `usage: fourd sessions drop SESSIONID [--server URL] [--user NAME [--password-stdin]]
       fourd sessions [list] [--filter FILTER] [--server URL] [--user NAME [--password-stdin]]

  drop  end a session on a running server: its processes are aborted, its
        entity sets released, and its next request starts a new guest session
  list  list the sessions, those a filter selects with --filter, e.g.
        --filter "user=\"\" idle>=30m" (guests idle for 30 minutes; docs/operations.md)

The sessions themselves are listed by 'fourd activity --sessions-only'.
`

// runSessions dispatches fourd sessions subcommands.
func runSessions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, sessionsUsage)
		return &exitError{code: 2}
	}
	if strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		return runSessionsList(ctx, args, stdout, stderr)
	}
	switch args[0] {
	case "list":
		return runSessionsList(ctx, args[1:], stdout, stderr)
	case "drop":
		return runSessionsDrop(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, sessionsUsage)
		return nil
	}
	fmt.Fprint(stderr, sessionsUsage)
	return &exitError{code: 2, msg: fmt.Sprintf("sessions: unknown command %q", args[0])}
}

// runSessionsDrop ends a session: fourd sessions drop SESSIONID.
func runSessionsDrop(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sessions drop", stderr)
	serverURL := fs.String("server", env("FOURD_SERVER", "http://"+defaultServerAddr), "server base URL (env FOURD_SERVER)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the server")
	lo := loginFlags(fs)
	pos, err := parseUsersFlags(fs, args, "SESSIONID [--server URL] [--user NAME [--password-stdin]]")
	if err != nil {
		return err
	}
	client, ctx, cancel, err := connect(ctx, *serverURL, *timeout, lo)
	if err != nil {
		return err
	}
	defer cancel()
	if err := client.DropSession(ctx, pos[0]); err != nil {
		return describeCallError(client.URL(), err)
	}
	_, err = fmt.Fprintf(stdout, "dropped session %s\n", pos[0])
	return err
}

const setsUsage = `usage: fourd sets release ID... [--server URL] [--user NAME [--password-stdin]]

  release  release entity sets on a running server; an administrator may
           release any set, another user only the sets of its own session

The sets are listed by 'fourd info'.
`

// runSets dispatches fourd sets subcommands.
func runSets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "release" {
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stdout, setsUsage)
			return nil
		}
		fmt.Fprint(stderr, setsUsage)
		return &exitError{code: 2}
	}
	fs := newFlagSet("sets release", stderr)
	serverURL := fs.String("server", env("FOURD_SERVER", "http://"+defaultServerAddr), "server base URL (env FOURD_SERVER)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the server")
	lo := loginFlags(fs)
	var ids []string
	rest1 := args[1:]
	for len(rest1) > 0 {
		if err := fs.Parse(rest1); err != nil {
			return &exitError{code: 2}
		}
		if fs.NArg() == 0 {
			break
		}
		ids = append(ids, fs.Arg(0))
		rest1 = fs.Args()[1:]
	}
	if len(ids) == 0 {
		fmt.Fprint(stderr, setsUsage)
		return &exitError{code: 2}
	}
	client, ctx, cancel, err := connect(ctx, *serverURL, *timeout, lo)
	if err != nil {
		return err
	}
	defer cancel()
	for _, id := range ids {
		if err := client.ReleaseEntitySet(ctx, id); err != nil {
			return describeCallError(client.URL(), err)
		}
		fmt.Fprintf(stdout, "released entity set %s\n", id)
	}
	return nil
}

// runSessionsList lists the sessions of a running server, those a filter
// selects: fourd sessions --filter "idle>=30m".
func runSessionsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sessions list", stderr)
	serverURL := fs.String("server", env("FOURD_SERVER", "http://"+defaultServerAddr), "server base URL (env FOURD_SERVER)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the server")
	filterText := fs.String("filter", "", `only the sessions the filter selects, e.g. "user=alice idle>=30m" (docs/operations.md)`)
	lo := loginFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFilter(*filterText, fourd.SessionsOnly); err != nil {
		return err
	}
	client, ctx, cancel, err := connect(ctx, *serverURL, *timeout, lo)
	if err != nil {
		return err
	}
	defer cancel()
	a, err := client.ActivityMatch(ctx, "", fourd.SessionsOnly, *filterText)
	if err != nil {
		return describeCallError(client.URL(), err)
	}
	if a.Sessions == nil {
		a.Sessions = []fourd.SessionInfo{}
	}
	return renderActivity(stdout, a, time.Now())
}
