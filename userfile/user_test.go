package userfile_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/userfile"
)

// t0 is the test clock's first time; each reading advances it by a second.
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func newClock() func() time.Time {
	var mu sync.Mutex
	now := t0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := now
		now = now.Add(time.Second)
		return t
	}
}

// MustOpen opens the users file at path with the cheapest bcrypt cost and
// a test clock.
func MustOpen(tb testing.TB, path string) *userfile.Store {
	tb.Helper()
	s, err := userfile.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	s.Cost = bcrypt.MinCost
	s.Now = newClock()
	return s
}

// MustAdd adds a user or fails the test.
func MustAdd(tb testing.TB, s *userfile.Store, name, password string, privileges ...string) *fourd.User {
	tb.Helper()
	u, err := s.Add(context.Background(), name, password, privileges)
	if err != nil {
		tb.Fatalf("add %q: %v", name, err)
	}
	return u
}

// wantCode checks that err is a *fourd.Error with that code and errCode.
func wantCode(t *testing.T, err error, code string, errCode int) {
	t.Helper()
	var fe *fourd.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want a *fourd.Error %s", err, err, code)
	}
	if fe.Code != code || fe.ErrCode != errCode {
		t.Errorf("error %q: code %s %d, want %s %d", fe.Message, fe.Code, fe.ErrCode, code, errCode)
	}
}

func usersPath(t *testing.T) string { return filepath.Join(t.TempDir(), userfile.FileName) }

