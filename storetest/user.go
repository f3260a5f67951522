package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fourd/fourd"
)

// OpenUserStore opens an empty fourd.UserStore whose clock is now, and
// arranges for it to be closed when t ends. The store may hash passwords
// with its cheapest setting: the suite adds many users.
type OpenUserStore = func(t *testing.T, now func() time.Time) fourd.UserStore

// TestUserStore checks the fourd.UserStore contract: adding and listing
// (sorted case-insensitively, privileges deduplicated), lookups that fold
// case as FoldUserName does, the naming, password and privilege rules with
// their errCodes, removal, password and privilege changes, copies, a
// cancelled context, and Authenticate's single answer for a wrong password
// and an unknown user.
func TestUserStore(t *testing.T, open OpenUserStore) {
	t.Run("Store", func(t *testing.T) { testUserStore(t, open) })
	t.Run("Authenticate", func(t *testing.T) { testUserAuthenticate(t, open) })
}

// userT0 is the users' clock's first time: whole seconds, since a users
// directory may keep times to the millisecond (TimeLayout).
var userT0 = t0.Truncate(time.Second)

// userClock returns a clock starting at userT0 that advances a second at
// each reading, so that every change of a user has a later time.
func userClock() func() time.Time {
	var mu sync.Mutex
	now := userT0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := now
		now = now.Add(time.Second)
		return t
	}
}

func openUsers(t *testing.T, open OpenUserStore) fourd.UserStore {
	t.Helper()
	return open(t, userClock())
}

func mustAddUser(tb testing.TB, s fourd.UserStore, name, password string, privileges ...string) *fourd.User {
	tb.Helper()
	u, err := s.Add(context.Background(), name, password, privileges)
	if err != nil {
		tb.Fatalf("add %q: %v", name, err)
	}
	return u
}

func userNames(users []fourd.User) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.Name)
	}
	return out
}

func testUserStore(t *testing.T, open OpenUserStore) {
	ctx := context.Background()
	t.Run("OKAddAndList", func(t *testing.T) {
		s := openUsers(t, open)
		alice := mustAddUser(t, s, "alice", "password-a", "WebAdmin")
		mustAddUser(t, s, "Bob", "password-b")
		mustAddUser(t, s, "carol", "password-c", "sales", "sales", "hr")
		if !fourd.ValidID(alice.ID) || strings.ToUpper(alice.ID) != alice.ID {
			t.Errorf("ID %q, want 32 uppercase hex characters", alice.ID)
		}
		if !alice.Created.Equal(userT0) || !alice.Updated.Equal(userT0) {
			t.Errorf("created %v, updated %v; want %v", alice.Created, alice.Updated, userT0)
		}
		users, err := s.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := userNames(users); !slices.Equal(got, []string{"alice", "Bob", "carol"}) {
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
		s := openUsers(t, open)
		mustAddUser(t, s, "Alice", "password-a")
		mustAddUser(t, s, "Kelvin", "password-k")
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
		s := openUsers(t, open)
		mustAddUser(t, s, "Alice", "password-a")
		_, err := s.Add(ctx, "ALICE", "password-b", nil)
		wantCode(t, err, fourd.EINVALID, fourd.ErrCodeUserExists)
		if got, want := fourd.ErrorMessage(err), `a user named "Alice" exists already (names are case-insensitive)`; got != want {
			t.Errorf("message %q, want %q", got, want)
		}
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		s := openUsers(t, open)
		mustAddUser(t, s, "alice", "password-a")
		_, err := s.User(ctx, "bob")
		wantCode(t, err, fourd.ENOTFOUND, fourd.ErrCodeUnknownUser)
		wantCode(t, s.Remove(ctx, "bob"), fourd.ENOTFOUND, fourd.ErrCodeUnknownUser)
		wantCode(t, s.SetPassword(ctx, "bob", "password-b"), fourd.ENOTFOUND, fourd.ErrCodeUnknownUser)
		wantCode(t, s.SetPrivileges(ctx, "bob", nil), fourd.ENOTFOUND, fourd.ErrCodeUnknownUser)
	})
	t.Run("ErrBadName", func(t *testing.T) {
		s := openUsers(t, open)
		for _, name := range []string{"", " alice", "alice ", strings.Repeat("a", 65), "a\x00b", "a\tb", "a\nb", "a\u200bb", "a\u202eb", "\xff\xfe"} {
			_, err := s.Add(ctx, name, "password-a", nil)
			wantCode(t, err, fourd.EINVALID, fourd.ErrCodeBadUserName)
		}
		for _, name := range []string{"a", "John Smith", strings.Repeat("é", 64), "名前", "o'brien@example.com"} {
			mustAddUser(t, s, name, "password-a")
		}
	})
	t.Run("ErrBadPassword", func(t *testing.T) {
		s := openUsers(t, open)
		for _, pw := range []string{"", "seven77", "ééééééé", strings.Repeat("x", 73), strings.Repeat("é", 37)} {
			_, err := s.Add(ctx, "alice", pw, nil)
			wantCode(t, err, fourd.EINVALID, fourd.ErrCodeBadPassword)
		}
		mustAddUser(t, s, "alice", "éééééééé")            // 8 characters, 16 bytes
		mustAddUser(t, s, "bob", strings.Repeat("x", 72)) // bcrypt's limit
		wantCode(t, s.SetPassword(ctx, "alice", strings.Repeat("x", 73)), fourd.EINVALID, fourd.ErrCodeBadPassword)
	})
	t.Run("ErrBadPrivilege", func(t *testing.T) {
		s := openUsers(t, open)
		for _, p := range []string{"", "a,b", " admin", "ad\x07min"} {
			_, err := s.Add(ctx, "alice", "password-a", []string{p})
			wantCode(t, err, fourd.EINVALID, fourd.ErrCodeBadPrivilege)
		}
		mustAddUser(t, s, "alice", "password-a")
		wantCode(t, s.SetPrivileges(ctx, "alice", []string{"ok", ""}), fourd.EINVALID, fourd.ErrCodeBadPrivilege)
	})
	t.Run("OKRemove", func(t *testing.T) {
		s := openUsers(t, open)
		mustAddUser(t, s, "alice", "password-a")
		mustAddUser(t, s, "bob", "password-b")
		if err := s.Remove(ctx, "ALICE"); err != nil {
			t.Fatal(err)
		}
		users, _ := s.Users(ctx)
		if got := userNames(users); !slices.Equal(got, []string{"bob"}) {
			t.Errorf("users %q after removing alice", got)
		}
		if _, err := s.Authenticate(ctx, "alice", "password-a"); err == nil {
			t.Error("a removed user logged in")
		}
	})
	t.Run("OKSetPassword", func(t *testing.T) {
		s := openUsers(t, open)
		before := mustAddUser(t, s, "alice", "password-a")
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
		s := openUsers(t, open)
		mustAddUser(t, s, "alice", "password-a", "sales")
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
		s := openUsers(t, open)
		mustAddUser(t, s, "alice", "password-a", "sales")
		u, _ := s.User(ctx, "alice")
		u.Privileges[0] = "WebAdmin"
		u, _ = s.User(ctx, "alice")
		if u.Privileges[0] != "sales" {
			t.Error("changing a returned User changed the store")
		}
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		s := openUsers(t, open)
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

func testUserAuthenticate(t *testing.T, open OpenUserStore) {
	ctx := context.Background()
	s := openUsers(t, open)
	alice := mustAddUser(t, s, "Alice", "password-a", "WebAdmin")
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
}
