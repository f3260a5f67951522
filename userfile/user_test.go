package userfile_test

import (
	"context"
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
	"github.com/fourd/fourd/storetest"
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

func usersPath(t *testing.T) string { return filepath.Join(t.TempDir(), userfile.FileName) }

// TestStore runs the fourd.UserStore conformance suite on the users file.
func TestStore(t *testing.T) {
	storetest.TestUserStore(t, func(t *testing.T, now func() time.Time) fourd.UserStore {
		s := MustOpen(t, usersPath(t))
		s.Now = now
		return s
	})
}

func TestAuthenticateTime(t *testing.T) {
	ctx := context.Background()
	t.Run("OKUnknownUserSpendsAComparison", func(t *testing.T) {
		// Without the dummy comparison an unknown user would be answered in
		// microseconds, thousands of times faster than a wrong password: every
		// call must spend exactly one bcrypt comparison, at the Store's cost.
		// (BenchmarkAuthenticate shows the times.)
		s := MustOpen(t, usersPath(t))
		s.Cost = 6
		MustAdd(t, s, "alice", "password-a")
		var costs []int
		restore := userfile.SetCompareHash(func(hash, password []byte) error {
			c, err := bcrypt.Cost(hash)
			if err != nil {
				t.Errorf("compared with %q: %v", hash, err)
			}
			costs = append(costs, c)
			return bcrypt.CompareHashAndPassword(hash, password)
		})
		defer restore()
		for _, tc := range []struct{ name, password string }{
			{"alice", "password-b"},             // wrong password
			{"nobody", "password-b"},            // unknown user
			{"alice", strings.Repeat("x", 100)}, // longer than bcrypt reads
			{"alice", "password-a"},             // right
		} {
			costs = costs[:0]
			_, _ = s.Authenticate(ctx, tc.name, tc.password)
			if len(costs) != 1 || costs[0] != 6 {
				t.Errorf("%s: bcrypt comparisons at costs %v, want one at cost 6", tc.name, costs)
			}
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