func names(users []fourd.User) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.Name)
	}
	return out
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	t.Run("OKAddAndList", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		alice := MustAdd(t, s, "alice", "password-a", "WebAdmin")
		MustAdd(t, s, "Bob", "password-b")
		MustAdd(t, s, "carol", "password-c", "sales", "sales", "hr")
		if !fourd.ValidID(alice.ID) || strings.ToUpper(alice.ID) != alice.ID {
			t.Errorf("ID %q, want 32 uppercase hex characters", alice.ID)
		}
		if !alice.Created.Equal(t0) || !alice.Updated.Equal(t0) {
			t.Errorf("created %v, updated %v; want %v", alice.Created, alice.Updated, t0)
		}
		users, err := s.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(users); !slices.Equal(got, []string{"alice", "Bob", "carol"}) {
			t.Errorf("users %q, want alice, Bob, carol (sorted case-insensitively)", got)
		}
		if got := users[2].Privileges; !slices.Equal(got, []string{"sales", "hr"}) {
			t.Errorf("carol's privileges %q, want sales, hr (duplicates dropped, order kept)", got)
		}
		if got := users[1].Privileges; got == nil || len(got) != 0 {
			t.Errorf("Bob's privileges %#v, want an empty list", got)
		}
	})
	t.Run("OKCaseInsensitiveLookup", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		MustAdd(t, s, "Alice", "password-a")
		MustAdd(t, s, "Kelvin", "password-k")
		for _, name := range []string{"alice", "ALICE", "aLiCe", "\u212Aelvin"} { // U+212A KELVIN SIGN folds to k
			if _, err := s.User(ctx, name); err != nil {
				t.Errorf("User(%q): %v", name, err)
			}
		}
		u, _ := s.User(ctx, "ALICE")
		if u.Name != "Alice" {
			t.Errorf("name %q, want it kept as given: Alice", u.Name)
		}
	})
	t.Run("ErrDuplicate", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		MustAdd(t, s, "Alice", "password-a")
		_, err := s.Add(ctx, "ALICE", "password-b", nil)
		wantCode(t, err, fourd.EINVALID, fourd.ErrCodeUserExists)
		if got, want := fourd.ErrorMessage(err), `a user named "Alice" exists already (names are case-insensitive)`; got != want {
			t.Errorf("message %q, want %q", got, want)
		}
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		MustAdd(t, s, "alice", "password-a")
		_, err := s.User(ctx, "bob")
		wantCode(t, err, fourd.ENOTFOUND, fourd.ErrCodeUnknownUser)
		wantCode(t, s.Remove(ctx, "bob"), fourd.ENOTFOUND, fourd.ErrCodeUnknownUser)
		wantCode(t, s.SetPassword(ctx, "bob", "password-b"), fourd.ENOTFOUND, fourd.ErrCodeUnknownUser)
		wantCode(t, s.SetPrivileges(ctx, "bob", nil), fourd.ENOTFOUND, fourd.ErrCodeUnknownUser)
	})
	t.Run("ErrBadName", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		for _, name := range []string{"", " alice", "alice ", strings.Repeat("a", 65), "a\x00b", "a\tb", "a\nb", "a\u200bb", "a\u202eb", "\xff\xfe"} {
			_, err := s.Add(ctx, name, "password-a", nil)
			wantCode(t, err, fourd.EINVALID, fourd.ErrCodeBadUserName)
		}
		for _, name := range []string{"a", "John Smith", strings.Repeat("é", 64), "名前", "o'brien@example.com"} {
			MustAdd(t, s, name, "password-a")
		}
	})
	t.Run("ErrBadPassword", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		for _, pw := range []string{"", "seven77", "ééééééé", strings.Repeat("x", 73), strings.Repeat("é", 37)} {
			_, err := s.Add(ctx, "alice", pw, nil)
			wantCode(t, err, fourd.EINVALID, fourd.ErrCodeBadPassword)
		}
		MustAdd(t, s, "alice", "éééééééé")            // 8 characters, 16 bytes
		MustAdd(t, s, "bob", strings.Repeat("x", 72)) // bcrypt's limit
		wantCode(t, s.SetPassword(ctx, "alice", strings.Repeat("x", 73)), fourd.EINVALID, fourd.ErrCodeBadPassword)
	})
	t.Run("ErrBadPrivilege", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		for _, p := range []string{"", "a,b", " admin", "ad\x07min"} {
			_, err := s.Add(ctx, "alice", "password-a", []string{p})
			wantCode(t, err, fourd.EINVALID, fourd.ErrCodeBadPrivilege)
		}
		MustAdd(t, s, "alice", "password-a")
		wantCode(t, s.SetPrivileges(ctx, "alice", []string{"ok", ""}), fourd.EINVALID, fourd.ErrCodeBadPrivilege)
	})
	t.Run("OKRemove", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		MustAdd(t, s, "alice", "password-a")
		MustAdd(t, s, "bob", "password-b")
		if err := s.Remove(ctx, "ALICE"); err != nil {
			t.Fatal(err)
		}
		users, _ := s.Users(ctx)
		if got := names(users); !slices.Equal(got, []string{"bob"}) {
			t.Errorf("users %q after removing alice", got)
		}
		if _, err := s.Authenticate(ctx, "alice", "password-a"); err == nil {
			t.Error("a removed user logged in")
		}
	})
	t.Run("OKSetPassword", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		before := MustAdd(t, s, "alice", "password-a")
		if err := s.SetPassword(ctx, "Alice", "password-new"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "alice", "password-a"); err == nil {
			t.Error("the old password still works")
		}
		u, err := s.Authenticate(ctx, "alice", "password-new")
		if err != nil {
			t.Fatalf("new password: %v", err)
		}
		if u.ID != before.ID || !u.Created.Equal(before.Created) || !u.Updated.After(before.Updated) {
			t.Errorf("after passwd: %+v; before: %+v; want the same ID and creation, a later update", u, before)
		}
	})
	t.Run("OKSetPrivileges", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		MustAdd(t, s, "alice", "password-a", "sales")
		if err := s.SetPrivileges(ctx, "alice", []string{"WebAdmin", "hr"}); err != nil {
			t.Fatal(err)
		}
		u, _ := s.User(ctx, "alice")
		if !slices.Equal(u.Privileges, []string{"WebAdmin", "hr"}) {
			t.Errorf("privileges %q", u.Privileges)
		}
		if err := s.SetPrivileges(ctx, "alice", nil); err != nil {
			t.Fatal(err)
		}
		u, _ = s.User(ctx, "alice")
		if len(u.Privileges) != 0 {
			t.Errorf("privileges %q after clearing", u.Privileges)
		}
	})
	t.Run("OKCopies", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		MustAdd(t, s, "alice", "password-a", "sales")
		u, _ := s.User(ctx, "alice")
		u.Privileges[0] = "WebAdmin"
		u, _ = s.User(ctx, "alice")
		if u.Privileges[0] != "sales" {
			t.Error("changing a returned User changed the store")
		}
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Add(cctx, "alice", "password-a", nil); !errors.Is(err, context.Canceled) {
			t.Errorf("add with a canceled context: %v", err)
		}
		if _, err := s.Authenticate(cctx, "alice", "password-a"); !errors.Is(err, context.Canceled) {
			t.Errorf("authenticate with a canceled context: %v", err)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, usersPath(t))
	alice := MustAdd(t, s, "Alice", "password-a", "WebAdmin")
	t.Run("OK", func(t *testing.T) {
		u, err := s.Authenticate(ctx, "alice", "password-a")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != alice.ID || u.Name != "Alice" || !slices.Equal(u.Privileges, []string{"WebAdmin"}) {
			t.Errorf("authenticated as %+v, want %+v", u, alice)
		}
	})
	t.Run("ErrSameForWrongPasswordAndUnknownUser", func(t *testing.T) {
		_, wrong := s.Authenticate(ctx, "alice", "password-b")
		_, unknown := s.Authenticate(ctx, "mallory", "password-a")
		_, badName := s.Authenticate(ctx, "", "password-a")
		_, long := s.Authenticate(ctx, "alice", "password-a"+strings.Repeat("x", 70))
		for _, err := range []error{wrong, unknown, badName, long} {
			wantCode(t, err, fourd.EUNAUTHORIZED, fourd.ErrCodeBadCredentials)
			if err.Error() != wrong.Error() {
				t.Errorf("message %q differs from the wrong password's %q", err, wrong)
			}
		}
		if got := fourd.ErrorMessage(wrong); got != fourd.MsgBadCredentials {
			t.Errorf("message %q, want %q", got, fourd.MsgBadCredentials)
		}
	})
	t.Run("OKUnknownUserSpendsAComparison", func(t *testing.T) {
		// Without the dummy comparison an unknown user would be answered in
		// microseconds, thousands of times faster than a wrong password.
		// Cost 6 keeps the test short; the minimum of a few runs resists noise.
		s := MustOpen(t, usersPath(t))
		s.Cost = 6
		MustAdd(t, s, "alice", "password-a")
		fastest := func(name string) time.Duration {
			best := time.Duration(1 << 62)
			for range 5 {
				start := time.Now()
				_, _ = s.Authenticate(ctx, name, "password-b")
				best = min(best, time.Since(start))
			}
			return best
		}
		_ = fastest("nobody") // the dummy hash at cost 6 is made once, on first use
		wrong, unknown := fastest("alice"), fastest("nobody")
		if unknown < wrong/2 || wrong < unknown/2 {
			t.Errorf("wrong password %v, unknown user %v: the times differ by more than 2x", wrong, unknown)
		}
	})
}

