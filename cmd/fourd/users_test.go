package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/pgtest"
	"github.com/fourd/fourd/postgres"
	"github.com/fourd/fourd/userfile"
)

// usersCmd runs `fourd users args...` with input as standard input and the
// cheapest bcrypt cost.
func usersCmd(t *testing.T, input string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	oldStdin, oldCost := stdin, hashCost
	stdin, hashCost = strings.NewReader(input), bcrypt.MinCost
	defer func() { stdin, hashCost = oldStdin, oldCost }()
	return runCmd(t, append([]string{"users"}, args...)...)
}

// mustUsers runs a users command that must succeed.
func mustUsers(t *testing.T, input string, args ...string) (stdout string) {
	t.Helper()
	stdout, stderr, err := usersCmd(t, input, args...)
	if err != nil {
		t.Fatalf("users %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return stdout
}

// listUsers returns `fourd users list --json`, decoded.
func listUsers(t *testing.T, dir string) []fourd.User {
	t.Helper()
	stdout := mustUsers(t, "", "list", "--json", "--data", dir)
	var users []fourd.User
	if err := json.Unmarshal([]byte(stdout), &users); err != nil {
		t.Fatalf("decode %q: %v", stdout, err)
	}
	return users
}

// authenticate checks the password against the data directory's users file.
func authenticate(t *testing.T, dir, name, password string) error {
	t.Helper()
	s, err := userfile.Open(filepath.Join(dir, userfile.FileName))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Authenticate(context.Background(), name, password)
	return err
}

// copyFixture puts testdata/users.json in a new data directory.
func copyFixture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, userfile.FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestUsers(t *testing.T) {
	t.Run("OKAdd", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "fresh") // created by the first add
		stdout := mustUsers(t, "password-alice\n", "add", "alice", "--password-stdin", "--privileges", "WebAdmin, sales", "--data", dir)
		mustUsers(t, "password-bob\r\n", "add", "--data", dir, "--password-stdin", "Bob") // flags before the name; CRLF
		users := listUsers(t, dir)
		if len(users) != 2 || users[0].Name != "alice" || users[1].Name != "Bob" {
			t.Fatalf("users %+v, want alice and Bob", users)
		}
		if want := `added user "alice" (ID ` + users[0].ID + "), privileges: WebAdmin,sales\n"; stdout != want {
			t.Errorf("stdout %q, want %q", stdout, want)
		}
		if !slices.Equal(users[0].Privileges, []string{"WebAdmin", "sales"}) || len(users[1].Privileges) != 0 {
			t.Errorf("privileges %q and %q", users[0].Privileges, users[1].Privileges)
		}
		if err := authenticate(t, dir, "ALICE", "password-alice"); err != nil {
			t.Errorf("alice's password: %v", err)
		}
		if err := authenticate(t, dir, "bob", "password-bob"); err != nil {
			t.Errorf("bob's password, given with CRLF: %v", err)
		}
	})
	t.Run("OKDataFromEnvironment", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("FOURD_DATA", dir)
		mustUsers(t, "password-alice\n", "add", "alice", "--password-stdin")
		if !userfile.Exists(filepath.Join(dir, userfile.FileName)) {
			t.Error("FOURD_DATA was not used")
		}
	})
	t.Run("OKDefaultCost", func(t *testing.T) {
		// The real cost, once: the file's hash says which cost made it.
		dir := t.TempDir()
		old := stdin
		stdin = strings.NewReader("password-alice\n")
		defer func() { stdin = old }()
		if _, _, err := runCmd(t, "users", "add", "alice", "--password-stdin", "--data", dir); err != nil {
			t.Fatal(err)
		}
		var f struct{ Users []struct{ Hash string } }
		b, _ := os.ReadFile(filepath.Join(dir, userfile.FileName))
		if err := json.Unmarshal(b, &f); err != nil || len(f.Users) != 1 {
			t.Fatalf("users.json: %v\n%s", err, b)
		}
		if cost, err := bcrypt.Cost([]byte(f.Users[0].Hash)); err != nil || cost != userfile.DefaultCost {
			t.Errorf("cost %d (%v), want %d", cost, err, userfile.DefaultCost)
		}
	})
	t.Run("ErrAddDuplicate", func(t *testing.T) {
		dir := copyFixture(t)
		_, _, err := usersCmd(t, "password-x\n", "add", "ALICE", "--password-stdin", "--data", dir)
		wantExit(t, err, 1, `a user named "alice" exists already (names are case-insensitive)`)
	})
	t.Run("ErrAddBadName", func(t *testing.T) {
		_, _, err := usersCmd(t, "password-x\n", "add", "alice\t", "--password-stdin", "--data", t.TempDir())
		wantExit(t, err, 1, `user name "alice\t": begins or ends with a space`)
	})
	t.Run("ErrAddBadPassword", func(t *testing.T) {
		dir := t.TempDir()
		_, _, err := usersCmd(t, "short\n", "add", "alice", "--password-stdin", "--data", dir)
		wantExit(t, err, 1, "a password needs at least 8 characters")
		_, _, err = usersCmd(t, strings.Repeat("x", 73)+"\n", "add", "alice", "--password-stdin", "--data", dir)
		wantExit(t, err, 1, "a password may have at most 72 bytes (73 with this one); bcrypt ignores the rest")
		if userfile.Exists(filepath.Join(dir, userfile.FileName)) {
			t.Error("a refused add created the users file")
		}
	})
	t.Run("ErrAddBadPrivilege", func(t *testing.T) {
		_, _, err := usersCmd(t, "password-x\n", "add", "alice", "--password-stdin", "--privileges", "Web\x01Admin", "--data", t.TempDir())
		wantExit(t, err, 1, `privilege "Web\x01Admin": holds control or invisible characters`)
	})
	t.Run("ErrNoPasswordOnStdin", func(t *testing.T) {
		_, _, err := usersCmd(t, "", "add", "alice", "--password-stdin", "--data", t.TempDir())
		wantExit(t, err, 1, "users add: no password on standard input")
	})
	t.Run("ErrNotATerminal", func(t *testing.T) {
		_, _, err := usersCmd(t, "password-x\n", "add", "alice", "--data", t.TempDir())
		wantExit(t, err, 2, "users add: standard input is not a terminal; give the password on standard input with --password-stdin")
		_, _, err = usersCmd(t, "password-x\n", "passwd", "alice", "--data", copyFixture(t))
		wantExit(t, err, 2, "users passwd: standard input is not a terminal; give the password on standard input with --password-stdin")
	})
	t.Run("OKPasswd", func(t *testing.T) {
		dir := copyFixture(t)
		stdout := mustUsers(t, "password-new\n", "passwd", "BOB", "--password-stdin", "--data", dir)
		if stdout != "changed the password of \"Bob\"\n" {
			t.Errorf("stdout %q", stdout)
		}
		if err := authenticate(t, dir, "bob", "password-bob"); err == nil {
			t.Error("the old password still works")
		}
		if err := authenticate(t, dir, "bob", "password-new"); err != nil {
			t.Errorf("the new password: %v", err)
		}
	})
	t.Run("ErrPasswdUnknownUser", func(t *testing.T) {
		_, _, err := usersCmd(t, "password-new\n", "passwd", "nobody", "--password-stdin", "--data", copyFixture(t))
		wantExit(t, err, 1, `no user named "nobody"`)
	})
	t.Run("OKPrivileges", func(t *testing.T) {
		dir := copyFixture(t)
		stdout := mustUsers(t, "", "privileges", "bob", "hr,WebAdmin,hr", "--data", dir)
		if stdout != "privileges of \"Bob\": hr,WebAdmin\n" {
			t.Errorf("stdout %q", stdout)
		}
		stdout = mustUsers(t, "", "privileges", "--data", dir, "alice", "")
		if stdout != "privileges of \"alice\": none\n" {
			t.Errorf("stdout %q", stdout)
		}
		users := listUsers(t, dir)
		if !slices.Equal(users[1].Privileges, []string{"hr", "WebAdmin"}) || len(users[0].Privileges) != 0 {
			t.Errorf("privileges %q and %q", users[0].Privileges, users[1].Privileges)
		}
	})
	t.Run("ErrPrivilegesUnknownUser", func(t *testing.T) {
		_, _, err := usersCmd(t, "", "privileges", "nobody", "hr", "--data", copyFixture(t))
		wantExit(t, err, 1, `no user named "nobody"`)
	})
	t.Run("OKRemove", func(t *testing.T) {
		dir := copyFixture(t)
		stdout, stderr, err := usersCmd(t, "", "remove", "CAROL SMITH", "--data", dir)
		if err != nil || stdout != "removed user \"Carol Smith\"\n" || stderr != "" {
			t.Errorf("remove: %q, %q, %v", stdout, stderr, err)
		}
		mustUsers(t, "", "remove", "alice", "--data", dir)
		_, stderr, err = usersCmd(t, "", "remove", "bob", "--data", dir)
		path := filepath.Join(dir, userfile.FileName)
		if want := "fourd: no users left; access control stays on while " + path + " exists (delete it to turn access control off)\n"; err != nil || stderr != want {
			t.Errorf("removing the last user: %v, stderr %q, want %q", err, stderr, want)
		}
		if users := listUsers(t, dir); len(users) != 0 {
			t.Errorf("users left: %+v", users)
		}
	})
	t.Run("ErrRemoveUnknownUser", func(t *testing.T) {
		_, _, err := usersCmd(t, "", "remove", "nobody", "--data", copyFixture(t))
		wantExit(t, err, 1, `no user named "nobody"`)
	})
	t.Run("OKList", func(t *testing.T) {
		stdout := mustUsers(t, "", "list", "--data", copyFixture(t))
		checkGolden(t, "users_list.golden", []byte(stdout))
	})
	t.Run("OKListJSON", func(t *testing.T) {
		users := listUsers(t, copyFixture(t))
		got, _ := json.Marshal(users)
		want := `[{"id":"6F9619FF8B86D011B42D00C04FC964FF","name":"alice","privileges":["WebAdmin","sales"],"created":"2026-11-22T10:00:00.000Z","updated":"2026-11-22T10:00:00.000Z"},` +
			`{"id":"3F2504E04F8911D39A0C0305E82C3301","name":"Bob","privileges":[],"created":"2026-11-22T10:05:00.000Z","updated":"2026-11-23T08:30:15.250Z"},` +
			`{"id":"A0B1C2D3E4F5A6B7C8D9E0F1A2B3C4D5","name":"Carol Smith","privileges":["hr"],"created":"2026-11-22T11:00:00.000Z","updated":"2026-11-22T11:00:00.000Z"}]`
		if string(got) != want {
			t.Errorf("list --json, decoded and encoded again:\n %s\nwant\n %s", got, want)
		}
	})
	t.Run("OKListEmpty", func(t *testing.T) {
		dir := t.TempDir()
		stdout, stderr, err := usersCmd(t, "", "list", "--data", dir)
		if err != nil || stdout != "" || stderr != "fourd: no users in "+filepath.Join(dir, userfile.FileName)+"\n" {
			t.Errorf("list of no users: %q, %q, %v", stdout, stderr, err)
		}
		if stdout := mustUsers(t, "", "list", "--json", "--data", dir); stdout != "[]\n" {
			t.Errorf("list --json of no users: %q, want []", stdout)
		}
	})
	t.Run("ErrBrokenFile", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, userfile.FileName)
		if err := os.WriteFile(path, []byte("{\n  \"users\": [\n    {\"name\": 1}\n  ]\n}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := usersCmd(t, "", "list", "--data", dir)
		wantExit(t, err, 1, path+`:3: user 1: "name": number, want string`)
	})
	t.Run("ErrUsage", func(t *testing.T) {
		dir := t.TempDir()
		for _, tc := range []struct {
			args []string
			msg  string
		}{
			{nil, ""},
			{[]string{"frobnicate"}, `users: unknown command "frobnicate"`},
			{[]string{"add", "--password-stdin"}, "users add: missing NAME; usage: fourd users add NAME [--password-stdin] [--privileges a,b]"},
			{[]string{"add", "alice", "bob", "--password-stdin"}, `users add: unexpected argument "bob"; usage: fourd users add NAME [--password-stdin] [--privileges a,b]`},
			{[]string{"remove"}, "users remove: missing NAME; usage: fourd users remove NAME"},
			{[]string{"privileges", "alice"}, "users privileges: missing a,b; usage: fourd users privileges NAME a,b"},
			{[]string{"list", "alice"}, `users list: unexpected argument "alice"; usage: fourd users list`},
			{[]string{"passwd", "alice", "--nope"}, ""},
		} {
			args := tc.args
			if len(args) > 0 {
				args = append(args, "--data", dir)
			}
			_, stderr, err := usersCmd(t, "", args...)
			wantExit(t, err, 2, tc.msg)
			if tc.msg == "" && stderr == "" {
				t.Errorf("%q: nothing on stderr", tc.args)
			}
		}
		if userfile.Exists(filepath.Join(dir, userfile.FileName)) {
			t.Error("a usage error created the users file")
		}
	})
	t.Run("OKHelp", func(t *testing.T) {
		stdout, _, err := usersCmd(t, "", "help")
		if err != nil || stdout != usersUsage {
			t.Errorf("users help: %q, %v", stdout, err)
		}
	})
	t.Run("OKNameAfterDoubleDash", func(t *testing.T) {
		dir := t.TempDir()
		mustUsers(t, "password-x\n", "add", "--password-stdin", "--data", dir, "--", "-dash")
		if users := listUsers(t, dir); len(users) != 1 || users[0].Name != "-dash" {
			t.Errorf("users %+v, want -dash", users)
		}
	})
}

