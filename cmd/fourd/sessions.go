package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fourd/fourd/rest"
)

const sessionsUsage = `usage: fourd sessions [list|drop] [flags]

  list             list the sessions of a running server (as fourd activity --sessions-only);
                   with --filter, those it selects, e.g. --filter "user=\"\" idle>=30m"
                   (guests idle for 30 minutes; docs/operations.md)
  drop SESSIONID   end a session: its processes are aborted, its entity sets
                   released, and its next request starts a new guest session

Both take the connection flags of every command that talks to a server:
--server URL, --timeout D, --user NAME, --password-stdin.
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
	return &exitError{code: 2, msg: fmt.Sprintf("sessions: unknown command %q (fourd sessions -h lists them)", args[0])}
}

// runSessionsDrop ends a session: fourd sessions drop SESSIONID.
func runSessionsDrop(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sessions drop", stderr)
	co := connFlags(fs, 10*time.Second)
	pos, err := parseUsersFlags(fs, args, "SESSIONID [--server URL] [--user NAME [--password-stdin]] [--timeout D]")
	if err != nil {
		return err
	}
	c, err := co.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	if err := c.DropSession(c.ctx, pos[0]); err != nil {
		return c.fail(err)
	}
	_, err = fmt.Fprintf(stdout, "dropped session %s\n", pos[0])
	return err
}

const setsUsage = `usage: fourd sets list|release [flags]

  list            list the entity sets of a running server (as in fourd info)
  release ID...   release entity sets; an administrator may release any set,
                  another user only the sets of its own session

Both take the connection flags of every command that talks to a server:
--server URL, --timeout D, --user NAME, --password-stdin.
`

// runSets dispatches fourd sets subcommands.
func runSets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, setsUsage)
		return &exitError{code: 2}
	}
	switch args[0] {
	case "list":
		fs := newFlagSet("sets list", stderr)
		co := connFlags(fs, 10*time.Second)
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		return showInfo(ctx, co, false, stdout, func(w io.Writer, info *rest.Info, now time.Time, _ string) error {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			writeSets(tw, info, now)
			return tw.Flush()
		})
	case "release":
		return runSetsRelease(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, setsUsage)
		return nil
	}
	return &exitError{code: 2, msg: fmt.Sprintf("sets: unknown command %q (fourd sets -h lists them)", args[0])}
}

// runSetsRelease releases entity sets: fourd sets release ID...
func runSetsRelease(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sets release", stderr)
	co := connFlags(fs, 10*time.Second)
	var ids []string
	for len(args) > 0 {
		if err := parseFlags(fs, args); err == nil || fs.NArg() == 0 {
			if err != nil {
				return err
			}
			break
		}
		ids = append(ids, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(ids) == 0 {
		return &exitError{code: 2, msg: "sets release: give the IDs of the sets to release (fourd sets list shows them)"}
	}
	c, err := co.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	for _, id := range ids {
		if err := c.ReleaseEntitySet(c.ctx, id); err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(stdout, "released entity set %s\n", id)
	}
	return nil
}

// runSessionsList lists the sessions of a running server, those a filter
// selects: fourd sessions --filter "idle>=30m".
func runSessionsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sessions list", stderr)
	co := connFlags(fs, 10*time.Second)
	filterText := fs.String("filter", "", `only the sessions the filter selects, e.g. "user=alice idle>=30m" (docs/operations.md)`)
	asJSON := fs.Bool("json", false, "print the raw JSON result of $activity (options 2)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return showActivity(ctx, co, "", *filterText, false, true, *asJSON, stdout)
}