func TestFile(t *testing.T) {
	ctx := context.Background()
	t.Run("OKNothingCreatedUntilAdd", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		path := filepath.Join(dir, userfile.FileName)
		s := MustOpen(t, path)
		if users, err := s.Users(ctx); err != nil || len(users) != 0 {
			t.Errorf("users of a missing file: %v, %v", users, err)
		}
		_ = s.Remove(ctx, "alice")
		_, _ = s.Authenticate(ctx, "alice", "password-a")
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the data directory exists before the first Add: %v", err)
		}
		if userfile.Exists(path) {
			t.Error("Exists before the first Add")
		}
		MustAdd(t, s, "alice", "password-a")
		if !userfile.Exists(path) {
			t.Error("no users file after Add")
		}
		if err := s.Remove(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if !userfile.Exists(path) {
			t.Error("the users file went away with its last user: access control would turn off")
		}
	})
	t.Run("OKModeAndNoTempFiles", func(t *testing.T) {
		path := usersPath(t)
		s := MustOpen(t, path)
		MustAdd(t, s, "alice", "password-a")
		MustAdd(t, s, "bob", "password-b")
		_ = s.SetPassword(ctx, "bob", "password-c")
		_ = s.SetPrivileges(ctx, "bob", []string{"x"})
		_ = s.Remove(ctx, "alice")
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
		entries, err := os.ReadDir(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if want := []string{"users.json", "users.json.lock"}; !slices.Equal(got, want) {
			t.Errorf("directory holds %q, want %q", got, want)
		}
	})
	t.Run("OKNoHashInUserJSON", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		u := MustAdd(t, s, "alice", "password-a")
		b, _ := u.MarshalJSON()
		if strings.Contains(string(b), "$2a$") || strings.Contains(string(b), "hash") {
			t.Errorf("User JSON shows the hash: %s", b)
		}
		raw, _ := os.ReadFile(s.Path())
		if strings.Contains(string(raw), "password-a") {
			t.Error("the file holds the password in clear")
		}
	})
	t.Run("OKReadsWhatItWrote", func(t *testing.T) {
		path := usersPath(t)
		s := MustOpen(t, path)
		MustAdd(t, s, "alice", "password-a", "WebAdmin")
		MustAdd(t, s, "bob", "password-b")
		want, _ := s.Users(ctx)
		got, err := MustOpen(t, path).Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("read back %v, want %v", got, want)
		}
	})
}

