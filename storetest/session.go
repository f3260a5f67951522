package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/fourd/fourd"
)

// OpenSessionStore opens an empty fourd.SessionStore whose clock is now,
// and arranges for it to be closed when t ends.
type OpenSessionStore = func(t *testing.T, now func() time.Time) fourd.SessionStore

// TestSessionStore checks the fourd.SessionStore contract: create, read and
// delete with their errors, the sliding expiry (an expired session is not
// served even before the sweep, and the sweep removes it), a login's
// Replace (the old ID stops answering, the successor keeps the user,
// privileges and client), the counters the session quotas read, and the
// snapshot's order. Sessions are read back through the store, never
// through the value the test created, so that a store holding copies
// passes as well as one holding pointers.
func TestSessionStore(t *testing.T, open OpenSessionStore) {
	t.Run("CreateGetDelete", func(t *testing.T) { testSessionCreateGetDelete(t, open) })
	t.Run("ExpirySlidesWithTouch", func(t *testing.T) { testSessionExpiry(t, open) })
	t.Run("Replace", func(t *testing.T) { testSessionReplace(t, open) })
	t.Run("Count", func(t *testing.T) { testSessionCount(t, open) })
}

func mustCreateSessions(t *testing.T, st fourd.SessionStore, ss ...*fourd.Session) {
	t.Helper()
	for _, s := range ss {
		if err := st.Create(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

func sessionIDs(infos []fourd.SessionInfo) []string {
	var out []string
	for _, i := range infos {
		out = append(out, i.ID)
	}
	return out
}

func testSessionCreateGetDelete(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	clock := NewClock(t0)
	st := open(t, clock.Now)
	s := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	s.IPAddress, s.UserAgent = "127.0.0.1", "curl/8"
	mustCreateSessions(t, st, s)
	if err := st.Create(ctx, s); fourd.ErrorCode(err) != fourd.EINVALID {
		t.Fatalf("duplicate create: %v, want EINVALID", err)
	}
	got, err := st.Session(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Info(), s.Info()) {
		t.Fatalf("stored session\n%+v\nwant\n%+v", got.Info(), s.Info())
	}
	if err := st.Delete(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session(ctx, s.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("after delete: %v, want ENOTFOUND", err)
	}
	if err := st.Delete(ctx, s.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("second delete: %v, want ENOTFOUND", err)
	}
	if _, err := st.Session(ctx, fourd.NewID()); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("unknown ID: %v, want ENOTFOUND", err)
	}
}

func testSessionExpiry(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	clock := NewClock(t0)
	st := open(t, clock.Now)
	idle := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	busy := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	forever := fourd.NewSession(fourd.SessionStoredProcedure, t0, 0)
	mustCreateSessions(t, st, forever, idle, busy)

	clock.Set(t0.Add(30 * time.Minute))
	b, err := st.Session(ctx, busy.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Touch(ctx, b, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if b, err = st.Session(ctx, busy.ID); err != nil {
		t.Fatal(err)
	}
	if want := clock.Now().Add(time.Hour); !b.Expiration().Equal(want) {
		t.Fatalf("expiration after Touch %v, want %v", b.Expiration(), want)
	}

	clock.Set(t0.Add(time.Hour)) // idle has now been idle for its whole lifetime
	if _, err := st.Session(ctx, idle.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("expired session still served before the sweep: %v", err)
	}
	infos, err := st.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := sessionIDs(infos); !reflect.DeepEqual(got, []string{forever.ID, busy.ID}) {
		t.Fatalf("Sessions before the sweep = %v, want %v (oldest first, expired left out)", got, []string{forever.ID, busy.ID})
	}
	expired, err := st.Expire(ctx, clock.Now())
	if err != nil || !reflect.DeepEqual(expired, []string{idle.ID}) {
		t.Fatalf("Expire = %v, %v; want [%s]", expired, err, idle.ID)
	}
	if n, err := st.Count(ctx, ""); err != nil || n.Total != 2 {
		t.Fatalf("Count after Expire = %+v, %v; want 2 sessions", n, err)
	}
	clock.Set(t0.Add(100 * 24 * time.Hour))
	expired, _ = st.Expire(ctx, clock.Now())
	if !reflect.DeepEqual(expired, []string{busy.ID}) {
		t.Fatalf("Expire = %v; want only [%s]: the stored-procedure session never expires", expired, busy.ID)
	}
	if _, err := st.Session(ctx, forever.ID); err != nil {
		t.Fatalf("the stored-procedure session: %v", err)
	}
}

func testSessionReplace(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	clock := NewClock(t0)
	st := open(t, clock.Now)
	a := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	a.IPAddress = "10.0.0.1"
	b := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	mustCreateSessions(t, st, a, b)
	next := a.Successor(t0.Add(time.Minute))
	next.SetUser("U1", "alice")
	next.SetPrivileges([]string{"sales"})
	if err := st.Replace(ctx, a, next); err != nil {
		t.Fatal(err)
	}
	if next.ID == a.ID || !fourd.ValidID(next.ID) {
		t.Fatalf("successor ID %s", next.ID)
	}
	if _, err := st.Session(ctx, a.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("the old ID still answers: %v", err)
	}
	got, err := st.Session(ctx, next.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserName() != "alice" || got.UserID() != "U1" || !got.HasPrivilege("sales") || got.IPAddress != "10.0.0.1" {
		t.Fatalf("stored successor lost the session's data: %+v %v", got.Info(), got.GetPrivileges())
	}
	infos, _ := st.Sessions(ctx)
	if got := sessionIDs(infos); !reflect.DeepEqual(got, []string{next.ID, b.ID}) {
		t.Fatalf("order after replace: %v, want %v (the successor takes the old one's place)", got, []string{next.ID, b.ID})
	}
	if err := st.Replace(ctx, a, fourd.NewSession(fourd.SessionREST, t0, time.Hour)); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("replace of a gone session: %v, want ENOTFOUND", err)
	}
}

func testSessionCount(t *testing.T, open OpenSessionStore) {
	ctx := context.Background()
	clock := NewClock(t0)
	st := open(t, clock.Now)
	want := func(step, addr string, w fourd.SessionCount) {
		t.Helper()
		got, err := st.Count(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Fatalf("after %s: Count(%q) = %+v, want %+v", step, addr, got, w)
		}
	}
	sp := fourd.NewSession(fourd.SessionStoredProcedure, t0, 0)
	a1 := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	a1.IPAddress = "10.0.0.1"
	a2 := fourd.NewSession(fourd.SessionREST, t0, 2*time.Hour)
	a2.IPAddress = "10.0.0.1"
	b := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	b.IPAddress = "10.0.0.2"
	mustCreateSessions(t, st, sp, a1, a2, b)
	want("Create", "10.0.0.1", fourd.SessionCount{Total: 4, Guests: 3, GuestsFromAddress: 2})
	logged := a1.Successor(t0)
	logged.SetUser("U1", "alice")
	if err := st.Replace(ctx, a1, logged); err != nil {
		t.Fatal(err)
	}
	want("a login (Replace)", "10.0.0.1", fourd.SessionCount{Total: 4, Guests: 2, GuestsFromAddress: 1})
	if err := st.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	want("Delete", "10.0.0.2", fourd.SessionCount{Total: 3, Guests: 1, GuestsFromAddress: 0})
	clock.Set(t0.Add(90 * time.Minute)) // a2 (2 h) stays; logged (1 h) expires
	if _, err := st.Expire(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	want("Expire", "10.0.0.1", fourd.SessionCount{Total: 2, Guests: 1, GuestsFromAddress: 1})
}
