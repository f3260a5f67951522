// Command fourd runs and inspects a fourd server.
//
//	fourd serve    [--addr 127.0.0.1:8080] [--data ./fourd-data] [--app-name fourd] ...
//	fourd activity [--server URL] [--session ID] [--processes-only|--sessions-only] [--json]
//	fourd info     [--server URL] [--json]
//	fourd index    [--server URL] DataClass.attribute
//	fourd flush    [--server URL]
//	fourd kill     [--server URL] [--user NAME [--password-stdin]] processID
//	fourd pause    [--server URL] [--user NAME [--password-stdin]] number
//	fourd resume   [--server URL] [--user NAME [--password-stdin]] number
//	fourd sessions drop [--server URL] [--user NAME [--password-stdin]] sessionID
//	fourd sets release [--server URL] [--user NAME [--password-stdin]] ID...
//	fourd version
//
// Every flag has an environment variable (FOURD_ADDR, FOURD_DATA, ...) that
// sets its default; a flag given on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries an exit status and a message for main to print.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

const usage = `fourd: a 4D-style REST data server with a live process table.

Usage:
  fourd serve     run the server
  fourd activity  show the processes and sessions of a running server (Process activity)
  fourd info      show the cache, entity sets, progress indicators and sessions ($info)
  fourd index     build an index on a running server: fourd index Employee.lastName
  fourd flush     make a running server write its cache to disk
  fourd kill      abort a process of a running server by its unique ID: fourd kill 123456
  fourd pause     pause a process of a running server by its number: fourd pause 12
  fourd resume    resume a paused process by its number: fourd resume 12
  fourd sessions  end a session of a running server: fourd sessions drop SESSIONID
  fourd sets      release entity sets of a running server: fourd sets release ID...
  fourd users     manage the users directory: fourd users add|remove|list|passwd|privileges
  fourd version   print the version

Run 'fourd <command> -h' for a command's flags.
`

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, "fourd:", ee.msg)
		}
		os.Exit(ee.code)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "fourd:", err)
		os.Exit(1)
	}
}

// run dispatches to a subcommand; tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stderr)
	case "activity":
		return runActivity(ctx, args[1:], stdout, stderr)
	case "info":
		return runInfo(ctx, args[1:], stdout, stderr)
	case "index":
		return runIndex(ctx, args[1:], stdout, stderr)
	case "flush":
		return runFlush(ctx, args[1:], stdout, stderr)
	case "kill":
		return runKill(ctx, args[1:], stdout, stderr)
	case "pause":
		return runPause(ctx, args[1:], stdout, stderr)
	case "resume":
		return runResume(ctx, args[1:], stdout, stderr)
	case "sets":
		return runSets(ctx, args[1:], stdout, stderr)
	case "sessions":
		return runSessions(ctx, args[1:], stdout, stderr)
	case "users":
		return runUsers(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "fourd", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return &exitError{code: 2, msg: fmt.Sprintf("unknown command %q", args[0])}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("fourd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, turning a bad flag into exit status 2.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2}
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, msg: fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

// env returns the environment variable's value, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}
