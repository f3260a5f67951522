package inmem_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/storetest"
)

// TestSessionStore runs the fourd.SessionStore conformance suite.
func TestSessionStore(t *testing.T) {
	storetest.TestSessionStore(t, func(t *testing.T, now func() time.Time) fourd.SessionStore {
		st := inmem.NewSessionStore()
		st.Now = now
		return st
	})
}

func TestSessionTouchNeverGoesBack(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := fourd.NewSession(fourd.SessionREST, t0, time.Hour)
	s.Touch(t0.Add(time.Minute))
	s.Touch(t0)
	if !s.LastActivity().Equal(t0.Add(time.Minute)) {
		t.Fatalf("lastActivity %v", s.LastActivity())
	}
}

func TestSessionInfo(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
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

// TestSessionSuccessor checks what a login's successor keeps (the store's
// side of Replace is in the storetest suite).
func TestSessionSuccessor(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	a := fourd.NewSession(fourd.SessionREST, now, time.Hour)
	a.IPAddress = "10.0.0.1"
	a.SetUser("U1", "alice")
	a.SetPrivileges([]string{"sales"})
	a.Storage().Set("k", "v")
	next := a.Successor(now.Add(time.Minute))
	if next.ID == a.ID || !fourd.ValidID(next.ID) {
		t.Fatalf("successor ID %s", next.ID)
	}
	if v, _ := next.Storage().Get("k"); v != "v" || next.UserName() != "alice" || next.UserID() != "U1" || !next.HasPrivilege("sales") || next.IPAddress != "10.0.0.1" {
		t.Fatalf("successor lost the session's data: %+v", next.Info())
	}
}
