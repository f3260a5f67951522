package inmem_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

func TestSessionStore(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	now := t0
	newStore := func() *inmem.SessionStore {
		st := inmem.NewSessionStore()
		st.Now = func() time.Time { return now }
		return st
	}
	t.Run("CreateGetDelete", func(t *testing.T) {
		now = t0
		st := newStore()
		s := fourd.NewSession(fourd.SessionREST, now, time.Hour)
		if err := st.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := st.Create(ctx, s); fourd.ErrorCode(err) != fourd.EINVALID {
			t.Fatalf("duplicate create: %v", err)
		}
		got, err := st.Session(ctx, s.ID)
		if err != nil || got != s {
			t.Fatalf("Session = %v, %v", got, err)
		}
		if err := st.Delete(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Session(ctx, s.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("after delete: %v", err)
		}
		if err := st.Delete(ctx, s.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("second delete: %v", err)
		}
	})
	t.Run("ExpirySlidesWithTouch", func(t *testing.T) {
		now = t0
		st := newStore()
		idle := fourd.NewSession(fourd.SessionREST, now, time.Hour)
		busy := fourd.NewSession(fourd.SessionREST, now, time.Hour)
		forever := fourd.NewSession(fourd.SessionStoredProcedure, now, 0)
		for _, s := range []*fourd.Session{forever, idle, busy} {
			if err := st.Create(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		now = t0.Add(30 * time.Minute)
		if err := st.Touch(ctx, busy, now); err != nil {
			t.Fatal(err)
		}
		if want := now.Add(time.Hour); !busy.Expiration().Equal(want) {
			t.Fatalf("expiration %v, want %v", busy.Expiration(), want)
		}
		now = t0.Add(time.Hour) // idle has now been idle for its whole lifetime
		if _, err := st.Session(ctx, idle.ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("expired session still served before the sweep: %v", err)
		}
		infos, _ := st.Sessions(ctx)
		if got := ids(infos); !reflect.DeepEqual(got, []string{forever.ID, busy.ID}) {
			t.Fatalf("Sessions before the sweep = %v", got)
		}
		expired, err := st.Expire(ctx, now)
		if err != nil || !reflect.DeepEqual(expired, []string{idle.ID}) {
			t.Fatalf("Expire = %v, %v", expired, err)
		}
		if st.Len() != 2 {
			t.Fatalf("%d sessions left", st.Len())
		}
		now = t0.Add(100 * 24 * time.Hour)
		expired, _ = st.Expire(ctx, now)
		if !reflect.DeepEqual(expired, []string{busy.ID}) {
			t.Fatalf("Expire = %v; the stored-procedure session must never expire", expired)
		}
	})
	t.Run("TouchNeverGoesBack", func(t *testing.T) {
		s := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
		s.Touch(t0.Add(time.Minute))
		s.Touch(t0)
		if !s.LastActivity().Equal(t0.Add(time.Minute)) {
			t.Fatalf("lastActivity %v", s.LastActivity())
		}
	})
	t.Run("SessionInfo", func(t *testing.T) {
		s := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
		s.IPAddress, s.UserAgent = "127.0.0.1", "curl/8"
		info := s.Info()
		want := fourd.SessionInfo{Type: "rest", IPAddress: "127.0.0.1", CreationDateTime: t0, State: "active", ID: s.ID,
			LastActivity: t0, Expiration: t0.Add(time.Hour), UserAgent: "curl/8", UserID: fourd.GuestUserID}
		if !reflect.DeepEqual(info, want) {
			t.Fatalf("info\n%+v\nwant\n%+v", info, want)
		}
		if !fourd.ValidID(s.ID) || s.UserID() != fourd.GuestUserID {
			t.Fatalf("ID %q, user ID %q", s.ID, s.UserID())
		}
	})
}

func ids(infos []fourd.SessionInfo) []string {
	var out []string
	for _, i := range infos {
		out = append(out, i.ID)
	}
	return out
}

func TestSessionPrivileges(t *testing.T) {
	s := fourd.NewSession(fourd.SessionREST, time.Now(), time.Hour)
	if !s.IsGuest() || s.HasPrivilege("WebAdmin") || len(s.GetPrivileges()) != 0 {
		t.Fatal("a new session is not a guest without privileges")
	}
	in := []string{"sales", "WebAdmin"}
	s.SetPrivileges(in)
	in[0] = "changed" // the session keeps its own copy
	if s.IsGuest() || !s.HasPrivilege("webadmin") || !s.HasPrivilege("SALES") || s.HasPrivilege("changed") {
		t.Fatalf("privileges %v", s.GetPrivileges())
	}
	got := s.GetPrivileges()
	got[0] = "x"
	if s.GetPrivileges()[0] != "sales" {
		t.Fatal("GetPrivileges returned the session's own slice")
	}
	s.ClearPrivileges()
	if !s.IsGuest() || s.HasPrivilege("sales") {
		t.Fatal("ClearPrivileges left privileges")
	}
	s.Storage().Set("cart", 3)
	if v, ok := s.Storage().Get("cart"); !ok || v != 3 {
		t.Fatalf("storage: %v %v", v, ok)
	}
	n := 0
	s.Storage().Range(func(string, any) bool { n++; return true })
	s.Storage().Delete("cart")
	if _, ok := s.Storage().Get("cart"); ok || n != 1 {
		t.Fatal("storage delete or range")
	}
}

func TestSessionReplace(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	st := inmem.NewSessionStore()
	st.Now = func() time.Time { return now }
	a := fourd.NewSession(fourd.SessionREST, now, time.Hour)
	b := fourd.NewSession(fourd.SessionREST, now, time.Hour)
	for _, s := range []*fourd.Session{a, b} {
		if err := st.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	a.IPAddress = "10.0.0.1"
	a.SetUser("U1", "alice")
	a.SetPrivileges([]string{"sales"})
	a.Storage().Set("k", "v")
	next := a.Successor(now.Add(time.Minute))
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
	if err != nil || got != next {
		t.Fatalf("successor: %v %v", got, err)
	}
	if v, _ := next.Storage().Get("k"); v != "v" || next.UserName() != "alice" || next.UserID() != "U1" || !next.HasPrivilege("sales") || next.IPAddress != "10.0.0.1" {
		t.Fatalf("successor lost the session's data: %+v", next.Info())
	}
	infos, _ := st.Sessions(ctx)
	if ids(infos)[0] != next.ID || ids(infos)[1] != b.ID {
		t.Fatalf("order after replace: %v", ids(infos))
	}
	if err := st.Replace(ctx, a, fourd.NewSession(fourd.SessionREST, now, time.Hour)); fourd.ErrorCode(err) != fourd.ENOTFOUND {
		t.Fatalf("replace of a gone session: %v", err)
	}
}

func TestSessionStoreCount(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	st := inmem.NewSessionStore()
	st.Now = func() time.Time { return now }
	count := func(addr string) fourd.SessionCount {
		t.Helper()
		n, err := st.Count(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := func(step, addr string, w fourd.SessionCount) {
		t.Helper()
		if got := count(addr); got != w {
			t.Fatalf("after %s: Count(%q) = %+v, want %+v", step, addr, got, w)
		}
	}
	sp := fourd.NewSession(fourd.SessionStoredProcedure, now, 0)
	a1 := fourd.NewSession(fourd.SessionREST, now, time.Hour)
	a1.IPAddress = "10.0.0.1"
	a2 := fourd.NewSession(fourd.SessionREST, now, 2*time.Hour)
	a2.IPAddress = "10.0.0.1"
	b := fourd.NewSession(fourd.SessionREST, now, time.Hour)
	b.IPAddress = "10.0.0.2"
	for _, s := range []*fourd.Session{sp, a1, a2, b} {
		if err := st.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	want("Create", "10.0.0.1", fourd.SessionCount{Total: 4, Guests: 3, GuestsFromAddress: 2})
	logged := a1.Successor(now)
	logged.SetUser("U1", "alice")
	if err := st.Replace(ctx, a1, logged); err != nil {
		t.Fatal(err)
	}
	want("a login (Replace)", "10.0.0.1", fourd.SessionCount{Total: 4, Guests: 2, GuestsFromAddress: 1})
	if err := st.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	want("Delete", "10.0.0.2", fourd.SessionCount{Total: 3, Guests: 1, GuestsFromAddress: 0})
	now = now.Add(90 * time.Minute) // a2 (2 h) stays; logged (1 h) expires
	if _, err := st.Expire(ctx, now); err != nil {
		t.Fatal(err)
	}
	want("Expire", "10.0.0.1", fourd.SessionCount{Total: 2, Guests: 1, GuestsFromAddress: 1})
}