func TestSharedFile(t *testing.T) {
	ctx := context.Background()
	t.Run("OKSecondStoreSeesChanges", func(t *testing.T) {
		path := usersPath(t)
		a, b := MustOpen(t, path), MustOpen(t, path)
		MustAdd(t, a, "alice", "password-a")
		if _, err := b.User(ctx, "alice"); err != nil {
			t.Fatalf("b does not see a's addition: %v", err)
		}
		if err := b.SetPassword(ctx, "alice", "password-new"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Authenticate(ctx, "alice", "password-new"); err != nil {
			t.Errorf("a does not see b's new password: %v", err)
		}
		MustAdd(t, a, "bob", "password-b") // a writes on top of b's change
		if _, err := b.Authenticate(ctx, "alice", "password-new"); err != nil {
			t.Errorf("a's write undid b's new password: %v", err)
		}
		if err := b.Remove(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.User(ctx, "alice"); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Errorf("a still sees the user b removed: %v", err)
		}
	})
	t.Run("OKConcurrentAdds", func(t *testing.T) {
		path := usersPath(t)
		stores := []*userfile.Store{MustOpen(t, path), MustOpen(t, path)}
		const perStore = 16
		var wg sync.WaitGroup
		for i, s := range stores {
			for j := range perStore {
				wg.Go(func() {
					name := fmt.Sprintf("user-%d-%d", i, j)
					if _, err := s.Add(ctx, name, "password-"+name, nil); err != nil {
						t.Errorf("add %s: %v", name, err)
					}
					if _, err := s.Authenticate(ctx, name, "password-"+name); err != nil {
						t.Errorf("authenticate %s: %v", name, err)
					}
				})
			}
		}
		wg.Wait()
		users, err := MustOpen(t, path).Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != len(stores)*perStore {
			t.Errorf("%d users in the file, want %d: an addition was lost", len(users), len(stores)*perStore)
		}
	})
	t.Run("OKConcurrentDuplicates", func(t *testing.T) {
		s := MustOpen(t, usersPath(t))
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				_, err := s.Add(ctx, "alice", "password-a", nil)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			if err == nil {
				ok++
			} else if fourd.ErrorCode(err) != fourd.EINVALID {
				t.Errorf("a racing duplicate: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d of 8 racing additions of one name succeeded, want 1", ok)
		}
	})
}

// TestTwoProcesses adds users from two child processes and this one at the
// same time, the case of `fourd users add` next to `fourd serve`: the file
// lock must keep every addition.
func TestTwoProcesses(t *testing.T) {
	if path := os.Getenv("USERFILE_TEST_CHILD"); path != "" {
		s := MustOpen(t, path)
		for j := range 10 {
			MustAdd(t, s, fmt.Sprintf("%s-%d", os.Getenv("USERFILE_TEST_PREFIX"), j), "password-x")
		}
		return
	}
	path := usersPath(t)
	var children []*exec.Cmd
	for i := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTwoProcesses$")
		cmd.Env = append(os.Environ(), "USERFILE_TEST_CHILD="+path, "USERFILE_TEST_PREFIX=child"+strconv.Itoa(i))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, cmd)
	}
	s := MustOpen(t, path)
	for j := range 10 {
		MustAdd(t, s, fmt.Sprintf("parent-%d", j), "password-x")
	}
	for _, cmd := range children {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	users, err := s.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 30 {
		t.Errorf("%d users, want 30: an addition was lost between processes", len(users))
	}
}
