package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"unicode"

	"golang.org/x/term"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
	"github.com/fourd/fourd/postgres"
	"github.com/fourd/fourd/userfile"
)

// stdin is where the users commands read passwords; tests replace it.
var stdin io.Reader = os.Stdin

// hashCost is the bcrypt cost of the hashes the users commands make.
// Tests lower it: under the race detector one hash at the default cost
// takes most of a second.
var hashCost = userfile.DefaultCost

const usersUsage = `Usage:
  fourd users add NAME [--password-stdin] [--privileges a,b]   add a user
  fourd users remove NAME                                      remove a user
  fourd users list [--json]                                    list the users
  fourd users passwd NAME [--password-stdin]                   change a user's password
  fourd users privileges NAME a,b                              replace a user's privileges ("" for none)

Every command takes --data DIR (env FOURD_DATA, default ./fourd-data): the
users are kept in DIR/users.json, which a running server reads again when it
changes. Access control is on as soon as that file exists.

Without --password-stdin the password is asked twice on the terminal; with
it, the first line of standard input is the password.
`

// runUsers manages the users directory of a data directory. It works on
// the file directly, so it needs no running server and may run beside one.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usersUsage)
		return &exitError{code: 2}
	}
	switch args[0] {
	case "add":
		return runUsersAdd(ctx, args[1:], stdout, stderr)
	case "remove":
		return runUsersRemove(ctx, args[1:], stdout, stderr)
	case "list":
		return runUsersList(ctx, args[1:], stdout, stderr)
	case "passwd":
		return runUsersPasswd(ctx, args[1:], stdout, stderr)
	case "privileges":
		return runUsersPrivileges(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usersUsage)
		return nil
	}
	fmt.Fprint(stderr, usersUsage)
	return &exitError{code: 2, msg: fmt.Sprintf("users: unknown command %q", args[0])}
}

func runUsersAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users add", stderr)
	data := dataFlag(fs)
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	privileges := fs.String("privileges", "", "comma-separated privileges or roles of roles.json, as in WebAdmin,sales")
	pos, err := parseUsersFlags(fs, args, "NAME [--password-stdin] [--privileges a,b]")
	if err != nil {
		return err
	}
	name := pos[0]
	s, err := openUsers(ctx, data)
	if err != nil {
		return err
	}
	defer s.Close()
	// Refuse a bad or taken name before asking for a password.
	if err := fourd.CheckUserName(name); err != nil {
		return usersError(err)
	}
	if u, err := s.User(ctx, name); err == nil {
		return &exitError{code: 1, msg: fmt.Sprintf("a user named %q exists already (names are case-insensitive)", u.Name)}
	}
	privs := splitList(*privileges)
	if err := checkPrivilegeNames(*data.data, fs.Name(), privs); err != nil {
		return err
	}
	password, err := readPassword(fs.Name(), *fromStdin, stderr)
	if err != nil {
		return err
	}
	u, err := s.Add(ctx, name, password, privs)
	if err != nil {
		return usersError(err)
	}
	fmt.Fprintf(stdout, "added user %q (ID %s), privileges: %s\n", u.Name, u.ID, formatPrivileges(u.Privileges, "none"))
	return nil
}

func runUsersRemove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users remove", stderr)
	data := dataFlag(fs)
	pos, err := parseUsersFlags(fs, args, "NAME")
	if err != nil {
		return err
	}
	s, u, err := openUser(ctx, data, pos[0])
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Remove(ctx, u.Name); err != nil {
		return usersError(err)
	}
	fmt.Fprintf(stdout, "removed user %q\n", u.Name)
	if users, err := s.Users(ctx); err == nil && len(users) == 0 {
		fmt.Fprintf(stderr, "fourd: no users left; access control stays on while %s exists (delete it to turn access control off)\n", s.where)
	}
	return nil
}

func runUsersList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users list", stderr)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print the users as a JSON array")
	if _, err := parseUsersFlags(fs, args, ""); err != nil {
		return err
	}
	s, err := openUsers(ctx, data)
	if err != nil {
		return err
	}
	defer s.Close()
	users, err := s.Users(ctx)
	if err != nil {
		return usersError(err)
	}
	if *asJSON {
		if users == nil {
			users = []fourd.User{}
		}
		b, err := json.Marshal(users)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	if len(users) == 0 {
		fmt.Fprintf(stderr, "fourd: no users in %s\n", s.where)
		return nil
	}
	return renderUsers(stdout, users)
}

