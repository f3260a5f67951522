package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/postgres"
	"github.com/fourd/fourd/storetest"
)

// MustOpenUserStore opens the users directory of the schema url names,
// closed when tb ends.
func MustOpenUserStore(tb testing.TB, url string) *postgres.UserStore {
	tb.Helper()
	s, err := postgres.OpenUserStore(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	s.Cost = bcrypt.MinCost
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestUserStore runs the fourd.UserStore conformance suite on PostgreSQL.
func TestUserStore(t *testing.T) {
	storetest.TestUserStore(t, func(t *testing.T, now func() time.Time) fourd.UserStore {
		s := MustOpenUserStore(t, MustSchema(t))
		s.Now = now
		return s
	})
}

// TestUserStoreShared checks what two nodes sharing the directory see: a
// user added through one is the other's at once, the directory is
// present on both from the first user on (and stays so when the last is
// removed), and two nodes adding one name at once make one user.
func TestUserStoreShared(t *testing.T) {
	ctx := context.Background()
	url := MustSchema(t)
	a, b := MustOpenUserStore(t, url), MustOpenUserStore(t, url)
	if a.Present() || b.Present() {
		t.Fatal("a directory nobody wrote is present")
	}
	if _, err := a.Add(ctx, "alice", "alice-secret-1", []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	u, err := b.Authenticate(ctx, "ALICE", "alice-secret-1")
	if err != nil || u.Name != "alice" {
		t.Fatalf("alice through the other node: %v, %v", u, err)
	}
	if err := b.SetPrivileges(ctx, "alice", []string{"reader"}); err != nil {
		t.Fatal(err)
	}
	if u, err := a.User(ctx, "alice"); err != nil || len(u.Privileges) != 1 || u.Privileges[0] != "reader" {
		t.Fatalf("privileges set through the other node: %v, %v", u, err)
	}
	if err := a.Remove(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	// b may have cached "not present" for up to a second before alice.
	deadline := time.Now().Add(3 * time.Second)
	for !b.Present() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !b.Present() {
		t.Error("the directory is not present on the other node after its first user")
	}
	if _, err := b.User(ctx, "alice"); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Errorf("alice removed through the other node: %v, want ENOTFOUND", err)
	}

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() { _, errs[i] = s.Add(ctx, "Bob", "bob-secret-12", nil) })
	}
	wg.Wait()
	added := 0
	for _, err := range errs {
		switch fourd.ErrorCode(err) {
		case "":
			added++
		case fourd.EINVALID:
		default:
			t.Errorf("concurrent add: %v", err)
		}
	}
	if users, err := a.Users(ctx); added != 1 || err != nil || len(users) != 1 {
		t.Errorf("8 concurrent adds of one name: %d added, users %v, %v; want exactly one", added, users, err)
	}
}