// TestUsersPostgres checks fourd users against a PostgreSQL datastore:
// the directory is the database's, shared by every node, and no
// users.json is written.
func TestUsersPostgres(t *testing.T) {
	u := pgtest.MustSchema(t)
	dir := t.TempDir()
	mustUsers(t, "password-alice\n", "add", "alice", "--password-stdin", "--privileges", "WebAdmin", "--datastore", u, "--data", dir)
	stdout := mustUsers(t, "", "list", "--json", "--datastore", u)
	var users []fourd.User
	if err := json.Unmarshal([]byte(stdout), &users); err != nil || len(users) != 1 || users[0].Name != "alice" {
		t.Fatalf("users %q: %v", stdout, err)
	}
	s, err := postgres.OpenUserStore(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Authenticate(context.Background(), "alice", "password-alice"); err != nil {
		t.Errorf("alice's password in the database: %v", err)
	}
	mustUsers(t, "", "privileges", "alice", "sales", "--datastore", u)
	mustUsers(t, "", "remove", "alice", "--datastore", u)
	if _, _, err := usersCmd(t, "", "remove", "alice", "--datastore", u); err == nil {
		t.Error("removing alice twice succeeded")
	}
	if userfile.Exists(filepath.Join(dir, userfile.FileName)) {
		t.Error("a users.json was written beside the database")
	}
}