// renderUsers writes the users as a table, one line each.
func renderUsers(w io.Writer, users []fourd.User) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tPRIVILEGES\tCREATED\tUPDATED")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.ID, formatPrivileges(u.Privileges, "-"), fourd.FormatTime(u.Created), fourd.FormatTime(u.Updated))
	}
	return tw.Flush()
}

func runUsersPasswd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users passwd", stderr)
	data := dataFlag(fs)
	fromStdin := fs.Bool("password-stdin", false, "read the new password from the first line of standard input")
	pos, err := parseUsersFlags(fs, args, "NAME [--password-stdin]")
	if err != nil {
		return err
	}
	s, u, err := openUser(ctx, data, pos[0]) // an unknown user is told before the password is asked
	if err != nil {
		return err
	}
	defer s.Close()
	password, err := readPassword(fs.Name(), *fromStdin, stderr)
	if err != nil {
		return err
	}
	if err := s.SetPassword(ctx, u.Name, password); err != nil {
		return usersError(err)
	}
	fmt.Fprintf(stdout, "changed the password of %q\n", u.Name)
	return nil
}

func runUsersPrivileges(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users privileges", stderr)
	data := dataFlag(fs)
	pos, err := parseUsersFlags(fs, args, "NAME a,b")
	if err != nil {
		return err
	}
	s, u, err := openUser(ctx, data, pos[0])
	if err != nil {
		return err
	}
	defer s.Close()
	privs := splitList(pos[1])
	if err := checkPrivilegeNames(*data.data, fs.Name(), privs); err != nil {
		return err
	}
	if err := s.SetPrivileges(ctx, u.Name, privs); err != nil {
		return usersError(err)
	}
	if u, err = s.User(ctx, u.Name); err != nil {
		return usersError(err)
	}
	fmt.Fprintf(stdout, "privileges of %q: %s\n", u.Name, formatPrivileges(u.Privileges, "none"))
	return nil
}

// dataFlag defines --data as fourd serve does.
// checkPrivilegeNames refuses, before anything is written, a privilege
// name that grants nothing by mistake: one with a space ("Web Admin") that
// the data directory's roles.json does not declare, with a suggestion when
// it is a known name spelt otherwise. Other names are kept as they are: a
// Go program may check privileges of its own.
func checkPrivilegeNames(dataDir, cmd string, privileges []string) error {
	known := []string{fourd.PrivilegeWebAdmin}
	if data, err := os.ReadFile(filepath.Join(dataDir, "roles.json")); err == nil {
		if roles, err := access.ParseRoles(data); err == nil {
			known = append(append(known, roles.PrivilegeNames()...), roles.RoleNames()...)
		}
	}
	squash := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }
	for _, p := range privileges {
		if !strings.ContainsFunc(p, unicode.IsSpace) || slices.Contains(known, p) {
			continue
		}
		msg := fmt.Sprintf("%s: privilege %q: a privilege name has no space unless roles.json declares it so", cmd, p)
		for _, k := range known {
			if squash(k) == squash(p) {
				msg += fmt.Sprintf("; did you mean %s?", k)
				break
			}
		}
		return &exitError{code: 2, msg: msg}
	}
	return nil
}

func dataFlag(fs *flag.FlagSet) *usersLocation {
	return &usersLocation{
		data:      fs.String("data", env("FOURD_DATA", "./fourd-data"), "data directory holding users.json and roles.json (env FOURD_DATA)"),
		datastore: fs.String("datastore", env("FOURD_DATASTORE", ""), "the server's --datastore: with postgres://…, the users directory is kept in that database, shared by every node (env FOURD_DATASTORE)"),
	}
}

// usersLocation is where the users directory is: users.json in the data
// directory, or the PostgreSQL database of --datastore.
type usersLocation struct{ data, datastore *string }

// usersStore is an opened users directory and where it is, for messages.
type usersStore struct {
	fourd.UserStore
	where string
	close func()
}

// Close closes the directory.
func (s *usersStore) Close() {
	if s.close != nil {
		s.close()
	}
}

