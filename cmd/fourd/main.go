// Command fourd runs and inspects a fourd server.
//
//	fourd serve    [--addr 127.0.0.1:8080] [--data ./fourd-data] [--app-name fourd] ...
//	fourd activity [--server URL] [--session ID] [--processes-only|--sessions-only] [--json]
//	fourd info     [--server URL] [--json]
//	fourd top      [--server URL] [--interval 1s] [--filter FILTER]
//	fourd cluster  [--server URL] [--json]
//	fourd index    [--server URL] [--user NAME [--password-stdin]] DataClass.attribute
//	fourd flush    [--server URL] [--user NAME [--password-stdin]]
//	fourd kill     [--server URL] [--user NAME [--password-stdin]] processID
//	fourd pause    [--server URL] [--user NAME [--password-stdin]] processID
//	fourd resume   [--server URL] [--user NAME [--password-stdin]] processID
//	fourd sessions list|drop [--server URL] [--user NAME [--password-stdin]] [sessionID]
//	fourd sets list|release [--server URL] [--user NAME [--password-stdin]] [ID...]
//	fourd version
//
// Every command that talks to a running server takes --server, --timeout,
// --user and --password-stdin, logs in when --user is given, and logs out
// when it ends: its session ends with it.
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
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=..."; left
// empty, versionString reads the module version and VCS revision that the
// Go toolchain records in the binary.
var version = ""

// versionString returns the version line: fourd, the version (the -X one,
// else the module's: "v1.2.3" for go install ...@v1.2.3, "(devel)" for a
// build in a checkout), the VCS revision and whether the tree was modified,
// and the Go version.
func versionString() string {
	v := version
	info, ok := debug.ReadBuildInfo()
	if v == "" {
		v = "(devel)"
		if ok && info.Main.Version != "" {
			v = info.Main.Version
		}
	}
	var rev, modified string
	if ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "+modified"
				}
			}
		}
	}
	line := "fourd " + v
	if rev != "" {
		line += " " + rev[:min(12, len(rev))] + modified
	}
	return line + " " + runtime.Version()
}

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
  fourd top       a live view of the processes: sort, filter, abort, pause, resume
  fourd cluster   show the nodes of a running server's cluster: state, last heartbeat, load
  fourd index     build an index on a running server: fourd index Employee.lastName
  fourd flush     make a running server write its cache to disk
  fourd kill      abort a process of a running server by its unique ID: fourd kill 123456
  fourd pause     pause a process of a running server by its unique ID: fourd pause 123456
  fourd resume    resume a paused process by its unique ID: fourd resume 123456
  fourd sessions  list or end sessions of a running server: fourd sessions list|drop
  fourd sets      list or release entity sets of a running server: fourd sets list|release
  fourd users     manage the users directory: fourd users add|remove|list|passwd|privileges
  fourd version   print the version (also fourd --version, fourd -v)

Every command that talks to a running server takes the same connection
flags: --server URL, --timeout D, --user NAME and --password-stdin. A process
is named by its unique ID (the first column of fourd activity).

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
	case "cluster":
		return runCluster(ctx, args[1:], stdout, stderr)
	case "top":
		return runTop(ctx, args[1:], stdout, stderr)
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
	case "version", "--version", "-v", "-version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return &exitError{code: 2, msg: fmt.Sprintf("unknown command %q (fourd help lists the commands)", args[0])}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
// Its name is the command's ("users add"), which messages start with:
// main adds the one "fourd: " prefix.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: fourd %s [flags]\n", name)
		fs.PrintDefaults()
	}
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
		return &exitError{code: 2, msg: fmt.Sprintf("%s: unexpected argument %q (fourd %s -h shows the usage)", fs.Name(), fs.Arg(0), fs.Name())}
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