// parseUsersFlags parses args with flags before, between or after the
// positional arguments (fourd users add alice --password-stdin), as the
// flag package alone does not; "--" ends the flags. synopsis gives the
// positional arguments the command wants, one word each before any
// bracket ("NAME a,b": two; "": none).
func parseUsersFlags(fs *flag.FlagSet, args []string, synopsis string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &exitError{code: 2}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	want, _, _ := strings.Cut(synopsis, "[")
	if n := len(strings.Fields(want)); len(pos) != n {
		usage := strings.TrimSpace("fourd " + fs.Name() + " " + synopsis)
		if len(pos) > n {
			return nil, &exitError{code: 2, msg: fmt.Sprintf("%s: unexpected argument %q; usage: %s", fs.Name(), pos[n], usage)}
		}
		return nil, &exitError{code: 2, msg: fmt.Sprintf("%s: missing %s; usage: %s", fs.Name(), strings.Fields(want)[len(pos)], usage)}
	}
	return pos, nil
}

// openUsers opens the users directory: in the --datastore's PostgreSQL
// database, else users.json in the data directory.
func openUsers(ctx context.Context, loc *usersLocation) (*usersStore, error) {
	if ds := *loc.datastore; strings.HasPrefix(ds, "postgres://") || strings.HasPrefix(ds, "postgresql://") {
		s, err := postgres.OpenUserStore(ctx, ds)
		if err != nil {
			return nil, &exitError{code: 1, msg: err.Error()}
		}
		s.Cost = hashCost
		return &usersStore{UserStore: s, where: "the database's " + postgres.UsersTable + " table", close: func() { s.Close() }}, nil
	}
	s, err := userfile.Open(filepath.Join(*loc.data, userfile.FileName))
	if err != nil {
		return nil, &exitError{code: 1, msg: err.Error()}
	}
	s.Cost = hashCost
	return &usersStore{UserStore: s, where: s.Path()}, nil
}

// usersError turns a store's refusal into exit status 1 with its message.
func usersError(err error) error {
	var fe *fourd.Error
	if errors.As(err, &fe) {
		return &exitError{code: 1, msg: fe.Message}
	}
	return &exitError{code: 1, msg: err.Error()}
}

// maxPasswordLine bounds what --password-stdin reads: far more than a
// password may hold, so that a longer one is refused, not cut.
const maxPasswordLine = 4096

// readPassword returns the password: the first line of standard input
// with --password-stdin, else typed twice on the terminal without echo.
// Without a terminal and without --password-stdin it refuses, rather than
// read a password from a pipe the user may not know about.
func readPassword(cmd string, fromStdin bool, stderr io.Writer) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(stdin, maxPasswordLine)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", &exitError{code: 1, msg: fmt.Sprintf("%s: read the password: %v", cmd, err)}
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			return "", &exitError{code: 1, msg: fmt.Sprintf("%s: no password on standard input", cmd)}
		}
		return line, nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", &exitError{code: 2, msg: fmt.Sprintf("%s: standard input is not a terminal; give the password on standard input with --password-stdin", cmd)}
	}
	fd := int(f.Fd())
	defer restoreTerminalOnSignal(fd, stderr)()
	fmt.Fprint(stderr, "Password: ")
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", &exitError{code: 1, msg: fmt.Sprintf("%s: read the password: %v", cmd, err)}
	}
	if err := fourd.CheckPassword(string(p1)); err != nil {
		return "", usersError(err)
	}
	fmt.Fprint(stderr, "Retype the password: ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", &exitError{code: 1, msg: fmt.Sprintf("%s: read the password: %v", cmd, err)}
	}
	if string(p1) != string(p2) {
		return "", &exitError{code: 1, msg: cmd + ": the passwords do not match"}
	}
	return string(p1), nil
}

// restoreTerminalOnSignal puts the terminal back as it is now if an
// interrupt ends the program during a prompt: term.ReadPassword turns echo
// off and would leave it off. The returned function stops watching.
func restoreTerminalOnSignal(fd int, stderr io.Writer) (stop func()) {
	state, err := term.GetState(fd)
	if err != nil {
		return func() {}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			_ = term.Restore(fd, state)
			fmt.Fprintln(stderr)
			os.Exit(130)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// splitList splits "a, b,c" into its non-empty, trimmed items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// formatPrivileges joins the privileges with commas, or returns none.
func formatPrivileges(privileges []string, none string) string {
	if len(privileges) == 0 {
		return none
	}
	return strings.Join(privileges, ",")
}

// openUser opens the users directory and finds the named user: an unknown
// user is reported before anything else is asked.
func openUser(ctx context.Context, loc *usersLocation, name string) (*usersStore, *fourd.User, error) {
	s, err := openUsers(ctx, loc)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.User(ctx, name)
	if err != nil {
		s.Close()
		return nil, nil, usersError(err)
	}
	return s, u, nil
}
